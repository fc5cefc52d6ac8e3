// SPDX-License-Identifier: GPL-2.0
// The P-SEAMLDR (seam-emu README, "P-SEAMLDR and runtime update"): SEAMLDR.INFO's layout and
// operand, SEAMLDR.INSTALL's every-LP session, each of its checks and its status, the remaining
// updates, a failure after the old module's memory was modified (no module, VMfailInvalid) and the
// install that recovers, the fault targets and the "seamldr" control command.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <tdx/abi/leaves.h>
#include <tdx/emu/service.h>

#include "seam_identity.h"
#include "seamldr_support.h"

namespace seam_emu::test {
namespace {

namespace mi = module_image;
namespace sl = seamldr_status;
using json = nlohmann::json;

class Seamldr : public UpdateTest {
protected:
	explicit Seamldr(Profile p = default_profile()) : UpdateTest(std::move(p)) {}

	/* SYS_READY and shut down for an update, `img` in place. */
	void shut_down_with(const TestImage &img)
	{
		ASSERT_NO_FATAL_FAILURE(ready());
		ASSERT_NO_FATAL_FAILURE(put_image(img));
		ASSERT_EQ(shutdown(), status::kSuccess);
	}
	/* A module SEAMCALL that needs no state: VMfailInvalid when no module can be entered. */
	u64 probe() { return serve(1, rax(leaf::kSysRd), 0, field::kMajorVersion); }
};

/* ---- SEAMLDR.INFO --------------------------------------------------------------------------- */

TEST_F(Seamldr, InfoLayout)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	std::memset(mem_.ptr(kInfoPa, kSeamldrInfoSize), 0xEE, kSeamldrInfoSize);
	const SeamldrInfo i = info();
	EXPECT_EQ(i.version, 0u);
	EXPECT_EQ(i.attributes, 0u); /* production */
	EXPECT_EQ(i.vendor_id, 0x8086u);
	EXPECT_EQ(i.major, profile_.seamldr.major);
	EXPECT_EQ(i.minor, profile_.seamldr.minor);
	EXPECT_EQ(i.update, profile_.seamldr.update);
	EXPECT_EQ(i.build_num, profile_.seamldr.build_num);
	EXPECT_EQ(i.build_date, profile_.seamldr.build_date);
	EXPECT_EQ(i.num_remaining_updates, profile_.seamldr.num_remaining_updates);
	EXPECT_EQ(i.seam_ready, 1);
	EXPECT_EQ(i.seam_debug, 0);
	EXPECT_EQ(i.p_seam_ready, 1);
	EXPECT_NE(i.seam_info.valid, 0u);
	EXPECT_EQ(i.seam_info.tee_tcb_svn[kTeeTcbSvnMinor], profile_.svn.minor);
	EXPECT_EQ(i.seam_info.tee_tcb_svn[kTeeTcbSvnMajor], profile_.svn.major);
	const SeamIdentity id = seam_identity(profile_.image());
	EXPECT_EQ(0, std::memcmp(i.seam_info.mrseam, id.mrseam.data(), 48));
	/* A profile's image stands for one the project's test signer signed (not Intel: not zero). */
	const mi::Digest48 test_signer = mi::test_signer_id();
	EXPECT_EQ(0, std::memcmp(i.seam_info.mrsignerseam, test_signer.data(), 48));
	for (u8 b : i.reserved)
		EXPECT_EQ(b, 0);
	/* Counted under its fault target, never as a leaf. */
	EXPECT_EQ(emu_.counter(fault_target::kSeamldrInfo), 1u);
	EXPECT_EQ(ctl("counters seamldr.info")["counters"]["seamldr.info"], 1);
	EXPECT_EQ(seamldr_state().info_calls, 1u);
}

TEST_F(Seamldr, InfoOperandMustBe256AlignedRam)
{
	std::memset(mem_.ptr(kInfoPa, 2 * kSeamldrInfoSize), 0xEE, 2 * kSeamldrInfoSize);
	for (u64 pa : std::initializer_list<u64>{kInfoPa + 128, kInfoPa + 8, kNotRam, kRam - 128, u64(1) << 52}) {
		EXPECT_EQ(serve(0, kSeamldrInfo, pa), sl::kEBadParam) << std::hex << pa;
	}
	const u8 *p = mem_.ptr(kInfoPa, 2 * kSeamldrInfoSize);
	EXPECT_TRUE(std::all_of(p, p + 2 * kSeamldrInfoSize, [](u8 b) { return b == 0xEE; })) << "nothing written";
	EXPECT_EQ(serve(0, kSeamldrInfo, kRam - kSeamldrInfoSize), status::kSuccess);
	/* Any LP, any module state (before SYS.INIT too). */
	EXPECT_EQ(serve(1, kSeamldrInfo, kInfoPa + kSeamldrInfoSize), status::kSuccess);
	/* Other P-SEAMLDR leaves are not modelled: the P-SEAMLDR's answer to an unknown one. */
	EXPECT_EQ(serve(0, kSeamldrInfo | 2, kInfoPa), sl::kEBadParam);
}

/* ---- the every-LP session ------------------------------------------------------------------- */

class SeamldrLps : public Seamldr, public ::testing::WithParamInterface<u32> {
protected:
	SeamldrLps() : Seamldr(default_profile_with([](Profile &p) { p.lps = GetParam(); })) {}
};

TEST_P(SeamldrLps, EveryLpJoinsAndTheLastInstalls)
{
	const u32 n = GetParam();
	const TestImage img = build_image(update_spec("default.json", 8, 7));
	ASSERT_NO_FATAL_FAILURE(shut_down_with(img));
	/* Not in LP order: the session completes with whichever LP calls last. */
	std::vector<u32> order;
	for (u32 i = 0; i < n; i++)
		order.push_back((i + 1) % n);
	for (u32 i = 0; i + 1 < n; i++) {
		EXPECT_EQ(install(order[i]), status::kSuccess) << "LP " << order[i];
		EXPECT_EQ(out_.rdx, 0u);
		EXPECT_EQ(seamldr_state().joined_count(), i + 1);
		/* The session holds the module off: SEAMCALL fails with CF=1. */
		EXPECT_EQ(probe(), kTdxSeamcallVmFailInvalid);
		EXPECT_EQ(image().module.update, 6u); /* nothing installed yet */
		/* Twice from one LP: refused, and it changes nothing. */
		EXPECT_EQ(install(order[i]), sl::kEBadCall);
		EXPECT_EQ(out_.rdx, kSeamldrRecoverable);
		EXPECT_EQ(seamldr_state().joined_count(), i + 1);
	}
	EXPECT_EQ(install(order[n - 1]), status::kSuccess);
	EXPECT_EQ(out_.rdx, 0u);
	const SeamldrState s = seamldr_state();
	EXPECT_EQ(s.joined_count(), 0u); /* the session ended */
	EXPECT_EQ(s.installs_ok, 1u);
	EXPECT_EQ(s.remaining_updates, profile_.seamldr.num_remaining_updates - 1);
	EXPECT_EQ(image().module.update, 8u);
	EXPECT_EQ(image().svn.minor, 7);
	EXPECT_EQ(state(), SysState::kSysinitPending);
	EXPECT_EQ(probe(), status::kSysLpInitNotDone); /* the new module runs, not initialized */
	EXPECT_EQ(info().num_remaining_updates, profile_.seamldr.num_remaining_updates - 1);
	/* Not the next session's: a new one starts with any LP. */
	EXPECT_EQ(install(order[0]), status::kSuccess);
	EXPECT_EQ(seamldr_state().joined_count(), 1u);
}

INSTANTIATE_TEST_SUITE_P(TwoAndFour, SeamldrLps, ::testing::Values(2u, 4u));

TEST_F(Seamldr, ABadParamsPageDoesNotJoin)
{
	const TestImage img = build_image(update_spec("default.json", 8, 7));
	ASSERT_NO_FATAL_FAILURE(shut_down_with(img));
	for (u64 pa : std::initializer_list<u64>{kParamsPa + 8, kNotRam, u64(1) << 52}) {
		EXPECT_EQ(install(0, pa), sl::kEBadParam);
		EXPECT_EQ(out_.rdx, kSeamldrRecoverable);
	}
	EXPECT_EQ(seamldr_state().joined_count(), 0u);
	EXPECT_EQ(probe(), status::kSysShutdown); /* no session: the old module answers */
}

/* ---- the checks, each before the old module's memory is touched ----------------------------- */

struct Check {
	const char *what;
	std::function<void(ImageSpec &)> image;        /* edit the image before it is built */
	std::function<void(TestImage &)> signed_image; /* edit it after it was signed */
	std::function<void(SeamldrParams &)> params;
	u64 status;
};

TEST_F(Seamldr, EveryCheckRefusesWithItsStatusAndKeepsTheOldModule)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	ASSERT_EQ(shutdown(), status::kSuccess);
	const Check checks[] = {
		{"params version 1", {}, {}, [](SeamldrParams &p) { p.version = 1; }, sl::kEBadParam},
		{"params reserved byte", {}, {}, [](SeamldrParams &p) { p.reserved[50] = 1; }, sl::kEBadParam},
		{"scenario 2", {}, {}, [](SeamldrParams &p) { p.scenario = 2; }, sl::kEBadParam},
		{"no module pages", {}, {}, [](SeamldrParams &p) { p.num_module_pages = 0; }, sl::kEBadParam},
		{"497 module pages", {}, {}, [](SeamldrParams &p) { p.num_module_pages = 497; }, sl::kEBadParam},
		{"a module page misaligned", {}, {}, [](SeamldrParams &p) { p.module_page_pa[1] += 8; }, sl::kEBadParam},
		{"a module page not RAM", {}, {}, [](SeamldrParams &p) { p.module_page_pa[2] = kNotRam; }, sl::kEBadParam},
		{"sigstruct misaligned", {}, {}, [](SeamldrParams &p) { p.sigstruct_pa += 2048; }, sl::kEBadParam},
		{"sigstruct not RAM", {}, {}, [](SeamldrParams &p) { p.sigstruct_pa = kNotRam; }, sl::kEBadParam},
		{"untrusted signer", [](ImageSpec &s) { s.other_signer = true; }, {}, {}, sl::kEBadSig},
		{"sigstruct header", {}, [](TestImage &i) { i.sig.header_type = 5; }, {}, sl::kEBadSig},
		{"RSA signature", {}, [](TestImage &i) { i.sig.signature[100] ^= 1; }, {}, sl::kEBadSig},
		{"signed body changed", {}, [](TestImage &i) { i.sig.minor_svn++; }, {}, sl::kEBadSig},
		{"debug-signed", [](ImageSpec &s) { s.sig.debug = true; }, {}, {}, sl::kEBadSig},
		{"min_update_hv above module_hv", [](ImageSpec &s) { s.sig.min_update_hv = 2; s.sig.module_hv = 1; }, {}, {},
		 sl::kEBadSig},
		{"major SVN 2", [](ImageSpec &s) { s.sig.major_svn = 2; }, {}, {}, sl::kEBadCall},
		{"minor SVN below the running one", [](ImageSpec &s) { s.sig.minor_svn = 5; }, {}, {}, sl::kEBadSig},
		{"CPU not in the table", [](ImageSpec &s) { s.sig.cpuid_table = {0xa06f0, 0xc06f0}; }, {}, {}, sl::kEUnsupCpu},
		{"production without a CPUID table", [](ImageSpec &s) { s.sig.cpuid_table.clear(); }, {}, {}, sl::kEBadSig},
		{"no manifest", [](ImageSpec &s) { s.manifest = nullptr; }, {}, {}, sl::kEUnspecErr},
		{"manifest missing a key", [](ImageSpec &s) { s.manifest.erase("tdmr"); }, {}, {}, sl::kEUnspecErr},
		{"handoff version above the image's", [](ImageSpec &s) { s.sig.min_update_hv = s.sig.module_hv = 1; }, {}, {},
		 sl::kEBadHandoff},
		{"no downgrade, handoff version below", [](ImageSpec &s) { s.sig.module_hv = 1; s.sig.no_downgrade = true; }, {}, {},
		 sl::kEBadHandoff},
	};
	u64 failed = 0;
	for (const Check &k : checks) {
		ImageSpec spec = update_spec("default.json", 8, 7);
		if (k.image)
			k.image(spec);
		TestImage img = build_image(spec);
		if (k.signed_image)
			k.signed_image(img);
		ASSERT_NO_FATAL_FAILURE(put_image(img));
		if (k.params) {
			SeamldrParams p = params_of(img);
			k.params(p);
			write_params(p);
		}
		u64 rdx = ~0ull;
		EXPECT_EQ(install_session(&rdx), k.status) << k.what;
		EXPECT_EQ(rdx, kSeamldrRecoverable) << k.what;
		const SeamldrState s = seamldr_state();
		EXPECT_EQ(s.installs_failed, ++failed) << k.what;
		ASSERT_TRUE(s.last_failure) << k.what;
		EXPECT_EQ(s.last_failure->status, k.status) << k.what;
		EXPECT_FALSE(s.last_failure->why.empty()) << k.what;
		EXPECT_TRUE(s.module_present) << k.what;
		EXPECT_EQ(s.joined_count(), 0u) << k.what;
		EXPECT_EQ(s.remaining_updates, profile_.seamldr.num_remaining_updates) << k.what;
		/* The old module, shut down, with its handoff: a good image still goes in. */
		EXPECT_EQ(probe(), status::kSysShutdown) << k.what;
		EXPECT_EQ(image().module.update, 6u) << k.what;
	}
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 8, 7))));
	EXPECT_EQ(install_session(), status::kSuccess);
	EXPECT_EQ(reinit_and_update(), status::kSuccess);
}

