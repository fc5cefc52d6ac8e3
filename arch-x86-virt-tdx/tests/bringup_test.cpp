// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include <vector>

#include "bringup.h"
#include "fake_kapi.h"
#include "fake_module.h"

using namespace tdx;
namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;

class BringUp : public ::testing::Test {
protected:
	void SetUp() override { fake::reset(); }
	void TearDown() override { fake::reset(); }
	fake::FakeModule emu;
	Seamcall sc{emu};

	std::vector<uint16_t> leaf_order() const
	{
		std::vector<uint16_t> order;
		for (const auto &c : emu.calls)
			if (order.empty() || order.back() != c.leaf)
				order.push_back(c.leaf);
		return order;
	}
};

TEST_F(BringUp, RunsTheStepsInLinuxOrder)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_TRUE(m.ready());
	EXPECT_EQ(emu.state, fake::FakeModule::State::kSysReady);
	std::vector<uint16_t> want = {lf::kSysInit, lf::kSysLpInit, lf::kSysRdAll, lf::kSysConfig,
				      lf::kSysKeyConfig, lf::kSysTdmrInit};
	EXPECT_EQ(leaf_order(), want);
	EXPECT_EQ(emu.count(lf::kSysInit), 1);
	EXPECT_EQ(emu.count(lf::kSysLpInit), 2); /* every CPU */
	EXPECT_EQ(emu.count(lf::kSysRdAll), 1);  /* all metadata in one call */
	EXPECT_EQ(emu.count(lf::kSysRd), 0);
	EXPECT_EQ(emu.count(lf::kSysKeyConfig), 1); /* one package */
	EXPECT_EQ(emu.tdmrs.size(), 2u);
	EXPECT_EQ(emu.count(lf::kSysTdmrInit), 8); /* 2 TDMRs x 1 GiB / 256 MiB */
	EXPECT_EQ(emu.global_keyid, 32u);
	EXPECT_EQ(m.sys_info().major, 1);
	EXPECT_EQ(m.sys_info().update, 6);
	EXPECT_EQ(m.pamt_bytes(), 2 * ((4u << 20) + 8192 + 4096));
	EXPECT_EQ(fake::kernel().cpus_lock_depth, 0);
	EXPECT_TRUE(fake::kernel().log_contains("1.5.06"));
}

TEST_F(BringUp, LpInitRunsOnEachOnlineCpuAndKeyConfigOncePerPackage)
{
	fake::kernel().nr_cpus = 4;
	fake::kernel().cpus_per_package = 2;
	fake::kernel().offline = {false, false, true, false};
	TdxModule m(sc);
	/* The fake demands LP.INIT on nr_cpus LPs; an offline CPU cannot do it. */
	EXPECT_TRUE(m.bring_up().is_error());
	fake::kernel().offline.clear();
	TdxModule m2(sc);
	ASSERT_TRUE(m2.bring_up().is_ok());
	std::vector<unsigned> lp_cpus, key_cpus;
	for (const auto &c : emu.calls) {
		if (c.leaf == lf::kSysLpInit)
			lp_cpus.push_back(c.cpu);
		if (c.leaf == lf::kSysKeyConfig)
			key_cpus.push_back(c.cpu);
	}
	EXPECT_EQ(key_cpus, (std::vector<unsigned>{0, 2}));
	EXPECT_EQ(lp_cpus.size(), 3u + 4u);
}

TEST_F(BringUp, TeardownDisablesFlushesAndFrees)
{
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_GT(fake::kernel().live_allocs, 0);
		m.teardown();
		EXPECT_FALSE(m.ready());
	}
	EXPECT_EQ(emu.state, fake::FakeModule::State::kSysInitPending);
	EXPECT_EQ(emu.count(lf::kSysDisable), 2); /* resumable: repeated */
	EXPECT_EQ(fake::kernel().wbinvd_calls, 1);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	/* And a second bring-up works from scratch. */
	TdxModule again(sc);
	EXPECT_TRUE(again.bring_up().is_ok());
}

