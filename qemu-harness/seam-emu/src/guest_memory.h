// SPDX-License-Identifier: GPL-2.0
// Guest physical memory as the TDX module sees host memory: QEMU's RAM file, laid out as on q35.
#pragma once

#include <vector>

#include <tdx/abi/types.h>

namespace seam_emu {

using namespace tdx::abi;

struct PhysRange {
	u64 base;
	u64 size;
	u64 end() const { return base + size; }
};

/*
 * q35 places guest RAM at GPA [0, size) when it is smaller than 0xB0000000; otherwise the first
 * 2 GiB stay low and the rest starts at 4 GiB. The file holds the ranges back to back.
 */
class GuestMemory {
public:
	static constexpr u64 kQ35HighRamThreshold = 0xB0000000ull;
	static constexpr u64 kQ35LowRamTop = 0x80000000ull;
	static constexpr u64 k4G = 1ull << 32;
	/* Physical addresses have at most 52 bits. */
	static constexpr unsigned kMaxPaBits = 52;

	GuestMemory(u8 *base, u64 size);

	u64 size() const { return size_; }
	/* The RAM ranges in GPA space, ascending: the CMRs the emulated module reports. */
	const std::vector<PhysRange> &ranges() const { return ranges_; }

	/* True if [gpa, gpa + len) lies within one RAM range (len may be 0: then gpa must be in RAM). */
	bool contains(u64 gpa, u64 len) const;
	/* Host pointer for [gpa, gpa + len), or nullptr if it is not wholly inside one RAM range. */
	u8 *ptr(u64 gpa, u64 len) const;

	bool read(u64 gpa, void *dst, u64 len) const;
	bool write(u64 gpa, const void *src, u64 len) const;
	bool read_u64(u64 gpa, u64 *v) const { return read(gpa, v, sizeof(*v)); }

private:
	struct Mapping {
		PhysRange gpa;
		u64 file_offset;
	};
	const Mapping *find(u64 gpa, u64 len) const;

	u8 *base_;
	u64 size_;
	std::vector<PhysRange> ranges_;
	std::vector<Mapping> maps_;
};

/* Validation of a physical address operand, answered as the TDX module would. */
struct PaCheck {
	u64 status; /* TDX_SUCCESS, TDX_OPERAND_INVALID or TDX_OPERAND_ADDR_RANGE_ERROR, with operand id */
	bool ok() const { return status == 0; }
};

/*
 * pa must be aligned to `align` (a power of two) and below the maximum PA: else OPERAND_INVALID.
 * [pa, pa + len) must not wrap and must be guest RAM: else OPERAND_ADDR_RANGE_ERROR.
 */
PaCheck check_pa(const GuestMemory &mem, u64 pa, u64 align, u64 len, u64 operand_id);

} // namespace seam_emu
