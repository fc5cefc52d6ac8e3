// SPDX-License-Identifier: GPL-2.0
/*
 * Bring-up and teardown against the emulator's model of the TDX module (model_backend.h): the
 * order of the steps, their failures (each unwinds to a module back in SYSINIT_PENDING through
 * SYS.DISABLE, owning no page, and nothing left allocated), and the model's state rules.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "bringup.h"
#include "fake_kapi.h"
#include "model_backend.h"
#include "phys_mem.h"

using namespace tdx;
namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;
namespace fld = tdx::abi::field;
using seam_emu::SysState;

namespace {

constexpr u64 G = 1ull << 30;

/* Failed (or torn down) cleanly: SYS.DISABLE ran and the model is back where SYS.INIT may run. */
void expect_released(fake::ModelBackend &emu)
{
	EXPECT_GE(emu.count(lf::kSysDisable), 1);
	EXPECT_EQ(emu.state(), SysState::kSysinitPending);
	EXPECT_EQ(emu.inspect([](const seam_emu::Module &m) { return m.pages().bytes(); }), 0u);
}

u64 model_pamt_bytes(fake::ModelBackend &emu)
{
	return emu.inspect([](const seam_emu::Module &m) { return m.pages().bytes(seam_emu::PageOwner::kPamt); });
}

/* Some steps, in the order given (as KUnit runs them), under the CPU hotplug lock. */
Status run_steps(TdxModule &m, std::initializer_list<TdxModule::Step> steps)
{
	Status s;
	kapi_cpus_read_lock();
	for (TdxModule::Step step : steps) {
		s = m.run_step(step);
		if (s.is_error())
			break;
	}
	kapi_cpus_read_unlock();
	return s;
}

using Step = TdxModule::Step;

} // namespace

class BringUp : public ::testing::Test {
protected:
	void SetUp() override { fake::reset(); }
	void TearDown() override { fake::reset(); }
	fake::ModelBackend emu;
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
	EXPECT_EQ(emu.state(), SysState::kSysReady);
	std::vector<uint16_t> want = {lf::kSysInit, lf::kSysLpInit, lf::kSysRdAll, lf::kSysConfig,
				      lf::kSysKeyConfig, lf::kSysTdmrInit};
	EXPECT_EQ(leaf_order(), want);
	EXPECT_EQ(emu.count(lf::kSysInit), 1);
	EXPECT_EQ(emu.count(lf::kSysLpInit), 2); /* every CPU */
	EXPECT_EQ(emu.count(lf::kSysRdAll), 1);  /* all metadata in one call */
	EXPECT_EQ(emu.count(lf::kSysRd), 0);
	EXPECT_EQ(emu.count(lf::kSysKeyConfig), 1); /* one package */
	/* RAM up to 2 GiB: one TDMR [0, 2 GiB), initialized 256 MiB a call. */
	EXPECT_EQ(emu.tdmrs(), (std::vector<std::pair<uint64_t, uint64_t>>{{0, 2 * G}}));
	EXPECT_EQ(emu.count(lf::kSysTdmrInit), 8);
	EXPECT_EQ(emu.inspect([](const seam_emu::Module &mod) { return mod.tdmrs_initialized(); }), 1u);
	EXPECT_EQ(emu.inspect([](const seam_emu::Module &mod) { return mod.global_keyid(); }), 32u);
	EXPECT_EQ(m.sys_info().major, 1);
	EXPECT_EQ(m.sys_info().update, 6);
	EXPECT_EQ(m.pamt_bytes(), (8u << 20) + 16384 + 4096); /* its 4K, 2M and 1G PAMTs */
	EXPECT_EQ(model_pamt_bytes(emu), m.pamt_bytes());   /* the module owns exactly those */
	EXPECT_EQ(fake::kernel().cpus_lock_depth, 0);
	EXPECT_TRUE(fake::kernel().log_contains("1.5.06"));
}

