// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-tdx's C++ core (getquote.cpp) against a fake of its glue (fake_td.h): TDG.VP.VMCALL<GetQuote>'s
 * checks in ABI.md §9's order, each seen as the TDVMCALL status and the header status the TD
 * reads; the in-kernel path's writes (quote, out_len, status, in that order) and its failures;
 * SetupEventNotifyInterrupt's vector; a userspace request ended without a status. Every request
 * test runs for both shared bits (GPAW 48 and 52).
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <tdx/abi/getquote.h>

#include "fake_td.h"

namespace gq = tdx::abi::getquote;
using fake::Access;
using fake::kPage;

namespace {

constexpr u64 kBuf = 0x200000; /* the TD's shared buffer, shared bit stripped */
constexpr u32 kReportLen = 1024;

struct Result {
	u64 ret;    /* r10 */
	bool ok;    /* the checks let the request go on */
	kq_request req;
};

class GetQuote : public ::testing::TestWithParam<unsigned> {
protected:
	kvm_tdx_quote_td td;

	unsigned bit() const { return GetParam(); }
	u64 shared() const { return u64{1} << bit(); }

	void TearDown() override
	{
		EXPECT_EQ(td.contract_violations, 0) << "the glue was called outside its contract";
		EXPECT_EQ(fake::live_quotes, 0) << "a quote was not freed";
		fake::live_quotes = 0;
	}

	/* A shared buffer of pages at gpa holding a header and a TDREPORT of in_len bytes. */
	void buffer(u64 gpa, u64 pages, u64 version = gq::kVersion, u32 in_len = kReportLen, u32 out_len = 0)
	{
		td.map(gpa, pages * kPage, true);
		gq::Header h{version, gq::kStatusSuccess, in_len, out_len};
		ASSERT_TRUE(td.poke(gpa, &h, sizeof(h)));
		std::vector<uint8_t> report(in_len);
		for (u32 i = 0; i < in_len; i++)
			report[i] = static_cast<uint8_t>(i * 7 + 1);
		ASSERT_TRUE(td.poke(gpa + gq::kOffData, report.data(), in_len));
	}

	gq::Header header(u64 gpa = kBuf) const
	{
		gq::Header h{};
		EXPECT_TRUE(td.peek(gpa, &h, sizeof(h)));
		return h;
	}

	Result check(u64 r12, u64 r13)
	{
		Result r{};
		r.ret = 0x1234; /* must be overwritten */
		r.ok = kq_check_get_quote(&td, bit(), r12, r13, &r.req, &r.ret) == 1;
		return r;
	}

	/* The in-kernel path as the glue runs it: the checks, then the quote. */
	u64 get_quote(u64 r12, u64 r13)
	{
		Result r = check(r12, r13);
		if (!r.ok)
			return r.ret;
		EXPECT_EQ(r.ret, gq::kVmcallSuccess);
		return kq_in_kernel_quote(&td, &r.req);
	}

	/* A check that fails before the header is read: nothing is written. */
	void expect_refused(u64 r12, u64 r13, u64 ret)
	{
		SCOPED_TRACE(::testing::Message() << std::hex << "r12 0x" << r12 << " r13 0x" << r13);
		Result r = check(r12, r13);
		EXPECT_FALSE(r.ok);
		EXPECT_EQ(r.ret, ret);
		EXPECT_TRUE(td.writes().empty());
	}

