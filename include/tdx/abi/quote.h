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

} // namespace tdx::abi
