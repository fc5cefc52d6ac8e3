// SPDX-License-Identifier: GPL-2.0
// The dispatcher's order, the global state machine (ABI.md §3) and the SYS leaves, one LP at a time.
#include <set>

#include <tdx/abi/leaves.h>

#include "sys_info.h"
#include "test_support.h"

namespace seam_emu::test {
namespace {

using SM = ModelTest;

/* Leaves the dispatcher runs before SYS_READY (the module's list, plus SYS.DISABLE). */
const std::set<u16> kBeforeReady = {leaf::kSysInfo,     leaf::kSysRd,     leaf::kSysRdAll,      leaf::kSysInit,
				    leaf::kSysLpInit,   leaf::kSysConfig, leaf::kSysKeyConfig,  leaf::kSysLpShutdown,
				    leaf::kSysUpdate,   leaf::kSysDisable};

class Dispatcher : public ModelTest {
protected:
	void fresh() { m_ = std::make_unique<Module>(profile_, mem_); }
	void to_sysconfig_done()
	{
		fresh();
		sys_init();
		lp_init_all();
		ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	}
};

TEST_F(Dispatcher, ReservedRaxBits)
{
	for (unsigned bit = 24; bit < 63; bit++)
		EXPECT_EQ(call_rax(0, rax(leaf::kSysInit) | (1ull << bit)), status::kOperandInvalid | kOperandIdRax)
			<< "bit " << bit;
	/* Bit 63 is no reserved bit: it calls the P-SEAMLDR, which has no leaf 33. */
	EXPECT_EQ(call_rax(0, rax(leaf::kSysInit) | (1ull << 63)), seamldr_status::kEBadParam);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
}

TEST_F(Dispatcher, VersionsComeFromTheLeafTable)
{
	for (const LeafInfo &l : kLeaves) {
		fresh();
		EXPECT_EQ(call_rax(0, rax(l.number, l.max_version + 1)), status::kOperandInvalid | kOperandIdRax)
			<< l.spec_name;
		fresh();
		u64 st = call_rax(0, rax(l.number, l.max_version));
		if (l.number != leaf::kSysUpdate) { /* on the list, not modelled yet */
			EXPECT_NE(st, status::kOperandInvalid | kOperandIdRax) << l.spec_name;
		}
	}
	/* A leaf the table does not know has version 0 only; the version check comes before readiness. */
	EXPECT_EQ(call_rax(0, rax(127, 1)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(127, 0)), status::kSysNotReady);
}

TEST_F(Dispatcher, BeforeReadyOnlyTheModulesList)
{
	for (bool configured : {false, true}) {
		for (const LeafInfo &l : kLeaves) {
			if (configured)
				to_sysconfig_done();
			else
				fresh();
			u64 st = call_rax(0, rax(l.number));
			if (kBeforeReady.count(l.number))
				EXPECT_NE(st, status::kSysNotReady) << l.spec_name;
			else
				EXPECT_EQ(st, status::kSysNotReady) << l.spec_name;
		}
	}
}

TEST_F(SM, AfterReadyUnknownAndUnmodelledLeaves)
{
	EXPECT_EQ(call(0, u16(127)), status::kSysNotReady);
	bring_up();
	EXPECT_EQ(call(0, u16(2)), status::kOperandInvalid | kOperandIdRax); /* TDH.MEM.PAGE.ADD: not modelled */
	EXPECT_EQ(call(0, u16(127)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(leaf::kSysUpdate, 1)), status::kSysStateIncorrect); /* modelled: not now */
	EXPECT_EQ(call_rax(0, rax(leaf::kSysUpdate, 2)), status::kOperandInvalid | kOperandIdRax);
}

TEST_F(SM, ShutdownStateRunsOnlyLpShutdown)
{
	bring_up();
	ASSERT_EQ(call(0, leaf::kSysShutdown), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysShutdown);
	for (const LeafInfo &l : kLeaves) {
		u64 st = call_rax(1, rax(l.number));
		EXPECT_EQ(st, l.number == leaf::kSysLpShutdown ? status::kSuccess : status::kSysShutdown)
			<< l.spec_name;
	}
	EXPECT_EQ(call(0, u16(127)), status::kSysShutdown);
	/* RAX and version checks come first. */
	EXPECT_EQ(call_rax(0, rax(leaf::kSysLpShutdown) | (1ull << 40)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, rax(leaf::kSysRd, 1)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(m_->state(), SysState::kSysShutdown);
}

TEST_F(SM, SysInit)
{
	RegBlock in{};
	in.rcx = 1;
	in.r8 = 5;
	EXPECT_EQ(call_rax(0, rax(leaf::kSysInit), in), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(out_.r8, 0u); /* outputs cleared */
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	EXPECT_EQ(call(1, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitDone);
	EXPECT_EQ(call(0, leaf::kSysInit), status::kSysInitNotPending);
	EXPECT_EQ(call(1, leaf::kSysInit), status::kSysInitNotPending);
}

TEST_F(SM, LpInit)
{
	/* rcx, rdx and r8 come back 0, refused or not (the module clears them first). */
	const auto outputs_cleared = [&] { return out_.rcx == 0 && out_.rdx == 0 && out_.r8 == 0; };
	EXPECT_EQ(call(0, leaf::kSysLpInit, 7, 8, 9), status::kSysLpInitNotPending);
	EXPECT_TRUE(outputs_cleared());
	sys_init();
	EXPECT_EQ(call(1, leaf::kSysLpInit, 7, 8, 9), status::kSuccess);
	EXPECT_TRUE(outputs_cleared());
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
	EXPECT_EQ(call(0, leaf::kSysInfo, 0x20000, 1024, 0x21000), status::kSysLpInitNotDone);
	ASSERT_EQ(call(0, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion), status::kSuccess);
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
	EXPECT_EQ(cfg(l.array_pa + 8, 1, 32), status::kOperandInvalid | kOperandIdRcx);   /* misaligned */
	EXPECT_EQ(cfg(64 * kMiB, 1, 32), status::kOperandAddrRangeError | kOperandIdRcx); /* outside RAM */
	EXPECT_EQ(cfg(64 * kMiB - 512, 65, 32), status::kOperandInvalid | kOperandIdRdx);  /* > max_tdmrs */
	EXPECT_EQ(cfg(l.array_pa, 0, 32), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(cfg(l.array_pa, 1, 31), status::kOperandInvalid | kOperandIdR8); /* below TDX KeyIDs */
	EXPECT_EQ(cfg(l.array_pa, 1, 64), status::kOperandInvalid | kOperandIdR8); /* above */
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

TEST_F(SM, KeyConfigMakesTheModuleReady)
{
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	sys_init();
	lp_init_all();
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysKeyConfig), status::kSuccess);
	EXPECT_TRUE(m_->pkg_key_configured(0));
	/* One package: its KEY.CONFIG is the last, so the module is ready before any TDMR.INIT. */
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	EXPECT_EQ(m_->tdmrs_initialized(), 0u);
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

TEST_F(SMTwoPackages, ReadyOnTheLastPackagesKeyConfig)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysKeyConfig), status::kSuccess); /* package 0 */
	EXPECT_EQ(call(0, leaf::kSysKeyConfig), status::kKeyConfigured);
	EXPECT_EQ(m_->state(), SysState::kSysconfigDone);
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSysNotReady); /* package 1 missing */
	EXPECT_EQ(call(3, leaf::kSysKeyConfig), status::kSuccess);        /* package 1 */
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	EXPECT_EQ(call(2, leaf::kSysKeyConfig), status::kSysKeyConfigNotPending);
	EXPECT_EQ(call(2, leaf::kSysTdmrInit, 0), status::kSuccess);
}

TEST_F(SM, TdmrInitOnlyWhenReady)
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
	EXPECT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess);
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
		EXPECT_EQ(m_->tdmrs_initialized(), i < 4 ? 0u : 1u);
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
	EXPECT_EQ(m_->state(), SysState::kSysReady);
}

TEST_F(SM, TwoTdmrsInitializeIndependently)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(two_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(call(0, leaf::kSysTdmrInit, kGiB), status::kSuccess);
	EXPECT_EQ(m_->tdmrs_initialized(), 1u);
	EXPECT_FALSE(m_->tdmrs()[0].initialized());
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(call(1, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(m_->tdmrs_initialized(), 2u);
}

TEST_F(SM, SysInfo)
{
	sys_init();
	lp_init_all();
	const u64 info_pa = 0x20000, cmr_pa = 0x21000;
	auto info = [&](u64 rcx, u64 rdx, u64 r8, u64 r9) {
		RegBlock r{};
		r.rcx = rcx;
		r.rdx = rdx;
		r.r8 = r8;
		r.r9 = r9;
		return call_rax(1, rax(leaf::kSysInfo), r);
	};
	EXPECT_EQ(info(info_pa + 512, 1024, cmr_pa, 32), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(out_.rdx, 0u);
	EXPECT_EQ(info(64 * kMiB, 1024, cmr_pa, 32), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(info(info_pa, 1023, cmr_pa, 32), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(info(info_pa, 1024, cmr_pa + 256, 32), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(info(info_pa, 1024, cmr_pa, 31), status::kOperandInvalid | kOperandIdR9);

	std::vector<u8> junk(4096, 0xAB);
	mem_.write(info_pa, junk.data(), junk.size());
	mem_.write(cmr_pa, junk.data(), junk.size());
	ASSERT_EQ(info(info_pa, 4096, cmr_pa, 64), status::kSuccess);
	EXPECT_EQ(out_.rdx, sizeof(TdSysInfo));
	EXPECT_EQ(out_.r9, 32u);
	TdSysInfo si;
	mem_.read(info_pa, &si, sizeof(si));
	EXPECT_EQ(si.vendor_id, 0x8086u);
	EXPECT_EQ(si.major_version, profile_.module.major);
	EXPECT_EQ(si.minor_version, profile_.module.minor);
	EXPECT_EQ(si.build_num, profile_.module.build_num);
	EXPECT_EQ(si.build_date, profile_.module.build_date);
	EXPECT_EQ(si.sys_rd, 1);
	EXPECT_EQ(si.max_tdmrs, profile_.tdmr.max_tdmrs);
	EXPECT_EQ(si.max_reserved_per_tdmr, profile_.tdmr.max_reserved_per_tdmr);
	EXPECT_EQ(si.pamt_entry_size, profile_.tdmr.pamt_entry_size[0]);
	EXPECT_EQ(si.tdvps_base_size, profile_.td.tdvps_base_size);
	EXPECT_EQ(si.reserved4[0], 0); /* the whole structure is written */
	u8 after;
	mem_.read(info_pa + sizeof(TdSysInfo), &after, 1);
	EXPECT_EQ(after, 0xAB); /* and nothing past it */
	CmrInfoEntry cmrs[32];
	mem_.read(cmr_pa, cmrs, sizeof(cmrs));
	EXPECT_EQ(cmrs[0].base, 0u);
	EXPECT_EQ(cmrs[0].size, 64 * kMiB);
	EXPECT_EQ(cmrs[1].size, 0u);
	EXPECT_EQ(cmrs[31].base, 0u);
}

TEST_F(SM, LpShutdownIsANoOpEverywhere)
{
	EXPECT_EQ(call(0, leaf::kSysLpShutdown), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	sys_init();
	EXPECT_EQ(call(1, leaf::kSysLpShutdown), status::kSuccess);
	EXPECT_FALSE(m_->lp_initialized(1));
	lp_init_all();
	EXPECT_TRUE(m_->lp_initialized(1));
}

TEST_F(SM, SysShutdownHandoffVersion)
{
	bring_up();
	/* module_hv = min_update_hv = 0 in the default profile; it lacks UPDATE_COMPAT (bit 16 refused). */
	EXPECT_EQ(call(0, leaf::kSysShutdown, 1), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysShutdown, kShutdownAvoidCompatSensitive), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysShutdown, 1ull << 17), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	EXPECT_EQ(call(0, leaf::kSysShutdown, 0), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysShutdown);
	EXPECT_TRUE(m_->handoff_valid());
}

class SMHandoff : public ModelTest {
protected:
	static Profile hv_profile()
	{
		Profile p = default_profile();
		p.handoff.module_hv = 5;
		p.handoff.min_update_hv = 3;
		p.tdx_features0 |= features0::kUpdateCompat;
		return p;
	}
	SMHandoff() : ModelTest(64 * kMiB, hv_profile()) {}
};

TEST_F(SMHandoff, RangeAndCompatSensitiveBit)
{
	bring_up();
	EXPECT_EQ(call(0, leaf::kSysShutdown, 2), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysShutdown, 6), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysShutdown, 4 | kShutdownAvoidCompatSensitive), status::kSuccess);
	EXPECT_EQ(m_->handoff_hv(), 4);
}

TEST_F(SMHandoff, NoDowngradeWantsModuleHv)
{
	/* Rebuild with no_downgrade. */
	Profile p = profile_;
	p.handoff.no_downgrade = true;
	m_ = std::make_unique<Module>(p, mem_);
	bring_up();
	EXPECT_EQ(call(0, leaf::kSysShutdown, 4), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kSysShutdown, 5), status::kSuccess);
}

TEST_F(SM, CacheWb)
{
	/* Not on the dispatcher's list before SYS_READY (as in the module). */
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 0), status::kSysNotReady);
	bring_up();
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, 2), status::kOperandInvalid | kOperandIdRcx);
	/* No TD has freed a KeyID: nothing to write back, no session to resume. */
	EXPECT_EQ(call(0, leaf::kPhymemCacheWb, kCacheWbStart), status::kNoHkidReadyToWbcache);
	EXPECT_EQ(call(1, leaf::kPhymemCacheWb, kCacheWbResume), status::kWbcacheResumeError);
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
	EXPECT_EQ(m_->global_keyid(), 0);
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
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(m_->disable_progress(), 1u);
	EXPECT_EQ(m_->state(), SysState::kSysconfigDone);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->disable_progress(), 0u);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
	bring_up();
}

TEST_F(SM, NoDisableAfterShutdown)
{
	bring_up();
	ASSERT_EQ(call(0, leaf::kSysShutdown), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSysShutdown);
	EXPECT_EQ(m_->state(), SysState::kSysShutdown);
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
	EXPECT_EQ(m_->tdmrs_initialized(), 1u);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
}

TEST_F(SM, ImplementedMatchesTheDispatch)
{
	bring_up();
	for (u16 l = 0; l < leaf::kMax; l++) {
		if (Module::implemented(l))
			continue;
		EXPECT_EQ(call(0, l), status::kOperandInvalid | kOperandIdRax) << l;
	}
}

} // namespace
} // namespace seam_emu::test