TEST_F(BringUp, LpInitRunsOnEachOnlineCpuAndKeyConfigOncePerPackage)
{
	fake::kernel().nr_cpus = 4;
	fake::kernel().cpus_per_package = 2;
	fake::kernel().offline = {false, false, true, false};
	TdxModule m(sc);
	/* LP.INIT must reach every CPU: an offline one fails the load, named, before any LP.INIT. */
	EXPECT_EQ(m.bring_up().to_kernel(), -22);
	EXPECT_TRUE(fake::kernel().log_contains("CPU 2 is offline"));
	EXPECT_EQ(emu.count(lf::kSysLpInit), 0);
	expect_released(emu);
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
	EXPECT_EQ(lp_cpus, (std::vector<unsigned>{0, 1, 2, 3}));
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		EXPECT_TRUE(m2.lp_initialized(cpu));
		EXPECT_TRUE(emu.inspect([cpu](const seam_emu::Module &mod) { return mod.lp_initialized(cpu); }));
	}
	EXPECT_TRUE(emu.inspect([](const seam_emu::Module &mod) { return mod.all_pkgs_key_configured(); }));
	/* A CPU coming back online after bring-up keeps its LP.INIT: the callback makes no call. */
	size_t calls = emu.calls.size();
	EXPECT_TRUE(m2.cpu_online(1).is_ok());
	EXPECT_EQ(emu.calls.size(), calls);
}

TEST_F(BringUp, CpuOnlineWithoutLpInitGetsItAndAFailureRefusesTheCpu)
{
	/* The model is made with the 2 LPs of the first call; a third CPU appears after bring-up. */
	fake::kernel().nr_cpus = 2;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	fake::kernel().nr_cpus = 3;
	fake::kernel().current_cpu = 2;
	size_t calls = emu.count(lf::kSysLpInit);
	/* The TDX module does not know that LP (and takes no LP.INIT after SYS.CONFIG anyway): the
	 * hotplug callback refuses the CPU. */
	EXPECT_TRUE(m.cpu_online(2).is_error());
	EXPECT_EQ(emu.count(lf::kSysLpInit), calls + 1);
	EXPECT_FALSE(m.lp_initialized(2));
	EXPECT_TRUE(fake::kernel().log_contains("coming online failed"));
	fake::kernel().current_cpu = 0;
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
	expect_released(emu);
	EXPECT_EQ(emu.count(lf::kSysDisable), 2); /* resumable: repeated (the profile's 2 steps) */
	/* Before the first KEY.CONFIG (the PAMTs written through KeyID 0), and after SYS.DISABLE. */
	EXPECT_EQ(fake::kernel().wbinvd_calls, 2);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	/* And a second bring-up works from scratch. */
	TdxModule again(sc);
	EXPECT_TRUE(again.bring_up().is_ok());
}

namespace {

/* A transport to the model that can die (as the emulator's does): dead, it fails every call. */
class Cuttable final : public SeamcallBackend {
public:
	explicit Cuttable(fake::ModelBackend &m) : m_(m) {}
	u64 call(u64 rax, RegBlock &regs) override { return cut ? kTdxSeamcallTimeout : m_.call(rax, regs); }
	Status tdx_keyids(u32 &start, u32 &nr) override { return m_.tdx_keyids(start, nr); }
	const char *name() const override { return "cuttable"; }
	bool dead() const override { return cut; }
	bool cut = false;

private:
	fake::ModelBackend &m_;
};

} // namespace

TEST_F(BringUp, RecoversAModuleLeftInitialized)
{
	/* An earlier owner ran SYS.INIT only. */
	RegBlock r{};
	ASSERT_TRUE(sc.call(leaves::kSysInit, r).is_success());
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(emu.count(lf::kSysInit), 3); /* the earlier one, NOT_PENDING, then again */
		EXPECT_EQ(emu.calls[1].status, st::kSysInitNotPending);
		EXPECT_GE(emu.count(lf::kSysDisable), 1);
		EXPECT_TRUE(fake::kernel().log_contains("already initialized"));
	}
	/* An earlier load brought it up, then its transport died: the module is still SYS_READY. */
	{
		Cuttable earlier(emu);
		Seamcall sc_earlier(earlier);
		TdxModule gone(sc_earlier);
		ASSERT_TRUE(gone.bring_up().is_ok());
		earlier.cut = true;
	}
	EXPECT_EQ(emu.state(), SysState::kSysReady);
	EXPECT_GT(model_pamt_bytes(emu), 0u);
	fake::kernel().log.clear();
	int disables = emu.count(lf::kSysDisable);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_TRUE(fake::kernel().log_contains("already initialized"));
	EXPECT_GT(emu.count(lf::kSysDisable), disables);
	EXPECT_EQ(model_pamt_bytes(emu), m.pamt_bytes()); /* the new PAMTs only */
}

