// SPDX-License-Identifier: GPL-2.0
// tdx-quote-vmm's decisions: the exit and header checks, and each QGS outcome's header status.
#include <gtest/gtest.h>

#include "vmm_logic.h"

namespace quote_service {
namespace {

using Kind = ExitDecision::Kind;

kvm_tdx_quote_exit get_quote_exit(std::uint64_t size = 4096)
{
	kvm_tdx_quote_exit e{};
	e.id = 1;
	e.td = 2;
	e.exit_reason = KVM_TDX_QUOTE_EXIT_TDX;
	e.nr = KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE;
	e.ret = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	e.gpa = 0x10000;
	e.size = size;
	return e;
}

gq::Header good_header()
{
	return {gq::kVersion, KVM_TDX_QUOTE_STATUS_IN_FLIGHT, kTdReportSize, 0};
}

TEST(VmmExit, GetQuoteReadsTheHeader)
{
	const ExitDecision d = decide_exit(get_quote_exit());
	EXPECT_EQ(d.kind, Kind::kReadHeader);
}

TEST(VmmExit, OtherExitsResumeWithThePresetRet)
{
	auto e = get_quote_exit();
	e.nr = 0x10004;
	ExitDecision d = decide_exit(e);
	EXPECT_EQ(d.kind, Kind::kUnsupported);
	EXPECT_EQ(d.resume_ret, KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED);
	e = get_quote_exit();
	e.exit_reason = 2;
	e.ret = 0x1234;
	d = decide_exit(e);
	EXPECT_EQ(d.kind, Kind::kUnsupported);
	EXPECT_EQ(d.resume_ret, 0x1234u);
}

TEST(VmmExit, BufferSmallerThanHeader)
{
	EXPECT_EQ(decide_exit(get_quote_exit(23)).kind, Kind::kUnreadable);
	EXPECT_EQ(decide_exit(get_quote_exit(0)).kind, Kind::kUnreadable);
	EXPECT_EQ(decide_exit(get_quote_exit(24)).kind, Kind::kReadHeader);
}

TEST(VmmHeader, GoodHeaderForwards)
{
	const ExitDecision d = decide_header(get_quote_exit(), good_header());
	EXPECT_EQ(d.kind, Kind::kForward);
	EXPECT_EQ(d.resume_ret, KVM_TDX_QUOTE_TDVMCALL_SUCCESS);
}

TEST(VmmHeader, UnreadableHeader)
{
	const ExitDecision d = decide_header(get_quote_exit(), std::nullopt);
	EXPECT_EQ(d.kind, Kind::kUnreadable);
	EXPECT_EQ(d.resume_ret, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND);
}

TEST(VmmHeader, EachBadHeader)
{
	struct Case {
		const char *name;
		gq::Header h;
		std::uint64_t size;
		const char *why;
	};
	const Case cases[] = {
		{"version 0", {0, 0, 1024, 0}, 4096, "version is not 1"},
		{"version 2", {2, 0, 1024, 0}, 4096, "version is not 1"},
		{"version high bits", {1ull << 32 | 1, 0, 1024, 0}, 4096, "version is not 1"},
		{"in_len 4073", {1, 0, 4073, 0}, 8192, "in_len + 24 over 4096"},
		{"in_len max", {1, 0, 0xffffffff, 0}, 8192, "in_len + 24 over 4096"},
		{"in_len 1000", {1, 0, 1000, 0}, 4096, "in_len is not 1024 (a TDREPORT)"},
		{"in_len 0", {1, 0, 0, 0}, 4096, "in_len is not 1024 (a TDREPORT)"},
		{"in_len 4072", {1, 0, 4072, 0}, 4096, "in_len is not 1024 (a TDREPORT)"},
		{"buffer 1047", {1, 0, 1024, 0}, 1047, "in_len + 24 over the buffer"},
	};
	for (const auto &c : cases) {
		const ExitDecision d = decide_header(get_quote_exit(c.size), c.h);
		EXPECT_EQ(d.kind, Kind::kBadHeader) << c.name;
		EXPECT_EQ(d.resume_ret, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND) << c.name;
		EXPECT_STREQ(d.why, c.why) << c.name;
	}
	/* the status and out_len a TD left there do not matter */
	EXPECT_EQ(decide_header(get_quote_exit(1048), gq::Header{1, 5, 1024, 0xffffffff}).kind, Kind::kForward);
}

TEST(VmmHeader, ParsedLittleEndian)
{
	std::uint8_t b[gq::kHeaderSize] = {};
	store_le64(b + gq::kOffVersion, 1);
	store_le64(b + gq::kOffStatus, KVM_TDX_QUOTE_STATUS_IN_FLIGHT);
	store_le32(b + gq::kOffInLen, 1024);
	store_le32(b + gq::kOffOutLen, 0x01020304);
	const gq::Header h = parse_guest_header(b);
	EXPECT_EQ(h.version, 1u);
	EXPECT_EQ(h.status, KVM_TDX_QUOTE_STATUS_IN_FLIGHT);
	EXPECT_EQ(h.in_len, 1024u);
	EXPECT_EQ(h.out_len, 0x01020304u);
	EXPECT_EQ(b[gq::kOffInLen + 1], 4); /* 1024 = 0x400 */
}

QgsOutcome response(Bytes m, bool trailing = false)
{
	return {QgsOutcome::Kind::kResponse, std::move(m), trailing};
}

TEST(VmmCompletion, QuoteWritten)
{
	const Bytes quote(1000, 0x33);
	const QgsOutcome o = response(build_response(qgs::kSuccess, Bytes{1, 2}, quote));
	const Completion c = decide_completion(o, 4096);
	EXPECT_EQ(c.status, KVM_TDX_QUOTE_STATUS_SUCCESS);
	EXPECT_EQ(c.out_len, 1000u);
	EXPECT_EQ(Bytes(c.quote.begin(), c.quote.end()), quote);
}

TEST(VmmCompletion, QuoteFitsExactlyOrNot)
{
	const QgsOutcome o = response(build_response(qgs::kSuccess, {}, Bytes(4096 - 24, 1)));
	EXPECT_EQ(decide_completion(o, 4096).status, KVM_TDX_QUOTE_STATUS_SUCCESS);
	const QgsOutcome big = response(build_response(qgs::kSuccess, {}, Bytes(4096 - 23, 1)));
	const Completion c = decide_completion(big, 4096);
	EXPECT_EQ(c.status, KVM_TDX_QUOTE_STATUS_ERROR);
	EXPECT_EQ(c.out_len, 0u);
	EXPECT_TRUE(c.quote.empty());
	EXPECT_EQ(decide_completion(big, 8192).status, KVM_TDX_QUOTE_STATUS_SUCCESS);
}

TEST(VmmCompletion, QgsUnreachableIsServiceUnavailable)
{
	for (const auto k : {QgsOutcome::Kind::kConnectFailed, QgsOutcome::Kind::kClosed, QgsOutcome::Kind::kTimeout}) {
		const Completion c = decide_completion({k}, 4096);
		EXPECT_EQ(c.status, KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE) << static_cast<int>(k);
		EXPECT_EQ(c.out_len, 0u);
	}
}

TEST(VmmCompletion, BadResponsesAreErrors)
{
	const Bytes good = build_response(qgs::kSuccess, {}, Bytes(100, 1));
	std::vector<std::pair<const char *, QgsOutcome>> cases;
	cases.push_back({"prefix over the limit", {QgsOutcome::Kind::kTooLarge}});
	cases.push_back({"trailing message", response(good, true)});
	Bytes m = good;
	m[qgs::kOffSize]++;
	cases.push_back({"size field", response(m)});
	m = good;
	m[qgs::kOffMajor] = 3;
	cases.push_back({"major", response(m)});
	m = good;
	m[qgs::kOffType] = qgs::kGetQuoteReq;
	cases.push_back({"a request", response(m)});
	cases.push_back({"error code", response(build_response(qgs::kErrorInvalidParameter, {}, {}))});
	cases.push_back({"error code with a quote", response(build_response(qgs::kErrorUnexpected, {}, Bytes(10, 1)))});
	cases.push_back({"no quote", response(build_response(qgs::kSuccess, {}, {}))});
	cases.push_back({"garbage", response(Bytes(48, 0xff))});
	cases.push_back({"empty message", response({})});
	m = good;
	store_le32(m.data() + qgs::kRespOffQuoteSize, 99);
	cases.push_back({"quote_size short", response(m)});
	for (const auto &[name, o] : cases) {
		const Completion c = decide_completion(o, 4096);
		EXPECT_EQ(c.status, KVM_TDX_QUOTE_STATUS_ERROR) << name << ": " << c.why;
		EXPECT_EQ(c.out_len, 0u) << name;
		EXPECT_TRUE(c.quote.empty()) << name;
	}
}

} // namespace
} // namespace quote_service
