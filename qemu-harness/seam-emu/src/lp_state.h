// SPDX-License-Identifier: GPL-2.0
// The module's per-LP state (its LP-local data): initialized by LP.INIT, inside a SEAMCALL now.
#pragma once

#include <algorithm>
#include <vector>

#include "profile.h"

namespace seam_emu {

class LpTable {
public:
	explicit LpTable(const Platform &p) : platform_(p), init_(p.lps, false), inside_(p.lps, 0) {}

	u32 count() const { return platform_.lps; }
	u32 package_of(u32 lp) const { return platform_.package_of(lp); }

	bool initialized(u32 lp) const { return init_[lp]; }
	bool all_initialized() const { return std::all_of(init_.begin(), init_.end(), [](bool b) { return b; }); }
	void set_initialized(u32 lp) { init_[lp] = true; }
	/* SYS.DISABLE: every LP needs LP.INIT again. */
	void reset() { std::fill(init_.begin(), init_.end(), false); }

	/* Between a SEAMCALL's entry and its exit (the module's lp_is_busy). */
	void enter(u32 lp) { inside_[lp]++; }
	void leave(u32 lp) { inside_[lp]--; }
	bool inside(u32 lp) const { return inside_[lp] != 0; }
	/* Is an LP other than `lp` inside the module? (SYS.SHUTDOWN / SYS.DISABLE refuse then.) */
	bool others_inside(u32 lp) const
	{
		for (u32 i = 0; i < count(); i++)
			if (i != lp && inside_[i])
				return true;
		return false;
	}

	bool any_inside() const { return others_inside(count()); }

private:
	Platform platform_;
	std::vector<bool> init_;
	std::vector<u32> inside_;
};

} // namespace seam_emu
