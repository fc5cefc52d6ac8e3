// SPDX-License-Identifier: GPL-2.0
// The TD lifecycle leaves a TD harness uses (seam-emu README, "TDs and TDREPORTs"): MNG.CREATE,
// MNG.KEY.CONFIG, MNG.ADDCX, MNG.INIT, MR.EXTEND, MR.FINALIZE, MNG.KEY.FREEID and
// PHYMEM.PAGE.RECLAIM, with the checks and statuses of the TDX module 1.5 source in its order;
// the TDREPORT of a finalized TD through the emulator-only service request (a simulated TD has no
// vCPU to run TDG.MR.REPORT), and the check TDH.QUOTE.GET makes of a TDREPORT.
// All run in SYS_READY only (the dispatcher), the service in every state.
#include <algorithm>
#include <cstring>

#include <tdx/abi/status.h>
#include <tdx/emu/service.h>

#include "module.h"

namespace seam_emu {

namespace {

constexpr u64 kMaxPa = 1ull << GuestMemory::kMaxPaBits;
constexpr u64 k1G = 1ull << 30;
/* TDH.MNG.CREATE rdx: bits 15:0 the HKID, the rest reserved. */
constexpr u64 kHkidMask = 0xFFFF;
/* TDH.MR.EXTEND measures 256-byte chunks. */
constexpr u64 kMrExtendChunk = 256;

bool pa_operand_ok(u64 pa, u64 align) { return !(pa & (align - 1)) && pa < kMaxPa; }

/*
 * The module's pamt_get_block(): the TDMR holding pa, if its TDMR.INIT has passed pa's 1 GiB
 * block (the module hands out memory by the 1 GiB blocks TDMR.INIT completed).
 */
const TdmrRuntime *initialized_tdmr_of(const std::vector<TdmrRuntime> &tdmrs, u64 pa)
{
	for (const TdmrRuntime &t : tdmrs)
		if (pa >= t.desc.base && pa - t.desc.base < t.desc.size)
			return pa < (t.next_to_init & ~(k1G - 1)) ? &t : nullptr;
	return nullptr;
}

/* The page lies outside the TDMR's reserved areas (their PAMT entries say PT_RSVD). */
bool in_available_area(const TdmrDesc &t, u64 pa)
{
	for (const PhysRange &a : tdmr_available_areas(t))
		if (pa >= a.base && pa + kPageSize <= a.end())
			return true;
	return false;
}

/*
 * Host memory the module reads or writes with the host's key (TD_PARAMS, REPORTDATA, the report):
 * the module's shared-HPA checks answer OPERAND_INVALID for every bad address, RAM included.
 */
u64 check_shared_operand(const GuestMemory &mem, u64 pa, u64 align, u64 len, u64 operand_id)
{
	if (!pa_operand_ok(pa, align) || !mem.contains(pa, len))
		return status::kOperandInvalid | operand_id;
	return status::kSuccess;
}

} // namespace

/* ---- helpers shared by the leaves ---- */

unsigned Module::tdcs_pages_needed() const
{
	return unsigned((image_.td.tdcs_base_size + kPageSize - 1) / kPageSize);
}

u64 Module::check_new_td_page(u64 pa, u64 operand_id) const
{
	if (!pa_operand_ok(pa, kPageSize))
		return status::kOperandInvalid | operand_id;
	const TdmrRuntime *t = initialized_tdmr_of(tdmrs_, pa);
	if (!t)
		return status::kOperandAddrRangeError | operand_id;
	/* Reserved (PT_RSVD) or already the module's in any role (PAMT, pool, TD page): not PT_NDA. */
	if (!in_available_area(t->desc, pa) || pages_.overlaps(pa, kPageSize))
		return status::kPageMetadataIncorrect | operand_id;
	return status::kSuccess;
}

u64 Module::find_td(u64 tdr_pa, u64 operand_id, const Td **out) const
{
	if (!pa_operand_ok(tdr_pa, kPageSize))
		return status::kOperandInvalid | operand_id;
	if (!initialized_tdmr_of(tdmrs_, tdr_pa))
		return status::kOperandAddrRangeError | operand_id;
	const Td *td = tds_.find(tdr_pa);
	if (!td)
		return status::kPageMetadataIncorrect | operand_id;
	*out = td;
	return status::kSuccess;
}

u64 Module::lock_td(Call &c, u64 tdr_pa, u64 operand_id, Td **out)
{
	const Td *found = nullptr;
	if (u64 st = find_td(tdr_pa, operand_id, &found))
		return st;
	Td *td = tds_.find(tdr_pa);
	if (!c.locks.lock(td->lock))
		return status::kOperandBusy | operand_id;
	*out = td;
	return status::kSuccess;
}

/* The module's check_state_map_tdcs_and_lock(): the build state, then the leaf's op state. */
u64 Module::check_td_state(const Td &td, TdOpState want) const
{
	if (td.lifecycle != TdLifecycle::kKeysConfigured)
		return status::kTdKeysNotConfigured;
	if (td.tdcs_added < tdcs_pages_needed())
		return status::kTdcsNotAllocated;
	/* The module reports the TD's OP_STATE as the operand. */
	if (td.op_state != want)
		return status::kOpStateIncorrect | u64(td.op_state);
	return status::kSuccess;
}

u64 Module::find_runnable_td(u64 tdr_pa, u64 operand_id, const Td **out) const
{
	const Td *td = nullptr;
	if (u64 st = find_td(tdr_pa, operand_id, &td))
		return st;
	if (u64 st = check_td_state(*td, TdOpState::kRunnable))
		return st;
	*out = td;
	return status::kSuccess;
}

/* ---- the leaves ---- */

/* rcx TDR PA, rdx HKID. The HKID first, then the page, then the KOT (as the module does). */
u64 Module::tdh_mng_create(Call &c)
{
	const u64 tdr_pa = c.regs.rcx, hkid = c.regs.rdx;
	if ((hkid & ~kHkidMask) || !keys_.is_tdx_keyid(hkid))
		return status::kOperandInvalid | kOperandIdRdx;
	if (u64 st = check_new_td_page(tdr_pa, kOperandIdRcx))
		return st;
	if (!c.locks.exclusive(keys_.kot_lock()))
		return status::kOperandBusy | kOperandIdKot;
	/* SYS.CONFIG reserved the global KeyID in the KOT: it is no more free than a live TD's. */
	if (hkid == keys_.global_keyid() || tds_.hkid_in_use(u16(hkid)))
		return status::kHkidNotFree;
	pages_.claim(tdr_pa, kPageSize, PageOwner::kTdr, 0);
	tds_.create(tdr_pa, u16(hkid), platform_.packages);
	return status::kSuccess;
}

/* rcx TDR PA. Once per package, on an LP of that package; the last one makes KEYS_CONFIGURED. */
u64 Module::tdh_mng_key_config(Call &c)
{
	Td *td = nullptr;
	if (u64 st = lock_td(c, c.regs.rcx, kOperandIdRcx, &td))
		return st;
	if (td->lifecycle != TdLifecycle::kHkidAssigned)
		return status::kLifecycleStateIncorrect;
	const u32 pkg = lps_.package_of(c.lp);
	if (td->pkg_key_configured[pkg])
		return status::kKeyConfigured;
	td->pkg_key_configured[pkg] = true;
	if (std::find(td->pkg_key_configured.begin(), td->pkg_key_configured.end(), false) ==
	    td->pkg_key_configured.end())
		td->lifecycle = TdLifecycle::kKeysConfigured;
	return status::kSuccess;
}

/* rcx TDCS page PA, rdx TDR PA. The module writes TDCS pages with the TD's key: keys first. */
u64 Module::tdh_mng_addcx(Call &c)
{
	const u64 page = c.regs.rcx;
	Td *td = nullptr;
	if (u64 st = lock_td(c, c.regs.rdx, kOperandIdRdx, &td))
		return st;
	if (td->lifecycle != TdLifecycle::kKeysConfigured)
		return status::kTdKeysNotConfigured;
	if (td->tdcs_added >= tdcs_pages_needed())
		return status::kTdcxNumIncorrect;
	if (u64 st = check_new_td_page(page, kOperandIdRcx))
		return st;
	pages_.claim(page, kPageSize, PageOwner::kTdcs, td->tdcs_added);
	tds_.add_tdcs(*td, page);
	return status::kSuccess;
}

/* rcx TDR PA, rdx TD_PARAMS PA; rcx out 0 (the module clears it first). MRTD starts. */
u64 Module::tdh_mng_init(Call &c)
{
	const u64 tdr_pa = c.regs.rcx, params_pa = c.regs.rdx;
	c.regs.rcx = 0;
	Td *td = nullptr;
	if (u64 st = lock_td(c, tdr_pa, kOperandIdRcx, &td))
		return st;
	if (u64 st = check_td_state(*td, TdOpState::kUninitialized))
		return st;
	if (u64 st = check_shared_operand(mem_, params_pa, td_params::kAlign, td_params::kSize, kOperandIdRdx))
		return st;
	u8 raw[td_params::kSize];
	mem_.read(params_pa, raw, sizeof(raw));
	const TdParams params = TdParams::from_bytes(raw);
	if (params.max_vcpus == 0)
		return status::kOperandInvalid | kOperandIdMaxVcpus;
	td->params = params;
	td->mrtd_stream.init();
	td->op_state = TdOpState::kInitialized;
	return status::kSuccess;
}

/*
 * rcx GPA, rdx TDR PA; rcx, rdx out 0. The model has no private TD memory: only the GPA is
 * measured (the module also measures the 256 bytes there).
 */
u64 Module::tdh_mr_extend(Call &c)
{
	const u64 gpa = c.regs.rcx, tdr_pa = c.regs.rdx;
	c.regs.rcx = c.regs.rdx = 0;
	Td *td = nullptr;
	if (u64 st = lock_td(c, tdr_pa, kOperandIdRdx, &td))
		return st;
	if (u64 st = check_td_state(*td, TdOpState::kInitialized))
		return st;
	if (!pa_operand_ok(gpa, kMrExtendChunk))
		return status::kOperandInvalid | kOperandIdRcx;
	const auto block = mr_extend_block(gpa);
	td->mrtd_stream.update(block.data(), block.size());
	return status::kSuccess;
}

/* rcx TDR PA. MRTD becomes final; what the TD and the module measure now is its origin. */
u64 Module::tdh_mr_finalize(Call &c)
{
	Td *td = nullptr;
	if (u64 st = lock_td(c, c.regs.rcx, kOperandIdRcx, &td))
		return st;
	if (u64 st = check_td_state(*td, TdOpState::kInitialized))
		return st;
	td->mrtd = td->mrtd_stream.final();
	td->op_state = TdOpState::kRunnable;
	td->td_origin = td_measurements(td->td_info().data());
	td->seam_origin = seam_measurements(seam_identity(image_));
	return status::kSuccess;
}

/* rcx TDR PA. The HKID is free again; the TD's pages can be reclaimed. */
u64 Module::tdh_mng_key_freeid(Call &c)
{
	Td *td = nullptr;
	if (u64 st = lock_td(c, c.regs.rcx, kOperandIdRcx, &td))
		return st;
	if (td->lifecycle == TdLifecycle::kTeardown)
		return status::kLifecycleStateIncorrect;
	if (!c.locks.exclusive(keys_.kot_lock()))
		return status::kOperandBusy | kOperandIdKot;
	td->lifecycle = TdLifecycle::kTeardown;
	return status::kSuccess;
}

/*
 * rcx page PA. Out: rcx the page type (PT_TDR 4, PT_TDCX 5), rdx its owner TDR (0 for a TDR),
 * r8 the page level (0, 4 KiB), r9-r11 0; set once the page is known to be a TD page.
 */
u64 Module::tdh_phymem_page_reclaim(Call &c)
{
	RegBlock &r = c.regs;
	const u64 pa = r.rcx;
	r.rcx = r.rdx = r.r8 = r.r9 = r.r10 = r.r11 = 0;
	if (!pa_operand_ok(pa, kPageSize))
		return status::kOperandInvalid | kOperandIdRcx;
	if (!initialized_tdmr_of(tdmrs_, pa))
		return status::kOperandAddrRangeError | kOperandIdRcx;
	const OwnedRange *o = pages_.find(pa);
	if (o && o->owner == PageOwner::kTdcs)
		return reclaim_tdcs_page(c, pa);
	if (o && o->owner == PageOwner::kTdr)
		return reclaim_tdr_page(c, pa);
	/* Free (PT_NDA) or not a TD's (PAMT, pool: PT_RSVD for the module). */
	return status::kPageMetadataIncorrect | kOperandIdRcx;
}

u64 Module::reclaim_tdcs_page(Call &c, u64 pa)
{
	Td *td = tds_.owner_of_tdcs(pa);
	c.regs.rcx = kPageTypeTdcx;
	c.regs.rdx = td->tdr_pa;
	/* The owner TDR, taken implicitly: its operand id is TDR's, not a register's. */
	if (!c.locks.lock(td->lock))
		return status::kOperandBusy | kOperandIdTdr;
	if (td->lifecycle != TdLifecycle::kTeardown)
		return status::kLifecycleStateIncorrect;
	pages_.release(pa);
	tds_.reclaim_tdcs(*td, pa);
	return status::kSuccess;
}

u64 Module::reclaim_tdr_page(Call &c, u64 pa)
{
	Td *td = tds_.find(pa);
	c.regs.rcx = kPageTypeTdr;
	/* Checked, not taken: the TD is gone when this succeeds (nothing may hold its lock then). */
	if (td->lock.held())
		return status::kOperandBusy | kOperandIdRcx;
	if (td->lifecycle != TdLifecycle::kTeardown)
		return status::kLifecycleStateIncorrect;
	if (!td->tdcs.empty())
		return status::kTdAssociatedPagesExist;
	pages_.release(pa);
	tds_.remove(pa);
	return status::kSuccess;
}

void Module::reset_tds() { tds_.reset(); }

/* ---- TDREPORTs ---- */

u64 Module::emu_service(Call &c, u64 rax)
{
	switch (rax & tdx::emu::kEmuServiceMask) {
	case tdx::emu::kServiceTdReport:
		return emu_td_report(c);
	default:
		return status::kOperandInvalid | kOperandIdRax;
	}
}

/*
 * rcx TDR PA of a finalized TD, rdx REPORTDATA PA (64 bytes, 64-aligned), r8 output PA (1024
 * bytes, 1024-aligned, not a page the module owns). Writes the TDREPORT TDG.MR.REPORT would.
 */
u64 Module::emu_td_report(Call &c)
{
	const RegBlock &r = c.regs;
	const Td *td = nullptr;
	if (u64 st = find_runnable_td(r.rcx, kOperandIdRcx, &td))
		return st;
	if (u64 st = check_shared_operand(mem_, r.rdx, kReportDataBytes, kReportDataBytes, kOperandIdRdx))
		return st;
	if (u64 st = check_shared_operand(mem_, r.r8, tdreport::kSize, tdreport::kSize, kOperandIdR8))
		return st;
	if (pages_.overlaps(r.r8, tdreport::kSize))
		return status::kOperandInvalid | kOperandIdR8;
	u8 report_data[kReportDataBytes];
	mem_.read(r.rdx, report_data, sizeof(report_data));
	const auto report =
		make_td_report(*td, seam_identity(image_), platform_tcb_svn(platform_), report_data, report_key_);
	mem_.write(r.r8, report.data(), report.size());
	return status::kSuccess;
}

u64 Module::check_td_report(u64 tdr_pa, const u8 *report, ReportedTd *out) const
{
	const Td *td = nullptr;
	if (u64 st = find_runnable_td(tdr_pa, kOperandIdRcx, &td))
		return st;
	if (!td_report_mac_ok(report, report_key_) || !td_report_hashes_ok(report))
		return status::kOperandInvalid | kOperandIdR8;
	/* Genuine, but is it this TD's? Its TDINFO must be the one this TD reports now. */
	if (std::memcmp(td->td_info().data(), report + tdreport::kTdInfo, tdreport::kTdInfoSize))
		return status::kOperandInvalid | kOperandIdR8;
	std::memcpy(out->report_data.data(), report + tdreport::kReportData, kReportDataBytes);
	out->td_current = td_measurements(report + tdreport::kTdInfo);
	out->td_origin = td->td_origin;
	out->seam_current = seam_measurements_from_tcb_info(report + tdreport::kTeeTcbInfo);
	/* Made by the running module? One from before a runtime update names the old module: stale. */
	if (!(out->seam_current == seam_measurements(seam_identity(image_))))
		return status::kOperandInvalid | kOperandIdR8;
	out->seam_origin = td->seam_origin;
	return status::kSuccess;
}

} // namespace seam_emu
