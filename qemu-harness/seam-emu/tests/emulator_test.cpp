// SPDX-License-Identifier: GPL-2.0
// Counters, fault injection and the control commands, driven directly (no socket).
#include "test_support.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include <tdx/abi/leaves.h>

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
	/* A command on a connection that said "format kv"; the reply without its newline. */
	std::string kv(const std::string &line)
	{
		ControlFormat f = ControlFormat::kKv;
		std::string out = emu_.control(line, &f);
		EXPECT_EQ(f, ControlFormat::kKv);
		EXPECT_FALSE(out.empty());
		EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line";
		return out.substr(0, out.size() - 1);
	}
	RamBuffer ram_;
	GuestMemory mem_;
	Emulator emu_;
	int died_ = 0;
};

/* "image NAME" replaces the module image only in SYSINIT_PENDING; bad names never reach the disk. */
TEST_F(Emu, ImageCommandReplacesTheImageBeforeBringUp)
{
	const auto features = [this] {
		std::lock_guard<std::mutex> g(emu_.module_mutex());
		return emu_.module().image().tdx_features0;
	};
	EXPECT_EQ(ctl("image ext-quote")["ok"], false) << "no profile directory set yet";
	emu_.set_profile_dir(SEAM_EMU_PROFILE_DIR);
	const u64 before = features();
	EXPECT_EQ(ctl("image ext-quote"), json({{"ok", true}, {"image", "ext-quote"}}));
	EXPECT_NE(features(), before);
	EXPECT_TRUE(features() & features0::kQuote);
	{
		std::lock_guard<std::mutex> g(emu_.module_mutex());
		EXPECT_EQ(emu_.module().image().ext.pool_pages, load_profile(std::string(SEAM_EMU_PROFILE_DIR) +
									 "/ext-quote.json").profile->ext.pool_pages);
	}
	for (const char *bad : {"image ../default", "image .hidden", "image a/b", "image no-such-profile"})
		EXPECT_EQ(ctl(bad)["ok"], false) << bad;
	EXPECT_EQ(ctl("image default")["ok"], true);
	EXPECT_EQ(features(), before);
	/* After SYS.INIT the module is no longer SYSINIT_PENDING: the image stays. */
	EXPECT_EQ(serve(0, leaf::kSysInit), status::kSuccess);
	const json r = ctl("image ext-quote");
	EXPECT_EQ(r["ok"], false);
	EXPECT_NE(r["error"].get<std::string>().find("SYSINIT_DONE"), std::string::npos) << r;
	EXPECT_EQ(features(), before);
}

TEST_F(Emu, PingAndErrors)
{
	EXPECT_EQ(ctl("ping"), json({{"ok", true}}));
	for (const char *bad : {"pong", "ping extra", "fault", "fault sys.init", "fault nosuch 1 die",
				"fault sys.init 0 die", "fault sys.init x die", "fault sys.init 1 status",
				"fault sys.init 1 status 0xZZ", "fault sys.init 1 delay -5", "fault sys.init 1 explode",
				"fault 128 1 die", "fault sys.init 1 die now", "counters please", "counters a b",
				"leaves nosuch", "leaves a b", "format xml", "format kv json", "\xff\xfe"}) {
		json j = ctl(bad);
		EXPECT_EQ(j["ok"], false) << bad;
		EXPECT_TRUE(j["error"].is_string()) << bad;
	}
}

TEST_F(Emu, LeafNames)
{
	/* Every leaf of the one table, by short name, by spec name, by number. */
	for (const LeafInfo &l : kLeaves) {
		EXPECT_EQ(parse_leaf(l.short_name), l.number) << l.short_name;
		EXPECT_EQ(parse_leaf(l.spec_name), l.number) << l.spec_name;
		EXPECT_EQ(parse_leaf(std::to_string(l.number)), l.number);
		EXPECT_EQ(leaf_short_name(l.number), l.short_name);
	}
	EXPECT_EQ(parse_leaf("TDH.SYS.INIT"), leaf::kSysInit);
	EXPECT_EQ(parse_leaf("tdh.sys.lp.init"), leaf::kSysLpInit);
	/* The older aliases keep working. */
	EXPECT_EQ(parse_leaf("lp.init"), leaf::kSysLpInit);
	EXPECT_EQ(parse_leaf("key.config"), leaf::kSysKeyConfig);
	EXPECT_EQ(parse_leaf("tdmr.init"), leaf::kSysTdmrInit);
	EXPECT_EQ(parse_leaf("cache.wb"), leaf::kPhymemCacheWb);
	EXPECT_EQ(parse_leaf("45"), leaf::kSysConfig);
	EXPECT_EQ(leaf_short_name(77), "77"); /* not in the table */
	EXPECT_FALSE(parse_leaf("128"));
	EXPECT_FALSE(parse_leaf("sys.nothing"));
	EXPECT_FALSE(parse_leaf("tdh."));
	EXPECT_FALSE(parse_leaf(""));
}

