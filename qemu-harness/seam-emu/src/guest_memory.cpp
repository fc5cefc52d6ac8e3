// SPDX-License-Identifier: GPL-2.0
#include "guest_memory.h"

#include <cstring>

#include <tdx/abi/status.h>

namespace seam_emu {

GuestMemory::GuestMemory(u8 *base, u64 size) : base_(base), size_(size)
{
	if (size < kQ35HighRamThreshold) {
		maps_.push_back({{0, size}, 0});
	} else {
		maps_.push_back({{0, kQ35LowRamTop}, 0});
		maps_.push_back({{k4G, size - kQ35LowRamTop}, kQ35LowRamTop});
	}
	for (const auto &m : maps_)
		if (m.gpa.size)
			ranges_.push_back(m.gpa);
}

const GuestMemory::Mapping *GuestMemory::find(u64 gpa, u64 len) const
{
	if (len && gpa + len < gpa)
		return nullptr;
	for (const auto &m : maps_) {
		if (gpa < m.gpa.base || gpa >= m.gpa.end())
			continue;
		if (len > m.gpa.end() - gpa)
			return nullptr;
		return &m;
	}
	return nullptr;
}

bool GuestMemory::contains(u64 gpa, u64 len) const { return find(gpa, len) != nullptr; }

u8 *GuestMemory::ptr(u64 gpa, u64 len) const
{
	const Mapping *m = find(gpa, len);
	if (!m)
		return nullptr;
	return base_ + m->file_offset + (gpa - m->gpa.base);
}

bool GuestMemory::read(u64 gpa, void *dst, u64 len) const
{
	u8 *p = ptr(gpa, len);
	if (!p)
		return false;
	std::memcpy(dst, p, len);
	return true;
}

bool GuestMemory::write(u64 gpa, const void *src, u64 len) const
{
	u8 *p = ptr(gpa, len);
	if (!p)
		return false;
	std::memcpy(p, src, len);
	return true;
}

PaCheck check_pa(const GuestMemory &mem, u64 pa, u64 align, u64 len, u64 operand_id)
{
	if (pa & (align - 1))
		return {status::kOperandInvalid | operand_id};
	if (pa >> GuestMemory::kMaxPaBits)
		return {status::kOperandInvalid | operand_id};
	if (len && pa + len < pa)
		return {status::kOperandAddrRangeError | operand_id};
	if (!mem.contains(pa, len))
		return {status::kOperandAddrRangeError | operand_id};
	return {status::kSuccess};
}

} // namespace seam_emu