TEST_F(BringUp, RefusesModuleWithoutNoRbpMod)
{
	fake::ModelBackend no_rbp(fake::emulator_profile("no-rbp-mod.json"));
	Seamcall s(no_rbp);
	{
		TdxModule m(s);
		EXPECT_EQ(m.bring_up(), error(err::kEOPNOTSUPP));
	}
	EXPECT_TRUE(fake::kernel().log_contains("NO_RBP_MOD"));
	expect_released(no_rbp);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

/* ---- metadata: what the core refuses (answers a correct module does not give) ----------------- */

TEST_F(BringUp, RejectsAModuleReportingNoCmrs)
{
	emu.on_answer = [](u16 leaf, u64 &, RegBlock &r) {
		if (leaf != lf::kSysRdAll)
			return;
		for (auto &s : fake::md_list_sequences(r.rdx))
			if (tdx::abi::field_base_id(*s.header) == fld::kNumCmrs)
				s.values[0] = 0;
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	}
	EXPECT_TRUE(fake::kernel().log_contains("reports 0 CMRs"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RejectsAModuleWithoutTdmrCapacity)
{
	emu.profile.tdmr.max_tdmrs = 0; /* a module image no profile file may describe */
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	}
	EXPECT_TRUE(fake::kernel().log_contains("no TDMR capacity"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RejectsAMetadataListLackingAField)
{
	/* The list names another field where BUILD_DATE should be. */
	emu.on_answer = [](u16 leaf, u64 &, RegBlock &r) {
		if (leaf != lf::kSysRdAll)
			return;
		for (auto &s : fake::md_list_sequences(r.rdx))
			if (tdx::abi::field_base_id(*s.header) == fld::kBuildDate)
				*s.header = (*s.header & ~tdx::abi::kFieldCodeMask) | 0x7F;
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	}
	EXPECT_TRUE(fake::kernel().log_contains("lacks field 0x8800000200000001"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, FieldByFieldAMissingFieldFailsItsSysRd)
{
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax, fake::ModelBackend::kAlways);
	emu.fail(lf::kSysRd, 5, st::kMetadataFieldIdIncorrect); /* BUILD_DATE, the fifth field read */
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.RD failed: TDX_METADATA_FIELD_ID_INCORRECT"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RdAllAnsweringLeafUnsupportedFallsBackToSysRd)
{
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysRd), 14); /* 12 fields, one CMR's base and size */
	/* And a SYS.RD failure on that path fails the bring-up. */
	m.teardown();
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax);
	emu.fail(lf::kSysRd, 13, st::kOperandInvalid | tdx::abi::kOperandIdRcx);
	{
		TdxModule m2(sc);
		EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	}
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, WithoutRdAllReadsFieldByField)
{
	/* A module without RDALL answers it as any unknown leaf: TDX_OPERAND_INVALID, operand RAX. */
	emu.fail(lf::kSysRdAll, 1, st::kOperandInvalid | tdx::abi::kOperandIdRax, fake::ModelBackend::kAlways);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kSysRdAll), 1);
	EXPECT_EQ(emu.count(lf::kSysRd), 12 + 2); /* 12 fields, one CMR's base and size */
	EXPECT_TRUE(fake::kernel().log_contains("field by field"));
	ASSERT_EQ(m.sys_info().cmrs.size(), 1u);
	EXPECT_EQ(m.sys_info().cmrs[0].base, 0u);
	EXPECT_EQ(m.sys_info().cmrs[0].size, 2 * G); /* the fake physical memory */
	EXPECT_EQ(m.sys_info().build_date, 20240229u);
}

TEST_F(BringUp, RdAllOverflowContinuesWhereItStopped)
{
	/* 14 sequences in the model's list, 3 a call. */
	emu.rdall_max_sequences = 3;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	std::vector<u64> statuses;
	for (const auto &c : emu.calls)
		if (c.leaf == lf::kSysRdAll)
			statuses.push_back(c.status);
	u64 overflow = st::kMetadataListOverflow;
	EXPECT_EQ(statuses, (std::vector<u64>{overflow, overflow, overflow, overflow, st::kSuccess}));
	EXPECT_EQ(m.sys_info().build_date, 20240229u);
	EXPECT_EQ(m.sys_info().max_reserved_per_tdmr, 16);
	EXPECT_EQ(m.sys_info().cmrs.size(), 1u);
}

TEST_F(BringUp, RdAllMalformedOrStuckFails)
{
	emu.on_answer = [](u16 leaf, u64 &, RegBlock &r) {
		if (leaf == lf::kSysRdAll) {
			u16 size = 4; /* smaller than the list header */
			memcpy(fake::phys_ptr(r.rdx, sizeof(size)), &size, sizeof(size));
		}
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	}
	EXPECT_TRUE(fake::kernel().log_contains("malformed metadata list"));
	/* Overflowing, and naming the field it was asked to start from as the next one. */
	emu.on_answer = [](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kSysRdAll) {
			s = st::kMetadataListOverflow;
			r.r8 = fld::kMajorVersion;
		}
	};
	{
		TdxModule m2(sc);
		EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("made no progress"));
	/* Overflowing forever, each time "progressing" to another field: bounded. */
	int rdall_calls = emu.count(lf::kSysRdAll);
	bool flip = false;
	emu.on_answer = [&flip](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kSysRdAll) {
			s = st::kMetadataListOverflow;
			r.r8 = (flip = !flip) ? fld::kMajorVersion : fld::kMinorVersion;
		}
	};
	{
		TdxModule m3(sc);
		EXPECT_EQ(m3.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kSysRdAll) - rdall_calls, 16);
	EXPECT_TRUE(fake::kernel().log_contains("did not finish in 16 calls"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RdAllSequenceMixingNonArchAndArchFields)
{
	/*
	 * The model lists BUILD_NUM (non-arch, code 2) and MINOR/MAJOR/UPDATE (arch, codes 3..5) as one
	 * sequence: the later fields arrive with the header's bit 63.
	 */
	bool mixed = false;
	emu.on_answer = [&mixed](u16 leaf, u64 &, RegBlock &r) {
		if (leaf != lf::kSysRdAll)
			return;
		for (const auto &s : fake::md_list_sequences(r.rdx))
			mixed |= tdx::abi::field_base_id(*s.header) == fld::kBuildNum && s.count == 4;
	};
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_TRUE(mixed);
	EXPECT_EQ(m.sys_info().major, 1);
	EXPECT_EQ(m.sys_info().minor, 5);
	EXPECT_EQ(m.sys_info().update, 6);
	EXPECT_EQ(m.sys_info().build_num, 744);
}

/* ---- memory and keys ------------------------------------------------------------------------ */

TEST_F(BringUp, RamOutsideCmrsIsRefused)
{
	/* 1 GiB of physical memory (the CMR) while the kernel reports RAM up to 2 GiB. */
	fake::set_phys_bytes(G);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	}
	EXPECT_TRUE(fake::kernel().log_contains("is not convertible memory"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TooFewKeyIds)
{
	emu.profile.nr_tdx_keyids = 1;
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kENODEV));
	}
	EXPECT_EQ(emu.count(lf::kSysConfig), 0);
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, RamWalkFailure)
{
	fake::kernel().ram_walk_error = -12;
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kENOMEM));
	}
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

