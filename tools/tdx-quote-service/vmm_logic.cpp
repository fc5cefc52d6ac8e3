// SPDX-License-Identifier: GPL-2.0
#include "vmm_logic.h"

namespace quote_service {

gq::Header parse_guest_header(const std::uint8_t (&b)[gq::kHeaderSize])
{
	return {load_le64(b + gq::kOffVersion), load_le64(b + gq::kOffStatus), load_le32(b + gq::kOffInLen),
		load_le32(b + gq::kOffOutLen)};
}

ExitDecision decide_exit(const kvm_tdx_quote_exit &e)
{
	using K = ExitDecision::Kind;
	if (e.exit_reason != KVM_TDX_QUOTE_EXIT_TDX || e.nr != KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE)
		return {K::kUnsupported, e.ret, "not a GetQuote exit"};
	if (e.size < gq::kHeaderSize)
		return {K::kUnreadable, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, "buffer smaller than the header"};
	return {K::kReadHeader, KVM_TDX_QUOTE_TDVMCALL_SUCCESS, ""};
}

ExitDecision decide_header(const kvm_tdx_quote_exit &e, const std::optional<gq::Header> &h)
{
	using K = ExitDecision::Kind;
	if (!h)
		return {K::kUnreadable, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, "header unreadable"};
	auto bad = [](const char *why) {
		return ExitDecision{K::kBadHeader, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, why};
	};
	const std::uint64_t in_end = std::uint64_t{h->in_len} + gq::kHeaderSize;
	if (h->version != gq::kVersion)
		return bad("version is not 1");
	if (in_end > gq::kMaxInRegion)
		return bad("in_len + 24 over 4096");
	if (h->in_len != kTdReportSize)
		return bad("in_len is not 1024 (a TDREPORT)");
	if (in_end > e.size)
		return bad("in_len + 24 over the buffer");
	return {K::kForward, KVM_TDX_QUOTE_TDVMCALL_SUCCESS, ""};
}

Completion decide_completion(const QgsOutcome &o, std::uint64_t buffer_size)
{
	auto error = [](std::string why) { return Completion{KVM_TDX_QUOTE_STATUS_ERROR, 0, {}, std::move(why)}; };
	auto unavailable = [](std::string why) {
		return Completion{KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE, 0, {}, std::move(why)};
	};
	switch (o.kind) {
	case QgsOutcome::Kind::kConnectFailed: return unavailable("QGS not reachable");
	case QgsOutcome::Kind::kClosed: return unavailable("QGS closed the connection before a whole response");
	case QgsOutcome::Kind::kTimeout: return unavailable("no response from the QGS in time");
	case QgsOutcome::Kind::kTooLarge: return error("QGS response length over the limit");
	case QgsOutcome::Kind::kResponse: break;
	}
	if (o.trailing)
		return error("QGS sent more than one message");
	const ParsedResponse r = parse_response(o.message);
	switch (r.status) {
	case ResponseStatus::kMalformed: return error(std::string("malformed QGS response: ") + r.why);
	case ResponseStatus::kWrongType: return error("QGS message is not GET_QUOTE_RESP");
	case ResponseStatus::kQgsError: return error(std::string("QGS error ") + error_code_name(r.error_code));
	case ResponseStatus::kOk: break;
	}
	if (r.quote.empty())
		return error("QGS response without a quote");
	const std::uint64_t needed = std::uint64_t{gq::kHeaderSize} + r.quote.size();
	if (needed > buffer_size)
		return error("quote of " + std::to_string(r.quote.size()) + " bytes does not fit a buffer of " +
			     std::to_string(buffer_size));
	return {KVM_TDX_QUOTE_STATUS_SUCCESS, static_cast<std::uint32_t>(r.quote.size()), r.quote, "quote"};
}

} // namespace quote_service
