// SPDX-License-Identifier: GPL-2.0
#include "module.h"

#include <algorithm>
#include <cstring>

#include <tdx/abi/status.h>

namespace seam_emu {

const char *sys_state_name(SysState s)
{
	switch (s) {
	case SysState::kSysinitPending:
		return "SYSINIT_PENDING";
	case SysState::kSysinitDone:
		return "SYSINIT_DONE";
	case SysState::kSysconfigDone:
		return "SYSCONFIG_DONE";
	case SysState::kSysReady:
		return "SYS_READY";
	case SysState::kSysShutdown:
		return "SYS_SHUTDOWN";
	}
	return "?";
}

namespace {

/* Highest leaf version the model accepts; SYS.CONFIG v1 carries the add-on bitmap. */
u8 max_version(u16 leaf) { return leaf == leaf::kSysConfig ? 1 : 0; }

/*
 * Leaves that run before SYS_READY (ABI.md §3). SYS.INFO (32) and SYS.UPDATE are on the module's
 * list too; TDMR.INIT, CACHE.WB and SYS.DISABLE are added by the project's state machine.
 */
bool allowed_before_ready(u16 leaf)
{
	switch (leaf) {
	case 32: /* TDH.SYS.INFO */
	case leaf::kSysRd:
	case leaf::kSysRdAll:
	case leaf::kSysInit:
	case leaf::kSysLpInit:
	case leaf::kSysConfig:
	case leaf::kSysKeyConfig:
	case leaf::kSysTdmrInit:
	case leaf::kSysUpdate:
	case leaf::kSysDisable:
	case leaf::kPhymemCacheWb:
		return true;
	default:
		return false;
	}
}

constexpr u64 k1G = 1ull << 30;
constexpr u64 kMaxPa = 1ull << GuestMemory::kMaxPaBits;

} // namespace

bool Module::implemented(u16 leaf)
{
	switch (leaf) {
	case leaf::kSysInit:
	case leaf::kSysLpInit:
	case leaf::kSysRd:
	case leaf::kSysRdAll:
	case leaf::kSysConfig:
	case leaf::kSysKeyConfig:
	case leaf::kSysTdmrInit:
	case leaf::kPhymemCacheWb:
	case leaf::kSysDisable:
		return true;
	default:
		return false;
	}
}

Module::Module(const Profile &p, const GuestMemory &mem)
	: profile_(p), mem_(mem), metadata_(p, mem.ranges()), lp_init_(p.lps, false),
	  pkg_key_config_(p.packages, false)
{
}

bool Module::all_lps_initialized() const
{
	return std::all_of(lp_init_.begin(), lp_init_.end(), [](bool b) { return b; });
}

bool Module::all_pkgs_key_configured() const
{
	return std::all_of(pkg_key_config_.begin(), pkg_key_config_.end(), [](bool b) { return b; });
}

unsigned Module::tdmrs_initialized() const
{
	return std::count_if(tdmrs_.begin(), tdmrs_.end(), [](const TdmrRuntime &t) { return t.initialized(); });
}

u64 Module::seamcall(u32 lp, u64 rax, RegBlock &regs)
{
	/* Reserved RAX bits, and (for now) every P-SEAMLDR leaf. */
	if ((rax & kLeafReservedMask) || (rax & kSeamldrLeafBit) || lp >= profile_.lps)
		return status::kOperandInvalid | kOperandIdRax;
	u16 leaf = rax & kLeafNumberMask;
	u8 version = (rax >> kLeafVersionShift) & kLeafVersionMask;
	if (version > max_version(leaf))
		return status::kOperandInvalid | kOperandIdRax;
	if (state_ == SysState::kSysShutdown)
		return status::kSysShutdown;
	if (state_ != SysState::kSysReady && !allowed_before_ready(leaf))
		return status::kSysNotReady;
	return dispatch(lp, leaf, version, regs);
}

u64 Module::dispatch(u32 lp, u16 leaf, u8 version, RegBlock &regs)
{
	switch (leaf) {
	case leaf::kSysInit:
		return tdh_sys_init(regs);
	case leaf::kSysLpInit:
		return tdh_sys_lp_init(lp);
	case leaf::kSysRd:
		return tdh_sys_rd(lp, regs);
	case leaf::kSysRdAll:
		return tdh_sys_rdall(lp, regs);
	case leaf::kSysConfig:
		return tdh_sys_config(lp, version, regs);
	case leaf::kSysKeyConfig:
		return tdh_sys_key_config(lp);
	case leaf::kSysTdmrInit:
		return tdh_sys_tdmr_init(lp, regs);
	case leaf::kPhymemCacheWb:
		return tdh_phymem_cache_wb(lp, regs);
	case leaf::kSysDisable:
		return tdh_sys_disable();
	default:
		/* Unknown, or not modelled yet (TD lifecycle, SHUTDOWN/UPDATE, extensions, quoting). */
		return status::kOperandInvalid | kOperandIdRax;
	}
}

u64 Module::tdh_sys_init(RegBlock &regs)
{
	/* rcx holds the SYS attributes; none is defined, so it must be 0. */
	if (regs.rcx != 0)
		return status::kOperandInvalid | kOperandIdRcx;
	if (state_ != SysState::kSysinitPending)
		return status::kSysInitNotPending;
	state_ = SysState::kSysinitDone;
	return status::kSuccess;
}

u64 Module::tdh_sys_lp_init(u32 lp)
{
	/* The module takes LP.INIT only between SYS.INIT and SYS.CONFIG (TDX_SYS_LP_INIT_NOT_PENDING). */
	if (state_ != SysState::kSysinitDone)
		return status::kSysLpInitNotPending;
	if (lp_init_[lp])
		return status::kSysLpInitDone;
	lp_init_[lp] = true;
	return status::kSuccess;
}

u64 Module::tdh_sys_rd(u32 lp, RegBlock &regs)
{
	u64 field_id = regs.rdx;
	regs.rdx = kFieldIdNone;
	regs.r8 = 0;
	/* LP-scope init implies SYS.INIT. */
	if (!lp_init_[lp])
		return status::kSysLpInitNotDone;
	GlobalMetadata::ReadResult r = metadata_.read(field_id);
	regs.rdx = r.next_id;
	regs.r8 = r.value;
	return r.status;
}

u64 Module::tdh_sys_rdall(u32 lp, RegBlock &regs)
{
	u64 first = regs.r8;
	regs.r8 = kFieldIdNone;
	if (!lp_init_[lp])
		return status::kSysLpInitNotDone;
	PaCheck c = check_pa(mem_, regs.rdx, kPageSize, kPageSize, kOperandIdRdx);
	if (!c.ok())
		return c.status;
	GlobalMetadata::DumpResult r = metadata_.dump(first, mem_.ptr(regs.rdx, kPageSize), kPageSize);
	regs.r8 = r.next_id;
	return r.status;
}

u64 Module::read_tdmr_infos(u64 array_pa, u64 count, std::vector<TdmrDesc> *out) const
{
	const unsigned nr_rsvd = profile_.tdmr.max_reserved_per_tdmr;
	const u64 info_bytes = sizeof(TdmrInfo) + u64(nr_rsvd) * sizeof(TdmrReservedArea);
	std::vector<u64> pas(count);
	if (!mem_.read(array_pa, pas.data(), count * sizeof(u64)))
		return status::kOperandAddrRangeError | kOperandIdRcx;
	std::vector<TdmrReservedArea> rsvd(nr_rsvd);
	for (u64 i = 0; i < count; i++) {
		/* Each TDMR_INFO is read and checked in turn, as the module does. */
		PaCheck c = check_pa(mem_, pas[i], kTdmrInfoAlignment, info_bytes, kOperandIdRcx);
		if (!c.ok())
			return c.status;
		TdmrInfo info;
		mem_.read(pas[i], &info, sizeof(info));
		mem_.read(pas[i] + sizeof(TdmrInfo), rsvd.data(), nr_rsvd * sizeof(TdmrReservedArea));
		out->push_back(TdmrDesc::from_info(info, rsvd.data(), nr_rsvd));
		u64 st = check_tdmr(*out, i, profile_, mem_.ranges());
		if (st != status::kSuccess)
			return st;
	}
	return status::kSuccess;
}

u64 Module::tdh_sys_config(u32 lp, u8 version, RegBlock &regs)
{
	(void)lp;
	if (state_ != SysState::kSysinitDone)
		return status::kSysConfigNotPending;
	/* LP.INIT must have run on every LP first; the module reports that as CONFIG_NOT_PENDING. */
	if (!all_lps_initialized())
		return status::kSysConfigNotPending;

	const u64 array_pa = regs.rcx, count = regs.rdx, hkid_in = regs.r8;
	if (array_pa & (kTdmrPaArrayAlignment - 1) || array_pa >= kMaxPa)
		return status::kOperandInvalid | kOperandIdRcx;
	if (count < 1 || count > profile_.tdmr.max_tdmrs)
		return status::kOperandInvalid | kOperandIdRdx;
	PaCheck c = check_pa(mem_, array_pa, kTdmrPaArrayAlignment, count * sizeof(u64), kOperandIdRcx);
	if (!c.ok())
		return c.status;
	/* r8: bits 15:0 the global private KeyID, the rest reserved. */
	u64 hkid = hkid_in & 0xFFFF;
	if ((hkid_in >> 16) || hkid < profile_.tdx_keyid_start ||
	    hkid >= u64(profile_.tdx_keyid_start) + profile_.nr_tdx_keyids)
		return status::kOperandInvalid | kOperandIdR8;
	u64 addons = 0;
	if (version >= 1) {
		addons = regs.r9;
		if (addons & ~(profile_.tdx_features0 & kAddOnCapableFeatures))
			return status::kOperandInvalid | kOperandIdR9;
	}

	std::vector<TdmrDesc> descs;
	u64 st = read_tdmr_infos(array_pa, count, &descs);
	if (st != status::kSuccess)
		return st; /* nothing changed */

	tdmrs_.clear();
	for (auto &d : descs)
		tdmrs_.push_back({d, d.base});
	global_keyid_ = u16(hkid);
	addons_ = addons;
	std::fill(pkg_key_config_.begin(), pkg_key_config_.end(), false);
	state_ = SysState::kSysconfigDone;
	return status::kSuccess;
}

u64 Module::tdh_sys_key_config(u32 lp)
{
	if (state_ != SysState::kSysconfigDone)
		return status::kSysKeyConfigNotPending;
	if (!lp_init_[lp])
		return status::kSysLpInitNotDone;
	u32 pkg = profile_.package_of(lp);
	if (pkg_key_config_[pkg])
		return status::kKeyConfigured;
	pkg_key_config_[pkg] = true;
	return status::kSuccess;
}

void Module::init_pamt_range(const TdmrRuntime &t, u64 start, u64 len) const
{
	for (unsigned l = 0; l < kNumPageLevels; l++) {
		unsigned shift = page_level_shift(PageLevel(l));
		u64 first = (start - t.desc.base) >> shift;
		u64 last = (start + len - t.desc.base + (1ull << shift) - 1) >> shift; /* exclusive */
		u64 es = profile_.tdmr.pamt_entry_size[l];
		u64 off = first * es, bytes = (last - first) * es;
		u8 *p = mem_.ptr(t.desc.pamt_base[l] + off, bytes);
		if (!p)
			continue; /* cannot happen: SYS.CONFIG checked the PAMT lies in a CMR */
		for (u64 k = 0; k < bytes; k++)
			p[k] = u8(kPamtInitPattern >> (8 * ((off + k) % 8)));
	}
}

u64 Module::tdh_sys_tdmr_init(u32 lp, RegBlock &regs)
{
	/*
	 * The module runs TDMR.INIT only once every package has its key (before that it answers
	 * SYS_NOT_READY from the dispatcher); the project's state machine reaches SYS_READY only
	 * when the last TDMR is initialized.
	 */
	bool keys_done = state_ == SysState::kSysconfigDone && all_pkgs_key_configured();
	if (!keys_done && state_ != SysState::kSysReady)
		return status::kSysNotReady;
	if (!lp_init_[lp])
		return status::kSysLpInitNotDone;
	const u64 tdmr_pa = regs.rcx;
	regs.rdx = 0;
	if (tdmr_pa & (k1G - 1) || tdmr_pa >= kMaxPa)
		return status::kOperandInvalid | kOperandIdRcx;
	auto it = std::find_if(tdmrs_.begin(), tdmrs_.end(), [&](const TdmrRuntime &t) { return t.desc.base == tdmr_pa; });
	if (it == tdmrs_.end())
		return status::kOperandInvalid | kOperandIdRcx;
	if (it->initialized())
		return status::kTdmrAlreadyInitialized;

	u64 end = it->desc.base + it->desc.size;
	u64 len = std::min(profile_.work_budget.tdmr_init_bytes, end - it->next_to_init);
	init_pamt_range(*it, it->next_to_init, len);
	it->next_to_init += len;
	/* Rounded down to 1 GiB so the VMM never uses a partly initialized 1 GiB block. */
	regs.rdx = it->next_to_init & ~(k1G - 1);
	if (tdmrs_initialized() == tdmrs_.size())
		state_ = SysState::kSysReady;
	return status::kSuccess;
}

u64 Module::tdh_phymem_cache_wb(u32 lp, RegBlock &regs)
{
	if (regs.rcx != kCacheWbStart && regs.rcx != kCacheWbResume)
		return status::kOperandInvalid | kOperandIdRcx;
	/* Before SYS.INIT (or after SYS.DISABLE) the module holds no cache lines: nothing to do. */
	if (state_ == SysState::kSysinitPending)
		return status::kSuccess;
	if (!lp_init_[lp])
		return status::kSysLpInitNotDone;
	return status::kSuccess;
}

void Module::reset_to_sysinit_pending()
{
	state_ = SysState::kSysinitPending;
	std::fill(lp_init_.begin(), lp_init_.end(), false);
	std::fill(pkg_key_config_.begin(), pkg_key_config_.end(), false);
	tdmrs_.clear();
	global_keyid_ = 0;
	addons_ = 0;
	disable_progress_ = 0;
}

u64 Module::tdh_sys_disable()
{
	/* Nothing is configured before SYS.INIT: disabling succeeds at once. */
	if (state_ == SysState::kSysinitPending) {
		disable_progress_ = 0;
		return status::kSuccess;
	}
	/* Reclaiming takes sys_disable_steps calls; the VMM repeats while INTERRUPTED_RESUMABLE. */
	if (++disable_progress_ < profile_.work_budget.sys_disable_steps)
		return status::kInterruptedResumable;
	reset_to_sysinit_pending();
	return status::kSuccess;
}

} // namespace seam_emu
