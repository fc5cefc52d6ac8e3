// SPDX-License-Identifier: GPL-2.0
// The handoff (seam-emu README, "P-SEAMLDR and runtime update"): SYS.SHUTDOWN's compat-sensitive
// answer, and SYS.UPDATE after an install: its states, the add-on bitmap, the state it takes over
// (TDs with keys and measurements, TDMRs and PAMTs, KeyIDs, the extension pool), the extensions the
// new image needs, and quotes after it: origin the TD's creation-time module, current the new one.
#include <tdx/abi/leaves.h>

#include "seam_identity.h"
#include "seamldr_support.h"

namespace seam_emu::test {
namespace {

namespace sl = seamldr_status;
using json = nlohmann::json;

constexpr u64 kInvalidR9 = status::kOperandInvalid | kOperandIdR9;

/* ext-quote.json with the signature made inside QUOTE.GET's first call (exact call counts). */
Profile quote_profile(u32 lps = 2)
{
	ProfileResult r = load_profile(profile_path("ext-quote.json"));
	if (!r.profile)
		throw std::runtime_error(r.error);
	Profile p = *r.profile;
	p.lps = lps;
	p.quote.sign_budget_us = 0;
	return p;
}

/* An update of ext-quote.json's image to 1.5.08 (minor SVN 7), its pool `pool_pages` long. */
TestImage quote_update(u32 pool_pages = 64)
{
	ImageSpec s = update_spec("ext-quote.json", 8, 7);
	s.manifest["ext"]["pool_pages"] = pool_pages;
	s.manifest["quote"]["sign_budget_us"] = 0;
	return build_image(s);
}

class SysUpdate : public UpdateTest {
protected:
	explicit SysUpdate(Profile p = default_profile()) : UpdateTest(std::move(p)) {}

	u64 rd(u64 id, u64 *v = nullptr)
	{
		const u64 st = serve(0, rax(leaf::kSysRd), 0, id);
		if (v)
			*v = out_.r8;
		return st;
	}
	u64 sys_update(u8 version = 0, u64 addons = 0)
	{
		RegBlock r{};
		r.r9 = addons;
		return serve(0, rax(leaf::kSysUpdate, version), r);
	}
	/* SHUTDOWN and a successful install of `img`: the new module waits for SYS.INIT. */
	void installed(const TestImage &img)
	{
		ASSERT_NO_FATAL_FAILURE(put_image(img));
		ASSERT_EQ(shutdown(), status::kSuccess);
		ASSERT_EQ(install_session(), status::kSuccess);
	}
	void sys_init_and_lp_init()
	{
		ASSERT_EQ(serve(0, rax(leaf::kSysInit)), status::kSuccess);
		for (u32 lp = 0; lp < profile_.lps; lp++)
			ASSERT_EQ(serve(lp, rax(leaf::kSysLpInit)), status::kSuccess);
	}
};

/* ---- SYS.UPDATE's states -------------------------------------------------------------------- */

TEST_F(SysUpdate, NeedsSysinitDoneEveryLpAndHandoffData)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	EXPECT_EQ(sys_update(), status::kSysStateIncorrect); /* SYS_READY */
	ASSERT_NO_FATAL_FAILURE(installed(build_image(update_spec("default.json", 8, 7))));
	EXPECT_EQ(sys_update(), status::kSysStateIncorrect); /* SYSINIT_PENDING */
	EXPECT_EQ(ctl("image ext-quote")["ok"], false);     /* the handoff waits: no image swap */
	ASSERT_EQ(serve(0, rax(leaf::kSysInit)), status::kSuccess);
	ASSERT_EQ(serve(0, rax(leaf::kSysLpInit)), status::kSuccess);
	EXPECT_EQ(sys_update(), status::kSysStateIncorrect); /* LP 1 not initialized */
	ASSERT_EQ(serve(1, rax(leaf::kSysLpInit)), status::kSuccess);
	/* A fresh configuration would drop what was handed over: only SYS.UPDATE goes on. */
	TdmrLayout l = one_tdmr_layout(profile_);
	EXPECT_EQ(serve(0, rax(leaf::kSysConfig), l.array_pa, 1, 32), status::kSysConfigNotPending);
	EXPECT_EQ(sys_update(), status::kSuccess);
	EXPECT_EQ(state(), SysState::kSysReady);
	EXPECT_EQ(sys_update(), status::kSysStateIncorrect);
	json s = ctl("seamldr")["seamldr"];
	EXPECT_EQ(s["update_pending"], false);
	EXPECT_EQ(s["handoff_valid"], false);
}

TEST_F(SysUpdate, WithoutAnInstalledUpdateTheHandoffIsInvalid)
{
	ASSERT_NO_FATAL_FAILURE(sys_init_and_lp_init());
	EXPECT_EQ(sys_update(), status::kSysInvalidHandoff);
	EXPECT_EQ(sys_update(1), status::kSysInvalidHandoff);
	EXPECT_EQ(state(), SysState::kSysinitDone);
}

/* ---- SYS.SHUTDOWN, compat-sensitive --------------------------------------------------------- */

class CompatSensitive : public SysUpdate {
protected:
	CompatSensitive() : SysUpdate(default_profile_with([](Profile &p) { p.tdx_features0 |= features0::kUpdateCompat; })) {}
};

TEST_F(CompatSensitive, ATdBuildInProgressRefusesTheShutdown)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	Td a, b;
	ASSERT_NO_FATAL_FAILURE(make_td(0, 1, &a, false));
	EXPECT_EQ(shutdown(kShutdownAvoidCompatSensitive), status::kUpdateCompatSensitive);
	EXPECT_EQ(state(), SysState::kSysReady);
	ASSERT_EQ(serve(0, rax(leaf::kMrFinalize), a.tdr), status::kSuccess);
	/* A TD torn down before its build finished is no build in progress either. */
	ASSERT_NO_FATAL_FAILURE(make_td(1, 2, &b, false));
	EXPECT_EQ(shutdown(kShutdownAvoidCompatSensitive), status::kUpdateCompatSensitive);
	ASSERT_EQ(serve(0, rax(leaf::kMngKeyFreeid), b.tdr), status::kSuccess);
	EXPECT_EQ(shutdown(kShutdownAvoidCompatSensitive), status::kSuccess);
	EXPECT_EQ(state(), SysState::kSysShutdown);
}

