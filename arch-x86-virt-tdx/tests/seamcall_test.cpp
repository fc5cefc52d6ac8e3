// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "fake_kapi.h"
#include "model_backend.h"
#include "seamcall.h"

using namespace tdx;
namespace st = tdx::abi::status;

TEST(Seamcall, StatusToErrnoAsLinux)
{
	EXPECT_TRUE(status_to_errno(TdxStatus(0)).is_ok());
	EXPECT_EQ(status_to_errno(TdxStatus(tdx::abi::kTdxSeamcallVmFailInvalid)), error(err::kENODEV));
	EXPECT_EQ(status_to_errno(TdxStatus(tdx::abi::kTdxSeamcallGp)), error(err::kEOPNOTSUPP));
	EXPECT_EQ(status_to_errno(TdxStatus(tdx::abi::kTdxSeamcallUd)), error(err::kEACCES));
	EXPECT_EQ(status_to_errno(TdxStatus(kTdxSeamcallTimeout)), error(err::kETIMEDOUT));
	EXPECT_EQ(status_to_errno(TdxStatus(st::kOperandInvalid | 3)), error(err::kEIO));
	EXPECT_EQ(status_to_errno(TdxStatus(st::kSysBusy)), error(err::kEIO));
}

TEST(Seamcall, StatusDecoding)
{
	TdxStatus s(st::kOperandInvalid | 0x12);
	EXPECT_TRUE(s.is_error());
	EXPECT_TRUE(s.is(st::kOperandInvalid));
	EXPECT_EQ(s.operand(), 0x12u);
	EXPECT_EQ(s.status_class(), 0x01);
	EXPECT_TRUE(s.is_non_recoverable());
	EXPECT_STREQ(status_name(s), "TDX_OPERAND_INVALID");
	EXPECT_STREQ(status_name(TdxStatus(kTdxSeamcallTimeout)), "TDX_SEAMCALL_TIMEOUT");
	EXPECT_TRUE(TdxStatus(tdx::abi::kTdxSeamcallGp).is_software());
	EXPECT_FALSE(TdxStatus(st::kKeyConfigured).is_error());
	EXPECT_STREQ(status_name(TdxStatus(0xC0FFEE0000000000ull)), "unknown");
}

TEST(Seamcall, LeafVersionEncoding)
{
	EXPECT_EQ(leaves::kSysConfigV1.number(), 45);
	EXPECT_EQ(leaves::kSysConfigV1.version(), 1);
	EXPECT_EQ(Leaf::seamldr(tdx::abi::kSeamldrInfo).is_seamldr(), true);
	EXPECT_FALSE(leaves::kSysInit.is_seamldr());
}

TEST(Seamcall, RetriesNoEntropyThenSucceeds)
{
	fake::reset();
	fake::ModelBackend m;
	Seamcall sc(m);
	m.fail(tdx::abi::leaf::kSysInit, 1, st::kRndNoEntropy, 3);
	RegBlock r{};
	EXPECT_TRUE(sc.call(leaves::kSysInit, r).is_success());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysInit), 4);
	EXPECT_EQ(m.state(), seam_emu::SysState::kSysinitDone);
}

TEST(Seamcall, GivesUpAfterTenRetries)
{
	fake::reset();
	fake::ModelBackend m;
	Seamcall sc(m);
	m.fail(tdx::abi::leaf::kSysInit, 1, st::kRndNoEntropy, fake::ModelBackend::kAlways);
	RegBlock r{};
	EXPECT_TRUE(sc.call(leaves::kSysInit, r).is(st::kRndNoEntropy));
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysInit), 11); /* the call and 10 retries */
}

namespace {
/* SYS.DISABLE in SYSINIT_PENDING has nothing to reclaim and succeeds at once: start it from SYS.INIT. */
void sys_init(Seamcall &sc)
{
	RegBlock r{};
	ASSERT_TRUE(sc.call(leaves::kSysInit, r).is_success());
}
} // namespace

TEST(Seamcall, ResumableRepeatsUntilFinal)
{
	fake::reset();
	fake::ModelBackend m;
	m.profile.work_budget.sys_disable_steps = 5;
	Seamcall sc(m);
	sys_init(sc);
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r).is_success());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysDisable), 5);
	EXPECT_EQ(m.state(), seam_emu::SysState::kSysinitPending);
}

