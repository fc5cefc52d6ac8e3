// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

namespace seam_emu::test {
namespace {

using SM = ModelTest;

TEST_F(SM, RaxDecoding)
{
	EXPECT_EQ(call_rax(0, rax(leaf::kSysInit) | (1ull << 24)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(leaf::kSysInit) | (1ull << 62)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(leaf::kSysInit, 1)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, kSeamldrInfo), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	/* SYS.CONFIG takes v1; v2 is unknown. */
	sys_init();
	lp_init_all();
	EXPECT_EQ(call_rax(0, rax(leaf::kSysConfig, 2)), status::kOperandInvalid | kOperandIdRax);
}

TEST_F(SM, UnknownAndUnmodelledLeaves)
{
	/* Before SYS_READY the dispatcher answers NOT_READY for anything off its list. */
	EXPECT_EQ(call(0, leaf::kMngCreate), status::kSysNotReady);
	EXPECT_EQ(call(0, u16(127)), status::kSysNotReady);
	/* On the list but not modelled yet. */
	EXPECT_EQ(call(0, leaf::kSysUpdate), status::kOperandInvalid | kOperandIdRax);
	bring_up();
	EXPECT_EQ(call(0, leaf::kMngCreate), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call(0, leaf::kSysShutdown), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call(0, u16(127)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(leaf::kSysUpdate, 1)), status::kOperandInvalid | kOperandIdRax);
}

TEST_F(SM, SysInit)
{
	EXPECT_EQ(call(0, leaf::kSysInit, 1), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	EXPECT_EQ(call(1, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitDone);
	EXPECT_EQ(call(0, leaf::kSysInit), status::kSysInitNotPending);
	EXPECT_EQ(call(1, leaf::kSysInit), status::kSysInitNotPending);
}

TEST_F(SM, LpInit)
{
	EXPECT_EQ(call(0, leaf::kSysLpInit), status::kSysLpInitNotPending);
	sys_init();
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSuccess);
	EXPECT_TRUE(m_->lp_initialized(1));
	EXPECT_FALSE(m_->lp_initialized(0));
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSysLpInitDone);
	EXPECT_EQ(call(0, leaf::kSysLpInit), status::kSuccess);
	/* After SYS.CONFIG LP.INIT is no longer pending. */
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysLpInit), status::kSysLpInitNotPending);
}

TEST_F(SM, LeavesNeedingLpInit)
{
	sys_init();
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion), status::kSysLpInitNotDone);
	EXPECT_EQ(out_.rdx, kFieldIdNone);
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x20000, kFieldIdNone), status::kSysLpInitNotDone);
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 0), status::kSysLpInitNotDone);
	ASSERT_EQ(call(0, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 0), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysRd, 0, field::kMajorVersion), status::kSysLpInitNotDone);
}

