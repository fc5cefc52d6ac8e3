// SPDX-License-Identifier: GPL-2.0
// Packages and keys: the TDX KeyID range, the global private KeyID and which package has it.
#pragma once

#include <algorithm>
#include <vector>

#include "locks.h"
#include "profile.h"

namespace seam_emu {

class KeyTable {
public:
	explicit KeyTable(const Platform &p)
		: start_(p.tdx_keyid_start), nr_(p.nr_tdx_keyids), pkg_configured_(p.packages, false),
		  wbt_locks_(p.packages)
	{
	}

	bool is_tdx_keyid(u64 keyid) const { return keyid >= start_ && keyid < u64(start_) + nr_; }

	/* SYS.CONFIG: the global private KeyID; no package has it programmed yet. */
	void set_global_keyid(u16 keyid)
	{
		global_keyid_ = keyid;
		std::fill(pkg_configured_.begin(), pkg_configured_.end(), false);
	}
	u16 global_keyid() const { return global_keyid_; }

	/* KEY.CONFIG on a package: false if that package already has the key. */
	bool configure_package(u32 pkg)
	{
		if (pkg_configured_[pkg])
			return false;
		pkg_configured_[pkg] = true;
		return true;
	}
	bool package_configured(u32 pkg) const { return pkg_configured_[pkg]; }
	bool all_packages_configured() const
	{
		return std::all_of(pkg_configured_.begin(), pkg_configured_.end(), [](bool b) { return b; });
	}

	/* SYS.DISABLE: no key anywhere. */
	void reset() { set_global_keyid(0); }

	/* The key ownership table's lock (KOT) and each package's CACHE.WB lock (WBT entry). */
	SharexLock &kot_lock() { return kot_lock_; }
	const SharexLock &kot_lock() const { return kot_lock_; }
	MutexLock &wbt_lock(u32 pkg) { return wbt_locks_[pkg]; }

private:
	u32 start_, nr_;
	u16 global_keyid_ = 0;
	std::vector<bool> pkg_configured_;
	SharexLock kot_lock_;
	std::vector<MutexLock> wbt_locks_;
};

} // namespace seam_emu
