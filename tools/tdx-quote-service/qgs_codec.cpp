// SPDX-License-Identifier: GPL-2.0
#include "qgs_codec.h"

namespace quote_service {

std::uint16_t load_le16(const std::uint8_t *p)
{
	return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

std::uint32_t load_le32(const std::uint8_t *p)
{
	return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
	       std::uint32_t{p[3]} << 24;
}

std::uint64_t load_le64(const std::uint8_t *p)
{
	return std::uint64_t{load_le32(p)} | std::uint64_t{load_le32(p + 4)} << 32;
}

void store_le32(std::uint8_t *p, std::uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void store_le64(std::uint8_t *p, std::uint64_t v)
{
	store_le32(p, static_cast<std::uint32_t>(v));
	store_le32(p + 4, static_cast<std::uint32_t>(v >> 32));
}

std::uint32_t load_be32(const std::uint8_t *p)
{
	return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 |
	       std::uint32_t{p[3]};
}

Bytes frame(BytesView message)
{
	const auto n = static_cast<std::uint32_t>(message.size());
	Bytes out{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
		  static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
	out.insert(out.end(), message.begin(), message.end());
	return out;
}

FrameInfo peek_frame(BytesView stream, std::uint32_t limit)
{
	if (stream.size() < qgs::kLengthPrefix)
		return {FrameStatus::kNeedMore};
	const std::uint32_t len = load_be32(stream.data());
	if (len > limit)
		return {FrameStatus::kTooLarge, len};
	if (stream.size() - qgs::kLengthPrefix < len)
		return {FrameStatus::kNeedMore, len};
	return {FrameStatus::kComplete, len};
}

Header read_header(const std::uint8_t *p)
{
	return {load_le16(p + qgs::kOffMajor), load_le16(p + qgs::kOffMinor), load_le32(p + qgs::kOffType),
		load_le32(p + qgs::kOffSize), load_le32(p + qgs::kOffErrorCode)};
}

void write_header(std::uint8_t *p, const Header &h)
{
	p[qgs::kOffMajor] = static_cast<std::uint8_t>(h.major);
	p[qgs::kOffMajor + 1] = static_cast<std::uint8_t>(h.major >> 8);
	p[qgs::kOffMinor] = static_cast<std::uint8_t>(h.minor);
	p[qgs::kOffMinor + 1] = static_cast<std::uint8_t>(h.minor >> 8);
	store_le32(p + qgs::kOffType, h.type);
	store_le32(p + qgs::kOffSize, h.size);
	store_le32(p + qgs::kOffErrorCode, h.error_code);
}

/* Header, two u32 sizes, then the two parts: the layout both message types share. */
static Bytes build_message(std::uint32_t type, std::uint32_t error_code, BytesView first, BytesView second)
{
	Bytes m(qgs::kHeaderSize + kBodyFixed);
	const auto size = static_cast<std::uint32_t>(m.size() + first.size() + second.size());
	write_header(m.data(), {qgs::kMajor, qgs::kMinor, type, size, error_code});
	store_le32(m.data() + qgs::kHeaderSize, static_cast<std::uint32_t>(first.size()));
	store_le32(m.data() + qgs::kHeaderSize + 4, static_cast<std::uint32_t>(second.size()));
	m.insert(m.end(), first.begin(), first.end());
	m.insert(m.end(), second.begin(), second.end());
	return m;
}

Bytes build_request(BytesView report, BytesView id_list)
{
	return build_message(qgs::kGetQuoteReq, qgs::kSuccess, report, id_list);
}

Bytes build_response(std::uint32_t error_code, BytesView selected_id, BytesView quote)
{
	return build_message(qgs::kGetQuoteResp, error_code, selected_id, quote);
}

/* The body after the header: two u32 sizes whose parts fill the message exactly. */
struct Body {
	bool ok = false;
	BytesView first, second;
};
static Body split_body(BytesView m)
{
	if (m.size() < qgs::kHeaderSize + kBodyFixed)
		return {};
	const std::uint64_t a = load_le32(m.data() + qgs::kHeaderSize);
	const std::uint64_t b = load_le32(m.data() + qgs::kHeaderSize + 4);
	if (qgs::kHeaderSize + kBodyFixed + a + b != m.size())
		return {};
	const std::size_t off = qgs::kHeaderSize + kBodyFixed;
	return {true, m.subspan(off, a), m.subspan(off + a, b)};
}

ParsedRequest parse_request(BytesView m)
{
	auto fail = [](std::uint32_t code, const char *why) {
		ParsedRequest r;
		r.error_code = code;
		r.why = why;
		return r;
	};
	if (m.size() < qgs::kHeaderSize)
		return fail(qgs::kErrorInvalidSize, "shorter than the header");
	const Header h = read_header(m.data());
	if (h.major != qgs::kMajor)
		return fail(qgs::kErrorInvalidVersion, "major version is not 1");
	if (h.type != qgs::kGetQuoteReq)
		return fail(qgs::kErrorInvalidType, "not GET_QUOTE_REQ");
	if (h.size != m.size())
		return fail(qgs::kErrorInvalidSize, "size field differs from the message length");
	const Body body = split_body(m);
	if (!body.ok)
		return fail(qgs::kErrorInvalidSize, "report_size and id_list_size do not fill the message");
	if (body.first.size() != kTdReportSize)
		return fail(qgs::kErrorInvalidParameter, "report_size is not 1024 (a TDREPORT)");
	ParsedRequest r;
	r.report = body.first;
	r.id_list = body.second;
	return r;
}

ParsedResponse parse_response(BytesView m)
{
	ParsedResponse r;
	if (m.size() < qgs::kHeaderSize) {
		r.why = "shorter than the header";
		return r;
	}
	const Header h = read_header(m.data());
	if (h.major != qgs::kMajor) {
		r.why = "major version is not 1";
		return r;
	}
	if (h.size != m.size()) {
		r.why = "size field differs from the message length";
		return r;
	}
	if (h.type != qgs::kGetQuoteResp) {
		r.status = ResponseStatus::kWrongType;
		r.why = "not GET_QUOTE_RESP";
		return r;
	}
	r.error_code = h.error_code;
	if (h.error_code != qgs::kSuccess) {
		r.status = ResponseStatus::kQgsError;
		r.why = "error_code is not 0";
		return r;
	}
	const Body body = split_body(m);
	if (!body.ok) {
		r.why = "selected_id_size and quote_size do not fill the message";
		return r;
	}
	r.status = ResponseStatus::kOk;
	r.selected_id = body.first;
	r.quote = body.second;
	return r;
}

const char *error_code_name(std::uint32_t code)
{
	switch (code) {
	case qgs::kSuccess: return "success";
	case qgs::kErrorUnexpected: return "unexpected";
	case qgs::kErrorOutOfMemory: return "out-of-memory";
	case qgs::kErrorInvalidParameter: return "invalid-parameter";
	case qgs::kErrorInvalidVersion: return "invalid-version";
	case qgs::kErrorInvalidType: return "invalid-type";
	case qgs::kErrorInvalidSize: return "invalid-size";
	case qgs::kErrorInvalidCode: return "invalid-code";
	default: return "unknown";
	}
}

std::string to_hex(BytesView b)
{
	constexpr std::string_view kDigits = "0123456789abcdef";
	std::string s(b.size() * 2, '0');
	for (std::size_t i = 0; i < b.size(); i++) {
		s[2 * i] = kDigits[b[i] >> 4];
		s[2 * i + 1] = kDigits[b[i] & 0xf];
	}
	return s;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = static_cast<char>(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::optional<Bytes> from_hex(std::string_view s)
{
	if (s.size() % 2)
		return std::nullopt;
	Bytes out(s.size() / 2);
	for (std::size_t i = 0; i < out.size(); i++) {
		const int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return std::nullopt;
		out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
	}
	return out;
}

} // namespace quote_service