TEST_F(Seamldr, AnUpdateNeedsAModuleShutDownForIt)
{
	const TestImage img = build_image(update_spec("default.json", 8, 7));
	ASSERT_NO_FATAL_FAILURE(put_image(img));
	/* Never initialized, then SYS_READY: no handoff data. */
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEBadCall);
	EXPECT_EQ(rdx, kSeamldrRecoverable);
	ASSERT_NO_FATAL_FAILURE(ready());
	EXPECT_EQ(install_session(&rdx), sl::kEBadCall);
	EXPECT_EQ(rdx, kSeamldrRecoverable);
	EXPECT_EQ(state(), SysState::kSysReady);
	EXPECT_EQ(probe(), status::kSuccess); /* the session released the module again */
	/* A load over a configured module is refused too. */
	ASSERT_NO_FATAL_FAILURE(put_image(img, kSeamldrScenarioLoad));
	EXPECT_EQ(install_session(&rdx), sl::kEBadCall);
	EXPECT_EQ(state(), SysState::kSysReady);
}

class SeamldrOneUpdate : public Seamldr {
protected:
	SeamldrOneUpdate() : Seamldr(default_profile_with([](Profile &p) { p.seamldr.num_remaining_updates = 1; })) {}
};

TEST_F(SeamldrOneUpdate, RemainingUpdatesRunOut)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	ASSERT_NO_FATAL_FAILURE(update_to(build_image(update_spec("default.json", 8, 7))));
	EXPECT_EQ(info().num_remaining_updates, 0u);
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 9, 8))));
	ASSERT_EQ(shutdown(), status::kSuccess);
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEBadCall);
	EXPECT_EQ(rdx, kSeamldrRecoverable);
	EXPECT_NE(seamldr_state().last_failure->why.find("no runtime update left"), std::string::npos);
	EXPECT_EQ(image().module.update, 8u);
	/* A load is no update: it goes in and the P-SEAMLDR counts afresh. */
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 9, 8)), kSeamldrScenarioLoad));
	EXPECT_EQ(install_session(&rdx), status::kSuccess);
	EXPECT_EQ(info().num_remaining_updates, 1u);
	EXPECT_EQ(image().module.update, 9u);
}

