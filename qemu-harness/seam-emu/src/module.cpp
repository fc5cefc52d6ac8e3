// SPDX-License-Identifier: GPL-2.0
// The SEAMCALL entry: the dispatcher's checks in the TDX module's order, then the leaf.
#include "module.h"

#include <algorithm>

#include <tdx/abi/leaves.h>
#include <tdx/abi/status.h>
#include <tdx/emu/service.h>

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

/*
 * The leaves the TDX module 1.5 dispatcher runs before SYS_READY (tdx_vmm_dispatcher.c), plus
 * SYS.DISABLE: it is newer than the public 1.5.01 tree, and the host calls it to recover from a
 * bring-up that failed half way, so it must run in every state but SYS_SHUTDOWN.
 */
bool allowed_before_ready(u16 leaf)
{
	switch (leaf) {
	case leaf::kSysInfo:
	case leaf::kSysRd:
	case leaf::kSysRdAll:
	case leaf::kSysInit:
	case leaf::kSysLpInit:
	case leaf::kSysConfig:
	case leaf::kSysKeyConfig:
	case leaf::kSysLpShutdown:
	case leaf::kSysUpdate:
	case leaf::kSysDisable:
		return true;
	default:
		return false;
	}
}

/* Highest version of a leaf (the one leaf table); a leaf it does not know has only version 0. */
u8 max_version(u16 number)
{
	const LeafInfo *l = find_leaf(number);
	return l ? l->max_version : 0;
}

} // namespace

bool Module::implemented(u16 leaf)
{
	switch (leaf) {
	case leaf::kSysInfo:
	case leaf::kSysInit:
	case leaf::kSysLpInit:
	case leaf::kSysRd:
	case leaf::kSysRdAll:
	case leaf::kSysConfig:
	case leaf::kSysKeyConfig:
	case leaf::kSysTdmrInit:
	case leaf::kPhymemCacheWb:
	case leaf::kSysLpShutdown:
	case leaf::kSysShutdown:
	case leaf::kSysDisable:
	case leaf::kExtInit:
	case leaf::kExtMemAdd:
	case leaf::kMngAddcx:
	case leaf::kMngKeyConfig:
	case leaf::kMngCreate:
	case leaf::kMrExtend:
	case leaf::kMrFinalize:
	case leaf::kMngKeyFreeid:
	case leaf::kMngInit:
	case leaf::kPhymemPageReclaim:
	case leaf::kQuoteInit:
	case leaf::kQuoteGet:
	case leaf::kSysUpdate:
		return true;
	default:
		return false;
	}
}

Module::Module(const Platform &platform, const ModuleImage &image, const GuestMemory &mem)
	: platform_(platform), image_(image), mem_(mem), metadata_(image, mem.ranges()), lps_(platform),
	  keys_(platform)
{
}

Profile Module::profile() const
{
	Profile p;
	static_cast<Platform &>(p) = platform_;
	static_cast<ModuleImage &>(p) = image_;
	return p;
}

bool Module::replace_image(const ModuleImage &image, std::string *why)
{
	std::lock_guard<std::mutex> g(mu_);
	if (!module_reachable()) {
		*why = seamldr_.module_present ? "an install session is open" : "no module is installed";
		return false;
	}
	if (state_ != SysState::kSysinitPending) {
		*why = std::string("the module is in ") + sys_state_name(state_) + ", not SYSINIT_PENDING";
		return false;
	}
	if (lps_.any_inside()) {
		*why = "a logical processor is inside the module";
		return false;
	}
	if (update_pending_) {
		*why = "an installed update waits for SYS.UPDATE";
		return false;
	}
	image_ = image;
	metadata_ = GlobalMetadata(image_, mem_.ranges());
	publish_ext_metadata();
	return true;
}

unsigned Module::tdmrs_initialized() const
{
	return std::count_if(tdmrs_.begin(), tdmrs_.end(), [](const TdmrRuntime &t) { return t.initialized(); });
}

