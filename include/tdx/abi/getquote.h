/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDG.VP.VMCALL<GetQuote> and <SetupEventNotifyInterrupt> as a TD guest issues them (GHCI; ABI.md
 * §9): sub-function numbers, TDVMCALL statuses, the shared buffer's header, and the wire format
 * of the quote generation service (QGS) that a VMM forwards userspace-path requests to.
 * Shared by the kernel's kvm-tdx core, the emulator and the tools; the C UAPI of the userspace
 * path (include/uapi/linux/kvm_tdx_quote.h) is checked against it below.
 */
#pragma once

#include "types.h"

namespace tdx::abi::getquote {

/* ---- TDG.VP.VMCALL: r11 = sub-function, answered in r10 ---- */
inline constexpr u64 kTdvmcallGetQuote = 0x10002;
inline constexpr u64 kTdvmcallSetupEventNotifyInterrupt = 0x10004;

inline constexpr u64 kVmcallSuccess = 0;
inline constexpr u64 kVmcallRetry = 1;
inline constexpr u64 kVmcallInvalidOperand = 0x8000000000000000ull;
inline constexpr u64 kVmcallAlignError = 0x8000000000000002ull;
inline constexpr u64 kVmcallSubfuncUnsupported = 0x8000000000000003ull;

/* SetupEventNotifyInterrupt's vector (r12) must be a normal external-interrupt vector. */
inline constexpr u64 kNotifyVectorMin = 32;
inline constexpr u64 kNotifyVectorMax = 255;

/* ---- the shared buffer: a 24-byte header, then data (TDREPORT in, quote out) ---- */
inline constexpr u32 kHeaderSize = 24;
inline constexpr u32 kVersion = 1;
inline constexpr u32 kOffVersion = 0; /* u64 */
inline constexpr u32 kOffStatus = 8;  /* u64 */
inline constexpr u32 kOffInLen = 16;  /* u32 */
inline constexpr u32 kOffOutLen = 20; /* u32 */
inline constexpr u32 kOffData = 24;
static_assert(kOffOutLen + 4 == kHeaderSize && kOffData == kHeaderSize);
/* in_len + header must fit the first page (the in-kernel path reads only that page's request). */
inline constexpr u32 kMaxInRegion = 4096;

struct Header {
	u64 version;
	u64 status;
	u32 in_len;
	u32 out_len;
};
static_assert(sizeof(Header) == kHeaderSize);
static_assert(__builtin_offsetof(Header, status) == kOffStatus);
static_assert(__builtin_offsetof(Header, in_len) == kOffInLen);
static_assert(__builtin_offsetof(Header, out_len) == kOffOutLen);
/* include/uapi/linux/kvm_tdx_quote.h restates Header (struct kvm_tdx_quote_header) and the
 * statuses for C; tools/tdx-quote-service checks the two agree. */

inline constexpr u64 kStatusSuccess = 0;
inline constexpr u64 kStatusInFlight = 0xFFFFFFFFFFFFFFFFull;
inline constexpr u64 kStatusError = 0x8000000000000000ull;
inline constexpr u64 kStatusServiceUnavailable = 0x8000000000000001ull;

/* ---- KVM_EXIT_TDX (mainline KVM 6.16+): the exit a userspace VMM sees ---- */
inline constexpr u32 kKvmExitTdx = 40;

/* ---- QGS wire format: a 4-byte big-endian length, then the message (little-endian fields) ---- */
namespace qgs {
inline constexpr u32 kLengthPrefix = 4;
inline constexpr u16 kMajor = 1;
inline constexpr u16 kMinor = 1;
inline constexpr u32 kGetQuoteReq = 0;
inline constexpr u32 kGetQuoteResp = 1;
/* Header: u16 major, u16 minor, u32 type, u32 size (the whole message), u32 error_code. */
inline constexpr u32 kHeaderSize = 16;
inline constexpr u32 kOffMajor = 0;
inline constexpr u32 kOffMinor = 2;
inline constexpr u32 kOffType = 4;
inline constexpr u32 kOffSize = 8;
inline constexpr u32 kOffErrorCode = 12;
/* Request body: u32 report_size, u32 id_list_size, report[report_size], id_list[id_list_size]. */
inline constexpr u32 kReqOffReportSize = kHeaderSize;
inline constexpr u32 kReqOffIdListSize = kHeaderSize + 4;
inline constexpr u32 kReqOffReport = kHeaderSize + 8;
/* Response body: u32 selected_id_size, u32 quote_size, selected_id, quote. */
inline constexpr u32 kRespOffSelectedIdSize = kHeaderSize;
inline constexpr u32 kRespOffQuoteSize = kHeaderSize + 4;
inline constexpr u32 kRespOffData = kHeaderSize + 8;
/* error_code (Intel's qgs_msg_error_t numbers): 0 success; the VMM turns any other into status ERROR. */
inline constexpr u32 kSuccess = 0;
inline constexpr u32 kErrorUnexpected = 0x12001; /* also: the signer refused the TDREPORT */
inline constexpr u32 kErrorOutOfMemory = 0x12002;
inline constexpr u32 kErrorInvalidParameter = 0x12003;
inline constexpr u32 kErrorInvalidVersion = 0x12004;
inline constexpr u32 kErrorInvalidType = 0x12005;
inline constexpr u32 kErrorInvalidSize = 0x12006;
inline constexpr u32 kErrorInvalidCode = 0x12007;
} // namespace qgs

} // namespace tdx::abi::getquote
