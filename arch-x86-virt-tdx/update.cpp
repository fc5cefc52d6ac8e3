// SPDX-License-Identifier: GPL-2.0
#include "update.h"

#include "bringup.h"
#include "pages.h"

namespace tdx {

/* ---- the P-SEAMLDR ---------------------------------------------------------------------------- */

TdxStatus Seamldr::call(Leaf leaf, RegBlock &regs)
{
	/*
	 * Only one CPU may be inside the P-SEAMLDR (a second one gets VMfailInvalid): a raw spinlock
	 * with interrupts off, as INSTALL runs inside stop_machine on every CPU at once.
	 */
	const kapi_irqflags flags = kapi_seamldr_lock();
	const TdxStatus st = sc_.call(leaf, regs);
	kapi_seamldr_unlock(flags);
	return st;
}

Status Seamldr::info(abi::SeamldrInfo &out)
{
	static_assert(abi::kSeamldrInfoAlignment <= kPageSize && sizeof(abi::SeamldrInfo) <= kPageSize);
	/* A page of its own: 256-aligned, in the direct map, and abandoned if the call never ends. */
	PageRun page = PageRun::alloc(kPageSize);
	if (!page)
		return error(err::kENOMEM);
	RegBlock regs{};
	regs.rcx = page.pa().value();
	const TdxStatus st = call(leaves::kSeamldrInfo, regs);
	if (!st.is_success()) {
		if (sc_.dead())
			page.abandon_to_module();
		log_seamcall_failure(leaves::kSeamldrInfo, st);
		return error(err::kEIO);
	}
	__builtin_memcpy(&out, page.va(), sizeof(out));
	return Status::ok();
}

TdxStatus Seamldr::install(u64 params_pa)
{
	RegBlock regs{};
	regs.rcx = params_pa;
	return call(leaves::kSeamldrInstall, regs);
}

/* ---- preflight -------------------------------------------------------------------------------- */

const char *update_refusal_code(UpdateRefusal r)
{
	switch (r) {
	case UpdateRefusal::kNone: return "none";
	case UpdateRefusal::kNoModule: return "no-module";
	case UpdateRefusal::kNoUpdatesLeft: return "no-updates-left";
	case UpdateRefusal::kBadSigstruct: return "bad-sigstruct";
	case UpdateRefusal::kBadSignature: return "bad-rsa-signature";
	case UpdateRefusal::kUntrustedSigner: return "untrusted-signer";
	case UpdateRefusal::kMajorSvnChange: return "major-svn-change";
	case UpdateRefusal::kSvnDowngrade: return "svn-downgrade";
	case UpdateRefusal::kUnsupportedCpu: return "unsupported-cpu";
	case UpdateRefusal::kDebugImage: return "debug-image";
	case UpdateRefusal::kIncompatibleHandoff: return "incompatible-handoff";
	case UpdateRefusal::kBadHash: return "bad-hash";
	}
	return "unknown";
}

/* The constants of the sigstruct's header and the fields that must be zero (ABI.md §4). */
static bool sigstruct_shape_ok(const abi::Sigstruct &s)
{
	return s.header_type == abi::kSigstructHeaderType && s.header_length == abi::kSigstructHeaderLength &&
	       s.header_version == abi::kSigstructHeaderVersion &&
	       (s.module_type & ~abi::kSigstructModuleTypeDebug) == 0 &&
	       s.module_vendor == abi::kSigstructVendorIntel && s.size == abi::kSigstructSizeDwords &&
	       s.key_size == abi::kSigstructKeySizeDwords && s.modulus_size == abi::kSigstructModulusSizeDwords &&
	       s.exponent_size == abi::kSigstructExponentSizeDwords && s.exponent == abi::kSigstructExponent &&
	       s.attributes == 0 && s.cpuid_table_size <= abi::kSigstructMaxCpuidEntries;
}

static bool cpu_in_table(const abi::Sigstruct &s, u32 cpu_signature)
{
	const u32 fms = cpu_signature & ~abi::kCpuidFmsSteppingMask;
	for (u32 i = 0; i < s.cpuid_table_size && i < abi::kSigstructMaxCpuidEntries; i++) {
		if ((s.cpuid_table[i] & ~abi::kCpuidFmsSteppingMask) == fms)
			return true;
	}
	return false;
}

/* The running module's handoff version must be one the new module can take over from. */
static bool handoff_compatible(const abi::Sigstruct &s, u16 running_hv)
{
	if (s.no_downgrade)
		return running_hv == s.module_hv;
	return s.min_update_hv <= running_hv && running_hv <= s.module_hv;
}

/*
 * The new image's signer (the SHA-384 of its modulus) against the running module's MRSIGNERSEAM,
 * which TEE_TCB_INFO leaves zero for a module Intel signed.
 */
static bool same_signer(const u8 (&signer_id)[48], const u8 (&mrsignerseam)[48])
{
	static constexpr u8 kZero[48] = {};
	const u8 *running = __builtin_memcmp(mrsignerseam, kZero, sizeof(kZero)) ? mrsignerseam
										 : abi::kIntelSignerModulusSha384;
	return __builtin_memcmp(signer_id, running, sizeof(signer_id)) == 0;
}

UpdateRefusal preflight(const abi::Sigstruct &s, const UpdateFacts &f)
{
	const abi::SeamInfo &running = f.seamldr.seam_info;
	if (!f.seamldr.seam_ready || !running.valid)
		return UpdateRefusal::kNoModule;
	if (f.seamldr.num_remaining_updates == 0)
		return UpdateRefusal::kNoUpdatesLeft;
	if (!sigstruct_shape_ok(s))
		return UpdateRefusal::kBadSigstruct;
	if (!f.signature_ok)
		return UpdateRefusal::kBadSignature;
	if (!same_signer(f.signer_id, running.mrsignerseam))
		return UpdateRefusal::kUntrustedSigner;
	if (s.major_svn != running.tee_tcb_svn[abi::kTeeTcbSvnMajor])
		return UpdateRefusal::kMajorSvnChange;
	if (s.minor_svn < running.tee_tcb_svn[abi::kTeeTcbSvnMinor])
		return UpdateRefusal::kSvnDowngrade;
	if (!cpu_in_table(s, f.cpu_signature))
		return UpdateRefusal::kUnsupportedCpu;
	/* A debug-signed module only replaces a debug module (SEAMLDR.INFO's seam_debug). */
	if ((s.module_type & abi::kSigstructModuleTypeDebug) && !f.seamldr.seam_debug)
		return UpdateRefusal::kDebugImage;
	if (!handoff_compatible(s, f.module_hv))
		return UpdateRefusal::kIncompatibleHandoff;
	if (__builtin_memcmp(f.module_hash, s.seamhash, sizeof(f.module_hash)) != 0)
		return UpdateRefusal::kBadHash;
	return UpdateRefusal::kNone;
}

/* ---- the rendezvous --------------------------------------------------------------------------- */

const char *update_step_name(UpdateStep s)
{
	switch (s) {
	case UpdateStep::kStart: return "start";
	case UpdateStep::kShutdown: return "shutdown";
	case UpdateStep::kInstall: return "install";
	case UpdateStep::kSysInit: return "sys-init";
	case UpdateStep::kLpInit: return "lp-init";
	case UpdateStep::kSysUpdate: return "sys-update";
	case UpdateStep::kExtensions: return "extensions";
	case UpdateStep::kQuote: return "quote";
	case UpdateStep::kDone: return "done";
	}
	return "unknown";
}

WindowCpus window_cpus()
{
	WindowCpus c;
	kapi_cpus_read_lock();
	while (!kapi_cpu_online(c.lead))
		c.lead++;
	c.nr = kapi_num_online_cpus();
	kapi_cpus_read_unlock();
	return c;
}

void UpdateRendezvous::start(u32 nr_cpus)
{
	nr_cpus_ = nr_cpus;
	__atomic_store_n(&acks_, 0u, __ATOMIC_RELAXED);
	__atomic_store_n(&failed_, false, __ATOMIC_RELAXED);
	__atomic_store_n(&failure_recorded_, false, __ATOMIC_RELAXED);
	failure_ = Failure{};
	for (u64 &t : ended_ns_)
		t = 0;
	__atomic_store_n(&step_, u8(UpdateStep::kShutdown), __ATOMIC_RELEASE);
}

void UpdateRendezvous::ack(UpdateStep s, u32 cpu, int err, u64 status)
{
	if (err) {
		bool expected = false;
		/* The first failure is the one reported; the flag is published after its record. */
		if (__atomic_compare_exchange_n(&failure_recorded_, &expected, true, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			failure_ = Failure{s, cpu, err, status};
			ended_ns_[u8(s)] = kapi_ktime_ns();
			__atomic_store_n(&failed_, true, __ATOMIC_RELEASE);
		}
		return;
	}
	/*
	 * The last CPU to ack resets the count before it publishes the next step: the others ack that
	 * step only after they saw it, so no ack of the next step can be lost to the reset.
	 */
	if (__atomic_add_fetch(&acks_, 1u, __ATOMIC_ACQ_REL) == nr_cpus_) {
		__atomic_store_n(&acks_, 0u, __ATOMIC_RELAXED);
		ended_ns_[u8(s)] = kapi_ktime_ns();
		__atomic_store_n(&step_, u8(u8(s) + 1), __ATOMIC_RELEASE);
	}
}

UpdateTiming window_timing(const UpdateRendezvous &r, u64 called_ns, u64 entered_ns, u64 released_ns)
{
	UpdateTiming t;
	t.ok = !r.failed() && r.step() == UpdateStep::kDone;
	t.total_ns = released_ns - called_ns;
	/*
	 * Each phase ends where the next begins. The clock is read on several CPUs: a read that comes
	 * out before the one it follows (skew) counts as that one, so the phases still add up.
	 */
	u64 prev = called_ns;
	auto until = [&](u64 end) {
		end = end < prev ? prev : end > released_ns ? released_ns : end;
		const u64 d = end - prev;
		prev = end;
		return d;
	};
	t.phase_ns[u8(UpdateStep::kStart)] = entered_ns ? until(entered_ns) : 0;
	for (u8 i = u8(UpdateStep::kShutdown); i < u8(UpdateStep::kDone); i++) {
		if (const u64 end = r.ended_ns(UpdateStep(i)))
			t.phase_ns[i] = until(end);
	}
	t.phase_ns[u8(UpdateStep::kDone)] = until(released_ns);
	return t;
}

} // namespace tdx

/* ---- the steps, on each CPU (TdxModule) -------------------------------------------------------- */

namespace tdx {

namespace {
namespace st = abi::status;

inline constexpr Leaf kSysShutdown{abi::leaf::kSysShutdown};
inline constexpr Leaf kSysUpdate{abi::leaf::kSysUpdate};
inline constexpr Leaf kSysUpdateV1{abi::leaf::kSysUpdate, 1};
static_assert(kSysUpdateV1.rax() == 0x10035);
/* Bounds for the resumable calls of the window, as bring-up has them. */
constexpr u32 kWindowExtInitMaxCalls = 1u << 16;

/* A call of the window: its status kept, -EIO when it failed. */
int window_call(Seamcall &sc, Leaf leaf, RegBlock &regs, u64 *status)
{
	const TdxStatus s = sc.call(leaf, regs);
	if (s.is_success())
		return 0;
	*status = s.raw();
	return -err::kEIO;
}

/* TDH.SYS.RD inside the window (sys_rd() logs a failure). */
int window_rd(Seamcall &sc, u64 field, u64 *value, u64 *status)
{
	RegBlock r{};
	r.rdx = field;
	if (int e = window_call(sc, leaves::kSysRd, r, status))
		return e;
	*value = metadata_decode(field, r.r8);
	return 0;
}
} // namespace

int TdxModule::update_step(UpdateStep s, bool lead, const UpdatePlan &plan, u64 *status)
{
	if (!lead && !update_step_on_every_cpu(s))
		return 0;
	RegBlock r{};
	switch (s) {
	case UpdateStep::kShutdown: {
		/* "Avoid compat-sensitive" exists only on modules with UPDATE_COMPAT (TDX_FEATURES0 bit 47). */
		r.rcx = plan.handoff_hv & abi::kShutdownHvMask;
		if (info_.features0 & abi::features0::kUpdateCompat)
			r.rcx |= abi::kShutdownAvoidCompatSensitive;
		const TdxStatus st_ = sc_.call(kSysShutdown, r);
		if (st_.is_success())
			return 0;
		*status = st_.raw();
		return st_.is(st::kUpdateCompatSensitive) ? -err::kEBUSY : -err::kEIO;
	}
	case UpdateStep::kInstall: {
		const TdxStatus st_ = Seamldr(sc_).install(plan.params_pa);
		if (st_.is_success())
			return 0;
		*status = st_.raw();
		return -err::kEIO;
	}
	case UpdateStep::kSysInit:
		return window_call(sc_, leaves::kSysInit, r, status);
	case UpdateStep::kLpInit:
		return window_call(sc_, leaves::kSysLpInit, r, status);
	case UpdateStep::kSysUpdate: {
		/* Exactly the add-ons SYS.CONFIG enabled (ABI.md §6): v1 with them, v0 when none. */
		r.r9 = addons_;
		if (int e = window_call(sc_, addons_ ? kSysUpdateV1 : kSysUpdate, r, status))
			return e;
		/* The version the new module reports, for sysfs once the window is over. */
		updated_info_ = info_;
		u64 v[5] = {};
		const u64 fields[5] = {abi::field::kMajorVersion, abi::field::kMinorVersion, abi::field::kUpdateVersion,
				       abi::field::kBuildNum, abi::field::kBuildDate};
		for (int i = 0; i < 5; i++) {
			if (int e = window_rd(sc_, fields[i], &v[i], status))
				return e;
		}
		updated_info_.major = u16(v[0]);
		updated_info_.minor = u16(v[1]);
		updated_info_.update = u16(v[2]);
		updated_info_.build_num = u16(v[3]);
		updated_info_.build_date = u32(v[4]);
		return 0;
	}
	case UpdateStep::kExtensions: {
		if (!(info_.features0 & abi::features0::kExt))
			return 0;
		u64 required = 0, pages = 0;
		if (int e = window_rd(sc_, abi::field::kExtRequired, &required, status))
			return e;
		if (int e = window_rd(sc_, abi::field::kMemoryPoolRequiredPages, &pages, status))
			return e;
		/*
		 * MEMORY_POOL_REQUIRED_PAGES counts the pages still missing (the pool handed over
		 * counts): none may be allocated here, so a module that wants more cannot run.
		 */
		if (pages)
			return -err::kENOSPC;
		if (!required)
			return 0;
		const TdxStatus st_ = sc_.call_resumable(leaves::kExtInit, r, /*retry_busy=*/false, kWindowExtInitMaxCalls);
		if (st_.is_success())
			return 0;
		*status = st_.raw();
		return -err::kEIO;
	}
	case UpdateStep::kQuote:
		quote_.reinit_in_window();
		return 0;
	case UpdateStep::kStart:
	case UpdateStep::kDone:
		break;
	}
	return 0;
}

void TdxModule::update_finish()
{
	info_.major = updated_info_.major;
	info_.minor = updated_info_.minor;
	info_.update = updated_info_.update;
	info_.build_num = updated_info_.build_num;
	info_.build_date = updated_info_.build_date;
	quote_.after_update_locked();
}

} // namespace tdx
