// SPDX-License-Identifier: GPL-2.0
// The emulated TDX module: global state machine, per-LP state, bring-up leaves (ABI.md §1-§3).
#pragma once

#include <vector>

#include <tdx/abi/seamcall.h>
#include <tdx/abi/tdmr.h>

#include "guest_memory.h"
#include "metadata.h"
#include "profile.h"
#include "tdmr_check.h"

namespace seam_emu {

enum class SysState { kSysinitPending, kSysinitDone, kSysconfigDone, kSysReady, kSysShutdown };
const char *sys_state_name(SysState s);

/* A TDMR accepted by TDH.SYS.CONFIG and how far TDH.SYS.TDMR.INIT has got. */
struct TdmrRuntime {
	TdmrDesc desc;
	u64 next_to_init; /* first byte whose PAMT entries are not initialized yet */
	bool initialized() const { return next_to_init >= desc.base + desc.size; }
};

/* TDX_FEATURES0 bits that SYS.CONFIG v1 / SYS.UPDATE v1 may enable as add-ons (ABI.md §6). */
inline constexpr u64 kAddOnCapableFeatures = (1ull << 39) | (1ull << 50);

class Module {
public:
	/* What TDH.SYS.TDMR.INIT writes into PAMT memory: "PAMTINIT" repeated. */
	static constexpr u64 kPamtInitPattern = 0x54494E49544D4150ull;

	Module(const Profile &p, const GuestMemory &mem);

	/* One SEAMCALL from logical processor `lp`: rax in, completion status out, regs in/out. */
	u64 seamcall(u32 lp, u64 rax, RegBlock &regs);

	SysState state() const { return state_; }
	bool lp_initialized(u32 lp) const { return lp_init_[lp]; }
	bool pkg_key_configured(u32 pkg) const { return pkg_key_config_[pkg]; }
	bool all_lps_initialized() const;
	bool all_pkgs_key_configured() const;
	const std::vector<TdmrRuntime> &tdmrs() const { return tdmrs_; }
	unsigned tdmrs_initialized() const;
	u16 global_keyid() const { return global_keyid_; }
	u64 addons() const { return addons_; }
	u32 disable_progress() const { return disable_progress_; }
	const Profile &profile() const { return profile_; }
	const GlobalMetadata &metadata() const { return metadata_; }
	const GuestMemory &memory() const { return mem_; }

	/* Leaves this model knows how to run (others answer TDX_OPERAND_INVALID). */
	static bool implemented(u16 leaf);

private:
	u64 dispatch(u32 lp, u16 leaf, u8 version, RegBlock &regs);

	u64 tdh_sys_init(RegBlock &regs);
	u64 tdh_sys_lp_init(u32 lp);
	u64 tdh_sys_rd(u32 lp, RegBlock &regs);
	u64 tdh_sys_rdall(u32 lp, RegBlock &regs);
	u64 tdh_sys_config(u32 lp, u8 version, RegBlock &regs);
	u64 tdh_sys_key_config(u32 lp);
	u64 tdh_sys_tdmr_init(u32 lp, RegBlock &regs);
	u64 tdh_phymem_cache_wb(u32 lp, RegBlock &regs);
	u64 tdh_sys_disable();

	u64 read_tdmr_infos(u64 array_pa, u64 count, std::vector<TdmrDesc> *out) const;
	void init_pamt_range(const TdmrRuntime &t, u64 start, u64 len) const;
	void reset_to_sysinit_pending();

	Profile profile_;
	const GuestMemory &mem_;
	GlobalMetadata metadata_;

	SysState state_ = SysState::kSysinitPending;
	std::vector<bool> lp_init_;
	std::vector<bool> pkg_key_config_;
	std::vector<TdmrRuntime> tdmrs_;
	u16 global_keyid_ = 0;
	u64 addons_ = 0;
	u32 disable_progress_ = 0;
};

} // namespace seam_emu
