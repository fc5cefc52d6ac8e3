// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.INIT, TDH.SYS.LP.INIT, TDH.SYS.INFO, TDH.SYS.LP.SHUTDOWN, TDH.SYS.SHUTDOWN, TDH.SYS.DISABLE.
#include <cstring>

#include <tdx/abi/metadata.h>
#include <tdx/abi/status.h>

#include "module.h"
#include "sys_info.h"

namespace seam_emu {

u64 Module::tdh_sys_init(Call &c)
{
	RegBlock &r = c.regs;
	const u64 attributes = r.rcx;
	r.rcx = r.rdx = r.r8 = r.r9 = r.r10 = 0;
	/* SYS.INIT sets up the whole module: exclusively. */
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	/* rcx holds the SYS attributes; none is defined, so it must be 0. */
	if (attributes != 0)
		return status::kOperandInvalid | kOperandIdRcx;
	if (state_ != SysState::kSysinitPending)
		return status::kSysInitNotPending;
	state_ = SysState::kSysinitDone;
	return status::kSuccess;
}

u64 Module::tdh_sys_lp_init(Call &c)
{
	RegBlock &r = c.regs;
	r.rcx = r.rdx = r.r8 = 0;
	/* Many LPs initialize at once (shared), never while SYS.INIT/CONFIG runs (exclusive). */
	if (!c.locks.shared(global_lock_))
		return status::kSysBusy;
	/* Only between SYS.INIT and SYS.CONFIG (TDX_SYS_LP_INIT_NOT_PENDING). */
	if (state_ != SysState::kSysinitDone)
		return status::kSysLpInitNotPending;
	if (lps_.initialized(c.lp))
		return status::kSysLpInitDone;
	lps_.set_initialized(c.lp);
	return status::kSuccess;
}

/*
 * The TDX 1.0 enumeration, still in 1.5 (sys_rd = 1 tells the host to use SYS.RD for the rest).
 * TD capabilities and CPUID configurations read 0: no TD is modelled yet.
 */
u64 Module::tdh_sys_info(Call &c)
{
	RegBlock &r = c.regs;
	const u64 info_pa = r.rcx, info_bytes = r.rdx, cmr_pa = r.r8, cmr_entries = r.r9;
	r.rdx = 0;
	r.r9 = 0;
	if (!lps_.initialized(c.lp))
		return status::kSysLpInitNotDone;
	PaCheck pc = check_pa(mem_, info_pa, kSysInfoAlignment, sizeof(TdSysInfo), kOperandIdRcx);
	if (!pc.ok())
		return pc.status;
	if (info_bytes < sizeof(TdSysInfo))
		return status::kOperandInvalid | kOperandIdRdx;
	/* The module clears the structure before it looks at the CMR operands. */
	TdSysInfo info{};
	mem_.write(info_pa, &info, sizeof(info));
	pc = check_pa(mem_, cmr_pa, kCmrInfoArrayBytes, kCmrInfoArrayBytes, kOperandIdR8);
	if (!pc.ok())
		return pc.status;
	if (cmr_entries < kSysInfoCmrEntries)
		return status::kOperandInvalid | kOperandIdR9;

	info.vendor_id = kIntelVendorId;
	info.build_date = image_.module.build_date;
	info.build_num = image_.module.build_num;
	info.minor_version = image_.module.minor;
	info.major_version = image_.module.major;
	info.sys_rd = 1;
	info.max_tdmrs = image_.tdmr.max_tdmrs;
	info.max_reserved_per_tdmr = image_.tdmr.max_reserved_per_tdmr;
	info.pamt_entry_size = image_.tdmr.pamt_entry_size[unsigned(PageLevel::k4K)];
	info.tdcs_base_size = image_.td.tdcs_base_size;
	info.tdvps_base_size = image_.td.tdvps_base_size;
	mem_.write(info_pa, &info, sizeof(info));

	CmrInfoEntry cmrs[kSysInfoCmrEntries] = {};
	const auto &ranges = mem_.ranges();
	for (size_t i = 0; i < ranges.size() && i < kSysInfoCmrEntries; i++)
		cmrs[i] = {ranges[i].base, ranges[i].size};
	mem_.write(cmr_pa, cmrs, sizeof(cmrs));
	r.rdx = sizeof(TdSysInfo);
	r.r9 = kSysInfoCmrEntries;
	return status::kSuccess;
}

/* Deprecated in the module: kept for VMMs that still call it; does nothing. */
u64 Module::tdh_sys_lp_shutdown(Call &) { return status::kSuccess; }

u64 Module::tdh_sys_shutdown(Call &c)
{
	const u64 in = c.regs.rcx;
	const u64 hv = in & kShutdownHvMask;
	/* Bit 16 exists only on modules that can tell compat-sensitive operations apart. */
	const u64 flags = (image_.tdx_features0 & features0::kUpdateCompat) ? kShutdownAvoidCompatSensitive : 0;
	const auto &h = image_.handoff;
	if ((in & ~(kShutdownHvMask | flags)) || hv < h.min_update_hv || hv > h.module_hv ||
	    (h.no_downgrade && hv != h.module_hv))
		return status::kOperandInvalid | kOperandIdRcx;
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	/* Another LP inside the module (even in a leaf without the global lock): try again later. */
	if (lps_.others_inside(c.lp))
		return status::kSysBusy;
	/* Bit 16: the host wants no update while a TD is being built (its measurement would mix modules). */
	if ((in & kShutdownAvoidCompatSensitive) && td_build_in_progress())
		return status::kUpdateCompatSensitive;
	state_ = SysState::kSysShutdown;
	handoff_valid_ = true;
	handoff_hv_ = u16(hv);
	return status::kSuccess;
}

void Module::reset_to_sysinit_pending()
{
	state_ = SysState::kSysinitPending;
	lps_.reset();
	keys_.reset();
	tdmrs_.clear();
	pages_.release_all();
	reset_tds();
	reset_quote();
	ext_.reset();
	publish_ext_metadata();
	addons_ = 0;
	disable_progress_ = 0;
	handoff_valid_ = false;
	handoff_hv_ = 0;
	update_pending_ = false;
}

/*
 * Not in the public 1.5.01 tree. Modelled on SYS.SHUTDOWN: exclusive, and refused while another LP
 * is inside the module; reclaiming everything takes sys_disable_steps calls (the host repeats
 * while INTERRUPTED_RESUMABLE or SYS_BUSY). Afterwards the module owns nothing (PAMTs, the
 * extension pool) and a new bring-up starts at SYS.INIT.
 */
u64 Module::tdh_sys_disable(Call &c)
{
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	if (lps_.others_inside(c.lp))
		return status::kSysBusy;
	if (state_ == SysState::kSysinitPending) {
		disable_progress_ = 0;
		return status::kSuccess;
	}
	if (++disable_progress_ < image_.work_budget.sys_disable_steps)
		return status::kInterruptedResumable;
	/* Last look at the pool before its pages go back: a host write meanwhile still counts. */
	ext_.check(mem_);
	reset_to_sysinit_pending();
	return status::kSuccess;
}

} // namespace seam_emu