TEST_F(CompatSensitive, WithoutTheBitABuildDoesNotMatter)
{
	ASSERT_NO_FATAL_FAILURE(ready());
	Td a;
	ASSERT_NO_FATAL_FAILURE(make_td(0, 1, &a, false));
	EXPECT_EQ(shutdown(), status::kSuccess);
}

/* ---- a whole update with quoting and a TD alive --------------------------------------------- */

class QuoteUpdate : public SysUpdate, public ::testing::WithParamInterface<u32> {
protected:
	QuoteUpdate() : SysUpdate(quote_profile(GetParam())) {}

	/* Quoting up (QUOTE enabled by SYS.CONFIG v1), TD 0 built. */
	void up(Td *td)
	{
		ASSERT_NO_FATAL_FAILURE(ready(1, features0::kQuote));
		ASSERT_NO_FATAL_FAILURE(ext_up(profile_.ext.pool_pages));
		ASSERT_EQ(quote_init(), status::kSuccess);
		ASSERT_NO_FATAL_FAILURE(make_td(0, 1, td));
	}
};

TEST_P(QuoteUpdate, TheTdLivesOnAndItsQuoteNamesBothModules)
{
	Td td;
	ASSERT_NO_FATAL_FAILURE(up(&td));
	dice_quote::Bytes old_report;
	auto before = quote_of(td, report_data_of(1), nullptr, &old_report);
	ASSERT_TRUE(before) << before.error().to_string();
	const dice_quote::SeamMeasurements old_seam = seam_measurements(seam_identity(profile_.image()));
	EXPECT_EQ(before.value().claims.seam.origin, old_seam);
	EXPECT_EQ(before.value().claims.seam.current, old_seam);
	std::vector<TdmrRuntime> tdmrs;
	u64 owned = 0;
	{
		std::lock_guard<std::mutex> g(emu_.module_mutex());
		tdmrs = emu_.module().tdmrs();
		owned = emu_.module().pages().bytes();
	}

	const TestImage img = quote_update();
	ASSERT_NO_FATAL_FAILURE(update_to(img, 1, features0::kQuote));

	/* What was handed over. */
	{
		std::lock_guard<std::mutex> g(emu_.module_mutex());
		const Module &m = emu_.module();
		ASSERT_EQ(m.tdmrs().size(), tdmrs.size());
		EXPECT_EQ(m.tdmrs()[0].desc.base, tdmrs[0].desc.base);
		EXPECT_EQ(m.tdmrs()[0].next_to_init, tdmrs[0].next_to_init);
		EXPECT_EQ(m.pages().bytes(), owned);
		EXPECT_EQ(m.global_keyid(), 32);
		EXPECT_TRUE(m.all_pkgs_key_configured());
		EXPECT_EQ(m.addons(), features0::kQuote);
		EXPECT_EQ(m.ext().pool().size(), profile_.ext.pool_pages);
		EXPECT_TRUE(m.ext().init_done());
		ASSERT_EQ(m.tds().all().size(), 1u);
		EXPECT_TRUE(m.tds().all().begin()->second.finalized());
	}
	EXPECT_EQ(serve(0, rax(leaf::kMngCreate), 40 * kMiB, 33), status::kHkidNotFree); /* TD 0's key */
	EXPECT_EQ(serve(0, rax(leaf::kMngCreate), 40 * kMiB, 32), status::kHkidNotFree); /* the global one */
	EXPECT_EQ(serve(0, rax(leaf::kMngCreate), kPoolArea, 34), status::kPageMetadataIncorrect | kOperandIdRcx);

	/* The pool suffices: nothing to add, EXT.INIT done. */
	u64 v = ~0ull;
	EXPECT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
	EXPECT_EQ(v, 0u);
	EXPECT_EQ(rd(field::kMemoryPoolRequiredPages, &v), status::kSuccess);
	EXPECT_EQ(v, 0u);
	EXPECT_EQ(rd(field::kUpdateVersion, &v), status::kSuccess);
	EXPECT_EQ(v, 8u);

	/* The new module quotes after QUOTE.INIT re-keyed the chain for it. */
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
	EXPECT_FALSE(quote_of(td, report_data_of(2)));
	/*
	 * The platform's QE ("qe sign") needs no QUOTE.INIT: it refuses the TDREPORT from before the
	 * update as stale and quotes a fresh one at once, with a chain of the new module.
	 */
	EXPECT_EQ(qe_sign(emu_, old_report)["error"], "report refused: stale");
	dice_quote::Bytes fresh_report(tdreport::kSize);
	ASSERT_EQ(td_report(td, report_data_of(5), kQuoteArea), status::kSuccess);
	mem_.read(kQuoteArea, fresh_report.data(), fresh_report.size());
	const json qe = qe_sign(emu_, fresh_report);
	ASSERT_EQ(qe["ok"], true) << qe.dump();
	auto by_qe = dice_quote::verify_quote(from_hex(qe["quote"]), ctl("quote root").value("root_pem", ""),
					      report_data_of(5));
	ASSERT_TRUE(by_qe) << by_qe.error().to_string();
	EXPECT_EQ(by_qe.value().claims.seam.origin, old_seam);
	EXPECT_TRUE(std::equal(by_qe.value().claims.seam.current.mrseam.begin(),
			       by_qe.value().claims.seam.current.mrseam.end(), img.sig.seamhash));
	ASSERT_EQ(quote_init(), status::kSuccess);
	/* A TDREPORT made before the update names the old module: refused as stale input. */
	auto stale = quote_of(td, report_data_of(1), &old_report);
	ASSERT_FALSE(stale);
	EXPECT_EQ(stale.error().message, "QUOTE.GET: status " + std::to_string(status::kOperandInvalid | kOperandIdR8));
	auto after = quote_of(td, report_data_of(3));
	ASSERT_TRUE(after) << after.error().to_string();
	const dice_quote::QuoteClaims &c = after.value().claims;
	EXPECT_EQ(c.seam.origin, old_seam);
	EXPECT_NE(c.seam.current, old_seam);
	EXPECT_TRUE(std::equal(c.seam.current.mrseam.begin(), c.seam.current.mrseam.end(), img.sig.seamhash));
	EXPECT_EQ(c.seam.current.tee_tcb_svn[0], 7);
	EXPECT_EQ(c.seam.current.tee_tcb_svn[1], 1);
	EXPECT_EQ(c.td.origin, before.value().claims.td.origin);
	EXPECT_EQ(c.td.current.mrtd, before.value().claims.td.current.mrtd);
	EXPECT_EQ(ctl("quote")["quote"]["layer2_measurement"].get<std::string>().size(), 96u);

	/* TDs built after the update have the new module as their origin. */
	Td td2;
	ASSERT_NO_FATAL_FAILURE(make_td(1, 2, &td2));
	auto fresh = quote_of(td2, report_data_of(4));
	ASSERT_TRUE(fresh) << fresh.error().to_string();
	EXPECT_EQ(fresh.value().claims.seam.origin, c.seam.current);
}