TEST_F(SM, SysConfigOrder)
{
	TdmrLayout l = one_tdmr_layout(profile_);
	EXPECT_EQ(config(l), status::kSysConfigNotPending); /* before SYS.INIT */
	sys_init();
	EXPECT_EQ(config(l), status::kSysConfigNotPending); /* no LP initialized */
	ASSERT_EQ(call(0, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(config(l), status::kSysConfigNotPending); /* LP 1 missing */
	ASSERT_EQ(call(1, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(config(l), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysconfigDone);
	EXPECT_EQ(m_->global_keyid(), 32);
	EXPECT_EQ(config(l), status::kSysConfigNotPending); /* only once */
}

TEST_F(SM, SysConfigOperands)
{
	sys_init();
	lp_init_all();
	TdmrLayout l = one_tdmr_layout(profile_);
	write_layout(mem_, l, profile_);
	auto cfg = [&](u64 rcx, u64 rdx, u64 r8) { return call(0, leaf::kSysConfig, rcx, rdx, r8); };
	EXPECT_EQ(cfg(l.array_pa + 8, 1, 32), status::kOperandInvalid | kOperandIdRcx);     /* misaligned */
	EXPECT_EQ(cfg(64 * kMiB, 1, 32), status::kOperandAddrRangeError | kOperandIdRcx);   /* outside RAM */
	EXPECT_EQ(cfg(64 * kMiB - 512, 65, 32), status::kOperandInvalid | kOperandIdRdx);    /* > max_tdmrs */
	EXPECT_EQ(cfg(l.array_pa, 0, 32), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(cfg(l.array_pa, 1, 31), status::kOperandInvalid | kOperandIdR8);  /* below TDX KeyIDs */
	EXPECT_EQ(cfg(l.array_pa, 1, 64), status::kOperandInvalid | kOperandIdR8);  /* above */
	EXPECT_EQ(cfg(l.array_pa, 1, (1ull << 16) | 40), status::kOperandInvalid | kOperandIdR8); /* reserved */
	/* A TDMR_INFO address that is misaligned, or outside RAM. */
	u64 bad = l.info_pa + 64;
	mem_.write(l.array_pa, &bad, 8);
	EXPECT_EQ(cfg(l.array_pa, 1, 40), status::kOperandInvalid | kOperandIdRcx);
	bad = 64 * kMiB;
	mem_.write(l.array_pa, &bad, 8);
	EXPECT_EQ(cfg(l.array_pa, 1, 40), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(m_->state(), SysState::kSysinitDone);
	EXPECT_EQ(config(l, 63), status::kSuccess);
	EXPECT_EQ(m_->global_keyid(), 63);
}

TEST_F(SM, SysConfigV1AddOns)
{
	sys_init();
	lp_init_all();
	/* The default profile advertises no add-on-capable feature: any bit is refused. */
	EXPECT_EQ(config(one_tdmr_layout(profile_), 32, 1, features0::kQuote), status::kOperandInvalid | kOperandIdR9);
	EXPECT_EQ(config(one_tdmr_layout(profile_), 32, 1, 0), status::kSuccess);
	EXPECT_EQ(m_->addons(), 0u);
}

class SMQuote : public ModelTest {
protected:
	static Profile quote_profile()
	{
		Profile p = default_profile();
		p.tdx_features0 |= features0::kQuote | features0::kExt;
		return p;
	}
	SMQuote() : ModelTest(64 * kMiB, quote_profile()) {}
};

TEST_F(SMQuote, SysConfigV1AcceptsAdvertisedAddOns)
{
	sys_init();
	lp_init_all();
	EXPECT_EQ(config(one_tdmr_layout(profile_), 32, 1, features0::kTdPreserving),
		  status::kOperandInvalid | kOperandIdR9);
	EXPECT_EQ(config(one_tdmr_layout(profile_), 32, 1, features0::kQuote), status::kSuccess);
	EXPECT_EQ(m_->addons(), features0::kQuote);
}

TEST_F(SM, KeyConfig)
{
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	sys_init();
	lp_init_all();
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysKeyConfig), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kKeyConfigured); /* same package */
	EXPECT_TRUE(m_->pkg_key_configured(0));
	tdmr_init_all();
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
}

class SMTwoPackages : public ModelTest {
protected:
	static Profile two_pkg()
	{
		Profile p = default_profile();
		p.lps = 4;
		p.packages = 2;
		return p;
	}
	SMTwoPackages() : ModelTest(64 * kMiB, two_pkg()) {}
};

TEST_F(SMTwoPackages, KeyConfigPerPackageGatesTdmrInit)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysKeyConfig), status::kSuccess);   /* package 0 */
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kKeyConfigured);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady); /* package 1 missing */
	EXPECT_EQ(call(3, leaf::kSysKeyConfig), status::kSuccess);   /* package 1 */
	EXPECT_EQ(call(2, leaf::kSysKeyConfig), status::kKeyConfigured);
	EXPECT_EQ(call(2, leaf::kSysTdmrInit, 0), status::kSuccess);
}

TEST_F(SM, TdmrInitOrderAndOperands)
{
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady);
	sys_init();
	lp_init_all();
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady);
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady); /* keys not configured */
	key_config_all();
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0x1000), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, kGiB), status::kOperandInvalid | kOperandIdRcx); /* not a TDMR */
}

