// SPDX-License-Identifier: GPL-2.0
// Counters, fault injection and the control commands, driven directly (no socket).
#include "test_support.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "emulator.h"

namespace seam_emu::test {
namespace {

using json = nlohmann::json;

class Emu : public ::testing::Test {
protected:
	Emu() : ram_(64 * kMiB), mem_(ram_.data(), ram_.size()), emu_(default_profile(), mem_)
	{
		emu_.set_die_handler([this] { died_++; });
	}
	u64 serve(u32 lp, u16 leaf, u64 rcx = 0, u64 *ns = nullptr)
	{
		RegBlock r{};
		r.rcx = rcx;
		return emu_.serve(lp, leaf_rax(leaf), r, ns);
	}
	json ctl(const std::string &line)
	{
		std::string out = emu_.control(line);
		EXPECT_FALSE(out.empty());
		EXPECT_EQ(out.back(), '\n');
		EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line";
		return json::parse(out);
	}
	RamBuffer ram_;
	GuestMemory mem_;
	Emulator emu_;
	int died_ = 0;
};

TEST_F(Emu, PingAndErrors)
{
	EXPECT_EQ(ctl("ping"), json({{"ok", true}}));
	for (const char *bad : {"pong", "ping extra", "fault", "fault sys.init", "fault nosuch 1 die",
				"fault sys.init 0 die", "fault sys.init x die", "fault sys.init 1 status",
				"fault sys.init 1 status 0xZZ", "fault sys.init 1 delay -5", "fault sys.init 1 explode",
				"fault 128 1 die", "fault sys.init 1 die now", "counters please", "\xff\xfe"}) {
		json j = ctl(bad);
		EXPECT_EQ(j["ok"], false) << bad;
		EXPECT_TRUE(j["error"].is_string()) << bad;
	}
}

TEST_F(Emu, LeafNames)
{
	EXPECT_EQ(parse_leaf("sys.init"), leaf::kSysInit);
	EXPECT_EQ(parse_leaf("TDH.SYS.INIT"), leaf::kSysInit);
	EXPECT_EQ(parse_leaf("lp.init"), leaf::kSysLpInit);
	EXPECT_EQ(parse_leaf("sys.config"), leaf::kSysConfig);
	EXPECT_EQ(parse_leaf("key.config"), leaf::kSysKeyConfig);
	EXPECT_EQ(parse_leaf("tdmr.init"), leaf::kSysTdmrInit);
	EXPECT_EQ(parse_leaf("sys.rd"), leaf::kSysRd);
	EXPECT_EQ(parse_leaf("sys.disable"), leaf::kSysDisable);
	EXPECT_EQ(parse_leaf("cache.wb"), leaf::kPhymemCacheWb);
	EXPECT_EQ(parse_leaf("45"), leaf::kSysConfig);
	EXPECT_FALSE(parse_leaf("128"));
	EXPECT_FALSE(parse_leaf("sys.nothing"));
}

TEST_F(Emu, CountersCountEveryCall)
{
	EXPECT_EQ(ctl("counters"), json({{"ok", true}, {"counters", json::object()}}));
	serve(0, leaf::kSysInit);
	serve(0, leaf::kSysInit); /* rejected calls count too */
	serve(0, leaf::kSysLpInit);
	serve(1, leaf::kSysLpInit);
	serve(0, leaf::kMngCreate);
	RegBlock r{};
	emu_.serve(0, leaf_rax(leaf::kSysRd) | (1ull << 30), r); /* reserved bits: counted under its leaf */
	json c = ctl("counters")["counters"];
	EXPECT_EQ(c, json({{"9", 1}, {"33", 2}, {"34", 1}, {"35", 2}}));
	EXPECT_EQ(ctl("reset-counters")["ok"], true);
	EXPECT_EQ(ctl("counters")["counters"], json::object());
	json s = ctl("stats");
	EXPECT_EQ(s["calls"], 6);
	EXPECT_GT(s["service_ns_total"].get<u64>(), 0u);
	EXPECT_GT(s["cpu_ns"].get<u64>(), 0u);
	json later = ctl("stats");
	EXPECT_GT(later["wall_ns"].get<u64>(), s["wall_ns"].get<u64>());
	EXPECT_GE(later["cpu_ns"].get<u64>(), s["cpu_ns"].get<u64>());
}

TEST_F(Emu, FaultStatusFiresOnNthCallFromNow)
{
	serve(0, leaf::kSysRd); /* calls before the rule do not count towards it */
	ASSERT_EQ(ctl("fault sys.init 2 status 0xC000050800000000")["ok"], true);
	EXPECT_EQ(ctl("faults")["faults"].size(), 1u);
	EXPECT_EQ(serve(0, leaf::kSysInit, 1), status::kOperandInvalid | kOperandIdRcx); /* 1st: real */
	EXPECT_EQ(serve(0, leaf::kSysInit), status::kSysStateIncorrect);                  /* 2nd: injected */
	{
		std::lock_guard<std::mutex> g(emu_.mutex());
		EXPECT_EQ(emu_.module().state(), SysState::kSysinitPending); /* the leaf did not run */
	}
	EXPECT_EQ(serve(0, leaf::kSysInit), status::kSuccess); /* one-shot */
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
	EXPECT_EQ(emu_.counter(leaf::kSysInit), 3u);
}

TEST_F(Emu, FaultOnNumericLeafAndClear)
{
	ASSERT_EQ(ctl("fault 35 1 status 8000020200000000")["ok"], true);
	ASSERT_EQ(ctl("fault lp.init 3 die")["ok"], true);
	EXPECT_EQ(ctl("clear")["ok"], true);
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
	serve(0, leaf::kSysInit);
	EXPECT_EQ(serve(0, leaf::kSysLpInit), status::kSuccess);
	ASSERT_EQ(ctl("fault 35 1 status 8000020200000000")["ok"], true);
	EXPECT_EQ(serve(1, leaf::kSysLpInit), status::kSysBusy);
	EXPECT_EQ(serve(1, leaf::kSysLpInit), status::kSuccess);
}

TEST_F(Emu, FaultDelay)
{
	ASSERT_EQ(ctl("fault sys.init 1 delay 150")["ok"], true);
	u64 ns = 0;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(serve(0, leaf::kSysInit, 0, &ns), status::kSuccess); /* served, late */
	auto waited = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(waited, std::chrono::milliseconds(150));
	EXPECT_GE(ns, 150'000'000u);
	serve(0, leaf::kSysRd, 0, &ns);
	EXPECT_LT(ns, 50'000'000u);
}

TEST_F(Emu, FaultDieCallsTheHandler)
{
	ASSERT_EQ(ctl("fault sys.disable 2 die")["ok"], true);
	serve(0, leaf::kSysDisable);
	EXPECT_EQ(died_, 0);
	serve(0, leaf::kSysDisable);
	EXPECT_EQ(died_, 1);
}

TEST_F(Emu, StateReport)
{
	json s = ctl("state");
	EXPECT_EQ(s["ok"], true);
	EXPECT_EQ(s["state"], "SYSINIT_PENDING");
	EXPECT_EQ(s["lp_init"], json::array({false, false}));
	EXPECT_EQ(s["pkg_key_config"], json::array({false}));
	EXPECT_EQ(s["tdmrs"], 0);
	EXPECT_EQ(s["tdmrs_initialized"], 0);
	serve(0, leaf::kSysInit);
	serve(1, leaf::kSysLpInit);
	s = ctl("state");
	EXPECT_EQ(s["state"], "SYSINIT_DONE");
	EXPECT_EQ(s["lp_init"], json::array({false, true}));
}

} // namespace
} // namespace seam_emu::test
