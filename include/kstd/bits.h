/* SPDX-License-Identifier: GPL-2.0 */
/* Bit and alignment helpers, and typed register bit-fields. */
#pragma once

#include "types.h"

namespace kstd {

constexpr u64 bit(unsigned n) { return 1ull << n; }
constexpr u64 genmask(unsigned hi, unsigned lo) { return (~0ull >> (63 - hi)) & (~0ull << lo); }
constexpr u64 field_get(u64 v, unsigned hi, unsigned lo) { return (v & genmask(hi, lo)) >> lo; }
constexpr u64 field_prep(u64 v, unsigned hi, unsigned lo) { return (v << lo) & genmask(hi, lo); }
constexpr bool is_pow2(u64 v) { return v && !(v & (v - 1)); }
constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(u64 v, u64 a) { return (v & (a - 1)) == 0; }
constexpr u64 div_round_up(u64 v, u64 d) { return (v + d - 1) / d; }

/* Overflow-checked addition: false when a + b wraps. */
constexpr bool add_overflows(u64 a, u64 b, u64 *out) { return __builtin_add_overflow(a, b, out); }

/* Smallest order such that (4 KiB << order) >= bytes. */
constexpr unsigned page_order(u64 bytes)
{
	unsigned order = 0;
	while ((4096ull << order) < bytes)
		order++;
	return order;
}

static_assert(genmask(15, 0) == 0xFFFF);
static_assert(genmask(63, 63) == bit(63));
static_assert(field_get(0x1002D, 23, 16) == 1);
static_assert(page_order(4096) == 0 && page_order(4097) == 1 && page_order(4ull << 20) == 10);

} // namespace kstd
