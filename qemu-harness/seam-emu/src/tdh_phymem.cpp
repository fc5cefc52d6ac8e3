// SPDX-License-Identifier: GPL-2.0
// TDH.PHYMEM.*: CACHE.WB (PAGE.RECLAIM comes with the TD pages).
#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

/*
 * Writes back the caches of the calling LP's package for the KeyIDs whose TDs were torn down.
 * Its package's CACHE.WB lock and the key table (shared) must be free. No TD, hence no KeyID to
 * flush, is modelled yet: a start finds nothing (TDX_NO_HKID_READY_TO_WBCACHE, not an error) and
 * no session is ever left to resume (TDX_WBCACHE_RESUME_ERROR).
 */
u64 Module::tdh_phymem_cache_wb(Call &c)
{
	const u64 cmd = c.regs.rcx;
	if (cmd != kCacheWbStart && cmd != kCacheWbResume)
		return status::kOperandInvalid | kOperandIdRcx;
	if (!c.locks.lock(keys_.wbt_lock(lps_.package_of(c.lp))))
		return status::kOperandBusy | kOperandIdWbcache;
	if (!c.locks.shared(keys_.kot_lock()))
		return status::kOperandBusy | kOperandIdKot;
	if (cmd == kCacheWbStart)
		return status::kNoHkidReadyToWbcache;
	return status::kWbcacheResumeError;
}

} // namespace seam_emu
