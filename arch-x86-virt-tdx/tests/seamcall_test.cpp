// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "fake_kapi.h"
#include "fake_module.h"
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
	fake::FakeModule m;
	Seamcall sc(m);
	m.rnd_no_entropy_left = 3;
	RegBlock r{};
	EXPECT_TRUE(sc.call(leaves::kSysInit, r).is_success());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysInit), 4);
}

TEST(Seamcall, GivesUpAfterTenRetries)
{
	fake::reset();
	fake::FakeModule m;
	Seamcall sc(m);
	m.rnd_no_entropy_left = 100;
	RegBlock r{};
	EXPECT_TRUE(sc.call(leaves::kSysInit, r).is(st::kRndNoEntropy));
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysInit), 11); /* the call and 10 retries */
}

TEST(Seamcall, ResumableRepeatsUntilFinal)
{
	fake::reset();
	fake::FakeModule m;
	Seamcall sc(m);
	m.disable_steps = 5;
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r).is_success());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysDisable), 5);
}

TEST(Seamcall, ResumableStopsAtBound)
{
	fake::reset();
	fake::FakeModule m;
	Seamcall sc(m);
	m.disable_steps = 100;
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r, false, 3).is(st::kInterruptedResumable));
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysDisable), 3);
}

TEST(Seamcall, ResumableRetriesBusyOnlyWhenAsked)
{
	fake::reset();
	fake::FakeModule m;
	Seamcall sc(m);
	m.disable_steps = 1;
	m.fail(tdx::abi::leaf::kSysDisable, 1, st::kSysBusy);
	RegBlock r{};
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r).is(st::kSysBusy));
	m.fail(tdx::abi::leaf::kSysDisable, 1, st::kSysBusy);
	EXPECT_TRUE(sc.call_resumable(leaves::kSysDisable, r, true).is_success());
}

TEST(Seamcall, CallErrnoLogsLeafAndStatus)
{
	fake::reset();
	fake::FakeModule m;
	Seamcall sc(m);
	m.fail(tdx::abi::leaf::kSysInit, 1, st::kSysBusy);
	RegBlock r{};
	EXPECT_EQ(sc.call_errno(leaves::kSysInit, r), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("leaf 33"));
	EXPECT_TRUE(fake::kernel().log_contains("TDX_SYS_BUSY"));
}