/* ---- failures after the old module's memory was modified ------------------------------------ */

TEST_F(Seamldr, FailureWhileLoadingLeavesNoModuleUntilAnInstallSucceeds)
{
	Td td;
	ASSERT_NO_FATAL_FAILURE(ready());
	ASSERT_NO_FATAL_FAILURE(make_td(0, 1, &td));
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 8, 7))));
	ASSERT_EQ(shutdown(), status::kSuccess);
	ASSERT_EQ(ctl("fault seamldr.load 1 status 0x8000000000010003")["ok"], true);
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEUnspecErr);
	EXPECT_EQ(rdx, kSeamldrUnrecoverable);
	EXPECT_EQ(emu_.counter(fault_target::kSeamldrLoad), 1u);
	/* No module: every module SEAMCALL (and the TDREPORT service) fails with CF=1. */
	for (u16 l : {leaf::kSysRd, leaf::kSysInit, leaf::kSysLpInit, leaf::kSysDisable, leaf::kSysUpdate})
		EXPECT_EQ(serve(0, rax(l)), kTdxSeamcallVmFailInvalid) << l;
	EXPECT_EQ(td_report(td, report_data_of(1), kQuoteArea), kTdxSeamcallVmFailInvalid);
	const SeamldrInfo i = info(); /* the P-SEAMLDR itself still answers */
	EXPECT_EQ(i.seam_ready, 0);
	EXPECT_EQ(i.seam_info.valid, 0u);
	EXPECT_EQ(i.num_remaining_updates, profile_.seamldr.num_remaining_updates);
	EXPECT_FALSE(seamldr_state().module_present);
	const json st = ctl("state");
	EXPECT_EQ(st["module_present"], false);
	EXPECT_EQ(ctl("image default")["ok"], false); /* the platform cannot swap what is not there */
	/* An update needs a module: refused, recoverably (nothing is left to lose). */
	EXPECT_EQ(install_session(&rdx), sl::kEBadCall);
	EXPECT_EQ(rdx, kSeamldrRecoverable);
	/* A load recovers: a fresh module, nothing handed over. */
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 8, 7)), kSeamldrScenarioLoad));
	EXPECT_EQ(install_session(&rdx), status::kSuccess);
	EXPECT_EQ(rdx, 0u);
	EXPECT_EQ(state(), SysState::kSysinitPending);
	EXPECT_EQ(image().module.update, 8u);
	EXPECT_EQ(info().seam_ready, 1);
	ASSERT_NO_FATAL_FAILURE(ready());
	EXPECT_EQ(ctl("td")["td"]["tds"].size(), 0u);
	EXPECT_EQ(serve(0, rax(leaf::kSysRd), 0, field::kUpdateVersion), status::kSuccess);
	EXPECT_EQ(out_.r8, 8u);
}

