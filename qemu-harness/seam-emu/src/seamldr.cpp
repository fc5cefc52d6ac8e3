// SPDX-License-Identifier: GPL-2.0
// The P-SEAMLDR (ABI.md §1, §4; seam-emu README, "P-SEAMLDR and runtime update"): SEAMLDR.INFO and
// SEAMLDR.INSTALL, one LP inside at a time. INSTALL is a session every LP joins once; the LP that
// completes it checks the request in the P-SEAMLDR's order, then loads: from there on the old
// module's memory is gone, and a failure leaves no module. The image it installs is a test-signed
// image's manifest (the "module" object of a profile) or an Intel-signed image found in a checkout
// of Intel's module-binaries repository; either way its SVNs, handoff versions and MRSEAM are its
// sigstruct's.
#include <algorithm>
#include <cstring>

#include <module-image/module_image.h>

#include <tdx/abi/status.h>

#include "module.h"
#include "sys_info.h"

namespace seam_emu {

namespace mi = module_image;
namespace sl = seamldr_status;

namespace {

/* seamldr_info.seam_info.valid while a module is installed: its fields are filled. */
constexpr u64 kSeamInfoValid = 0x1FF;

/* A page the P-SEAMLDR reads with the host's key: 4 KiB aligned and `len` bytes of guest RAM. */
bool host_page_ok(const GuestMemory &mem, u64 pa, u64 len)
{
	return check_pa(mem, pa, kPageSize, len, 0).ok();
}

/* A sigstruct date (BCD yyyymmdd) as the decimal yyyymmdd BUILD_DATE holds; nullopt if not BCD. */
std::optional<u32> bcd_date(u32 bcd)
{
	u32 v = 0;
	for (int shift = 28; shift >= 0; shift -= 4) {
		const u32 digit = (bcd >> shift) & 0xF;
		if (digit > 9)
			return std::nullopt;
		v = v * 10 + digit;
	}
	return v;
}

std::string hex48(const u8 *d)
{
	static const char kHex[] = "0123456789abcdef";
	std::string s;
	for (int i = 0; i < 48; i++) {
		s += kHex[d[i] >> 4];
		s += kHex[d[i] & 0xF];
	}
	return s;
}

} // namespace

/* ---- entry --------------------------------------------------------------------------------- */

u64 Module::seamldr_seamcall(Call &c, u64 rax, std::unique_lock<std::mutex> &g, const std::function<void()> &hold)
{
	/* Another LP inside the P-SEAMLDR: SEAMCALL fails with CF=1 (VMfailInvalid), as on hardware. */
	if (seamldr_.inside)
		return kTdxSeamcallVmFailInvalid;
	seamldr_.inside = c.lp;
	u64 st;
	switch (rax) {
	case kSeamldrInfo:
		st = seamldr_info(c);
		break;
	case kSeamldrInstall:
		st = seamldr_install(c);
		break;
	default:
		/* SEAMLDR.SHUTDOWN, SEAMINFO and unknown leaves: not modelled (the P-SEAMLDR's answer). */
		st = sl::kEBadParam;
		break;
	}
	if (hold) {
		g.unlock();
		hold();
		g.lock();
	}
	seamldr_.inside.reset();
	return st;
}

/* ---- SEAMLDR.INFO -------------------------------------------------------------------------- */

/* rcx: PA of seamldr_info, 256-aligned, in RAM (else EBADPARAM, nothing written). */
u64 Module::seamldr_info(Call &c)
{
	seamldr_.info_calls++;
	const u64 pa = c.regs.rcx;
	if (!check_pa(mem_, pa, kSeamldrInfoAlignment, kSeamldrInfoSize, 0).ok())
		return sl::kEBadParam;
	const Platform::Seamldr &p = platform_.seamldr;
	SeamldrInfo info{};
	info.version = 0;
	info.attributes = p.debug ? kSeamldrInfoAttrDebug : 0;
	info.vendor_id = kIntelVendorId;
	info.build_date = p.build_date;
	info.build_num = p.build_num;
	info.minor = p.minor;
	info.major = p.major;
	info.update = p.update;
	info.acm_x2apicid = 0; /* the BSP that ran the loading ACM */
	info.num_remaining_updates = seamldr_.remaining_updates;
	if (seamldr_.module_present) {
		/*
		 * MRSIGNERSEAM as TEE_TCB_INFO has it: zero for an Intel-signed module, else the
		 * signer's id. A profile's image stands for a module the project's test signer signed,
		 * so the updates tdx-mkimage signs keep its signer, as Intel's updates of Intel's do.
		 */
		const SeamIdentity id = seam_identity(image_);
		std::array<u8, 48> signer = image_.signer.value_or(mi::test_signer_id());
		if (signer == mi::intel_signer_id())
			signer = {};
		SeamInfo &si = info.seam_info;
		si.valid = kSeamInfoValid;
		std::memcpy(si.tee_tcb_svn, id.tee_tcb_svn.data(), sizeof(si.tee_tcb_svn));
		std::memcpy(si.mrseam, id.mrseam.data(), sizeof(si.mrseam));
		std::memcpy(si.mrsignerseam, signer.data(), sizeof(si.mrsignerseam));
		si.attributes = 0;
	}
	info.seam_ready = module_reachable();
	info.seam_debug = seamldr_.module_present && image_.debug_signed;
	info.p_seam_ready = 1;
	mem_.write(pa, &info, sizeof(info));
	return status::kSuccess;
}

/* ---- SEAMLDR.INSTALL ----------------------------------------------------------------------- */

/*
 * rcx: PA of seamldr_params. Every LP calls once per session: all but the last return success
 * (RDX 0) at once; the last validates and installs and its answer is the session's. A failure's
 * RDX: 1 while the old module is intact, 0 once its memory was modified. A refused call (twice on
 * one LP, a params page that is not RAM) does not join the session.
 */
u64 Module::seamldr_install(Call &c)
{
	RegBlock &r = c.regs;
	const u64 params_pa = r.rcx;
	r.rdx = kSeamldrRecoverable;
	seamldr_.install_calls++;
	if (seamldr_.joined(c.lp))
		return sl::kEBadCall;
	if (!host_page_ok(mem_, params_pa, sizeof(SeamldrParams)))
		return sl::kEBadParam;
	seamldr_.join(c.lp);
	if (!seamldr_.session_complete()) {
		r.rdx = 0;
		return status::kSuccess;
	}
	u64 rdx = kSeamldrRecoverable;
	std::string why;
	const u64 st = seamldr_install_last(c.lp, params_pa, &rdx, &why);
	seamldr_.end_session();
	if (st == status::kSuccess) {
		r.rdx = 0;
		seamldr_.installs_ok++;
	} else {
		r.rdx = rdx;
		seamldr_.installs_failed++;
		seamldr_.last_failure = SeamldrState::Outcome{st, rdx, why};
	}
	return st;
}

/*
 * The P-SEAMLDR's order: the params page, the scenario against the module's state, the sigstruct
 * (header, signer, RSA signature, debug, SVNs, CPU), the image known to the emulator, the handoff
 * version; all of that before anything is written. Then the load: the old module's memory is
 * overwritten (the fault point "seamldr.load"), the image copied and measured (EBADHASH comes
 * from here, as in the P-SEAMLDR, which hashes the copy), and the new module set up.
 */
u64 Module::seamldr_install_last(u32 lp, u64 params_pa, u64 *rdx, std::string *why)
{
	SeamldrParams params;
	mem_.read(params_pa, &params, sizeof(params));
	if (const u64 st = check_seamldr_params(params, why))
		return st;
	const bool update = params.scenario == kSeamldrScenarioUpdate;
	if (const u64 st = check_install_scenario(update, why))
		return st;
	Sigstruct sig;
	mem_.read(params.sigstruct_pa, &sig, sizeof(sig));
	if (const u64 st = check_install_sigstruct(sig, update, why))
		return st;
	std::vector<u8> pages(params.num_module_pages * kPageSize);
	for (u64 i = 0; i < params.num_module_pages; i++)
		mem_.read(params.module_page_pa[i], pages.data() + i * kPageSize, kPageSize);
	ModuleImage next;
	if (const u64 st = installed_image(sig, pages, &next, why))
		return st;
	if (update) {
		if (const u64 st = check_install_handoff(sig, why))
			return st;
	}

	/* The point of no return: the old module's memory is being overwritten. */
	*rdx = kSeamldrUnrecoverable;
	seamldr_.module_present = false;
	if (load_fault_) {
		if (const std::optional<u64> st = load_fault_(lp); st && *st != status::kSuccess) {
			*why = "failure injected at the loading step (fault rule seamldr.load)";
			return *st;
		}
	}
	if (const mi::Status v = mi::verify_seamhash(sig, pages); !v) {
		*why = v.error().to_string();
		return sl::kEBadHash;
	}
	install_image(next, update);
	return status::kSuccess;
}

u64 Module::check_seamldr_params(const SeamldrParams &p, std::string *why) const
{
	auto bad = [why](std::string what) {
		*why = "seamldr_params: " + std::move(what);
		return sl::kEBadParam;
	};
	if (p.version != kSeamldrParamsVersion)
		return bad("version " + std::to_string(p.version));
	if (std::any_of(std::begin(p.reserved), std::end(p.reserved), [](u8 b) { return b != 0; }))
		return bad("reserved bytes not zero");
	if (p.scenario != kSeamldrScenarioLoad && p.scenario != kSeamldrScenarioUpdate)
		return bad("scenario " + std::to_string(p.scenario));
	if (p.num_module_pages == 0 || p.num_module_pages > kSeamldrMaxModulePages)
		return bad(std::to_string(p.num_module_pages) + " module pages");
	for (u64 i = 0; i < p.num_module_pages; i++)
		if (!host_page_ok(mem_, p.module_page_pa[i], kPageSize))
			return bad("module page " + std::to_string(i) + " is not a 4 KiB page of RAM");
	if (!host_page_ok(mem_, p.sigstruct_pa, kSigstructSize))
		return bad("the sigstruct is not at a 4 KiB aligned page of RAM");
	return status::kSuccess;
}

/*
 * An update needs a module shut down for it (SYS.SHUTDOWN made handoff data) and an update left.
 * A load starts a module afresh: over no module, one never configured, or one shut down.
 */
u64 Module::check_install_scenario(bool update, std::string *why) const
{
	if (update) {
		if (!seamldr_.module_present || state_ != SysState::kSysShutdown || !handoff_valid_) {
			*why = "an update needs a module shut down for it (SYS.SHUTDOWN); the module is " +
			       std::string(seamldr_.module_present ? sys_state_name(state_) : "absent");
			return sl::kEBadCall;
		}
		if (seamldr_.remaining_updates == 0) {
			*why = "no runtime update left";
			return sl::kEBadCall;
		}
		return status::kSuccess;
	}
	if (seamldr_.module_present && state_ != SysState::kSysinitPending && state_ != SysState::kSysShutdown) {
		*why = std::string("a load over a module in ") + sys_state_name(state_);
		return sl::kEBadCall;
	}
	return status::kSuccess;
}

u64 Module::check_install_sigstruct(const Sigstruct &s, bool update, std::string *why) const
{
	const mi::Digest48 trusted[] = {mi::intel_signer_id(), mi::test_signer_id()};
	if (const mi::Status v = mi::verify_sigstruct(s, trusted); !v) {
		*why = v.error().to_string();
		return sl::kEBadSig;
	}
	if (s.min_update_hv > s.module_hv) {
		*why = "sigstruct: min_update_hv above module_hv";
		return sl::kEBadSig;
	}
	const bool debug = mi::sigstruct_is_debug(s);
	if (debug && !platform_.seamldr.debug) {
		*why = "a debug-signed image, and the P-SEAMLDR is a production one";
		return sl::kEBadSig;
	}
	if (update && s.major_svn != image_.svn.major) {
		*why = "major SVN " + std::to_string(s.major_svn) + ", the running module's is " +
		       std::to_string(image_.svn.major);
		return sl::kEBadCall;
	}
	if (update && s.minor_svn < image_.svn.minor) {
		*why = "minor SVN " + std::to_string(s.minor_svn) + " below the running module's " +
		       std::to_string(image_.svn.minor);
		return sl::kEBadSig;
	}
	if (s.cpuid_table_size > 0 && !mi::sigstruct_supports_cpu(s, platform_.cpu_signature)) {
		*why = "the CPU is not in the sigstruct's CPUID table";
		return sl::kEUnsupCpu;
	}
	/* Only a debug image may leave its CPUs open. */
	if (s.cpuid_table_size == 0 && !debug) {
		*why = "a production image without a CPUID table";
		return sl::kEBadSig;
	}
	return status::kSuccess;
}

/*
 * What the image will report. Test-signed: its manifest. Intel-signed: the published image with
 * this seamhash (version from the file name, TDX_FEATURES0 from mapping_file.json), the rest as
 * the running image has it. Both: SVNs, handoff versions, MRSEAM and debug from the sigstruct.
 * An image the emulator cannot tell apart → EUNSPECERR (it could not emulate it).
 */
u64 Module::installed_image(const Sigstruct &s, const std::vector<u8> &pages, ModuleImage *out,
			    std::string *why) const
{
	ModuleImage next;
	if (mi::signer_id(s) == mi::test_signer_id()) {
		const std::optional<std::string> manifest = mi::read_manifest(pages);
		if (!manifest) {
			*why = "a test-signed image without an emulator manifest";
			return sl::kEUnspecErr;
		}
		ModuleImageResult r = parse_module_image(*manifest);
		if (!r.image) {
			*why = "manifest: " + r.error;
			return sl::kEUnspecErr;
		}
		next = *r.image;
	} else {
		if (module_binaries_.empty()) {
			*why = "an Intel-signed image, and the emulator has no module-binaries checkout "
			       "(--module-binaries, TDX_MODULE_BINARIES)";
			return sl::kEUnspecErr;
		}
		mi::Result<std::vector<mi::PublishedImage>> index = mi::index_published(module_binaries_);
		if (!index) {
			*why = module_binaries_ + ": " + index.error().to_string();
			return sl::kEUnspecErr;
		}
		const auto &all = index.value();
		const auto it = std::find_if(all.begin(), all.end(), [&](const mi::PublishedImage &p) {
			return std::equal(p.seamhash.begin(), p.seamhash.end(), s.seamhash);
		});
		if (it == all.end() || !it->tdx_features0) {
			*why = "Intel-signed image " + hex48(s.seamhash) +
			       (it == all.end() ? " is not in " + module_binaries_
						: " has no tdx_feature0 in mapping_file.json");
			return sl::kEUnspecErr;
		}
		next = image_;
		next.module.major = it->major;
		next.module.minor = it->minor;
		next.module.update = it->update;
		next.module.build_date = bcd_date(s.date).value_or(next.module.build_date);
		next.tdx_features0 = *it->tdx_features0;
	}
	next.svn = {s.major_svn, s.minor_svn};
	next.handoff = {s.module_hv, s.min_update_hv, s.no_downgrade != 0, s.num_handoff_pages};
	next.seamhash.emplace();
	std::copy(std::begin(s.seamhash), std::end(s.seamhash), next.seamhash->begin());
	next.signer = mi::signer_id(s);
	next.debug_signed = mi::sigstruct_is_debug(s);
	*out = next;
	return status::kSuccess;
}

/* The handoff data SYS.SHUTDOWN wrote must be a version the new image takes. */
u64 Module::check_install_handoff(const Sigstruct &s, std::string *why) const
{
	const u16 hv = handoff_hv_;
	if (hv < s.min_update_hv || hv > s.module_hv || (s.no_downgrade && hv != s.module_hv)) {
		*why = "handoff version " + std::to_string(hv) + ", the image takes " +
		       (s.no_downgrade ? std::to_string(s.module_hv) + " only"
				       : std::to_string(s.min_update_hv) + ".." + std::to_string(s.module_hv));
		return sl::kEBadHandoff;
	}
	return status::kSuccess;
}

/*
 * The new module's memory holds the new image. A load starts from nothing (and restores the
 * updates count, as the P-SEAMLDR does when it clears its SEAMDB). An update starts at SYS.INIT
 * too, but everything the old module handed off stays for SYS.UPDATE: TDs, keys, TDMRs and PAMTs,
 * the pages the module owns, the extension pool, the add-ons; only what an image defines is new
 * (metadata, the extensions' configuration, quoting's chain, the LPs' initialization).
 */
void Module::install_image(const ModuleImage &next, bool update)
{
	image_ = next;
	metadata_ = GlobalMetadata(image_, mem_.ranges());
	seamldr_.module_present = true;
	if (!update) {
		reset_to_sysinit_pending();
		seamldr_.remaining_updates = platform_.seamldr.num_remaining_updates;
		return;
	}
	seamldr_.remaining_updates--;
	state_ = SysState::kSysinitPending;
	lps_.reset();
	update_pending_ = true;
	disable_progress_ = 0;
	ext_.suspend();
	reset_quote(); /* publishes the extensions' metadata: none until SYS.UPDATE */
}

/* ---- configuration and control --------------------------------------------------------------- */

void Module::set_module_binaries(std::string dir)
{
	std::lock_guard<std::mutex> g(mu_);
	module_binaries_ = std::move(dir);
}

void Module::reset_seamldr_counters()
{
	std::lock_guard<std::mutex> g(mu_);
	seamldr_.reset_counters();
}

} // namespace seam_emu
