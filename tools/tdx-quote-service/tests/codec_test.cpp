// SPDX-License-Identifier: GPL-2.0
// The QGS codec: framing, requests and responses built and parsed, every malformation.
#include <gtest/gtest.h>

#include "qgs_codec.h"
#include "test_support.h"

namespace quote_service {
namespace {

using test::make_report;

Bytes valid_request()
{
	return build_request(make_report(1), {});
}

Bytes valid_response(std::size_t quote_size = 100)
{
	return build_response(qgs::kSuccess, {}, Bytes(quote_size, 0x5a));
}

TEST(Codec, RequestLayout)
{
	const Bytes report = make_report(7);
	const Bytes ids{1, 2, 3};
	const Bytes m = build_request(report, ids);
	ASSERT_EQ(m.size(), 16u + 8 + 1024 + 3);
	const Header h = read_header(m.data());
	EXPECT_EQ(h.major, 1);
	EXPECT_EQ(h.minor, 1);
	EXPECT_EQ(h.type, qgs::kGetQuoteReq);
	EXPECT_EQ(h.size, m.size());
	EXPECT_EQ(h.error_code, 0u);
	EXPECT_EQ(load_le32(m.data() + qgs::kReqOffReportSize), 1024u);
	EXPECT_EQ(load_le32(m.data() + qgs::kReqOffIdListSize), 3u);
	EXPECT_TRUE(std::equal(report.begin(), report.end(), m.begin() + qgs::kReqOffReport));
	/* little-endian on the wire */
	EXPECT_EQ(m[qgs::kOffSize], static_cast<std::uint8_t>(m.size()));
	EXPECT_EQ(m[qgs::kOffSize + 1], static_cast<std::uint8_t>(m.size() >> 8));

	const ParsedRequest p = parse_request(m);
	EXPECT_EQ(p.error_code, qgs::kSuccess);
	EXPECT_TRUE(std::equal(p.report.begin(), p.report.end(), report.begin(), report.end()));
	EXPECT_EQ(Bytes(p.id_list.begin(), p.id_list.end()), ids);
}

TEST(Codec, ResponseLayout)
{
	const Bytes sel{9, 9}, quote(300, 0x42);
	const Bytes m = build_response(qgs::kSuccess, sel, quote);
	EXPECT_EQ(m.size(), 16u + 8 + 2 + 300);
	EXPECT_EQ(load_le32(m.data() + qgs::kRespOffSelectedIdSize), 2u);
	EXPECT_EQ(load_le32(m.data() + qgs::kRespOffQuoteSize), 300u);
	const ParsedResponse p = parse_response(m);
	ASSERT_EQ(p.status, ResponseStatus::kOk) << p.why;
	EXPECT_EQ(Bytes(p.selected_id.begin(), p.selected_id.end()), sel);
	EXPECT_EQ(Bytes(p.quote.begin(), p.quote.end()), quote);
}

TEST(Codec, FramePrefixIsBigEndian)
{
	const Bytes f = frame(Bytes(0x0102, 0));
	ASSERT_EQ(f.size(), 4u + 0x102);
	EXPECT_EQ(f[0], 0);
	EXPECT_EQ(f[1], 0);
	EXPECT_EQ(f[2], 1);
	EXPECT_EQ(f[3], 2);
}

TEST(Codec, PeekFrame)
{
	const Bytes f = frame(valid_request());
	EXPECT_EQ(peek_frame({}, kMaxRequest).status, FrameStatus::kNeedMore);
	EXPECT_EQ(peek_frame(BytesView(f).first(3), kMaxRequest).status, FrameStatus::kNeedMore);
	EXPECT_EQ(peek_frame(BytesView(f).first(f.size() - 1), kMaxRequest).status, FrameStatus::kNeedMore);
	const FrameInfo whole = peek_frame(f, kMaxRequest);
	EXPECT_EQ(whole.status, FrameStatus::kComplete);
	EXPECT_EQ(whole.message_len, f.size() - 4);
	Bytes two = f;
	two.insert(two.end(), f.begin(), f.end());
	EXPECT_EQ(peek_frame(two, kMaxRequest).message_len, f.size() - 4);
	/* the limit itself is allowed, one more is not */
	const Bytes at_limit{0, 1, 0, 0};
	EXPECT_EQ(peek_frame(at_limit, 0x10000).status, FrameStatus::kNeedMore);
	EXPECT_EQ(peek_frame(at_limit, 0xffff).status, FrameStatus::kTooLarge);
	const Bytes huge{0xff, 0xff, 0xff, 0xff};
	EXPECT_EQ(peek_frame(huge, kMaxResponse).status, FrameStatus::kTooLarge);
	EXPECT_EQ(peek_frame(Bytes{0, 0, 0, 0}, kMaxRequest).status, FrameStatus::kComplete);
}

/* One malformation of a valid request and the error_code the QGS must answer. */
struct RequestCase {
	const char *name;
	void (*mutate)(Bytes &m);
	std::uint32_t error_code;
};

void set_size_field(Bytes &m)
{
	store_le32(m.data() + qgs::kOffSize, static_cast<std::uint32_t>(m.size()));
}

const RequestCase kRequestCases[] = {
	{"empty", [](Bytes &m) { m.clear(); }, qgs::kErrorInvalidSize},
	{"header cut", [](Bytes &m) { m.resize(15); }, qgs::kErrorInvalidSize},
	{"major 2", [](Bytes &m) { m[qgs::kOffMajor] = 2; }, qgs::kErrorInvalidVersion},
	{"major 0x101", [](Bytes &m) { m[qgs::kOffMajor + 1] = 1; }, qgs::kErrorInvalidVersion},
	{"type resp", [](Bytes &m) { m[qgs::kOffType] = 1; }, qgs::kErrorInvalidType},
	{"type high byte", [](Bytes &m) { m[qgs::kOffType + 3] = 1; }, qgs::kErrorInvalidType},
	{"size field +1", [](Bytes &m) { m[qgs::kOffSize]++; }, qgs::kErrorInvalidSize},
	{"size field -1", [](Bytes &m) { m[qgs::kOffSize]--; }, qgs::kErrorInvalidSize},
	{"message cut", [](Bytes &m) { m.pop_back(); }, qgs::kErrorInvalidSize},
	{"cut, size consistent", [](Bytes &m) { m.pop_back(); set_size_field(m); }, qgs::kErrorInvalidSize},
	{"extra byte, size consistent", [](Bytes &m) { m.push_back(0); set_size_field(m); }, qgs::kErrorInvalidSize},
	{"no body", [](Bytes &m) { m.resize(16); set_size_field(m); }, qgs::kErrorInvalidSize},
	{"half a body", [](Bytes &m) { m.resize(20); set_size_field(m); }, qgs::kErrorInvalidSize},
	{"report_size huge", [](Bytes &m) { store_le32(m.data() + qgs::kReqOffReportSize, 0xffffffff); },
	 qgs::kErrorInvalidSize},
	{"id_list_size wraps", [](Bytes &m) { store_le32(m.data() + qgs::kReqOffIdListSize, 0u - 1024u); },
	 qgs::kErrorInvalidSize},
	{"report 1000, id list 24",
	 [](Bytes &m) {
		 store_le32(m.data() + qgs::kReqOffReportSize, 1000);
		 store_le32(m.data() + qgs::kReqOffIdListSize, 24);
	 },
	 qgs::kErrorInvalidParameter},
	{"report 0, id list 1024",
	 [](Bytes &m) {
		 store_le32(m.data() + qgs::kReqOffReportSize, 0);
		 store_le32(m.data() + qgs::kReqOffIdListSize, 1024);
	 },
	 qgs::kErrorInvalidParameter},
};

TEST(Codec, EveryRequestMalformation)
{
	for (const auto &c : kRequestCases) {
		Bytes m = valid_request();
		c.mutate(m);
		const ParsedRequest p = parse_request(m);
		EXPECT_EQ(p.error_code, c.error_code) << c.name << ": " << p.why;
		EXPECT_TRUE(p.report.empty()) << c.name;
	}
}

TEST(Codec, RequestMinorAndErrorCodeIgnored)
{
	Bytes m = valid_request();
	m[qgs::kOffMinor] = 7;
	m[qgs::kOffErrorCode] = 3;
	EXPECT_EQ(parse_request(m).error_code, qgs::kSuccess);
}

TEST(Codec, RequestWithTdReportOfWrongSize)
{
	const Bytes m = build_request(Bytes(1023, 1), {});
	EXPECT_EQ(parse_request(m).error_code, qgs::kErrorInvalidParameter);
	EXPECT_EQ(parse_request(build_request(Bytes(1025, 1), {})).error_code, qgs::kErrorInvalidParameter);
}

struct ResponseCase {
	const char *name;
	void (*mutate)(Bytes &m);
	ResponseStatus status;
};

const ResponseCase kResponseCases[] = {
	{"empty", [](Bytes &m) { m.clear(); }, ResponseStatus::kMalformed},
	{"header cut", [](Bytes &m) { m.resize(15); }, ResponseStatus::kMalformed},
	{"major 0", [](Bytes &m) { m[qgs::kOffMajor] = 0; }, ResponseStatus::kMalformed},
	{"size field +1", [](Bytes &m) { m[qgs::kOffSize]++; }, ResponseStatus::kMalformed},
	{"message cut", [](Bytes &m) { m.pop_back(); }, ResponseStatus::kMalformed},
	{"cut, size consistent", [](Bytes &m) { m.pop_back(); set_size_field(m); }, ResponseStatus::kMalformed},
	{"extra, size consistent", [](Bytes &m) { m.push_back(1); set_size_field(m); }, ResponseStatus::kMalformed},
	{"no body", [](Bytes &m) { m.resize(16); set_size_field(m); }, ResponseStatus::kMalformed},
	{"quote_size huge", [](Bytes &m) { store_le32(m.data() + qgs::kRespOffQuoteSize, 0xffffffff); },
	 ResponseStatus::kMalformed},
	{"selected_id_size wraps",
	 [](Bytes &m) { store_le32(m.data() + qgs::kRespOffSelectedIdSize, 0u - 100u); }, ResponseStatus::kMalformed},
	{"type req", [](Bytes &m) { m[qgs::kOffType] = 0; }, ResponseStatus::kWrongType},
	{"type 2", [](Bytes &m) { m[qgs::kOffType] = 2; }, ResponseStatus::kWrongType},
	{"error_code set", [](Bytes &m) { store_le32(m.data() + qgs::kOffErrorCode, qgs::kErrorUnexpected); },
	 ResponseStatus::kQgsError},
};

TEST(Codec, EveryResponseMalformation)
{
	for (const auto &c : kResponseCases) {
		Bytes m = valid_response();
		c.mutate(m);
		const ParsedResponse p = parse_response(m);
		EXPECT_EQ(p.status, c.status) << c.name << ": " << p.why;
		EXPECT_TRUE(p.quote.empty()) << c.name;
	}
}

TEST(Codec, ErrorResponseWithoutBody)
{
	/* Intel's QGS answers errors with an empty body; a VMM must not care about the body then */
	Bytes m(16);
	write_header(m.data(), {1, 1, qgs::kGetQuoteResp, 16, qgs::kErrorInvalidParameter});
	const ParsedResponse p = parse_response(m);
	EXPECT_EQ(p.status, ResponseStatus::kQgsError);
	EXPECT_EQ(p.error_code, qgs::kErrorInvalidParameter);
}

TEST(Codec, EmptyQuoteParsesAsOk)
{
	/* the codec reports it; the VMM decides that no quote is an error */
	const ParsedResponse p = parse_response(build_response(qgs::kSuccess, {}, {}));
	EXPECT_EQ(p.status, ResponseStatus::kOk);
	EXPECT_TRUE(p.quote.empty());
}

TEST(Codec, Hex)
{
	const Bytes b{0x00, 0x7f, 0x80, 0xff, 0x1a};
	EXPECT_EQ(to_hex(b), "007f80ff1a");
	EXPECT_EQ(from_hex("007F80fF1a"), b);
	EXPECT_EQ(from_hex(""), Bytes{});
	EXPECT_FALSE(from_hex("0"));
	EXPECT_FALSE(from_hex("0g"));
	EXPECT_FALSE(from_hex("0x00"));
	EXPECT_FALSE(from_hex("00 "));
	EXPECT_FALSE(from_hex("@0"));
	const Bytes r = make_report(3);
	EXPECT_EQ(from_hex(to_hex(r)), r);
}

TEST(Codec, ErrorCodeNames)
{
	EXPECT_STREQ(error_code_name(qgs::kErrorInvalidSize), "invalid-size");
	EXPECT_STREQ(error_code_name(0x999), "unknown");
}

} // namespace
} // namespace quote_service
