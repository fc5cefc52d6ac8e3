/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The quoting extension's host ABI (ABI.md §8): TDH.QUOTE.GET's registers and the HPA linked list
 * describing the quote buffer.
 *
 * The list: each node is a 4 KiB page of 512 u64; entries 0..510 are data page addresses in buffer
 * order, entry 511 the address of the next node; an entry of ~0 ends the list (the host pre-fills
 * the last node with ~0 before writing its data pages).
 */
#pragma once

#include "status.h"
#include "types.h"

namespace tdx::abi {

inline constexpr u32 kQuoteListEntries = u32(kPageSize / sizeof(u64)); /* 512 per node */
inline constexpr u32 kQuoteListDataPerNode = kQuoteListEntries - 1;   /* 511 data pages */
inline constexpr u32 kQuoteListNextEntry = kQuoteListEntries - 1;     /* entry 511 */
inline constexpr u64 kQuoteListEnd = ~0ull;

/* Nodes a buffer of nr data pages needs. */
constexpr u64 quote_list_nr_nodes(u64 nr_data_pages)
{
	return (nr_data_pages + kQuoteListDataPerNode - 1) / kQuoteListDataPerNode;
}
static_assert(kQuoteListDataPerNode == 511);
static_assert(quote_list_nr_nodes(1) == 1 && quote_list_nr_nodes(511) == 1 && quote_list_nr_nodes(512) == 2);

/*
 * TDH.QUOTE.GET: rcx the requesting TD's TDR PA; rdx bits 47:32 the quote id (all ones: the default
 * format, the DICE quote of docs/quote-format.md), other rdx bits zero; r8 PA of the input (the
 * TDREPORT, copied by the host into the buffer's first data page); r9 the input length (at most
 * one page); r10 the PA of the list's head node; r11 the buffer's total length in bytes
 * (data pages × 4096). Out: rcx the quote's length. Loop on TDX_INTERRUPTED_RESUMABLE with the
 * same registers.
 */
inline constexpr unsigned kQuoteIdShift = 32;
inline constexpr u64 kQuoteIdMask = 0xFFFF;
inline constexpr u64 kQuoteIdDefault = 0xFFFF;
inline constexpr u64 kQuoteGetRdxReservedMask = ~(kQuoteIdMask << kQuoteIdShift);
constexpr u64 quote_get_rdx(u64 quote_id) { return (quote_id & kQuoteIdMask) << kQuoteIdShift; }
static_assert(quote_get_rdx(kQuoteIdDefault) == 0x0000FFFF00000000ull);
static_assert((quote_get_rdx(kQuoteIdDefault) & kQuoteGetRdxReservedMask) == 0);

/* Operand id of r10, QUOTE.GET's list head (status.h names the others). */
inline constexpr u64 kOperandIdR10 = 10;
static_assert(kOperandIdR10 == kOperandIdR9 + 1 && kOperandIdR11 == kOperandIdR10 + 1);

/*
 * Project-defined, no public record (seam-emu README, "Quoting"): the quoting extension failed
 * inside (the DICE chain or the quote could not be made, or the quote would exceed
 * MAX_QUOTE_SIZE). Error and non-recoverable; class 0xFE, which the TDX module does not use.
 * Retrying does not help: the host reports the failure.
 */
inline constexpr u64 kQuoteInternalError = 0xC000FE0000000000ull;
static_assert((kQuoteInternalError & kStatusErrorBit) && (kQuoteInternalError & kStatusNonRecoverableBit));
static_assert(status_class(kQuoteInternalError) == 0xFE);

} // namespace tdx::abi