TEST_F(Seamldr, AWrongHashIsFoundOnlyAfterTheCopy)
{
	TestImage img = build_image(update_spec("default.json", 8, 7));
	img.pages.back() ^= 1; /* after signing: the seamhash no longer matches */
	ASSERT_NO_FATAL_FAILURE(shut_down_with(img));
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEBadHash);
	EXPECT_EQ(rdx, kSeamldrUnrecoverable);
	EXPECT_EQ(probe(), kTdxSeamcallVmFailInvalid);
	EXPECT_NE(seamldr_state().last_failure->why.find("bad-hash"), std::string::npos);
}

/* ---- debug images, fault rules, the control command ----------------------------------------- */

class DebugSeamldr : public Seamldr {
protected:
	DebugSeamldr() : Seamldr(default_profile_with([](Profile &p) { p.seamldr.debug = true; })) {}
};

TEST_F(DebugSeamldr, TakesDebugImagesWithoutACpuTable)
{
	EXPECT_EQ(info().attributes, kSeamldrInfoAttrDebug);
	ImageSpec spec = update_spec("default.json", 8, 7);
	spec.sig.debug = true;
	spec.sig.cpuid_table.clear();
	ASSERT_NO_FATAL_FAILURE(ready());
	ASSERT_NO_FATAL_FAILURE(update_to(build_image(spec)));
	EXPECT_EQ(info().seam_debug, 1);
	EXPECT_TRUE(image().debug_signed);
}