TEST_F(Emu, LeavesCommand)
{
	json all = ctl("leaves")["leaves"];
	EXPECT_EQ(all.size(), std::size(kLeaves));
	EXPECT_EQ(all["sys.key.config"], leaf::kSysKeyConfig);
	EXPECT_EQ(all["sys.lp.init"], leaf::kSysLpInit);
	EXPECT_EQ(ctl("leaves lp.init")["leaves"], json({{"sys.lp.init", leaf::kSysLpInit}}));
	EXPECT_EQ(kv("leaves TDH.SYS.CONFIG"), "ok sys.config=45");
	std::string line = kv("leaves");
	EXPECT_EQ(line.rfind("ok mng.addcx=1 ", 0), 0u) << line;
	EXPECT_NE(line.find(" sys.key.config=31 "), std::string::npos) << line;
	EXPECT_NE(line.find(" sys.disable=69"), std::string::npos) << line;
}

TEST_F(Emu, KvFormat)
{
	EXPECT_EQ(kv("ping"), "ok");
	EXPECT_EQ(kv("nonsense"), "error unknown or malformed command: nonsense");
	EXPECT_EQ(kv("fault sys.init 1 explode"), "error fault kind must be status, delay or die");
	EXPECT_EQ(kv("counters"), "ok");
	serve(0, leaf::kSysInit);
	serve(1, leaf::kSysLpInit);
	serve(1, leaf::kSysLpInit);
	EXPECT_EQ(kv("counters"), "ok sys.init=1 sys.lp.init=2");
	EXPECT_EQ(kv("counters lp.init"), "ok sys.lp.init=2");
	EXPECT_EQ(kv("counters sys.disable"), "ok sys.disable=0") << "asked for: shown when 0";
	EXPECT_EQ(kv("state"), "ok state=SYSINIT_DONE lp_init.0=0 lp_init.1=1 pkg_key_config.0=0 tdmrs=0 "
			       "tdmrs_initialized=0 global_keyid=0 addons=0x0 disable_progress=0 module_version=1.5.06 "
			       "module_present=1");
	ASSERT_EQ(kv("fault tdh.sys.rd 2 status 0xC000010000000000"), "ok");
	ASSERT_EQ(kv("fault sys.disable 1 delay 5"), "ok");
	EXPECT_EQ(kv("faults"), "ok faults.0.leaf=sys.rd faults.0.remaining=2 faults.0.status=0xc000010000000000 "
				"faults.1.leaf=sys.disable faults.1.remaining=1 faults.1.delay_ms=5");
	std::string st = kv("stats");
	EXPECT_EQ(st.rfind("ok calls=3 service_ns_total=", 0), 0u) << st;
	EXPECT_NE(st.find(" wakeups=0"), std::string::npos) << st;
	/* Serial noise in an error stays one readable token line. */
	EXPECT_EQ(kv("\xff\x01x"), "error unknown or malformed command: ??x");

	/* "format" switches the connection's format; its reply is already in the new one. */
	ControlFormat f = ControlFormat::kJson;
	EXPECT_EQ(emu_.control("format", &f), "{\"ok\":true,\"format\":\"json\"}\n");
	EXPECT_EQ(emu_.control("format kv", &f), "ok format=kv\n");
	EXPECT_EQ(f, ControlFormat::kKv);
	EXPECT_EQ(emu_.control("format xml", &f), "error format is kv or json\n");
	EXPECT_EQ(emu_.control("FORMAT JSON", &f), "{\"ok\":true,\"format\":\"json\"}\n");
	EXPECT_EQ(f, ControlFormat::kJson);
	EXPECT_EQ(Emulator::error_reply("line too long", ControlFormat::kKv), "error line too long\n");
	EXPECT_EQ(Emulator::error_reply("line too long", ControlFormat::kJson),
		  "{\"ok\":false,\"error\":\"line too long\"}\n");
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
	EXPECT_EQ(c, json({{"mng.create", 1}, {"sys.init", 2}, {"sys.rd", 1}, {"sys.lp.init", 2}}));
	EXPECT_EQ(ctl("reset-counters")["ok"], true);
	EXPECT_EQ(ctl("counters")["counters"], json::object());
	json s = ctl("stats");
	EXPECT_EQ(s["calls"], 6);
	EXPECT_GT(s["service_ns_total"].get<u64>(), 0u);
	EXPECT_GT(s["cpu_ns"].get<u64>(), 0u);
	json later = ctl("stats");
	EXPECT_GT(later["wall_ns"].get<u64>(), s["wall_ns"].get<u64>());
	EXPECT_GE(later["cpu_ns"].get<u64>(), s["cpu_ns"].get<u64>());
	EXPECT_EQ(s["wakeups"], 0) << "nothing here sleeps";
	emu_.note_wakeup();
	EXPECT_EQ(ctl("stats")["wakeups"], 1);
}

