/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDMR and PAMT construction, kept free of allocation and SEAMCALLs so it can be tested on a
 * synthetic memory map: which TDMRs cover the TDX-usable memory, how big each PAMT is, and which
 * parts of each TDMR must be reserved (memory holes, and the PAMTs themselves).
 */
#pragma once

#include <kstd/span.h>
#include <tdx/abi/tdmr.h>

#include "metadata.h"

namespace tdx {

/* [start, end) in bytes, page aligned. */
struct MemRange {
	u64 start;
	u64 end;
	constexpr u64 size() const { return end - start; }
};

inline constexpr usize kMaxMemRanges = 128;
/* TDMRs the core can describe (TDX 1.5 modules report MAX_TDMRS = 64). */
inline constexpr usize kMaxTdmrs = 64;
inline constexpr usize kMaxReservedAreas = 64;
/*
 * The largest TDMR a plan may make. Unlimited is what Linux does and what real hosts need (64
 * TDMRs of 1 GiB cover 64 GiB at most); a limit (a multiple of 1 GiB) makes smaller TDMRs, whose
 * PAMTs are smaller allocations (4 MiB per GiB at 16-byte entries, one buddy block at 1 GiB).
 */
inline constexpr u64 kTdmrSpanUnlimited = ~0ull;
inline constexpr u64 kGiB = abi::kTdmrAlignment; /* the TDMR granule */

using MemList = Array<MemRange, kMaxMemRanges>;

struct TdmrDesc {
	u64 base = 0;
	u64 size = 0;
	u64 pamt_base[abi::kNumPageLevels] = {};
	u64 pamt_size[abi::kNumPageLevels] = {};
	Array<abi::TdmrReservedArea, kMaxReservedAreas> rsvd;
	constexpr u64 end() const { return base + size; }
};

/* Adds a RAM range, page-aligning it inwards and merging with the previous one when adjacent. */
Status memlist_add(MemList &list, u64 start, u64 end);

/* Every byte of the list lies in some CMR. */
Status memlist_check_cmrs(const MemList &list, Span<const Cmr> cmrs);

/* Bytes of the PAMT for one page level of a TDMR of tdmr_size bytes (4 KiB granular). */
u64 pamt_level_bytes(u64 tdmr_size, abi::PageLevel level, u16 entry_size);

/*
 * The TDMRs that cover a memory list, in ascending order: each range widened to 1 GiB boundaries;
 * ranges whose widened spans overlap or touch share one TDMR (what lies between them becomes a
 * reserved area: it costs no PAMT and saves a TDMR); and each such TDMR cut into pieces of at most
 * max_span bytes (kTdmrSpanUnlimited, or a multiple of 1 GiB).
 */
usize count_tdmrs(const MemList &list, u64 max_span = kTdmrSpanUnlimited);
/* The size of the largest of those TDMRs (0 for an empty list). */
u64 largest_tdmr(const MemList &list, u64 max_span = kTdmrSpanUnlimited);

/*
 * Fills out with those TDMRs and sizes their PAMTs (bases left 0). Returns the TDMR count;
 * -ENOSPC, logged as "memory needs N TDMRs, the TDX module supports M", when they are more than
 * the module's MAX_TDMRS or than out holds.
 */
Result<usize> plan_tdmrs(const MemList &list, const TdxSysInfo &info, Span<TdmrDesc> out,
			 u64 max_span = kTdmrSpanUnlimited);

/*
 * Fills tdmr.rsvd: the parts of the TDMR not in the memory list, and every PAMT of every TDMR that
 * overlaps it, sorted and merged. -E2BIG (logged as a warning: the caller may try another layout)
 * over max_reserved.
 */
Status fill_reserved_areas(TdmrDesc &tdmr, const MemList &list, Span<const TdmrDesc> all,
			   u16 max_reserved);

/* Serializes one TDMR into its TDMR_INFO (the caller zeroed max_reserved entries). */
void write_tdmr_info(const TdmrDesc &tdmr, abi::TdmrInfo *info);

} // namespace tdx