/* ---- the model's state rules, where the old fake module disagreed with it --------------------- */

TEST_F(BringUp, LpInitOutsideSysinitDoneIsNotPending)
{
	/* Before SYS.INIT (the old fake answered TDX_SYS_INIT_NOT_PENDING). */
	TdxModule m(sc);
	EXPECT_EQ(run_steps(m, {Step::kLpInitAll}), error(err::kEIO));
	EXPECT_EQ(emu.calls.back().status, st::kSysLpInitNotPending);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.LP.INIT on CPU 0 failed"));
	EXPECT_TRUE(fake::kernel().log_contains("(0xc000050b00000000)"));
	EXPECT_FALSE(m.lp_initialized(0));
	EXPECT_EQ(emu.state(), SysState::kSysinitPending);
	/* After SYS.CONFIG, even on an LP that had it (the old fake answered TDX_SYS_LP_INIT_DONE). */
	ASSERT_TRUE(m.bring_up().is_ok());
	RegBlock r{};
	EXPECT_TRUE(sc.call(leaves::kSysLpInit, r).is(st::kSysLpInitNotPending));
	EXPECT_EQ(emu.state(), SysState::kSysReady);
}

TEST_F(BringUp, SysConfigWithAnLpMissingIsNotPending)
{
	/*
	 * The platform has a logical CPU the kernel does not know (booted with fewer CPUs): LP.INIT
	 * cannot reach it, and SYS.CONFIG answers TDX_SYS_CONFIG_NOT_PENDING (the old fake answered
	 * TDX_SYS_LP_INIT_NOT_DONE).
	 */
	emu.topology_from_kernel = false;
	emu.profile.lps = 3;
	emu.profile.packages = 1;
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kSysLpInit), 2);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.CONFIG failed: TDX_SYS_CONFIG_NOT_PENDING"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TdmrInitBeforeSysConfigIsNotReady)
{
	/* TDMR.INIT runs only in SYS_READY (the old fake answered TDX_SYS_STATE_INCORRECT). */
	TdxModule m(sc);
	ASSERT_TRUE(run_steps(m, {Step::kSysInit, Step::kLpInitAll, Step::kReadMetadata, Step::kConstructTdmrs}).is_ok());
	EXPECT_EQ(run_steps(m, {Step::kTdmrInitAll}), error(err::kEIO));
	EXPECT_EQ(emu.calls.back().status, st::kSysNotReady);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.TDMR.INIT failed: TDX_SYS_NOT_READY"));
	EXPECT_EQ(emu.state(), SysState::kSysinitDone);
	m.teardown();
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TdmrInitBeforeKeyConfigIsNotReady)
{
	/* After SYS.CONFIG, before KEY.CONFIG (the old fake let it run and made the module ready). */
	TdxModule m(sc);
	ASSERT_TRUE(run_steps(m, {Step::kSysInit, Step::kLpInitAll, Step::kReadMetadata, Step::kConstructTdmrs,
				  Step::kSysConfig})
			    .is_ok());
	EXPECT_EQ(run_steps(m, {Step::kTdmrInitAll}), error(err::kEIO));
	EXPECT_EQ(emu.calls.back().status, st::kSysNotReady);
	EXPECT_EQ(emu.state(), SysState::kSysconfigDone);
	/* The steps in order from there: KEY.CONFIG makes the module ready, then TDMR.INIT runs. */
	ASSERT_TRUE(run_steps(m, {Step::kKeyConfigAll}).is_ok());
	EXPECT_EQ(emu.state(), SysState::kSysReady);
	EXPECT_EQ(emu.inspect([](const seam_emu::Module &mod) { return mod.tdmrs_initialized(); }), 0u);
	ASSERT_TRUE(run_steps(m, {Step::kTdmrInitAll}).is_ok());
	EXPECT_EQ(emu.inspect([](const seam_emu::Module &mod) { return mod.tdmrs_initialized(); }), 1u);
	m.finish();
	EXPECT_TRUE(m.ready());
}

