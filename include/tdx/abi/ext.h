/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDX module extensions (ABI.md §6, §7): HPA_LIST_INFO, the operand of TDH.EXT.MEM.ADD.
 *
 * HPA_LIST_INFO names a 4 KiB "list page" of up to 512 u64 page addresses and the entries of it
 * still to process: bits 11:3 the first entry, bits 51:12 the list page's PFN, bits 63:55 the last
 * entry (n - 1 for n pages). Bits 2:0 and 54:52 are reserved (zero). Because the list page is 4 KiB
 * aligned, bits 11:0 of the value are the byte offset of the first entry in it. On
 * TDX_INTERRUPTED_RESUMABLE the module returns in rcx the same value with the first entry moved
 * past what it consumed, so the caller re-issues rcx as it came back.
 */
#pragma once

#include "types.h"

namespace tdx::abi {

inline constexpr unsigned kHpaListInfoFirstShift = 3;
inline constexpr u64 kHpaListInfoFirstMask = 0x1FF; /* bits 11:3 */
inline constexpr unsigned kHpaListInfoPfnShift = 12;
inline constexpr u64 kHpaListInfoPfnMask = (1ull << 40) - 1; /* bits 51:12 */
inline constexpr unsigned kHpaListInfoLastShift = 55;
inline constexpr u64 kHpaListInfoLastMask = 0x1FF; /* bits 63:55 */
inline constexpr u64 kHpaListInfoReservedMask = 0x7ull | (0x7ull << 52);

/* Entries of one list page: 4 KiB of u64 page addresses. */
inline constexpr u32 kHpaListMaxEntries = u32(kPageSize / sizeof(u64));

constexpr u64 hpa_list_info(u64 list_pa, u32 first, u32 last)
{
	return (u64(first) & kHpaListInfoFirstMask) << kHpaListInfoFirstShift |
	       ((list_pa >> kHpaListInfoPfnShift) & kHpaListInfoPfnMask) << kHpaListInfoPfnShift |
	       (u64(last) & kHpaListInfoLastMask) << kHpaListInfoLastShift;
}
constexpr u32 hpa_list_info_first(u64 info) { return u32((info >> kHpaListInfoFirstShift) & kHpaListInfoFirstMask); }
constexpr u32 hpa_list_info_last(u64 info) { return u32((info >> kHpaListInfoLastShift) & kHpaListInfoLastMask); }
constexpr u64 hpa_list_info_list_pa(u64 info)
{
	return ((info >> kHpaListInfoPfnShift) & kHpaListInfoPfnMask) << kHpaListInfoPfnShift;
}

static_assert(kHpaListMaxEntries == 512);
static_assert(kHpaListInfoFirstMask + 1 == kHpaListMaxEntries && kHpaListInfoLastMask + 1 == kHpaListMaxEntries);
/* The fields and the reserved bits tile the 64 bits exactly. */
static_assert((kHpaListInfoFirstMask << kHpaListInfoFirstShift) == 0xFF8ull);
static_assert((kHpaListInfoPfnMask << kHpaListInfoPfnShift) == 0x000FFFFFFFFFF000ull);
static_assert((kHpaListInfoLastMask << kHpaListInfoLastShift) == 0xFF80000000000000ull);
static_assert(((kHpaListInfoFirstMask << kHpaListInfoFirstShift) | (kHpaListInfoPfnMask << kHpaListInfoPfnShift) |
	       (kHpaListInfoLastMask << kHpaListInfoLastShift) | kHpaListInfoReservedMask) == ~0ull);
static_assert(((kHpaListInfoFirstMask << kHpaListInfoFirstShift) & (kHpaListInfoPfnMask << kHpaListInfoPfnShift)) == 0);
static_assert(((kHpaListInfoPfnMask << kHpaListInfoPfnShift) & (kHpaListInfoLastMask << kHpaListInfoLastShift)) == 0);
/* A whole list at 0x12345000: first 0 at offset 0, last 511 in the top 9 bits. */
static_assert(hpa_list_info(0x12345000, 0, 511) == 0xFF80000012345000ull);
/* The first entry is the byte offset of that entry in the list page. */
static_assert(hpa_list_info(0x12345000, 7, 511) == 0xFF80000012345038ull);
static_assert(hpa_list_info_first(hpa_list_info(0x1000, 300, 400)) == 300);
static_assert(hpa_list_info_last(hpa_list_info(0x1000, 300, 400)) == 400);
static_assert(hpa_list_info_list_pa(hpa_list_info(0xFFFFFFFFFF000ull, 1, 2)) == 0xFFFFFFFFFF000ull);

} // namespace tdx::abi
