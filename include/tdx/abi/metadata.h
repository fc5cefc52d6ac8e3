/* SPDX-License-Identifier: GPL-2.0 */
/* Global metadata field ids and TDX_FEATURES0 bits (ABI.md §6). */
#pragma once

#include "types.h"

namespace tdx::abi {

/* Field id encoding. */
inline constexpr u64 kFieldCodeMask = 0xFFFFFF;
inline constexpr unsigned kFieldElemSizeShift = 32;
inline constexpr u64 kFieldElemSizeMask = 0x3;
inline constexpr unsigned kFieldLastElemShift = 34;
inline constexpr u64 kFieldLastElemMask = 0xF;
inline constexpr unsigned kFieldLastInSeqShift = 38;
inline constexpr u64 kFieldLastInSeqMask = 0x1FF;
inline constexpr unsigned kFieldIncSizeBit = 50;
inline constexpr unsigned kFieldWriteMaskValidBit = 51;
inline constexpr unsigned kFieldContextShift = 52;
inline constexpr u64 kFieldContextMask = 0x7;
inline constexpr unsigned kFieldClassShift = 56;
inline constexpr u64 kFieldClassMask = 0x3F;
inline constexpr unsigned kFieldNonArchBit = 63;

/* "No field" (MD_FIELD_ID_NA): RDALL's start-from-the-beginning input and its end-of-list output. */
inline constexpr u64 kFieldIdNone = ~0ull;

/* Element size in bytes: 0=8 bits, 1=16, 2=32, 3=64. */
constexpr unsigned field_elem_bytes(u64 field_id)
{
	return 1u << ((field_id >> kFieldElemSizeShift) & kFieldElemSizeMask);
}

/* The field id with the sequence/element description bits cleared: identifies one field. */
constexpr u64 field_base_id(u64 field_id)
{
	return field_id & ~((kFieldLastElemMask << kFieldLastElemShift) |
			    (kFieldLastInSeqMask << kFieldLastInSeqShift) |
			    (1ull << kFieldIncSizeBit) | (1ull << kFieldWriteMaskValidBit));
}

namespace field {
inline constexpr u64 kMinorVersion = 0x0800000100000003ull;
inline constexpr u64 kMajorVersion = 0x0800000100000004ull;
inline constexpr u64 kUpdateVersion = 0x0800000100000005ull;
inline constexpr u64 kBuildDate = 0x8800000200000001ull;
inline constexpr u64 kBuildNum = 0x8800000100000002ull;
inline constexpr u64 kTdxFeatures0 = 0x0A00000300000008ull;
inline constexpr u64 kNumCmrs = 0x9000000100000000ull;
inline constexpr u64 kCmrBase0 = 0x9000000300000080ull;
inline constexpr u64 kCmrSize0 = 0x9000000300000100ull;
inline constexpr u64 kMaxTdmrs = 0x9100000100000008ull;
inline constexpr u64 kMaxReservedPerTdmr = 0x9100000100000009ull;
inline constexpr u64 kPamt4kEntrySize = 0x9100000100000010ull;
inline constexpr u64 kPamt2mEntrySize = 0x9100000100000011ull;
inline constexpr u64 kPamt1gEntrySize = 0x9100000100000012ull;
inline constexpr u64 kModuleHv = 0x8900000100000000ull;
inline constexpr u64 kMinUpdateHv = 0x8900000100000001ull;
inline constexpr u64 kNoDowngrade = 0x8900000000000002ull;
inline constexpr u64 kNumHandoffPages = 0x8900000100000003ull;
inline constexpr u64 kTdrBaseSize = 0x9800000100000000ull;
inline constexpr u64 kTdcsBaseSize = 0x9800000100000100ull;
inline constexpr u64 kTdvpsBaseSize = 0x9800000100000200ull;
inline constexpr u64 kExtRequired = 0x3100000000000001ull;
inline constexpr u64 kMemoryPoolRequiredPages = 0x3100000200000000ull;
inline constexpr u64 kMaxQuoteSize = 0x2300000200000002ull;

constexpr u64 cmr_base(unsigned i) { return kCmrBase0 + i; }
constexpr u64 cmr_size(unsigned i) { return kCmrSize0 + i; }
} // namespace field

static_assert(field_elem_bytes(field::kMajorVersion) == 2);
static_assert(field_elem_bytes(field::kBuildDate) == 4);
static_assert(field_elem_bytes(field::kTdxFeatures0) == 8);
static_assert(field_elem_bytes(field::kNoDowngrade) == 1);

/* Upper bound on CMRs the module reports (TDX module 1.5: 32). */
inline constexpr unsigned kMaxCmrs = 32;

namespace features0 {
inline constexpr u64 kTdPreserving = 1ull << 1;
inline constexpr u64 kTdxConnect = 1ull << 6;
inline constexpr u64 kNoRbpMod = 1ull << 18;
inline constexpr u64 kDynamicPamt = 1ull << 36;
inline constexpr u64 kExt = 1ull << 39;
inline constexpr u64 kUpdateCompat = 1ull << 47;
inline constexpr u64 kQuote = 1ull << 50;
} // namespace features0

/*
 * TDH.SYS.RDALL output page: a list header followed by sequences; each sequence is a field id
 * (describing how many elements follow) and its elements, each padded to 8 bytes.
 * Layout as in the TDX module's md_list_header.
 */
struct MdListHeader {
	u16 list_buff_size; /* bytes used in the page, header included */
	u16 num_sequences;
	u32 reserved;
} __attribute__((packed));
static_assert(sizeof(MdListHeader) == 8);

} // namespace tdx::abi