INSTANTIATE_TEST_SUITE_P(TwoAndFour, QuoteUpdate, ::testing::Values(2u, 4u));

class QuoteUpdate2 : public SysUpdate {
protected:
	QuoteUpdate2() : SysUpdate(quote_profile()) {}
	void configured_and_installed(const TestImage &img)
	{
		ASSERT_NO_FATAL_FAILURE(ready(1, features0::kQuote));
		ASSERT_NO_FATAL_FAILURE(ext_up(profile_.ext.pool_pages));
		ASSERT_EQ(quote_init(), status::kSuccess);
		ASSERT_NO_FATAL_FAILURE(installed(img));
		ASSERT_NO_FATAL_FAILURE(sys_init_and_lp_init());
	}
};

TEST_F(QuoteUpdate2, TheAddOnsMustBeThoseSysConfigEnabled)
{
	ASSERT_NO_FATAL_FAILURE(configured_and_installed(quote_update()));
	EXPECT_EQ(sys_update(0), kInvalidR9);
	EXPECT_EQ(sys_update(1, 0), kInvalidR9);
	EXPECT_EQ(sys_update(1, features0::kQuote | features0::kExt), kInvalidR9);
	EXPECT_EQ(sys_update(1, 1ull << 20), kInvalidR9);
	EXPECT_EQ(state(), SysState::kSysinitDone); /* refusals change nothing */
	EXPECT_EQ(sys_update(1, features0::kQuote), status::kSuccess);
}