	/* A header check that fails: status ERROR written, nothing else, INVALID_OPERAND. */
	void expect_header_error(u64 size)
	{
		gq::Header before = header();
		Result r = check(kBuf | shared(), size);
		EXPECT_FALSE(r.ok);
		EXPECT_EQ(r.ret, gq::kVmcallInvalidOperand);
		gq::Header after = header();
		EXPECT_EQ(after.status, gq::kStatusError);
		EXPECT_EQ(after.version, before.version);
		EXPECT_EQ(after.in_len, before.in_len);
		EXPECT_EQ(after.out_len, before.out_len);
		EXPECT_EQ(td.writes(), (std::vector<Access>{{true, kBuf + gq::kOffStatus, 8}}));
	}
};

INSTANTIATE_TEST_SUITE_P(SharedBit, GetQuote, ::testing::Values(47u, 51u),
			 [](const auto &info) { return "bit" + std::to_string(info.param); });

/* ---- the GPA and size checks ---- */

TEST_P(GetQuote, ValidRequestPassesTheChecks)
{
	buffer(kBuf, 2);
	Result r = check(kBuf | shared(), 2 * kPage);
	ASSERT_TRUE(r.ok);
	EXPECT_EQ(r.ret, gq::kVmcallSuccess);
	EXPECT_EQ(r.req.gpa, kBuf);
	EXPECT_EQ(r.req.size, 2 * kPage);
	EXPECT_EQ(r.req.in_len, kReportLen);
	EXPECT_EQ(r.req.out_len, 0u);
	EXPECT_TRUE(td.writes().empty());
}

TEST_P(GetQuote, PrivateGpaIsInvalidOperand)
{
	buffer(kBuf, 1);
	expect_refused(kBuf, kPage, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, OnlyTheTdsOwnSharedBitCounts)
{
	buffer(kBuf, 1);
	/* GPAW 52's TD with bit 47 set: a private GPA. GPAW 48's TD with bit 51: past its GPA space. */
	const u64 other = u64{1} << (bit() == 47 ? 51 : 47);
	expect_refused(kBuf | other, kPage, gq::kVmcallInvalidOperand);
	if (bit() == 47)
		expect_refused(kBuf | other | shared(), kPage, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, SizeZeroIsInvalidOperand)
{
	buffer(kBuf, 1);
	expect_refused(kBuf | shared(), 0, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, MisalignedGpaIsAlignError)
{
	buffer(kBuf, 2);
	expect_refused((kBuf + 0x800) | shared(), kPage, gq::kVmcallAlignError);
	expect_refused((kBuf + 8) | shared(), kPage, gq::kVmcallAlignError);
}

TEST_P(GetQuote, MisalignedSizeIsAlignError)
{
	buffer(kBuf, 2);
	expect_refused(kBuf | shared(), 0x1800, gq::kVmcallAlignError);
	expect_refused(kBuf | shared(), 24, gq::kVmcallAlignError);
}

/* Each pair fails two checks: the one ABI.md §9 puts first answers. */
TEST_P(GetQuote, ChecksRunInTheDocumentedOrder)
{
	buffer(kBuf, 1);
	td.map(kBuf + kPage, kPage, false);
	/* shared bit before size and alignment */
	expect_refused(kBuf, 0, gq::kVmcallInvalidOperand);
	expect_refused(kBuf + 0x800, kPage, gq::kVmcallInvalidOperand);
	expect_refused(kBuf, 0x800, gq::kVmcallInvalidOperand);
	/* size 0 before alignment */
	expect_refused((kBuf + 0x800) | shared(), 0, gq::kVmcallInvalidOperand);
	/* alignment before overflow */
	expect_refused((shared() - 0x800) | shared(), 2 * kPage, gq::kVmcallAlignError);
	expect_refused(kBuf | shared(), ~u64{0} - 0x7ff, gq::kVmcallAlignError);
	/* alignment before the shared range (the second page is private) */
	expect_refused(kBuf | shared(), 0x1800, gq::kVmcallAlignError);
	/* the range before the header: a bad version in a partly private buffer is not written to */
	gq::Header bad{2, gq::kStatusSuccess, kReportLen, 0};
	ASSERT_TRUE(td.poke(kBuf, &bad, sizeof(bad)));
	expect_refused(kBuf | shared(), 2 * kPage, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, WrappingRangeIsInvalidOperand)
{
	buffer(kBuf, 1);
	expect_refused(kBuf | shared(), ~u64{0} & ~(kPage - 1), gq::kVmcallInvalidOperand);
	const u64 top = ~u64{0} & ~(kPage - 1) & ~shared();
	expect_refused(top | shared(), 2 * kPage, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, RangePastTheSharedAliasIsInvalidOperand)
{
	const u64 last = shared() - kPage;
	buffer(last, 1);
	td.map(shared(), kPage, true); /* even if the fake had memory there */
	expect_refused(last | shared(), 2 * kPage, gq::kVmcallInvalidOperand);
	/* A GPA above the shared bit is outside the GPA space too. */
	expect_refused((kBuf | (shared() << 1)) | shared(), kPage, gq::kVmcallInvalidOperand);
	/* The last page below the alias is a valid buffer. */
	Result r = check(last | shared(), kPage);
	EXPECT_TRUE(r.ok);
	EXPECT_EQ(r.req.gpa, last);
}

TEST_P(GetQuote, PartlyPrivateRangeIsInvalidOperand)
{
	buffer(kBuf, 3);
	td.map(kBuf + 2 * kPage, kPage, false);
	expect_refused(kBuf | shared(), 3 * kPage, gq::kVmcallInvalidOperand);
	/* private first page, shared rest */
	buffer(kBuf + 4 * kPage, 2);
	td.map(kBuf + 4 * kPage, kPage, false);
	expect_refused((kBuf + 4 * kPage) | shared(), 2 * kPage, gq::kVmcallInvalidOperand);
	/* a page not mapped at all in the middle */
	buffer(kBuf + 8 * kPage, 1);
	buffer(kBuf + 10 * kPage, 1);
	expect_refused((kBuf + 8 * kPage) | shared(), 3 * kPage, gq::kVmcallInvalidOperand);
}

TEST_P(GetQuote, UnbackedFirstPageIsInvalidOperand)
{
	buffer(kBuf, 2);
	td.map(kBuf, kPage, true, /*backed=*/false);
	Result r = check(kBuf | shared(), 2 * kPage);
	EXPECT_FALSE(r.ok);
	EXPECT_EQ(r.ret, gq::kVmcallInvalidOperand);
	EXPECT_TRUE(td.writes().empty());
}

/* ---- the header checks: status ERROR, INVALID_OPERAND ---- */

TEST_P(GetQuote, VersionOtherThanOneIsError)
{
	for (u64 v : {u64{0}, u64{2}, u64{1} << 32, ~u64{0}}) {
		SCOPED_TRACE(v);
		td = {};
		buffer(kBuf, 1, v);
		expect_header_error(kPage);
	}
}

TEST_P(GetQuote, InLenPastTheFirstPageIsError)
{
	buffer(kBuf, 2, gq::kVersion, gq::kMaxInRegion - gq::kHeaderSize); /* fits exactly */
	EXPECT_TRUE(check(kBuf | shared(), 2 * kPage).ok);
	for (u32 in_len : {gq::kMaxInRegion - gq::kHeaderSize + 1, gq::kMaxInRegion, ~u32{0}}) {
		SCOPED_TRACE(in_len);
		td = {};
		buffer(kBuf, 2);
		gq::Header h = header();
		h.in_len = in_len;
		ASSERT_TRUE(td.poke(kBuf, &h, sizeof(h)));
		expect_header_error(2 * kPage);
	}
}

TEST_P(GetQuote, OutLenPastTheBufferIsError)
{
	buffer(kBuf, 2, gq::kVersion, kReportLen, 2 * kPage - gq::kHeaderSize); /* fits exactly */
	EXPECT_TRUE(check(kBuf | shared(), 2 * kPage).ok);
	for (u32 out_len : {u32{2 * kPage - gq::kHeaderSize + 1}, u32{2 * kPage}, ~u32{0}}) {
		SCOPED_TRACE(out_len);
		td = {};
		buffer(kBuf, 2, gq::kVersion, kReportLen, out_len);
		expect_header_error(2 * kPage);
	}
}

/* ---- the in-kernel path ---- */

TEST_P(GetQuote, InKernelSuccessWritesQuoteThenOutLenThenStatus)
{
	buffer(kBuf, 2);
	std::vector<uint8_t> report(kReportLen);
	ASSERT_TRUE(td.peek(kBuf + gq::kOffData, report.data(), kReportLen));
	td.quote.resize(5000);
	for (size_t i = 0; i < td.quote.size(); i++)
		td.quote[i] = static_cast<uint8_t>(i * 13 + 5);

	EXPECT_EQ(get_quote(kBuf | shared(), 2 * kPage), gq::kVmcallSuccess);
	EXPECT_EQ(td.generate_calls, 1);
	EXPECT_EQ(td.report_gpa, kBuf + gq::kOffData);
	EXPECT_EQ(td.report, report);
	EXPECT_EQ(td.writes(), (std::vector<Access>{{true, kBuf + gq::kOffData, 5000},
						   {true, kBuf + gq::kOffOutLen, 4},
						   {true, kBuf + gq::kOffStatus, 8}}));
	gq::Header h = header();
	EXPECT_EQ(h.version, gq::kVersion);
	EXPECT_EQ(h.status, gq::kStatusSuccess);
	EXPECT_EQ(h.in_len, kReportLen);
	EXPECT_EQ(h.out_len, 5000u);
	std::vector<uint8_t> out(5000);
	ASSERT_TRUE(td.peek(kBuf + gq::kOffData, out.data(), out.size()));
	EXPECT_EQ(out, td.quote);
}

TEST_P(GetQuote, InKernelQuoteFillingTheBufferExactly)
{
	buffer(kBuf, 1);
	td.quote.assign(kPage - gq::kHeaderSize, 0xAB);
	EXPECT_EQ(get_quote(kBuf | shared(), kPage), gq::kVmcallSuccess);
	EXPECT_EQ(header().status, gq::kStatusSuccess);
	EXPECT_EQ(header().out_len, kPage - gq::kHeaderSize);
}

TEST_P(GetQuote, InKernelQuoteTooBigIsErrorWithOutLenZero)
{
	buffer(kBuf, 1);
	td.quote.assign(kPage - gq::kHeaderSize + 1, 0xAB);
	EXPECT_EQ(get_quote(kBuf | shared(), kPage), gq::kVmcallInvalidOperand);
	gq::Header h = header();
	EXPECT_EQ(h.status, gq::kStatusError);
	EXPECT_EQ(h.out_len, 0u);
	/* Nothing of the quote went in: the TDREPORT is still there. */
	EXPECT_EQ(td.writes(), (std::vector<Access>{{true, kBuf + gq::kOffOutLen, 4},
						   {true, kBuf + gq::kOffStatus, 8}}));
	std::vector<uint8_t> data(kReportLen);
	ASSERT_TRUE(td.peek(kBuf + gq::kOffData, data.data(), data.size()));
	EXPECT_EQ(data, td.report);
}

TEST_P(GetQuote, InKernelQuotingUnavailableIsServiceUnavailable)
{
	for (int err : {ENODEV, EINVAL, EIO}) {
		SCOPED_TRACE(err);
		td = {};
		buffer(kBuf, 2, gq::kVersion, kReportLen, 100);
		td.quote_errno = err;
		EXPECT_EQ(get_quote(kBuf | shared(), 2 * kPage), gq::kVmcallInvalidOperand);
		EXPECT_EQ(td.generate_calls, 1);
		gq::Header h = header();
		EXPECT_EQ(h.status, gq::kStatusServiceUnavailable);
		EXPECT_EQ(h.out_len, 0u);
		EXPECT_EQ(td.writes(), (std::vector<Access>{{true, kBuf + gq::kOffOutLen, 4},
							   {true, kBuf + gq::kOffStatus, 8}}));
	}
}

/* ---- helpers of the userspace path ---- */

TEST_P(GetQuote, EndInFlightRewritesOnlyInFlight)
{
	buffer(kBuf, 1);
	ASSERT_EQ(kq_write_status(&td, kBuf, gq::kStatusInFlight), 0);
	EXPECT_EQ(td.writes(), (std::vector<Access>{{true, kBuf + gq::kOffStatus, 8}}));
	EXPECT_EQ(kq_end_in_flight(&td, kBuf), 1);
	EXPECT_EQ(header().status, gq::kStatusServiceUnavailable);

	for (u64 final_status : {gq::kStatusSuccess, gq::kStatusError, gq::kStatusServiceUnavailable,
				 gq::kStatusInFlight - 1}) {
		SCOPED_TRACE(final_status);
		ASSERT_EQ(kq_write_status(&td, kBuf, final_status), 0);
		td.accesses.clear();
		EXPECT_EQ(kq_end_in_flight(&td, kBuf), 0);
		EXPECT_EQ(header().status, final_status);
		EXPECT_TRUE(td.writes().empty());
	}
	/* A buffer that went away: nothing to rewrite. */
	td.map(kBuf, kPage, true, /*backed=*/false);
	EXPECT_EQ(kq_end_in_flight(&td, kBuf), 0);
	EXPECT_NE(kq_write_status(&td, kBuf, gq::kStatusError), 0);
}

TEST(GetQuoteNotify, VectorMustBe32To255)
{
	for (u64 v : {u64{0}, u64{31}, u64{256}, u64{0x120}, ~u64{0}, (u64{1} << 32) | 32})
		EXPECT_EQ(kq_check_notify_vector(v), gq::kVmcallInvalidOperand) << v;
	for (u64 v : {u64{32}, u64{33}, u64{128}, u64{255}})
		EXPECT_EQ(kq_check_notify_vector(v), gq::kVmcallSuccess) << v;
}

} // namespace