TEST(Seamcall, ResumableStopsAtBound)
{
	fake::reset();
	fake::ModelBackend m;
	m.profile.work_budget.sys_disable_steps = 100;
	Seamcall sc(m);
	sys_init(sc);
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r, false, 3).is(st::kInterruptedResumable));
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysDisable), 3);
	EXPECT_EQ(m.state(), seam_emu::SysState::kSysinitDone);
}

TEST(Seamcall, ResumableRetriesBusyOnlyWhenAsked)
{
	fake::reset();
	fake::ModelBackend m;
	m.profile.work_budget.sys_disable_steps = 1;
	Seamcall sc(m);
	sys_init(sc);
	m.fail(tdx::abi::leaf::kSysDisable, 1, st::kSysBusy);
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r).is(st::kSysBusy));
	EXPECT_EQ(m.state(), seam_emu::SysState::kSysinitDone);
	m.fail(tdx::abi::leaf::kSysDisable, 1, st::kSysBusy);
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r, true).is_success());
	EXPECT_EQ(m.state(), seam_emu::SysState::kSysinitPending);
}

TEST(Seamcall, CallErrnoLogsLeafAndStatus)
{
	fake::reset();
	fake::ModelBackend m;
	Seamcall sc(m);
	m.fail(tdx::abi::leaf::kSysInit, 1, st::kSysBusy);
	RegBlock r{};
	EXPECT_EQ(sc.call_errno(leaves::kSysInit, r), error(err::kEIO));
	/* The leaf table's spec name, the status's name, then its value. */
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.INIT failed: TDX_SYS_BUSY (0x8000020200000000)"));
	/* The model's own answer: SYS.CONFIG before SYS.INIT. */
	EXPECT_EQ(sc.call_errno(leaves::kSysConfigV1, r), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains(
		"TDH.SYS.CONFIG v1 failed: TDX_SYS_CONFIG_NOT_PENDING (0xc000050c00000000)"));
	m.fail(tdx::abi::leaf::kSysConfig, 1, st::kOperandInvalid | 8);
	EXPECT_EQ(sc.call_errno(leaves::kSysConfigV1, r), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.CONFIG v1 failed: TDX_OPERAND_INVALID (0xc000010000000008)"));
}

TEST(Seamcall, LogNamesLeavesOutsideTheTable)
{
	fake::reset();
	log_seamcall_failure(Leaf(99), TdxStatus(st::kOperandInvalid));
	EXPECT_TRUE(fake::kernel().log_contains("SEAMCALL 0x63 failed: TDX_OPERAND_INVALID"));
	log_seamcall_failure(Leaf::seamldr(tdx::abi::kSeamldrInfo), TdxStatus(tdx::abi::kTdxSeamcallVmFailInvalid));
	EXPECT_TRUE(fake::kernel().log_contains("SEAMCALL 0x8000000000000000 failed: TDX_SEAMCALL_VMFAILINVALID"));
	EXPECT_STREQ(leaf_name(leaves::kSysKeyConfig), "TDH.SYS.KEY.CONFIG");
	EXPECT_STREQ(leaf_name(Leaf::seamldr(tdx::abi::kSeamldrInfo)), "P-SEAMLDR");
}

TEST(Seamcall, TransportStatusesMapToErrno)
{
	EXPECT_EQ(status_to_errno(TdxStatus(kTdxSeamcallEmuGone)), error(err::kENODEV));
	EXPECT_STREQ(status_name(TdxStatus(kTdxSeamcallEmuGone)), "TDX_SEAMCALL_EMULATOR_GONE");
	EXPECT_TRUE(TdxStatus(kTdxSeamcallEmuGone).is_software());
	EXPECT_TRUE(TdxStatus(kTdxSeamcallTimeout).is_software());
}

TEST(Seamcall, KeyIdRangeChecks)
{
	fake::reset();
	EXPECT_TRUE(check_tdx_keyids(32, 32).is_ok());
	EXPECT_TRUE(check_tdx_keyids(1, 0xFFFF).is_ok()); /* up to KeyID 0xFFFF */
	EXPECT_EQ(check_tdx_keyids(0, 32), error(err::kENODEV));
	EXPECT_EQ(check_tdx_keyids(2, 0xFFFF), error(err::kENODEV));
	EXPECT_EQ(check_tdx_keyids(32, 1), error(err::kENODEV));
	EXPECT_EQ(check_tdx_keyids(0xFFFFFFFFu, 0xFFFFFFFFu), error(err::kENODEV));
}
