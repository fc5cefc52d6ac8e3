// SPDX-License-Identifier: GPL-2.0
#include "tdmr_check.h"

#include <tdx/abi/status.h>

namespace seam_emu {

namespace {

constexpr u64 kMaxPa = 1ull << GuestMemory::kMaxPaBits;

u64 with_info(u64 status, u64 i0, u64 i1 = 0, u64 i2 = 0)
{
	return status | (i0 & 0xFF) | ((i1 & 0xFF) << 8) | ((i2 & 0xFF) << 16);
}

bool aligned(u64 x, u64 a) { return (x & (a - 1)) == 0; }
bool no_wrap(u64 base, u64 size) { return base + size >= base; }

bool overlap(u64 a, u64 asz, u64 b, u64 bsz)
{
	if (!asz || !bsz)
		return false;
	return a < b + bsz && b < a + asz;
}

/* A range is convertible if it lies inside one CMR, adjacent CMRs counting as one. */
bool in_cmrs(const std::vector<PhysRange> &cmrs, u64 start, u64 end)
{
	u64 run_start = 0, run_end = 0;
	bool have_run = false;
	for (const auto &c : cmrs) {
		if (!c.size)
			continue;
		if (have_run && c.base == run_end) {
			run_end = c.end();
		} else {
			run_start = c.base;
			run_end = c.end();
			have_run = true;
		}
		if (start >= run_start && end <= run_end)
			return true;
	}
	return false;
}

u64 check_tdmr_range(const std::vector<TdmrDesc> &t, size_t i)
{
	if (!no_wrap(t[i].base, t[i].size))
		return with_info(status::kInvalidTdmr, i);
	/* Sorted by base and not overlapping the previous one. */
	if (i > 0 && t[i].base < t[i - 1].base)
		return with_info(status::kNonOrderedTdmr, i);
	if (i > 0 && t[i].base < t[i - 1].base + t[i - 1].size)
		return with_info(status::kNonOrderedTdmr, i);
	if (!aligned(t[i].base, kTdmrAlignment) || !aligned(t[i].size, kTdmrAlignment) || t[i].size == 0)
		return with_info(status::kInvalidTdmr, i);
	if (t[i].base >= kMaxPa || t[i].base + t[i].size - 1 >= kMaxPa)
		return with_info(status::kInvalidTdmr, i);
	return status::kSuccess;
}

u64 check_reserved_areas(const TdmrDesc &t, size_t i)
{
	const auto &r = t.rsvd;
	for (size_t j = 0; j < r.size(); j++) {
		if (r[j].size == 0) {
			/* A null area may only be followed by null areas. */
			if (j + 1 < r.size() && r[j + 1].size != 0)
				return with_info(status::kNonOrderedReservedInTdmr, i, j);
			continue;
		}
		if (!no_wrap(r[j].offset, r[j].size))
			return with_info(status::kInvalidReservedInTdmr, i, j);
		if (j > 0 && r[j].offset < r[j - 1].offset)
			return with_info(status::kNonOrderedReservedInTdmr, i, j);
		if (j > 0 && r[j].offset < r[j - 1].offset + r[j - 1].size)
			return with_info(status::kNonOrderedReservedInTdmr, i, j);
		if (!aligned(r[j].offset, kTdmrRsvdGranularity) || !aligned(r[j].size, kTdmrRsvdGranularity))
			return with_info(status::kInvalidReservedInTdmr, i, j);
		if (!no_wrap(t.base, r[j].offset) || !no_wrap(t.base + r[j].offset, r[j].size))
			return with_info(status::kInvalidReservedInTdmr, i, j);
		if (t.base + r[j].offset + r[j].size > t.base + t.size)
			return with_info(status::kInvalidReservedInTdmr, i, j);
	}
	return status::kSuccess;
}

bool pamt_ok(const ModuleImage &m, const TdmrDesc &t, PageLevel l)
{
	u64 base = t.pamt_base[unsigned(l)], size = t.pamt_size[unsigned(l)];
	if (!no_wrap(base, size))
		return false;
	if (!aligned(base, kPageSize) || !aligned(size, kPageSize))
		return false;
	if (base >= kMaxPa || (size && base + size - 1 >= kMaxPa))
		return false;
	/*
	 * The module only wants size >= the entries' bytes; the emulator wants the size the host must
	 * have computed (rounded up to 4 KiB), so a host that sizes PAMTs wrongly fails here.
	 */
	return size == pamt_exact_size(m, l, t.size);
}

/* The module checks the 1G, 2M, then 4K PAMT; the status names the level (0 = 4K, 1 = 2M, 2 = 1G). */
constexpr PageLevel kCheckOrder[] = {PageLevel::k1G, PageLevel::k2M, PageLevel::k4K};
constexpr PageLevel kOverlapOrder[] = {PageLevel::k4K, PageLevel::k2M, PageLevel::k1G};

bool pamt_hits_available(const TdmrDesc &t, u64 base, u64 size)
{
	for (const auto &a : tdmr_available_areas(t))
		if (overlap(base, size, a.base, a.size))
			return true;
	return false;
}

u64 check_pamts(const std::vector<TdmrDesc> &t, size_t i, const ModuleImage &m, const std::vector<PhysRange> &cmrs)
{
	const TdmrDesc &d = t[i];
	for (PageLevel l : kCheckOrder)
		if (!pamt_ok(m, d, l))
			return with_info(status::kInvalidPamt, i, unsigned(l));

	/* PAMTs must not overlap other TDMRs' PAMTs, nor each other. */
	for (size_t j = 0; j < i; j++)
		for (PageLevel l : kOverlapOrder)
			for (PageLevel m : kOverlapOrder)
				if (overlap(d.pamt_base[unsigned(l)], d.pamt_size[unsigned(l)],
					    t[j].pamt_base[unsigned(m)], t[j].pamt_size[unsigned(m)]))
					return with_info(status::kPamtOverlap, i, unsigned(l), j);
	for (unsigned a = 0; a < kNumPageLevels; a++)
		for (unsigned b = a + 1; b < kNumPageLevels; b++)
			if (overlap(d.pamt_base[a], d.pamt_size[a], d.pamt_base[b], d.pamt_size[b]))
				return with_info(status::kPamtOverlap, i, a, i);

	/* PAMTs may sit in TDMRs' reserved areas or outside every TDMR, never in usable TDMR memory. */
	for (size_t j = 0; j <= i; j++) {
		for (PageLevel l : kOverlapOrder)
			if (pamt_hits_available(t[j], d.pamt_base[unsigned(l)], d.pamt_size[unsigned(l)]))
				return with_info(status::kPamtOverlap, i, unsigned(l), j);
		if (j < i)
			for (PageLevel l : kOverlapOrder)
				if (pamt_hits_available(d, t[j].pamt_base[unsigned(l)], t[j].pamt_size[unsigned(l)]))
					return with_info(status::kPamtOverlap, j, unsigned(l), i);
	}

	for (PageLevel l : kCheckOrder)
		if (!in_cmrs(cmrs, d.pamt_base[unsigned(l)], d.pamt_base[unsigned(l)] + d.pamt_size[unsigned(l)]))
			return with_info(status::kPamtOutsideCmrs, i, unsigned(l));
	return status::kSuccess;
}

} // namespace

TdmrDesc TdmrDesc::from_info(const TdmrInfo &info, const TdmrReservedArea *rsvd, unsigned n)
{
	TdmrDesc d;
	d.base = info.base;
	d.size = info.size;
	d.pamt_base[unsigned(PageLevel::k4K)] = info.pamt_4k_base;
	d.pamt_size[unsigned(PageLevel::k4K)] = info.pamt_4k_size;
	d.pamt_base[unsigned(PageLevel::k2M)] = info.pamt_2m_base;
	d.pamt_size[unsigned(PageLevel::k2M)] = info.pamt_2m_size;
	d.pamt_base[unsigned(PageLevel::k1G)] = info.pamt_1g_base;
	d.pamt_size[unsigned(PageLevel::k1G)] = info.pamt_1g_size;
	d.rsvd.assign(rsvd, rsvd + n);
	return d;
}

u64 pamt_required_size(const ModuleImage &m, PageLevel level, u64 tdmr_size)
{
	return (tdmr_size >> page_level_shift(level)) * m.tdmr.pamt_entry_size[unsigned(level)];
}

u64 pamt_exact_size(const ModuleImage &m, PageLevel level, u64 tdmr_size)
{
	return (pamt_required_size(m, level, tdmr_size) + kPageSize - 1) & ~(kPageSize - 1);
}

std::vector<PhysRange> tdmr_available_areas(const TdmrDesc &t)
{
	std::vector<PhysRange> out;
	u64 cursor = t.base;
	for (const auto &r : t.rsvd) {
		if (r.size == 0)
			break;
		u64 rs = t.base + r.offset;
		if (rs > cursor)
			out.push_back({cursor, rs - cursor});
		cursor = rs + r.size;
	}
	if (t.base + t.size > cursor)
		out.push_back({cursor, t.base + t.size - cursor});
	return out;
}

u64 check_tdmr(const std::vector<TdmrDesc> &tdmrs, size_t i, const ModuleImage &m, const std::vector<PhysRange> &cmrs)
{
	u64 st = check_tdmr_range(tdmrs, i);
	if (st == status::kSuccess)
		st = check_reserved_areas(tdmrs[i], i);
	if (st == status::kSuccess)
		st = check_pamts(tdmrs, i, m, cmrs);
	if (st != status::kSuccess)
		return st;
	/* Every byte not reserved must be convertible memory. */
	for (const auto &a : tdmr_available_areas(tdmrs[i]))
		if (!in_cmrs(cmrs, a.base, a.end()))
			return with_info(status::kTdmrOutsideCmrs, i);
	return status::kSuccess;
}

u64 check_tdmrs(const std::vector<TdmrDesc> &tdmrs, const ModuleImage &m, const std::vector<PhysRange> &cmrs)
{
	for (size_t i = 0; i < tdmrs.size(); i++) {
		u64 st = check_tdmr(tdmrs, i, m, cmrs);
		if (st != status::kSuccess)
			return st;
	}
	return status::kSuccess;
}

} // namespace seam_emu