TEST_F(BringUp, SysReadyAfterTheLastPackagesKeyConfig)
{
	fake::kernel().nr_cpus = 4;
	fake::kernel().cpus_per_package = 2;
	std::vector<SysState> after_key_config;
	emu.on_answer = [&](u16 leaf, u64 &, RegBlock &) {
		if (leaf == lf::kSysKeyConfig)
			after_key_config.push_back(emu.state());
	};
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(after_key_config, (std::vector<SysState>{SysState::kSysconfigDone, SysState::kSysReady}));
	/* Every TDMR.INIT came after the last KEY.CONFIG. */
	EXPECT_EQ(leaf_order().back(), lf::kSysTdmrInit);
	EXPECT_EQ(leaf_order()[leaf_order().size() - 2], lf::kSysKeyConfig);
}

/*
 * The PAMTs were zeroed through KeyID 0: their dirty cache lines must be written back before the
 * TDX module uses them with the global KeyID. One flush on every CPU (not one per package), after
 * SYS.CONFIG took the TDMRs and their PAMTs, before the first KEY.CONFIG, as Linux's
 * config_global_keyid does.
 */
TEST_F(BringUp, FlushesCachesAfterSysConfigBeforeTheFirstKeyConfig)
{
	fake::kernel().nr_cpus = 4;
	fake::kernel().cpus_per_package = 2; /* two packages: KEY.CONFIG twice */
	struct Flush {
		size_t calls;       /* SEAMCALLs made before it */
		uint16_t last_leaf; /* the one just before */
		uint64_t last_status;
		SysState state;
		u64 pamt_bytes; /* what the core holds for PAMTs then */
	};
	std::vector<Flush> flushes;
	TdxModule m(sc);
	fake::kernel().on_wbinvd = [&] {
		ASSERT_FALSE(emu.calls.empty());
		flushes.push_back({emu.calls.size(), emu.calls.back().leaf, emu.calls.back().status, emu.state(),
				   m.pamt_bytes()});
	};
	ASSERT_TRUE(m.bring_up().is_ok());
	ASSERT_EQ(flushes.size(), 1u);
	EXPECT_EQ(flushes[0].last_leaf, lf::kSysConfig);
	EXPECT_EQ(flushes[0].last_status, st::kSuccess);
	EXPECT_EQ(flushes[0].state, SysState::kSysconfigDone);
	EXPECT_EQ(flushes[0].pamt_bytes, m.pamt_bytes()); /* every PAMT was allocated (and zeroed) */
	EXPECT_GT(flushes[0].pamt_bytes, 0u);
	/* The next call is the first KEY.CONFIG. */
	ASSERT_GT(emu.calls.size(), flushes[0].calls);
	EXPECT_EQ(emu.calls[flushes[0].calls].leaf, lf::kSysKeyConfig);
	EXPECT_EQ(emu.count(lf::kSysKeyConfig), 2);
	/* Teardown flushes once more, before the PAMTs go back to the kernel. */
	m.teardown();
	EXPECT_EQ(flushes.size(), 2u);
	EXPECT_EQ(flushes.back().last_leaf, lf::kSysDisable);
	fake::kernel().on_wbinvd = nullptr;
}

