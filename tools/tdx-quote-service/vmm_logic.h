// SPDX-License-Identifier: GPL-2.0
// tdx-quote-vmm's decisions, apart from its I/O: what to do with an exit and its buffer's header
// (as QEMU checks them), and which header status, out_len and quote a QGS exchange ends in.
// README.md has the same as a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <tdx/abi/getquote.h>
#include <uapi/linux/kvm_tdx_quote.h>

#include "qgs_codec.h"

/* The C UAPI restates the GHCI numbers and the buffer header: both copies must agree. */
static_assert(sizeof(kvm_tdx_quote_header) == tdx::abi::getquote::kHeaderSize);
static_assert(offsetof(kvm_tdx_quote_header, status) == tdx::abi::getquote::kOffStatus);
static_assert(offsetof(kvm_tdx_quote_header, in_len) == tdx::abi::getquote::kOffInLen);
static_assert(offsetof(kvm_tdx_quote_header, out_len) == tdx::abi::getquote::kOffOutLen);
static_assert(KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE == tdx::abi::getquote::kTdvmcallGetQuote);
static_assert(KVM_TDX_QUOTE_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT ==
	      tdx::abi::getquote::kTdvmcallSetupEventNotifyInterrupt);
static_assert(KVM_TDX_QUOTE_TDVMCALL_SUCCESS == tdx::abi::getquote::kVmcallSuccess);
static_assert(KVM_TDX_QUOTE_TDVMCALL_RETRY == tdx::abi::getquote::kVmcallRetry);
static_assert(KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND == tdx::abi::getquote::kVmcallInvalidOperand);
static_assert(KVM_TDX_QUOTE_TDVMCALL_ALIGN_ERROR == tdx::abi::getquote::kVmcallAlignError);
static_assert(KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED == tdx::abi::getquote::kVmcallSubfuncUnsupported);
static_assert(KVM_TDX_QUOTE_STATUS_SUCCESS == tdx::abi::getquote::kStatusSuccess);
static_assert(KVM_TDX_QUOTE_STATUS_IN_FLIGHT == tdx::abi::getquote::kStatusInFlight);
static_assert(KVM_TDX_QUOTE_STATUS_ERROR == tdx::abi::getquote::kStatusError);
static_assert(KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE == tdx::abi::getquote::kStatusServiceUnavailable);
static_assert(KVM_TDX_QUOTE_EXIT_TDX == tdx::abi::getquote::kKvmExitTdx);

namespace quote_service {

namespace gq = tdx::abi::getquote;

/* The buffer's 24-byte header from its bytes (little-endian). */
gq::Header parse_guest_header(const std::uint8_t (&bytes)[gq::kHeaderSize]);

/* What the VMM does with an exit before the vCPU resumes. */
struct ExitDecision {
	enum class Kind {
		kUnsupported, /* not GetQuote: RESUME with the exit's preset ret, nothing written */
		kReadHeader,  /* (decide_exit only) a GetQuote exit: read the header, then decide_header */
		kUnreadable,  /* no header to write to: RESUME INVALID_OPERAND, nothing written */
		kBadHeader,   /* write out_len 0 and status ERROR, RESUME INVALID_OPERAND; no DONE */
		kForward,     /* read the report, RESUME SUCCESS, ask the QGS; DONE later */
	};
	Kind kind;
	std::uint64_t resume_ret = KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND;
	const char *why = "";
};

/* The exit record alone: exit_reason and nr, a buffer large enough for a header. */
ExitDecision decide_exit(const kvm_tdx_quote_exit &exit);
/* The header (nullopt: reading it failed): version 1, in_len + 24 <= 4096, in_len == 1024 (a
 * TDREPORT), in_len + 24 <= size. */
ExitDecision decide_header(const kvm_tdx_quote_exit &exit, const std::optional<gq::Header> &header);

/* How the exchange with the QGS ended. */
struct QgsOutcome {
	enum class Kind {
		kConnectFailed, /* no QGS listening (or its backlog stayed full until the deadline) */
		kClosed,        /* send failed, or EOF before a whole response */
		kTimeout,       /* no whole response before --qgs-timeout-ms */
		kTooLarge,      /* the length prefix is over kMaxResponse */
		kResponse,      /* one whole message (without the prefix) */
	};
	QgsOutcome(Kind k, Bytes m = {}, bool t = false) : kind(k), message(std::move(m)), trailing(t) {}

	Kind kind;
	Bytes message;
	/* More bytes came after the message: something the VMM did not ask for. */
	bool trailing;
};

/* What goes into the header: the quote at data (status SUCCESS only), then out_len, then status. */
struct Completion {
	std::uint64_t status;
	std::uint32_t out_len = 0;
	BytesView quote; /* into the outcome's message */
	std::string why;
};
Completion decide_completion(const QgsOutcome &outcome, std::uint64_t buffer_size);

} // namespace quote_service
