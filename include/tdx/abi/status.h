/* SPDX-License-Identifier: GPL-2.0 */
/* TDX module and P-SEAMLDR completion statuses (ABI.md §2). */
#pragma once

#include "types.h"

namespace tdx::abi {

/* Bit layout of a completion status. */
inline constexpr u64 kStatusErrorBit = 1ull << 63;
inline constexpr u64 kStatusNonRecoverableBit = 1ull << 62;
inline constexpr u64 kStatusFatalBit = 1ull << 61;
inline constexpr u64 kStatusHostRecoverableBit = 1ull << 60;
inline constexpr unsigned kStatusClassShift = 40;
inline constexpr unsigned kStatusDetailsShift = 32;
inline constexpr u64 kStatusCodeMask = 0xFFFFFFFF00000000ull; /* what identifies a status */
inline constexpr u64 kStatusOperandMask = 0x00000000FFFFFFFFull;

/* Software-defined statuses (class 0xFF): produced by the caller's SEAMCALL path, never by the module. */
inline constexpr u64 kStatusSwErrorClass = 0xFF;
inline constexpr u64 kTdxSwError = 0x8000FF0000000000ull;
inline constexpr u64 kTdxSeamcallVmFailInvalid = 0x8000FF00FFFF0000ull;
inline constexpr u64 kTdxSeamcallGp = 0x8000FF000000000Dull;
inline constexpr u64 kTdxSeamcallUd = 0x8000FF0000000006ull;
static_assert(kTdxSeamcallGp == (kTdxSwError | 13));
static_assert(kTdxSeamcallUd == (kTdxSwError | 6));

namespace status {
inline constexpr u64 kSuccess = 0;
inline constexpr u64 kInterruptedResumable = 0x8000000300000000ull;
inline constexpr u64 kInterruptedRestartable = 0x8000000400000000ull;
inline constexpr u64 kOperandInvalid = 0xC000010000000000ull;
inline constexpr u64 kOperandAddrRangeError = 0xC000010100000000ull;
inline constexpr u64 kOperandBusy = 0x8000020000000000ull;
inline constexpr u64 kSysBusy = 0x8000020200000000ull;
inline constexpr u64 kRndNoEntropy = 0x8000020300000000ull;
inline constexpr u64 kSysInitNotPending = 0xC000050000000000ull;
inline constexpr u64 kSysLpInitNotDone = 0xC000050200000000ull;
inline constexpr u64 kSysLpInitDone = 0xC000050300000000ull;
inline constexpr u64 kSysNotReady = 0xC000050500000000ull;
inline constexpr u64 kSysShutdown = 0xC000050600000000ull;
inline constexpr u64 kSysKeyConfigNotPending = 0xC000050700000000ull;
inline constexpr u64 kSysStateIncorrect = 0xC000050800000000ull;
inline constexpr u64 kSysInvalidHandoff = 0xC000050900000000ull;
inline constexpr u64 kSysIncompatibleSigstruct = 0xC000050A00000000ull;
inline constexpr u64 kSysConfigNotPending = 0xC000050C00000000ull;
inline constexpr u64 kUpdateCompatSensitive = 0x8000051200000000ull;
inline constexpr u64 kKeyConfigured = 0x0000081500000000ull;
inline constexpr u64 kTdmrAlreadyInitialized = 0x00000A0300000000ull;
inline constexpr u64 kInvalidTdmr = 0xC0000A0000000000ull;
inline constexpr u64 kMetadataFieldIdIncorrect = 0xC0000C0000000000ull;
/* Added for seam-emu, values from the TDX module 1.5 source (tdx_error_codes_defs.h). */
inline constexpr u64 kSysLpInitNotPending = 0xC000050B00000000ull; /* LP.INIT outside SYSINIT_DONE */
inline constexpr u64 kNonOrderedTdmr = 0xC0000A0100000000ull;
inline constexpr u64 kTdmrOutsideCmrs = 0xC0000A0200000000ull;
inline constexpr u64 kInvalidPamt = 0xC0000A1000000000ull;
inline constexpr u64 kPamtOutsideCmrs = 0xC0000A1100000000ull;
inline constexpr u64 kPamtOverlap = 0xC0000A1200000000ull;
inline constexpr u64 kInvalidReservedInTdmr = 0xC0000A2000000000ull;
inline constexpr u64 kNonOrderedReservedInTdmr = 0xC0000A2100000000ull;
inline constexpr u64 kMetadataListOverflow = 0xC0000C0400000000ull;
inline constexpr u64 kMetadataFirstFieldIdInContext = 0x00000C0B00000000ull; /* not an error */
inline constexpr u64 kNoHkidReadyToWbcache = 0x0000082100000000ull; /* CACHE.WB: nothing to flush; not an error */
inline constexpr u64 kWbcacheResumeError = 0xC000082300000000ull;   /* CACHE.WB resume without a session */
/* The TD lifecycle leaves (MNG.*, MR.*, PHYMEM.PAGE.RECLAIM); same source, tdx_1.5 branch. */
inline constexpr u64 kPageMetadataIncorrect = 0xC000030000000000ull;  /* a page of the wrong kind (PAMT type) */
inline constexpr u64 kTdAssociatedPagesExist = 0xC000040000000000ull; /* TDR reclaim while TDCS pages remain */
inline constexpr u64 kTdcsNotAllocated = 0xC000060600000000ull;      /* fewer TDCS pages than the TD needs */
inline constexpr u64 kLifecycleStateIncorrect = 0xC000060700000000ull;
inline constexpr u64 kOpStateIncorrect = 0xC000060800000000ull;      /* operand: the TD's OP_STATE */
inline constexpr u64 kTdcxNumIncorrect = 0xC000061000000000ull;      /* one TDCS page too many */
inline constexpr u64 kTdKeysNotConfigured = 0x8000081000000000ull;   /* the TD's key is not on every package */
inline constexpr u64 kHkidNotFree = 0xC000082000000000ull;           /* HKID taken (a TD's or the global one) */
} // namespace status

/* Class of a status (bits 47:40); the TDMR/PAMT errors of TDH.SYS.CONFIG all share class 0x0A. */
constexpr u64 status_class(u64 status) { return (status >> kStatusClassShift) & 0xFF; }
static_assert(status_class(status::kInvalidTdmr) == 0x0A && status_class(status::kPamtOverlap) == 0x0A);
static_assert(status_class(status::kSysLpInitNotPending) == status_class(status::kSysInitNotPending));
static_assert((status::kMetadataFirstFieldIdInContext & kStatusErrorBit) == 0);

/* P-SEAMLDR statuses: full 64-bit values. */
namespace seamldr_status {
inline constexpr u64 kEBadParam = 0x8000000000000000ull;
inline constexpr u64 kEBadCall = 0x8000000000000003ull;
inline constexpr u64 kEBadHandoff = 0x8000000000000004ull;
inline constexpr u64 kENoMem = 0x8000000000010002ull;
inline constexpr u64 kEUnspecErr = 0x8000000000010003ull;
inline constexpr u64 kEUnsupCpu = 0x8000000000010004ull;
inline constexpr u64 kEBadSig = 0x8000000000020000ull;
inline constexpr u64 kEBadHash = 0x8000000000020001ull;
inline constexpr u64 kEInterrupt = 0x8000000000030000ull;
inline constexpr u64 kENoEntropy = 0x8000000000030001ull;
} // namespace seamldr_status

/* How many times a caller retries TDX_RND_NO_ENTROPY (as Linux does). */
inline constexpr unsigned kRndNoEntropyRetries = 10;

/* Operand id the module reports for RAX in TDX_OPERAND_INVALID. */
inline constexpr u64 kOperandIdRax = 0;
/* Operand ids of the other registers (x86 register numbers, as the TDX module reports them). */
inline constexpr u64 kOperandIdRcx = 1;
inline constexpr u64 kOperandIdRdx = 2;
inline constexpr u64 kOperandIdR8 = 8;
inline constexpr u64 kOperandIdR9 = 9;
static_assert(kOperandIdR9 == kOperandIdR8 + 1);
inline constexpr u64 kOperandIdR11 = 11; /* SYS.CONFIG v1's untrusted time, which must be 0 */
static_assert(kOperandIdR11 == kOperandIdR9 + 2);
/* Operand ids of the module's internal objects (tdx_error_codes_defs.h, TDX module 1.5). */
inline constexpr u64 kOperandIdKot = 186;     /* the key ownership table */
inline constexpr u64 kOperandIdMaxVcpus = 68; /* TD_PARAMS.MAX_VCPUS (TDH.MNG.INIT) */
inline constexpr u64 kOperandIdTdr = 128;     /* the owner TDR of a page (TDH.PHYMEM.PAGE.RECLAIM) */
inline constexpr u64 kOperandIdWbcache = 188; /* a package's CACHE.WB state */

} // namespace tdx::abi
