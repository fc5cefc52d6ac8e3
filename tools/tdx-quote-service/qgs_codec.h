// SPDX-License-Identifier: GPL-2.0
// The QGS wire format (ABI.md §9, include/tdx/abi/getquote.h namespace qgs): framing with the
// 4-byte big-endian length prefix, GET_QUOTE_REQ / GET_QUOTE_RESP built and parsed with every
// bound checked, and hex for the emulator's line protocol. Shared by tdx-qgs and tdx-quote-vmm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tdx/abi/getquote.h>

namespace quote_service {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;
namespace qgs = tdx::abi::getquote::qgs;

/* A TDREPORT: the only report a GET_QUOTE_REQ may carry here. */
inline constexpr std::uint32_t kTdReportSize = 1024;
/* Bodies' fixed parts (two u32 sizes) after the 16-byte header. */
inline constexpr std::uint32_t kBodyFixed = 8;
/* Largest message (after the prefix) either side accepts: a request is 16 + 8 + 1024 + id list,
 * a response 16 + 8 + selected id + quote (a quote is a few KiB; the TD's buffer at most 1 MiB
 * per KVM_TDX_QUOTE_MEM call). A larger prefix loses the framing: the reader gives up. */
inline constexpr std::uint32_t kMaxRequest = 64 * 1024;
inline constexpr std::uint32_t kMaxResponse = 4 * 1024 * 1024;

/* Little-endian and big-endian loads and stores on byte buffers (no alignment assumed). */
std::uint16_t load_le16(const std::uint8_t *p);
std::uint32_t load_le32(const std::uint8_t *p);
std::uint64_t load_le64(const std::uint8_t *p);
void store_le32(std::uint8_t *p, std::uint32_t v);
void store_le64(std::uint8_t *p, std::uint64_t v);
std::uint32_t load_be32(const std::uint8_t *p);

/* ---- framing ---- */

/* The message with its length prefix in front. */
Bytes frame(BytesView message);

enum class FrameStatus {
	kNeedMore, /* the prefix or the message is not complete yet */
	kComplete, /* *message_len bytes of message follow the prefix */
	kTooLarge, /* the prefix names more than the limit: the stream cannot be followed */
};
struct FrameInfo {
	FrameStatus status;
	std::uint32_t message_len = 0; /* the prefix's value once it is complete */
};
/* Looks at the start of a stream buffer: is one whole framed message there? */
FrameInfo peek_frame(BytesView stream, std::uint32_t limit);

/* ---- messages (without the prefix) ---- */

struct Header {
	std::uint16_t major;
	std::uint16_t minor;
	std::uint32_t type;
	std::uint32_t size;
	std::uint32_t error_code;
};
Header read_header(const std::uint8_t *p);
void write_header(std::uint8_t *p, const Header &h);

Bytes build_request(BytesView report, BytesView id_list);
/* error_code != kSuccess: selected_id and quote are normally empty (Intel's QGS sends them so). */
Bytes build_response(std::uint32_t error_code, BytesView selected_id, BytesView quote);

/* A request as the QGS checks it: error_code is what to answer (kSuccess: report is valid). */
struct ParsedRequest {
	std::uint32_t error_code = qgs::kSuccess;
	const char *why = "";
	BytesView report;
	BytesView id_list;
};
/* In this order: header complete (InvalidSize), major (InvalidVersion), type (InvalidType),
 * size field == message length and the body's sizes add up to it (InvalidSize), report_size ==
 * 1024 (InvalidParameter). The minor version and the request's error_code are not checked. */
ParsedRequest parse_request(BytesView message);

/* A response as the VMM checks it. */
enum class ResponseStatus {
	kOk,        /* error_code 0, body consistent: quote (and selected_id) valid */
	kMalformed, /* header short, major wrong, size field or body sizes disagree with the length */
	kWrongType, /* not GET_QUOTE_RESP */
	kQgsError,  /* error_code != 0 (the body is then not looked at) */
};
struct ParsedResponse {
	ResponseStatus status = ResponseStatus::kMalformed;
	const char *why = "";
	std::uint32_t error_code = 0;
	BytesView selected_id;
	BytesView quote;
};
ParsedResponse parse_response(BytesView message);

const char *error_code_name(std::uint32_t code);

/* ---- hex (the emulator's `qe sign` line and its reply) ---- */
std::string to_hex(BytesView b);
/* Exactly an even number of hex digits, nothing else. */
std::optional<Bytes> from_hex(std::string_view s);

} // namespace quote_service
