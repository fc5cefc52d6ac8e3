/* SPDX-License-Identifier: GPL-2.0 */
/* Base integer names for the freestanding C++ core (no libc, no libstdc++). */
#pragma once

namespace kstd {

using u8 = __UINT8_TYPE__;
using u16 = __UINT16_TYPE__;
using u32 = __UINT32_TYPE__;
using u64 = __UINT64_TYPE__;
using s32 = __INT32_TYPE__;
using s64 = __INT64_TYPE__;
using usize = __SIZE_TYPE__;
using uptr = __UINTPTR_TYPE__;

} // namespace kstd
