// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.INFO's output: TDSYSINFO_STRUCT and the CMR_INFO array (TDX module 1.5 tdx_api_defs.h).
#pragma once

#include <tdx/abi/types.h>

namespace seam_emu {

using namespace tdx::abi;

/* 1024 bytes, 1 KiB aligned (rcx); rdx gives the buffer size, at least this. */
struct TdSysInfo {
	u32 attributes;
	u32 vendor_id; /* 0x8086 */
	u32 build_date;
	u16 build_num;
	u16 minor_version;
	u16 major_version;
	u8 sys_rd; /* 1: use TDH.SYS.RD/RDALL for everything else */
	u8 reserved0[13];
	/* memory info */
	u16 max_tdmrs;
	u16 max_reserved_per_tdmr;
	u16 pamt_entry_size;
	u8 reserved1[10];
	/* control structure info */
	u16 tdcs_base_size;
	u8 reserved2[2];
	u16 tdvps_base_size;
	u8 tdvps_xfam_dependent_size;
	u8 reserved3[9];
	/* TD capabilities */
	u64 attributes_fixed0;
	u64 attributes_fixed1;
	u64 xfam_fixed0;
	u64 xfam_fixed1;
	u8 reserved4[32];
	u32 num_cpuid_config;
	u8 cpuid_config_list[892]; /* 24-byte CPUID_CONFIG entries, then reserved */
} __attribute__((packed));
static_assert(sizeof(TdSysInfo) == 1024);
static_assert(__builtin_offsetof(TdSysInfo, build_num) == 12);
static_assert(__builtin_offsetof(TdSysInfo, major_version) == 16);
static_assert(__builtin_offsetof(TdSysInfo, sys_rd) == 18);
static_assert(__builtin_offsetof(TdSysInfo, max_tdmrs) == 32);
static_assert(__builtin_offsetof(TdSysInfo, tdcs_base_size) == 48);
static_assert(__builtin_offsetof(TdSysInfo, tdvps_base_size) == 52);
static_assert(__builtin_offsetof(TdSysInfo, attributes_fixed0) == 64);
static_assert(__builtin_offsetof(TdSysInfo, num_cpuid_config) == 128);

/* One CMR_INFO entry; r8 points at an array of kSysInfoCmrEntries, aligned to its size. */
struct CmrInfoEntry {
	u64 base;
	u64 size; /* 0: unused entry */
} __attribute__((packed));
static_assert(sizeof(CmrInfoEntry) == 16);

inline constexpr u64 kSysInfoAlignment = 1024;
inline constexpr u32 kSysInfoCmrEntries = 32; /* MAX_CMR */
inline constexpr u64 kCmrInfoArrayBytes = kSysInfoCmrEntries * sizeof(CmrInfoEntry);
inline constexpr u32 kIntelVendorId = 0x8086;

} // namespace seam_emu
