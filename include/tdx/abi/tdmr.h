/* SPDX-License-Identifier: GPL-2.0 */
/* TDMR_INFO and the TDMR-PA array handed to TDH.SYS.CONFIG. */
#pragma once

#include "types.h"

namespace tdx::abi {

/* TDMRs are 1 GiB aligned and sized. */
inline constexpr u64 kTdmrAlignment = 1ull << 30;
/* Each TDMR_INFO and the array of their physical addresses are 512-byte aligned. */
inline constexpr u64 kTdmrInfoAlignment = 512;
inline constexpr u64 kTdmrPaArrayAlignment = 512;
/* Reserved areas and PAMTs are 4 KiB granular. */
inline constexpr u64 kTdmrRsvdGranularity = 4096;

/* Page sizes a PAMT level describes. */
enum class PageLevel : u8 { k4K = 0, k2M = 1, k1G = 2 };
inline constexpr unsigned kNumPageLevels = 3;
constexpr u64 page_level_shift(PageLevel l) { return 12 + 9 * unsigned(l); }

struct TdmrReservedArea {
	u64 offset; /* from the TDMR base */
	u64 size;   /* 0 ends the list */
} __attribute__((packed));
static_assert(sizeof(TdmrReservedArea) == 16);

struct TdmrInfo {
	u64 base;
	u64 size;
	u64 pamt_1g_base;
	u64 pamt_1g_size;
	u64 pamt_2m_base;
	u64 pamt_2m_size;
	u64 pamt_4k_base;
	u64 pamt_4k_size;
	TdmrReservedArea reserved_areas[]; /* MAX_RESERVED_PER_TDMR entries */
} __attribute__((packed));
static_assert(sizeof(TdmrInfo) == 64);
static_assert(__builtin_offsetof(TdmrInfo, pamt_1g_base) == 16);
static_assert(__builtin_offsetof(TdmrInfo, pamt_2m_base) == 32);
static_assert(__builtin_offsetof(TdmrInfo, pamt_4k_base) == 48);
static_assert(__builtin_offsetof(TdmrInfo, reserved_areas) == 64);

/* Bytes one TDMR_INFO occupies in memory given MAX_RESERVED_PER_TDMR, rounded to its alignment. */
constexpr u64 tdmr_info_stride(u64 max_reserved)
{
	u64 raw = sizeof(TdmrInfo) + max_reserved * sizeof(TdmrReservedArea);
	return (raw + kTdmrInfoAlignment - 1) & ~(kTdmrInfoAlignment - 1);
}
static_assert(tdmr_info_stride(16) == 512);
static_assert(tdmr_info_stride(28) == 512);
static_assert(tdmr_info_stride(29) == 1024);

} // namespace tdx::abi