TEST_F(BringUp, RecoversAModuleLeftInitialized)
{
	emu.state = fake::FakeModule::State::kSysInitDone;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysInit), 2);
	EXPECT_GE(emu.count(lf::kSysDisable), 1);
	EXPECT_TRUE(fake::kernel().log_contains("already initialized"));
}

TEST_F(BringUp, RefusesModuleWithoutNoRbpMod)
{
	emu.metadata[tdx::abi::field::kTdxFeatures0] = tdx::abi::features0::kTdPreserving;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEOPNOTSUPP));
	EXPECT_TRUE(fake::kernel().log_contains("NO_RBP_MOD"));
	EXPECT_EQ(emu.state, fake::FakeModule::State::kSysInitPending); /* disabled again */
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RejectsBadMetadata)
{
	emu.metadata[tdx::abi::field::kNumCmrs] = 0;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	emu.metadata[tdx::abi::field::kNumCmrs] = 1;
	emu.metadata[tdx::abi::field::kMaxTdmrs] = 0;
	TdxModule m2(sc);
	EXPECT_EQ(m2.bring_up(), error(err::kEINVAL));
	emu.metadata.erase(tdx::abi::field::kBuildDate);
	TdxModule m3(sc);
	EXPECT_EQ(m3.bring_up(), error(err::kEINVAL));
	EXPECT_TRUE(fake::kernel().log_contains("lacks field 0x8800000200000001"));
	/* Field by field, the module itself refuses the missing field. */
	emu.rdall_supported = false;
	TdxModule m4(sc);
	EXPECT_EQ(m4.bring_up(), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("TDX_METADATA_FIELD_ID_INCORRECT"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RdAllAnsweringLeafUnsupportedFallsBackToSysRd)
{
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysRd), 14);
	/* And a SYS.RD failure on that path fails the bring-up. */
	m.teardown();
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax);
	emu.fail(lf::kSysRd, 13, st::kOperandInvalid | tdx::abi::kOperandIdRcx);
	TdxModule m2(sc);
	EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, WithoutRdAllReadsFieldByField)
{
	emu.rdall_supported = false;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysRdAll), 1);
	EXPECT_EQ(emu.count(lf::kSysRd), 12 + 2); /* 12 fields, one CMR's base and size */
	EXPECT_TRUE(fake::kernel().log_contains("field by field"));
	EXPECT_EQ(m.sys_info().cmrs.size(), 1u);
	EXPECT_EQ(m.sys_info().cmrs[0].size, 0x80000000u);
}

TEST_F(BringUp, RdAllOverflowContinuesWhereItStopped)
{
	emu.rdall_fields_per_call = 3;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysRdAll), 5); /* 14 fields, 3 a call */
	EXPECT_EQ(m.sys_info().build_date, 20240229u);
	EXPECT_EQ(m.sys_info().max_reserved_per_tdmr, 16);
}

TEST_F(BringUp, RdAllMalformedOrStuckFails)
{
	emu.rdall_malformed = true;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	EXPECT_TRUE(fake::kernel().log_contains("malformed metadata list"));
	emu.rdall_malformed = false;
	emu.rdall_stuck = true;
	TdxModule m2(sc);
	EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("made no progress"));
	emu.rdall_stuck = false;
	emu.rdall_fields_per_call = 0; /* overflows forever, always "progressing" to the first field */
	TdxModule m3(sc);
	EXPECT_TRUE(m3.bring_up().is_error());
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RamOutsideCmrsIsRefused)
{
	emu.metadata[tdx::abi::field::cmr_size(0)] = 0x40000000;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TooFewKeyIds)
{
	emu.nr_keyids = 1;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kENODEV));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RamWalkFailure)
{
	fake::kernel().ram_walk_error = -12;
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kENOMEM));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

struct LeafFault {
	uint16_t leaf;
	int nth;
};

class BringUpFault : public BringUp, public ::testing::WithParamInterface<LeafFault> {};