u64 Module::seamcall(u32 lp, u64 rax, RegBlock &regs, const std::function<void()> &hold)
{
	Call c{lp, u16(rax & kLeafNumberMask), u8((rax >> kLeafVersionShift) & kLeafVersionMask), regs, {}};
	std::unique_lock<std::mutex> g(mu_);
	if (lp >= platform_.lps)
		return status::kOperandInvalid | kOperandIdRax;
	if (rax & kSeamldrLeafBit)
		return seamldr_seamcall(c, rax, g, hold);
	/*
	 * No module to enter: none installed since an install failed half way, or an install
	 * session holds it off (the P-SEAMLDR clears SEAM_READY when the first LP calls INSTALL).
	 * The SEAMCALL instruction fails with CF=1; the mailbox carries that as this status.
	 */
	if (!module_reachable())
		return kTdxSeamcallVmFailInvalid;
	lps_.enter(lp);
	const u64 st = dispatch(c, rax);
	if (hold) {
		/* The leaf is done but has not left the module: its locks stay taken meanwhile. */
		g.unlock();
		hold();
		g.lock();
	}
	c.locks.release_all();
	lps_.leave(lp);
	return st;
}

u64 Module::dispatch(Call &c, u64 rax)
{
	/* Not a SEAMCALL: a test harness's request to the emulator (include/tdx/emu/service.h). */
	if ((rax & ~tdx::emu::kEmuServiceMask) == tdx::emu::kEmuServiceBit)
		return emu_service(c, rax);
	/* Reserved RAX bits 62:24 (bit 63, the P-SEAMLDR, never comes here). */
	if (rax & kLeafReservedMask)
		return status::kOperandInvalid | kOperandIdRax;
	if (c.version > max_version(c.leaf))
		return status::kOperandInvalid | kOperandIdRax;
	/* Once shut down, the module only takes LP.SHUTDOWN until the P-SEAMLDR replaces it. */
	if (state_ == SysState::kSysShutdown && c.leaf != leaf::kSysLpShutdown)
		return status::kSysShutdown;
	if (state_ != SysState::kSysReady && !allowed_before_ready(c.leaf))
		return status::kSysNotReady;
	return run_leaf(c);
}

u64 Module::run_leaf(Call &c)
{
	switch (c.leaf) {
	case leaf::kSysKeyConfig:
		return tdh_sys_key_config(c);
	case leaf::kSysInfo:
		return tdh_sys_info(c);
	case leaf::kSysInit:
		return tdh_sys_init(c);
	case leaf::kSysRd:
		return tdh_sys_rd(c);
	case leaf::kSysLpInit:
		return tdh_sys_lp_init(c);
	case leaf::kSysTdmrInit:
		return tdh_sys_tdmr_init(c);
	case leaf::kSysRdAll:
		return tdh_sys_rdall(c);
	case leaf::kPhymemCacheWb:
		return tdh_phymem_cache_wb(c);
	case leaf::kSysLpShutdown:
		return tdh_sys_lp_shutdown(c);
	case leaf::kSysConfig:
		return tdh_sys_config(c);
	case leaf::kSysShutdown:
		return tdh_sys_shutdown(c);
	case leaf::kSysDisable:
		return tdh_sys_disable(c);
	case leaf::kExtInit:
		return tdh_ext_init(c);
	case leaf::kExtMemAdd:
		return tdh_ext_mem_add(c);
	case leaf::kMngAddcx:
		return tdh_mng_addcx(c);
	case leaf::kMngKeyConfig:
		return tdh_mng_key_config(c);
	case leaf::kMngCreate:
		return tdh_mng_create(c);
	case leaf::kMrExtend:
		return tdh_mr_extend(c);
	case leaf::kMrFinalize:
		return tdh_mr_finalize(c);
	case leaf::kMngKeyFreeid:
		return tdh_mng_key_freeid(c);
	case leaf::kMngInit:
		return tdh_mng_init(c);
	case leaf::kPhymemPageReclaim:
		return tdh_phymem_page_reclaim(c);
	case leaf::kQuoteInit:
		return tdh_quote_init(c);
	case leaf::kQuoteGet:
		return tdh_quote_get(c);
	case leaf::kSysUpdate:
		return tdh_sys_update(c);
	default:
		/* Unknown, or not modelled. */
		return status::kOperandInvalid | kOperandIdRax;
	}
}

} // namespace seam_emu
