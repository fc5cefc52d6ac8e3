// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.UPDATE (ABI.md §3, §6): the image the P-SEAMLDR installed as an update takes over the
// state the old module handed off at SYS.SHUTDOWN. In the emulator that state never left the
// Module object (install_image() keeps it and only resets what an image defines: the state machine,
// the LPs' initialization, the extensions' configuration, quoting's chain); SYS.UPDATE makes it
// live again: TDs with their keys and measurements, TDMRs and PAMTs, the KeyIDs, the extension pool.
#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

/*
 * v0: no operands; v1: r9 the add-on bitmap. The kernel redid SYS.INIT and LP.INIT on every LP
 * after the install. Refusals change nothing, so a corrected call can follow.
 */
u64 Module::tdh_sys_update(Call &c)
{
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	if (state_ != SysState::kSysinitDone || !lps_.all_initialized())
		return status::kSysStateIncorrect;
	/* Only an image installed as an update finds handoff data (SYS.SHUTDOWN made it). */
	if (!update_pending_ || !handoff_valid_)
		return status::kSysInvalidHandoff;
	/*
	 * The add-ons must be the ones SYS.CONFIG enabled (ABI.md §6: the update changes no feature),
	 * and the new image must offer them; v0 asks for none. Either mismatch is the operand's fault.
	 */
	const u64 addons = c.version >= 1 ? c.regs.r9 : 0;
	if ((addons & ~(image_.tdx_features0 & kAddOnCapableFeatures)) || addons != addons_)
		return status::kOperandInvalid | kOperandIdR9;

	/* The keys were configured on every package before: the module is ready at once. */
	state_ = SysState::kSysReady;
	update_pending_ = false;
	handoff_valid_ = false;
	resume_ext(addons);
	return status::kSuccess;
}

void Module::resume_ext(u64 addons)
{
	if (ext_reported()) {
		const bool needed = image_.ext.required || (addons & kAddOnsNeedingExt);
		ext_.resume(needed, needed ? image_.ext.pool_pages : 0, addons & features0::kQuote);
	}
	publish_ext_metadata();
}

} // namespace seam_emu
