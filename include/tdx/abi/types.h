/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-width integer names shared by the kernel C++ core, the emulator and the tools.
 * Built on compiler-provided macros so that the header needs no libc or libstdc++.
 */
#pragma once

namespace tdx::abi {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using s32 = __INT32_TYPE__;
using s64 = __INT64_TYPE__;

static_assert(sizeof(u8) == 1 && sizeof(u16) == 2 && sizeof(u32) == 4 && sizeof(u64) == 8);

inline constexpr u64 kPageSize = 4096;

} // namespace tdx::abi