TEST_F(Seamldr, InstallFaultOnTheSecondLpLeavesTheSessionOpen)
{
	ASSERT_NO_FATAL_FAILURE(shut_down_with(build_image(update_spec("default.json", 8, 7))));
	ASSERT_EQ(ctl("fault seamldr.install 2 status 0x8000FF00FFFF0000")["ok"], true);
	EXPECT_EQ(ctl("faults")["faults"][0]["leaf"], "seamldr.install");
	EXPECT_EQ(install(0), status::kSuccess);
	out_.rdx = 0;
	EXPECT_EQ(install(1), kTdxSeamcallVmFailInvalid);
	EXPECT_EQ(out_.rdx, kSeamldrRecoverable); /* a forced answer never reached the P-SEAMLDR */
	EXPECT_EQ(seamldr_state().joined_count(), 1u);
	EXPECT_EQ(emu_.counter(fault_target::kSeamldrInstall), 2u);
	/* The LP that failed may still complete it. */
	EXPECT_EQ(install(1), status::kSuccess);
	EXPECT_EQ(image().module.update, 8u);
}

TEST_F(Seamldr, LoadTargetTakesStatusOrDieOnly)
{
	EXPECT_EQ(ctl("fault seamldr.load 1 delay 5")["ok"], false);
	EXPECT_EQ(ctl("leaves seamldr.info")["ok"], false); /* a fault target, not a leaf */
	EXPECT_EQ(ctl("leaves")["leaves"].contains("seamldr.info"), false);
	/* Death at the loading step (a test's handler returns: the install fails, no module). */
	bool died = false;
	emu_.set_die_handler([&] { died = true; });
	ASSERT_NO_FATAL_FAILURE(shut_down_with(build_image(update_spec("default.json", 8, 7))));
	EXPECT_EQ(ctl("fault seamldr.load 1 die")["ok"], true);
	EXPECT_EQ(install(0), status::kSuccess);
	EXPECT_FALSE(died);
	u64 rdx = ~0ull;
	EXPECT_EQ(install(1), kTdxSeamcallVmFailInvalid);
	rdx = out_.rdx;
	EXPECT_TRUE(died);
	EXPECT_EQ(rdx, kSeamldrUnrecoverable);
	EXPECT_EQ(probe(), kTdxSeamcallVmFailInvalid);
}

