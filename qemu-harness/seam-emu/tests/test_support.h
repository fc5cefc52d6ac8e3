// SPDX-License-Identifier: GPL-2.0
// Shared fixtures: an in-memory guest RAM, the default profile, TDMR layouts and a bring-up driver.
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tdx/abi/metadata.h>
#include <tdx/abi/seamcall.h>
#include <tdx/abi/status.h>
#include <tdx/abi/tdmr.h>

#include <nlohmann/json.hpp>

#include "emulator.h"
#include "guest_memory.h"
#include "module.h"
#include "profile.h"
#include "tdmr_check.h"

namespace seam_emu::test {

inline constexpr u64 kMiB = 1ull << 20;
inline constexpr u64 kGiB = 1ull << 30;

/* Anonymous, lazily backed memory standing in for QEMU's RAM file. */
class RamBuffer {
public:
	explicit RamBuffer(u64 size);
	~RamBuffer();
	RamBuffer(const RamBuffer &) = delete;
	RamBuffer &operator=(const RamBuffer &) = delete;
	u8 *data() const { return data_; }
	u64 size() const { return size_; }

private:
	u8 *data_;
	u64 size_;
};

Profile default_profile();
/* default.json edited by `edit` (a fixture's variant: more LPs, another feature, ...). */
Profile default_profile_with(const std::function<void(Profile &)> &edit);
std::string profile_path(const std::string &name);
/* REPORTDATA seed, seed + 1, ...: distinct for distinct seeds. */
dice_quote::ReportData report_data_of(u8 seed);
/* TDH.QUOTE.GET's registers: the TD at `tdr`, its TDREPORT at `input`, a buffer of `pages` data pages listed from `node`. */
RegBlock quote_get_regs(u64 tdr, u64 input, u64 node, u64 pages);

/* TDMR_INFOs and the PA array as the kernel would lay them out in guest memory. */
struct TdmrLayout {
	std::vector<TdmrDesc> tdmrs;
	u64 array_pa = 0x10000;
	u64 info_pa = 0x11000; /* TDMR_INFO i at info_pa + i * stride */
};

/* One 1 GiB TDMR at 0 over 64 MiB of RAM: usable [0, 56M), reserved [56M, 1G), PAMTs at 56M. */
TdmrLayout one_tdmr_layout(const Profile &p);
/* Adds a second, fully reserved TDMR [1G, 2G) whose PAMTs sit in TDMR 0's reserved area. */
TdmrLayout two_tdmr_layout(const Profile &p);
void write_layout(const GuestMemory &mem, const TdmrLayout &l, const Profile &p);
std::vector<TdmrReservedArea> rsvd_list(const Profile &p, std::vector<TdmrReservedArea> areas);

constexpr u64 rax(u16 leaf, u8 version = 0) { return leaf_rax(leaf, version); }

/* One control command as a JSON client sees it: the reply line, parsed. */
nlohmann::json control_json(Emulator &emu, const std::string &line);
/* One control command as a client that said "format kv" sees it: the reply without its newline. */
std::string control_kv(Emulator &emu, const std::string &line);

/* Bytes as lower-case hex, and back (two digits per byte; the input is trusted). */
std::string to_hex(dice_quote::BytesView b);
dice_quote::Bytes from_hex(const std::string &s);
/* The control command "qe sign" of this TDREPORT, as a JSON client sees it. */
nlohmann::json qe_sign(Emulator &emu, dice_quote::BytesView report);

/* A client of a Unix stream socket (blocking), or -1. */
int connect_unix(const std::string &path);

/* A Module over an in-memory RAM with helpers that drive it through bring-up. */
class ModelTest : public ::testing::Test {
protected:
	explicit ModelTest(u64 ram_size = 64 * kMiB, Profile p = default_profile());

	/* One SEAMCALL; out holds the registers after it. */
	u64 call_rax(u32 lp, u64 rax_in, RegBlock in = {});
	u64 call(u32 lp, u16 leaf, u64 rcx = 0, u64 rdx = 0, u64 r8 = 0);

	void sys_init();
	void lp_init_all();
	u64 config(const TdmrLayout &l, u64 keyid = 32, u8 version = 0, u64 addons = 0);
	void key_config_all();
	void tdmr_init_all();
	void bring_up(); /* SYS.INIT .. SYS_READY with one_tdmr_layout() */

	Profile profile_;
	RamBuffer ram_;
	GuestMemory mem_;
	std::unique_ptr<Module> m_;
	RegBlock out_{};
};

/*
 * A whole Emulator (counters, fault rules, control commands) over an in-memory RAM: its SEAMCALLs
 * go through Emulator::serve, as the mailbox server's do.
 */
class EmulatorTest : public ::testing::Test {
protected:
	EmulatorTest(u64 ram_size, Profile p);

	/* One SEAMCALL from LP lp; out_ holds the registers after it. */
	u64 serve(u32 lp, u64 rax_in, RegBlock in = {});
	u64 serve(u32 lp, u64 rax_in, u64 rcx, u64 rdx = 0, u64 r8 = 0);
	/*
	 * SYS.INIT, LP.INIT on every LP, SYS.CONFIG (this version and add-on bitmap, KeyID 32) of
	 * one_tdmr_layout(), KEY.CONFIG on every package: configured, the TDMRs not initialized.
	 */
	void configure(u8 version = 0, u64 addons = 0);
	/* EXT.MEM.ADD of `pages` pages from pool_pa on (one list at list_pa), then EXT.INIT to the end. */
	void ext_up(u64 list_pa, u64 pool_pa, u32 pages);
	nlohmann::json ctl(const std::string &line) { return control_json(emu_, line); }
	std::string kv(const std::string &line) { return control_kv(emu_, line); }

	RamBuffer ram_;
	GuestMemory mem_;
	Profile profile_;
	Emulator emu_;
	RegBlock out_{};
};

} // namespace seam_emu::test