TEST_P(BringUpFault, FailureUnwindsEverything)
{
	fake::kernel().nr_cpus = 2;
	fake::kernel().cpus_per_package = 1; /* two packages: KEY.CONFIG runs twice */
	/* Operand RCX: not the "leaf not supported" form (operand RAX), which RDALL treats apart. */
	emu.fail(GetParam().leaf, GetParam().nth, st::kOperandInvalid | tdx::abi::kOperandIdRcx);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
		EXPECT_FALSE(m.ready());
	}
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_EQ(fake::kernel().cpus_lock_depth, 0);
	EXPECT_EQ(emu.state, fake::FakeModule::State::kSysInitPending);
	if (GetParam().leaf != lf::kSysInit) {
		EXPECT_GE(emu.count(lf::kSysDisable), 1);
	}
	bool touched_memory = GetParam().leaf == lf::kSysConfig || GetParam().leaf == lf::kSysKeyConfig ||
			      GetParam().leaf == lf::kSysTdmrInit;
	if (touched_memory) {
		EXPECT_EQ(fake::kernel().wbinvd_calls, 1);
	}
	/* Faults cleared: the next attempt succeeds. */
	TdxModule m2(sc);
	EXPECT_TRUE(m2.bring_up().is_ok());
}

INSTANTIATE_TEST_SUITE_P(EachLeaf, BringUpFault,
			 ::testing::Values(LeafFault{lf::kSysInit, 1}, LeafFault{lf::kSysLpInit, 1},
					   LeafFault{lf::kSysLpInit, 2}, LeafFault{lf::kSysRdAll, 1}, LeafFault{lf::kSysConfig, 1},
					   LeafFault{lf::kSysKeyConfig, 1}, LeafFault{lf::kSysKeyConfig, 2},
					   LeafFault{lf::kSysTdmrInit, 1}, LeafFault{lf::kSysTdmrInit, 6}));

TEST_F(BringUp, EveryAllocationFailureUnwinds)
{
	/* Count the allocations of a good bring-up, then fail each one in turn. */
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
	}
	long n = fake::kernel().total_allocs;
	ASSERT_GT(n, 3);
	for (long i = 1; i <= n; i++) {
		fake::reset();
		fake::FakeModule e;
		Seamcall s(e);
		fake::kernel().fail_alloc_at = int(i);
		{
			TdxModule m(s);
			EXPECT_EQ(m.bring_up(), error(err::kENOMEM)) << "allocation " << i;
		}
		EXPECT_EQ(fake::kernel().live_allocs, 0) << "allocation " << i;
		EXPECT_EQ(e.state, fake::FakeModule::State::kSysInitPending) << "allocation " << i;
	}
}

TEST_F(BringUp, DisableFailureLeavesPamtWithTheModule)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	emu.fail(lf::kSysDisable, 1, st::kSysNotReady);
	m.teardown();
	EXPECT_TRUE(fake::kernel().log_contains("could not be disabled"));
	/* The PAMT pages stay allocated (given up), everything else is freed. */
	EXPECT_EQ(fake::kernel().live_allocs, 6);
}

TEST_F(BringUp, TdmrInitMayRepeatProgressButNotGoBack)
{
	/* Coarse progress (the same rdx several times) is fine. */
	emu.tdmr_init_coarse = true;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	m.teardown();
	/* rdx outside the TDMR is refused, and everything unwinds. */
	emu.tdmr_init_bogus_rdx = 1ull << 40;
	TdxModule m2(sc);
	EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("outside the TDMR"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TdmrInitThatNeverFinishesIsBounded)
{
	emu.tdmr_init_bogus_rdx = ~0ull; /* sentinel: answer rdx = the TDMR base, forever */
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("did not finish"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RdAllSequenceMixingNonArchAndArchFields)
{
	/* BUILD_NUM (non-arch, code 2) then MINOR/MAJOR/UPDATE (arch, codes 3..5) in one sequence:
	 * the later fields arrive with the header's bit 63. */
	emu.rdall_sequence_from_build_num = true;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(m.sys_info().major, 1);
	EXPECT_EQ(m.sys_info().minor, 5);
	EXPECT_EQ(m.sys_info().update, 6);
	EXPECT_EQ(m.sys_info().build_num, 744);
}