/* ---- failures at each leaf and each allocation ---------------------------------------------- */

struct LeafFault {
	uint16_t leaf;
	int nth;
};
/* Names the case (ctest shows it): "TDH.SYS.KEY.CONFIG#2". */
void PrintTo(const LeafFault &f, std::ostream *os) { *os << leaf_name(Leaf(f.leaf)) << '#' << f.nth; }

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
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().cpus_lock_depth, 0);
	if (GetParam().leaf == lf::kSysInit) {
		EXPECT_EQ(emu.count(lf::kSysDisable), 0); /* nothing to disable */
		EXPECT_EQ(emu.state(), SysState::kSysinitPending);
	} else {
		expect_released(emu);
	}
	/* Once in the teardown when PAMTs were given; once more when SYS.CONFIG had taken them. */
	bool past_sys_config = GetParam().leaf == lf::kSysKeyConfig || GetParam().leaf == lf::kSysTdmrInit;
	if (past_sys_config) {
		EXPECT_EQ(fake::kernel().wbinvd_calls, 2);
	} else if (GetParam().leaf == lf::kSysConfig) {
		EXPECT_EQ(fake::kernel().wbinvd_calls, 1);
	}
	/* Faults cleared: the next attempt succeeds. */
	TdxModule m2(sc);
	EXPECT_TRUE(m2.bring_up().is_ok());
	EXPECT_EQ(emu.state(), SysState::kSysReady);
}