TEST_F(QuoteUpdate2, AnImageWithoutTheAddOnCannotTakeItOver)
{
	ImageSpec s = update_spec("ext-quote.json", 8, 7);
	s.manifest["tdx_features0"] = "0x8000040002"; /* EXT without QUOTE */
	s.manifest.erase("quote");
	ASSERT_NO_FATAL_FAILURE(configured_and_installed(build_image(s)));
	EXPECT_EQ(sys_update(1, features0::kQuote), kInvalidR9);
	EXPECT_EQ(sys_update(0), kInvalidR9);
	/* The way out is a teardown. */
	u64 st;
	while ((st = serve(0, rax(leaf::kSysDisable))) == status::kInterruptedResumable) {
	}
	EXPECT_EQ(st, status::kSuccess);
	EXPECT_EQ(state(), SysState::kSysinitPending);
	EXPECT_EQ(ctl("seamldr")["seamldr"]["update_pending"], false);
}

TEST_F(QuoteUpdate2, ANewImageThatWantsMorePoolPagesSaysSo)
{
	const u32 old_pages = profile_.ext.pool_pages;
	ASSERT_NO_FATAL_FAILURE(configured_and_installed(quote_update(old_pages + 32)));
	u64 v = 0;
	EXPECT_EQ(rd(field::kExtRequired), status::kMetadataFieldIdIncorrect); /* not before SYS.UPDATE */
	ASSERT_EQ(sys_update(1, features0::kQuote), status::kSuccess);
	EXPECT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
	EXPECT_EQ(v, 1u);
	EXPECT_EQ(rd(field::kMemoryPoolRequiredPages, &v), status::kSuccess);
	EXPECT_EQ(v, 32u);
	/* Quoting waits for the extensions (a kernel without memory to give stops here, cleanly). */
	EXPECT_EQ(serve(0, rax(leaf::kQuoteInit)), status::kSysStateIncorrect);
	/* 32 more pages, EXT.INIT over them, and quoting comes back. */
	ASSERT_NO_FATAL_FAILURE(ext_up(32, old_pages));
	EXPECT_EQ(quote_init(), status::kSuccess);
}

TEST_F(QuoteUpdate2, ANewImageWithASmallerPoolNeedsNothing)
{
	ASSERT_NO_FATAL_FAILURE(configured_and_installed(quote_update(16)));
	ASSERT_EQ(sys_update(1, features0::kQuote), status::kSuccess);
	u64 v = ~0ull;
	EXPECT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
	EXPECT_EQ(v, 0u);
	EXPECT_EQ(rd(field::kMemoryPoolRequiredPages, &v), status::kSuccess);
	EXPECT_EQ(v, 0u);
	EXPECT_EQ(quote_init(), status::kSuccess);
}

} // namespace
} // namespace seam_emu::test
