/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDX module image ("blob") formats, the payload of the tdx_module fw_upload (ABI.md §5). Both
 * start with a 4 KiB header whose first u16 is the format version and whose second is a checksum:
 *
 *   v1 (0x100, Intel's published blobs): "TDX-BLOB" at 8, offset_of_module at 4, length at 16;
 *      the sigstruct at 0x1000, zeros up to offset_of_module (8 KiB + N * 4 KiB), the module image
 *      from there to the end. The 16-bit little-endian word sum of the whole file is 0.
 *   v2 (0x200, upstream Linux): "TDX-BLOB" at 4, sigstruct and module page counts at 12 and 16;
 *      then the sigstruct pages, then the module pages. The word sum is checked when the checksum
 *      is non-zero.
 *
 * Everything past the named fields of the header is reserved and must be zero.
 */
#pragma once

#include "seamldr.h"
#include "types.h"

namespace tdx::abi {

inline constexpr u16 kImageVersionV1 = 0x100;
inline constexpr u16 kImageVersionV2 = 0x200;
inline constexpr u64 kImageHeaderSize = kPageSize;
inline constexpr char kImageSignature[8] = {'T', 'D', 'X', '-', 'B', 'L', 'O', 'B'};
/* v1: the sigstruct's offset; the module starts at 8 KiB or later. */
inline constexpr u64 kImageV1SigstructOffset = 0x1000;
inline constexpr u64 kImageV1MinModuleOffset = 0x2000;
/* v2: at most one sigstruct page; module pages as many as one seamldr_params can name. */
inline constexpr u32 kImageV2MaxSigstructPages = 1;
inline constexpr u32 kImageMaxModulePages = u32(kSeamldrMaxModulePages);

struct ImageHeaderV1 {
	u16 version; /* 0x100 */
	u16 checksum;
	u32 offset_of_module;
	char signature[8]; /* "TDX-BLOB" */
	u32 length;        /* the file's size */
	u32 reserved0;
	u8 reserved[4072];
} __attribute__((packed));
static_assert(sizeof(ImageHeaderV1) == kImageHeaderSize);
static_assert(__builtin_offsetof(ImageHeaderV1, checksum) == 2);
static_assert(__builtin_offsetof(ImageHeaderV1, offset_of_module) == 4);
static_assert(__builtin_offsetof(ImageHeaderV1, signature) == 8);
static_assert(__builtin_offsetof(ImageHeaderV1, length) == 16);
static_assert(__builtin_offsetof(ImageHeaderV1, reserved0) == 20);
static_assert(__builtin_offsetof(ImageHeaderV1, reserved) == 24);

struct ImageHeaderV2 {
	u16 version; /* 0x200 */
	u16 checksum;
	char signature[8]; /* "TDX-BLOB" */
	u32 sigstruct_nr_pages;
	u32 module_nr_pages;
	u8 reserved[4076];
} __attribute__((packed));
static_assert(sizeof(ImageHeaderV2) == kImageHeaderSize);
static_assert(__builtin_offsetof(ImageHeaderV2, signature) == 4);
static_assert(__builtin_offsetof(ImageHeaderV2, sigstruct_nr_pages) == 12);
static_assert(__builtin_offsetof(ImageHeaderV2, module_nr_pages) == 16);
static_assert(__builtin_offsetof(ImageHeaderV2, reserved) == 20);

/* The 16-bit little-endian word sum of n bytes (n even): a valid v1 file sums to 0. */
constexpr u16 image_word_sum(const u8 *p, u64 n, u16 sum = 0)
{
	for (u64 i = 0; i + 1 < n; i += 2)
		sum = u16(sum + (u16(p[i]) | u16(p[i + 1]) << 8));
	return sum;
}
constexpr u8 kWordSumProbe[4] = {0x01, 0x02, 0xFF, 0xFD};
static_assert(image_word_sum(kWordSumProbe, 4) == u16(0x0201 + 0xFDFF));

} // namespace tdx::abi
