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
inline constexpr usize kMaxTdmrs = 64;
inline constexpr usize kMaxReservedAreas = 64;
/*
 * Each TDMR spans at most 1 GiB so that its 4K PAMT (TDMR size / 4096 x entry size: 4 MiB at 16
 * bytes an entry) is one buddy allocation; the TDMR count limit (MAX_TDMRS) bounds the memory.
 */
inline constexpr u64 kMaxTdmrSpan = abi::kTdmrAlignment;

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
 * Covers the memory list with 1 GiB aligned TDMRs of at most kMaxTdmrSpan each, in ascending
 * order, and sizes their PAMTs. Returns the TDMR count; -ENOSPC over max_tdmrs.
 */
Result<usize> plan_tdmrs(const MemList &list, const TdxSysInfo &info, Span<TdmrDesc> out);

/*
 * Fills tdmr.rsvd: the parts of the TDMR not in the memory list, and every PAMT of every TDMR that
 * overlaps it, sorted and merged. -E2BIG over max_reserved.
 */
Status fill_reserved_areas(TdmrDesc &tdmr, const MemList &list, Span<const TdmrDesc> all,
			   u16 max_reserved);

/* Serializes one TDMR into its TDMR_INFO (the caller zeroed max_reserved entries). */
void write_tdmr_info(const TdmrDesc &tdmr, abi::TdmrInfo *info);

} // namespace tdx
