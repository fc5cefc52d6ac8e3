/* SPDX-License-Identifier: GPL-2.0 */
/* SEAMCALL leaf numbers, RAX encoding and the register block (ABI.md §1). */
#pragma once

#include "types.h"

namespace tdx::abi {

/* RAX in: bits 15:0 leaf number, 23:16 version, 62:24 zero; bit 63 selects the P-SEAMLDR. */
inline constexpr u64 kLeafNumberMask = 0xFFFF;
inline constexpr unsigned kLeafVersionShift = 16;
inline constexpr u64 kLeafVersionMask = 0xFF;
inline constexpr u64 kLeafReservedMask = 0x7FFFFFFFFF000000ull;
inline constexpr u64 kSeamldrLeafBit = 1ull << 63;

constexpr u64 leaf_rax(u16 number, u8 version = 0)
{
	return u64(number) | (u64(version) << kLeafVersionShift);
}

namespace leaf {
inline constexpr u16 kMngAddcx = 1;
inline constexpr u16 kMngKeyConfig = 8;
inline constexpr u16 kMngCreate = 9;
inline constexpr u16 kMrExtend = 16;
inline constexpr u16 kMrFinalize = 17;
inline constexpr u16 kMngKeyFreeid = 20;
inline constexpr u16 kMngInit = 21;
inline constexpr u16 kPhymemPageReclaim = 28;
inline constexpr u16 kSysKeyConfig = 31;
inline constexpr u16 kSysInit = 33;
inline constexpr u16 kSysRd = 34;
inline constexpr u16 kSysLpInit = 35;
inline constexpr u16 kSysTdmrInit = 36;
inline constexpr u16 kSysRdAll = 37;
inline constexpr u16 kPhymemCacheWb = 40;
inline constexpr u16 kSysConfig = 45;
inline constexpr u16 kSysShutdown = 52;
inline constexpr u16 kSysUpdate = 53;
inline constexpr u16 kExtInit = 60;
inline constexpr u16 kExtMemAdd = 61;
inline constexpr u16 kSysDisable = 69;
inline constexpr u16 kQuoteGet = 98;
inline constexpr u16 kQuoteInit = 100;
inline constexpr u16 kMax = 128; /* bound for per-leaf tables (counters, fault rules) */
} // namespace leaf

static_assert(leaf_rax(leaf::kSysConfig, 1) == 0x1002D);
static_assert(leaf_rax(leaf::kSysUpdate, 1) == 0x10035);

/* TDH.SYS.SHUTDOWN rcx: bits 15:0 the handoff version, bit 16 "avoid compat-sensitive" (refuse
 * with TDX_UPDATE_COMPAT_SENSITIVE while a TD build is in progress). */
inline constexpr u64 kShutdownHvMask = 0xFFFF;
inline constexpr u64 kShutdownAvoidCompatSensitive = 1ull << 16;

/* TDH.PHYMEM.CACHE.WB rcx. */
inline constexpr u64 kCacheWbStart = 0;
inline constexpr u64 kCacheWbResume = 1;

/* P-SEAMLDR leaves (full RAX values). */
inline constexpr u64 kSeamldrInfo = 0x8000000000000000ull;
inline constexpr u64 kSeamldrInstall = 0x8000000000000001ull;

/* The 13 general-purpose registers a SEAMCALL passes, in ABI order. */
enum class Reg : u8 { rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15, rbx, rdi, rsi, count };
inline constexpr unsigned kNumRegs = 13;
static_assert(unsigned(Reg::count) == kNumRegs);

struct RegBlock {
	u64 rcx, rdx, r8, r9, r10, r11, r12, r13, r14, r15, rbx, rdi, rsi;
};
static_assert(sizeof(RegBlock) == kNumRegs * 8);
static_assert(__builtin_offsetof(RegBlock, rcx) == 0);
static_assert(__builtin_offsetof(RegBlock, r8) == 16);
static_assert(__builtin_offsetof(RegBlock, rsi) == 96);

} // namespace tdx::abi
