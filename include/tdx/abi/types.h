/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixed-width integer names shared by the kernel C++ core, the emulator and the tools
 * (kstd's, which are built on compiler-provided macros: no libc or libstdc++ needed).
 */
#pragma once

#include "../../kstd/types.h"

namespace tdx::abi {

using kstd::s32;
using kstd::s64;
using kstd::u16;
using kstd::u32;
using kstd::u64;
using kstd::u8;

static_assert(sizeof(u8) == 1 && sizeof(u16) == 2 && sizeof(u32) == 4 && sizeof(u64) == 8);

inline constexpr u64 kPageSize = 4096;

} // namespace tdx::abi