TEST_F(Seamldr, ControlCommand)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	json s = ctl("seamldr")["seamldr"];
	EXPECT_EQ(s["version"], "1.5.03");
	EXPECT_EQ(s["num_remaining_updates"], 16);
	EXPECT_EQ(s["module_present"], true);
	EXPECT_EQ(s["module_version"], "1.5.06");
	EXPECT_EQ(s["module_svn"], "1.6");
	EXPECT_EQ(s["last_error"], "none");
	EXPECT_EQ(s["module_binaries"], "none");
	EXPECT_EQ(ctl("state")["module_version"], "1.5.06");

	/* A refused session, then a good one; kv hoists the members. */
	TestImage bad = build_image(update_spec("default.json", 8, 5));
	ASSERT_NO_FATAL_FAILURE(put_image(bad));
	ASSERT_EQ(shutdown(), status::kSuccess);
	EXPECT_EQ(install(0), status::kSuccess);
	const std::string mid = kv("seamldr");
	EXPECT_NE(mid.find(" session_lps=1 lps=2 "), std::string::npos) << mid;
	EXPECT_EQ(install(1), sl::kEBadSig);
	std::string k = kv("seamldr");
	EXPECT_EQ(k.rfind("ok version=1.5.03 ", 0), 0u) << k;
	EXPECT_NE(k.find(" installs_failed=1 "), std::string::npos) << k;
	EXPECT_NE(k.find(" last_error=0x8000000000020000 last_error_rdx=1 last_error_reason=minor_SVN_5_below"),
		  std::string::npos)
		<< k;
	ASSERT_NO_FATAL_FAILURE(put_image(build_image(update_spec("default.json", 8, 7))));
	EXPECT_EQ(install_session(), status::kSuccess);
	s = ctl("seamldr")["seamldr"];
	EXPECT_EQ(s["installs_ok"], 1);
	EXPECT_EQ(s["install_calls"], 4);
	EXPECT_EQ(s["update_pending"], true);
	EXPECT_EQ(s["handoff_valid"], true);
	EXPECT_EQ(s["module_version"], "1.5.08");
	EXPECT_EQ(s["num_remaining_updates"], 15);
	/* reset-counters zeroes the counts, keeps the outcome. */
	EXPECT_EQ(ctl("reset-counters")["ok"], true);
	s = ctl("seamldr")["seamldr"];
	EXPECT_EQ(s["install_calls"], 0);
	EXPECT_EQ(s["installs_ok"], 0);
	EXPECT_EQ(s["installs_failed"], 0);
	EXPECT_EQ(s["last_error"], "0x8000000000020000");
	EXPECT_EQ(emu_.counter(fault_target::kSeamldrInstall), 0u);
	EXPECT_EQ(ctl("seamldr x")["ok"], false);
}