INSTANTIATE_TEST_SUITE_P(EachLeaf, BringUpFault,
			 ::testing::Values(LeafFault{lf::kSysInit, 1}, LeafFault{lf::kSysLpInit, 1},
					   LeafFault{lf::kSysLpInit, 2}, LeafFault{lf::kSysRdAll, 1},
					   LeafFault{lf::kSysConfig, 1}, LeafFault{lf::kSysKeyConfig, 1},
					   LeafFault{lf::kSysKeyConfig, 2}, LeafFault{lf::kSysTdmrInit, 1},
					   LeafFault{lf::kSysTdmrInit, 6}));

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
		fake::ModelBackend e;
		Seamcall s(e);
		fake::kernel().fail_alloc_at = int(i);
		{
			TdxModule m(s);
			/* A PAMT run that fails is retried in smaller runs: that load works. */
			Status st = m.bring_up();
			EXPECT_TRUE(st.is_ok() || st == error(err::kENOMEM)) << "allocation " << i;
		}
		EXPECT_EQ(fake::kernel().live_allocs, 0) << "allocation " << i;
		EXPECT_EQ(fake::phys_pages_in_use(), 0u) << "allocation " << i;
		/* Every allocation comes after SYS.INIT: SYS.DISABLE ran either way. */
		EXPECT_GE(e.count(lf::kSysDisable), 1) << "allocation " << i;
		EXPECT_EQ(e.state(), SysState::kSysinitPending) << "allocation " << i;
	}
}

TEST_F(BringUp, DisableFailureLeavesPamtWithTheModule)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	u64 pamt = m.pamt_bytes();
	emu.fail(lf::kSysDisable, 1, st::kSysNotReady);
	m.teardown();
	EXPECT_TRUE(fake::kernel().log_contains("could not be disabled"));
	/* The PAMT pages stay allocated (given up), everything else is freed. */
	EXPECT_EQ(fake::kernel().live_allocs, 1); /* the one run holding every PAMT */
	EXPECT_EQ(fake::phys_pages_in_use(), pamt / 4096);
	/* And the module still has them. */
	EXPECT_EQ(emu.state(), SysState::kSysReady);
	EXPECT_EQ(model_pamt_bytes(emu), pamt);
}

/* ---- TDMR.INIT's progress -------------------------------------------------------------------- */

TEST_F(BringUp, TdmrInitMayRepeatProgressButNotGoBack)
{
	/* The model reports progress rounded down to 1 GiB: the same rdx several calls in a row. */
	std::vector<u64> rdx;
	emu.on_answer = [&rdx](u16 leaf, u64 &, RegBlock &r) {
		if (leaf == lf::kSysTdmrInit)
			rdx.push_back(r.rdx);
	};
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(rdx, (std::vector<u64>{0, 0, 0, G, G, G, G, 2 * G}));
	m.teardown();
	/* rdx outside the TDMR is refused, and everything unwinds. */
	emu.on_answer = [](u16 leaf, u64 &, RegBlock &r) {
		if (leaf == lf::kSysTdmrInit)
			r.rdx = 1ull << 40;
	};
	{
		TdxModule m2(sc);
		EXPECT_EQ(m2.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("reported 0x10000000000, outside the TDMR"));
	/* So is progress that goes back. */
	fake::kernel().log.clear();
	int calls = 0;
	emu.on_answer = [&calls](u16 leaf, u64 &, RegBlock &r) {
		if (leaf == lf::kSysTdmrInit && ++calls == 5)
			r.rdx = 0; /* after G */
	};
	{
		TdxModule m3(sc);
		EXPECT_EQ(m3.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("reported 0x0, outside the TDMR"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST_F(BringUp, TdmrInitThatNeverFinishesIsBounded)
{
	/* 64 KiB a call: in 1024 calls rdx (1 GiB granular) never moves, and the core gives up. */
	emu.profile.work_budget.tdmr_init_bytes = 64 << 10;
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kSysTdmrInit), 1024);
	EXPECT_TRUE(fake::kernel().log_contains("did not finish"));
	expect_released(emu);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}
