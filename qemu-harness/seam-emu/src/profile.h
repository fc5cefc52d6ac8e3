// SPDX-License-Identifier: GPL-2.0
// The emulated TDX module's fixed facts: version, features, limits, work budgets (profiles/README.md).
#pragma once

#include <optional>
#include <string>

#include <tdx/abi/types.h>

namespace seam_emu {

using namespace tdx::abi;

struct Profile {
	struct Module {
		u16 major = 1, minor = 5, update = 6;
		u16 build_num = 744;
		u32 build_date = 20240229;
	} module;
	u64 tdx_features0 = 0;
	u32 lps = 2;
	u32 packages = 1;
	u32 tdx_keyid_start = 32;
	u32 nr_tdx_keyids = 32;
	struct Tdmr {
		u16 max_tdmrs = 64;
		u16 max_reserved_per_tdmr = 16;
		u16 pamt_entry_size[3] = {16, 16, 16}; /* indexed by PageLevel: 4k, 2m, 1g */
	} tdmr;
	struct Handoff {
		u16 module_hv = 0, min_update_hv = 0;
		bool no_downgrade = false;
		u16 num_handoff_pages = 1;
	} handoff;
	struct Td {
		u16 tdr_base_size = 4096, tdcs_base_size = 16384, tdvps_base_size = 20480;
	} td;
	struct WorkBudget {
		u64 tdmr_init_bytes = 256ull << 20; /* TDMR bytes one TDH.SYS.TDMR.INIT call covers */
		u32 sys_disable_steps = 2;          /* TDH.SYS.DISABLE calls until it completes */
	} work_budget;

	/* Package of an LP: LP i is in package i / (lps / packages). */
	u32 package_of(u32 lp) const { return lp / (lps / packages); }
};

struct ProfileResult {
	std::optional<Profile> profile;
	std::string error; /* set when profile is empty */
};

/* Parse and validate a profile; every key is required and unknown keys are refused. */
ProfileResult parse_profile(const std::string &json_text);
ProfileResult load_profile(const std::string &path);

/* Re-check the LP/package topology after command-line overrides; empty string if fine. */
std::string check_topology(const Profile &p);

} // namespace seam_emu