TEST_F(Emu, FaultStatusFiresOnNthCallFromNow)
{
	serve(0, leaf::kSysRd); /* calls before the rule do not count towards it */
	ASSERT_EQ(ctl("fault sys.init 2 status 0xC000050800000000")["ok"], true);
	EXPECT_EQ(ctl("faults")["faults"].size(), 1u);
	EXPECT_EQ(serve(0, leaf::kSysInit, 1), status::kOperandInvalid | kOperandIdRcx); /* 1st: real */
	EXPECT_EQ(serve(0, leaf::kSysInit), status::kSysStateIncorrect);                  /* 2nd: injected */
	{
		std::lock_guard<std::mutex> g(emu_.module_mutex());
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

/* "lp N": only that logical processor's calls count towards the rule and fire it. */
TEST_F(Emu, FaultOnOneLp)
{
	ASSERT_EQ(serve(0, leaf::kSysInit), status::kSuccess);
	ASSERT_EQ(ctl("fault sys.lp.init 1 lp 1 status 0x8000020200000000")["ok"], true);
	EXPECT_EQ(ctl("faults")["faults"][0]["lp"], 1);
	EXPECT_EQ(serve(0, leaf::kSysLpInit), status::kSuccess) << "LP 0's call does not count";
	EXPECT_EQ(serve(1, leaf::kSysLpInit), status::kSysBusy) << "LP 1's first call fires";
	EXPECT_EQ(serve(1, leaf::kSysLpInit), status::kSuccess) << "one-shot";
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
	EXPECT_EQ(kv("fault sys.lp.init 2 lp 0 die"), "ok");
	EXPECT_EQ(kv("faults"), "ok faults.0.leaf=sys.lp.init faults.0.remaining=2 faults.0.lp=0 faults.0.die=1");
	EXPECT_EQ(ctl("clear")["ok"], true);
	/* The default profile has 2 LPs: 2 and up are refused, and "lp" needs its number and a kind. */
	for (const char *bad : {"fault sys.init 1 lp 2 die", "fault sys.init 1 lp x die", "fault sys.init 1 lp 1",
				"fault sys.init 1 lp", "fault sys.init 1 lp 1 status", "fault sys.init 1 lp 1 die now"})
		EXPECT_EQ(ctl(bad)["ok"], false) << bad;
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
}

TEST_F(Emu, FaultDelay)
{
	ASSERT_EQ(ctl("fault sys.init 1 delay 150")["ok"], true);
	u64 ns = 0;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(serve(0, leaf::kSysInit, 0, &ns), status::kSuccess); /* served, late */
	auto waited = std::chrono::steady_clock::now() - t0;
	EXPECT_GE(waited, std::chrono::milliseconds(150));
	EXPECT_GE(ns, 150'000'000u) << "the delay is inside the module call: part of the service time";
	{
		std::lock_guard<std::mutex> g(emu_.module_mutex());
		EXPECT_EQ(emu_.module().state(), SysState::kSysinitDone) << "the leaf ran";
	}
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u) << "one-shot";
}

/* A delay on one LP holds that call only: another LP is answered meanwhile. */
TEST_F(Emu, DelayOnOneLpDoesNotStallAnother)
{
	ASSERT_EQ(serve(0, leaf::kSysInit), status::kSuccess);
	ASSERT_EQ(ctl("fault lp.init 1 delay 600000")["ok"], true);
	std::atomic<bool> held_done{false};
	u64 held_status = ~0ull;
	std::thread held([&] {
		held_status = serve(0, leaf::kSysLpInit);
		held_done = true;
	});
	/* Wait until the held call has started (its counter moved), then call on LP 1. */
	while (emu_.counter(leaf::kSysLpInit) == 0)
		std::this_thread::yield();
	RegBlock r{};
	u64 st = emu_.serve(1, leaf_rax(leaf::kSysRd), r);
	EXPECT_FALSE(held_done) << "LP 1 was answered while LP 0 is held";
	EXPECT_NE(st, ~0ull);
	emu_.cancel_delays(); /* what the emulator's exit does */
	held.join();
	EXPECT_EQ(held_status, status::kSuccess);
	/* Later delays return at once once cancelled (the emulator is exiting). */
	ASSERT_EQ(ctl("fault sys.rd 1 delay 600000")["ok"], true);
	RegBlock r2{};
	emu_.serve(0, leaf_rax(leaf::kSysRd), r2); /* would sleep for ten minutes (ctest's limit is 2) */
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
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
