// SPDX-License-Identifier: GPL-2.0
// The P-SEAMLDR's own state (ABI.md §4; seam-emu README, "P-SEAMLDR and runtime update"): the LP
// inside it, the SEAMLDR.INSTALL session (which LPs have called), the updates left, whether a TDX
// module is installed at all, and the counters of the control command "seamldr". Guarded by
// Module::state_mutex().
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "profile.h"

namespace seam_emu {

/* SEAMLDR.INSTALL's RDX out when it fails: whether the old module is still intact. */
inline constexpr u64 kSeamldrRecoverable = 1;
inline constexpr u64 kSeamldrUnrecoverable = 0;

class SeamldrState {
public:
	explicit SeamldrState(const Platform &p)
		: remaining_updates(p.seamldr.num_remaining_updates), joined_(p.lps, false)
	{
	}

	/* The LP inside the P-SEAMLDR now: only one at a time (another gets VMfailInvalid). */
	std::optional<u32> inside;

	/*
	 * The install session: every LP calls SEAMLDR.INSTALL once; the one that completes the set
	 * validates and installs, and the session ends with it, whatever the outcome.
	 */
	bool joined(u32 lp) const { return joined_[lp]; }
	void join(u32 lp)
	{
		joined_[lp] = true;
		joined_count_++;
	}
	u32 joined_count() const { return joined_count_; }
	bool session_open() const { return joined_count_ != 0; }
	bool session_complete() const { return joined_count_ == joined_.size(); }
	void end_session()
	{
		std::fill(joined_.begin(), joined_.end(), false);
		joined_count_ = 0;
	}

	/* Runtime updates the P-SEAMLDR still allows (SEAMLDR.INFO num_remaining_updates). */
	u32 remaining_updates;
	/*
	 * A TDX module is installed (the SEAMEXTEND register's SEAM_READY): false once an install
	 * failed after it had modified the module's memory, until an install succeeds.
	 */
	bool module_present = true;

	/* For the control command "seamldr"; reset-counters zeroes the counts, not the outcome. */
	u64 info_calls = 0, install_calls = 0, installs_ok = 0, installs_failed = 0;
	struct Outcome {
		u64 status = 0;
		u64 rdx = 0;
		std::string why; /* what was refused, in words */
	};
	std::optional<Outcome> last_failure;

	void reset_counters() { info_calls = install_calls = installs_ok = installs_failed = 0; }

private:
	std::vector<bool> joined_;
	u32 joined_count_ = 0;
};

} // namespace seam_emu
