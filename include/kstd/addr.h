/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Distinct types for a physical address and a page frame number, with only the arithmetic that
 * means something (address + size, address - address = size). No implicit conversions.
 */
#pragma once

#include "bits.h"
#include "types.h"

namespace kstd {

inline constexpr unsigned kPageShift = 12;
inline constexpr u64 kPageSize = 1ull << kPageShift;

class Pfn;

class PhysAddr {
public:
	constexpr PhysAddr() = default;
	constexpr explicit PhysAddr(u64 v) : v_(v) {}
	constexpr u64 value() const { return v_; }
	constexpr PhysAddr operator+(u64 bytes) const { return PhysAddr(v_ + bytes); }
	constexpr u64 operator-(PhysAddr o) const { return v_ - o.v_; }
	constexpr bool is_aligned(u64 a) const { return kstd::is_aligned(v_, a); }
	constexpr PhysAddr align_down(u64 a) const { return PhysAddr(kstd::align_down(v_, a)); }
	constexpr PhysAddr align_up(u64 a) const { return PhysAddr(kstd::align_up(v_, a)); }
	constexpr bool operator==(const PhysAddr &) const = default;
	constexpr bool operator<(PhysAddr o) const { return v_ < o.v_; }
	constexpr bool operator<=(PhysAddr o) const { return v_ <= o.v_; }
	constexpr bool operator>(PhysAddr o) const { return v_ > o.v_; }
	constexpr bool operator>=(PhysAddr o) const { return v_ >= o.v_; }
	constexpr Pfn pfn() const;

private:
	u64 v_ = 0;
};

class Pfn {
public:
	constexpr Pfn() = default;
	constexpr explicit Pfn(u64 v) : v_(v) {}
	constexpr u64 value() const { return v_; }
	constexpr PhysAddr addr() const { return PhysAddr(v_ << kPageShift); }
	constexpr bool operator==(const Pfn &) const = default;
	constexpr bool operator<(Pfn o) const { return v_ < o.v_; }

private:
	u64 v_ = 0;
};

constexpr Pfn PhysAddr::pfn() const { return Pfn(v_ >> kPageShift); }

static_assert(PhysAddr(0x5000).pfn().value() == 5);
static_assert(Pfn(3).addr() == PhysAddr(0x3000));
static_assert(PhysAddr(0x3000) - PhysAddr(0x1000) == 0x2000);

} // namespace kstd