TEST_F(SM, TdmrInitIsResumableAndWritesPamt)
{
	sys_init();
	lp_init_all();
	TdmrLayout l = one_tdmr_layout(profile_);
	ASSERT_EQ(config(l), status::kSuccess);
	key_config_all();
	const TdmrDesc &d = l.tdmrs[0];
	const u8 *pamt4k = mem_.ptr(d.pamt_base[0], d.pamt_size[0]);
	/* 256 MiB per call: four calls for 1 GiB; rdx stays rounded down to 1 GiB until the end. */
	for (int i = 1; i <= 4; i++) {
		ASSERT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess) << i;
		EXPECT_EQ(m_->tdmrs()[0].next_to_init, u64(i) * 256 * kMiB);
		EXPECT_EQ(out_.rdx, i < 4 ? 0 : kGiB);
		EXPECT_EQ(m_->state(), i < 4 ? SysState::kSysconfigDone : SysState::kSysReady);
		/* 4K PAMT entries for the covered range carry the pattern; the rest is untouched. */
		u64 covered = u64(i) * 256 * kMiB / kPageSize * 16;
		u64 word;
		std::memcpy(&word, pamt4k + covered - 8, 8);
		EXPECT_EQ(word, Module::kPamtInitPattern);
		if (i < 4) {
			std::memcpy(&word, pamt4k + covered, 8);
			EXPECT_EQ(word, 0u);
		}
	}
	u64 word;
	std::memcpy(&word, mem_.ptr(d.pamt_base[2], 8), 8);
	EXPECT_EQ(word, Module::kPamtInitPattern);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kTdmrAlreadyInitialized);
	EXPECT_EQ(call(1, leaf::kSysTdmrInit, 0), status::kTdmrAlreadyInitialized);
}

TEST_F(SM, TwoTdmrsReadyOnlyWhenBothInitialized)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(two_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(call(0, leaf::kSysTdmrInit, kGiB), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysconfigDone);
	EXPECT_EQ(m_->tdmrs_initialized(), 1u);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(call(1, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
}

TEST_F(SM, NotReadyLeavesBeforeReady)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kMngCreate), status::kSysNotReady);
	EXPECT_EQ(call(0, leaf::kPhymemPageReclaim), status::kSysNotReady);
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSysNotReady);
}

TEST_F(SM, CacheWb)
{
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 0), status::kSuccess); /* nothing to flush yet */
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 2), status::kOperandInvalid | kOperandIdRcx);
	bring_up();
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, kCacheWbStart), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kPhymemCacheWb, kCacheWbResume), status::kSuccess);
}

TEST_F(SM, DisableBeforeInitIsTrivial)
{
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	sys_init();
}

TEST_F(SM, DisableIsResumableAndResetsEverything)
{
	bring_up();
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	EXPECT_EQ(call(1, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	EXPECT_FALSE(m_->lp_initialized(0));
	EXPECT_FALSE(m_->pkg_key_configured(0));
	EXPECT_TRUE(m_->tdmrs().empty());
	/* Afterwards nothing works until SYS.INIT. */
	EXPECT_EQ(call(0, leaf::kSysLpInit), status::kSysLpInitNotPending);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion), status::kSysLpInitNotDone);
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady);
	EXPECT_EQ(config(one_tdmr_layout(profile_)), status::kSysConfigNotPending);
	EXPECT_EQ(call(0, leaf::kMngCreate), status::kSysNotReady);
	/* ... and a complete second bring-up works, then a third after another disable. */
	bring_up();
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	bring_up();
}

TEST_F(SM, DisableMidBringUp)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	ASSERT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(m_->disable_progress(), 1u);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->disable_progress(), 0u);
	bring_up();
}

class SMDisableSteps : public ModelTest {
protected:
	static Profile steps()
	{
		Profile p = default_profile();
		p.work_budget.sys_disable_steps = 5;
		p.work_budget.tdmr_init_bytes = kGiB;
		return p;
	}
	SMDisableSteps() : ModelTest(64 * kMiB, steps()) {}
};

TEST_F(SMDisableSteps, BudgetsFromProfile)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess); /* one call per GiB */
	EXPECT_EQ(out_.rdx, kGiB);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
}

} // namespace
} // namespace seam_emu::test