/* ---- Intel-signed images (only with a checkout of Intel's module-binaries) ------------------ */

class IntelImages : public Seamldr {
protected:
	void SetUp() override
	{
		const char *dir = std::getenv("TDX_MODULE_BINARIES");
		if (!dir || !*dir)
			GTEST_SKIP() << "TDX_MODULE_BINARIES is not set";
		dir_ = dir;
		auto index = mi::index_published(dir_);
		ASSERT_TRUE(index) << index.error().to_string();
		for (const mi::PublishedImage &p : index.value())
			if (p.major == 1 && p.minor == 5 && p.update > 6 && p.tdx_features0)
				candidates_.push_back(p);
		if (candidates_.empty())
			GTEST_SKIP() << "no 1.5 image newer than 1.5.06 in " << dir_;
	}
	/* A published blob as a TestImage (index_published() names it with the checkout's path). */
	TestImage load(const mi::PublishedImage &p)
	{
		std::ifstream in(p.path, std::ios::binary);
		std::vector<u8> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		auto layout = mi::parse_blob(blob);
		EXPECT_TRUE(layout) << (layout ? "" : layout.error().to_string());
		TestImage img;
		if (!layout)
			return img;
		img.sig = mi::blob_sigstruct(blob, layout.value());
		img.pages.assign(blob.begin() + layout.value().module_offset, blob.end());
		return img;
	}
	std::string dir_;
	std::vector<mi::PublishedImage> candidates_;
};

TEST_F(IntelImages, AcceptedWithTheCheckoutRefusedWithout)
{
	const mi::PublishedImage &p = candidates_.front();
	const TestImage img = load(p);
	ASSERT_FALSE(img.pages.empty());
	ASSERT_NO_FATAL_FAILURE(shut_down_with(img));
	/* Without the checkout the emulator cannot tell what the image is. */
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEUnspecErr);
	EXPECT_EQ(rdx, kSeamldrRecoverable);
	emu_.set_module_binaries(dir_);
	EXPECT_EQ(install_session(&rdx), status::kSuccess) << seamldr_state().last_failure->why;
	const ModuleImage m = image();
	EXPECT_EQ(m.module.update, p.update);
	EXPECT_EQ(m.tdx_features0, *p.tdx_features0);
	EXPECT_EQ(m.svn.minor, img.sig.minor_svn);
	EXPECT_EQ(reinit_and_update(), status::kSuccess);
}

TEST_F(IntelImages, OneFlippedByteIsABadHash)
{
	TestImage img = load(candidates_.front());
	ASSERT_FALSE(img.pages.empty());
	img.pages[img.pages.size() / 2] ^= 0x40;
	ASSERT_NO_FATAL_FAILURE(shut_down_with(img));
	emu_.set_module_binaries(dir_);
	u64 rdx = ~0ull;
	EXPECT_EQ(install_session(&rdx), sl::kEBadHash);
	EXPECT_EQ(rdx, kSeamldrUnrecoverable);
}

} // namespace
} // namespace seam_emu::test
