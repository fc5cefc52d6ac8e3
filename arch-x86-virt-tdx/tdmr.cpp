// SPDX-License-Identifier: GPL-2.0
#include "tdmr.h"

#include <kapi/kapi.h>
#include <kstd/addr.h>
#include <kstd/bits.h>

namespace tdx {

using abi::PageLevel;

Status memlist_add(MemList &list, u64 start, u64 end)
{
	start = align_up(start, kPageSize);
	end = align_down(end, kPageSize);
	if (end <= start)
		return Status::ok(); /* less than a page: nothing TDX can use */
	if (!list.empty()) {
		MemRange &last = list[list.size() - 1];
		if (start < last.end)
			return error(err::kEINVAL); /* the kernel walks RAM in ascending order */
		if (start == last.end) {
			last.end = end;
			return Status::ok();
		}
	}
	if (!list.push_back({start, end})) {
		kapi_log(KAPI_LOG_ERR, "more than %zu RAM ranges\n", (kstd::usize)kMaxMemRanges);
		return error(err::kE2BIG);
	}
	return Status::ok();
}

Status memlist_check_cmrs(const MemList &list, Span<const Cmr> cmrs)
{
	for (const MemRange &r : list) {
		u64 pos = r.start;
		/* CMRs may be adjacent: walk forward through whichever contains pos. */
		for (bool advanced = true; pos < r.end && advanced;) {
			advanced = false;
			for (const Cmr &c : cmrs) {
				if (pos >= c.base && pos < c.base + c.size) {
					pos = min(r.end, c.base + c.size);
					advanced = true;
				}
			}
		}
		if (pos < r.end) {
			kapi_log(KAPI_LOG_ERR, "RAM [0x%llx, 0x%llx) is not convertible memory\n",
				 (unsigned long long)pos, (unsigned long long)r.end);
			return error(err::kEINVAL);
		}
	}
	return Status::ok();
}

u64 pamt_level_bytes(u64 tdmr_size, PageLevel level, u16 entry_size)
{
	u64 entries = tdmr_size >> abi::page_level_shift(level);
	return align_up(entries * entry_size, kPageSize);
}

Result<usize> plan_tdmrs(const MemList &list, const TdxSysInfo &info, Span<TdmrDesc> out)
{
	usize n = 0;
	u64 covered_to = 0;
	for (const MemRange &r : list) {
		u64 start = max(align_down(r.start, abi::kTdmrAlignment), covered_to);
		u64 end = align_up(r.end, abi::kTdmrAlignment);
		for (u64 base = start; base < end; base += kMaxTdmrSpan) {
			if (n >= out.size() || n >= info.max_tdmrs) {
				kapi_log(KAPI_LOG_ERR, "memory needs more than %u TDMRs\n",
					 (unsigned)min<usize>(out.size(), info.max_tdmrs));
				return error(err::kENOSPC);
			}
			TdmrDesc &t = out[n++];
			t = TdmrDesc();
			t.base = base;
			t.size = min(kMaxTdmrSpan, end - base);
			for (unsigned l = 0; l < abi::kNumPageLevels; l++)
				t.pamt_size[l] = pamt_level_bytes(t.size, PageLevel(l), info.pamt_entry_size[l]);
		}
		covered_to = max(covered_to, end);
	}
	return n;
}

namespace {
/* Adds [start, end) (absolute) as a reserved area of tdmr, keeping the list sorted and merged. */
Status add_reserved(TdmrDesc &t, u64 start, u64 end, u16 max_reserved)
{
	start = max(start, t.base);
	end = min(end, t.end());
	if (end <= start)
		return Status::ok(); /* does not intersect this TDMR */
	start -= t.base;
	end -= t.base;
	auto &rs = t.rsvd;
	usize i = 0;
	while (i < rs.size() && rs[i].offset + rs[i].size < start)
		i++;
	/* Merge with every area that overlaps or touches [start, end). */
	usize j = i;
	while (j < rs.size() && rs[j].offset <= end) {
		start = min(start, rs[j].offset);
		end = max(end, rs[j].offset + rs[j].size);
		j++;
	}
	usize removed = j - i;
	if (removed == 0) {
		if (rs.size() >= max_reserved || !rs.push_back({}))
			return error(err::kE2BIG);
		for (usize k = rs.size() - 1; k > i; k--)
			rs[k] = rs[k - 1];
	} else {
		for (usize k = j; k < rs.size(); k++)
			rs[k - removed + 1] = rs[k];
		rs.truncate(rs.size() - removed + 1);
	}
	rs[i] = {start, end - start};
	return Status::ok();
}
} // namespace

Status fill_reserved_areas(TdmrDesc &t, const MemList &list, Span<const TdmrDesc> all,
			   u16 max_reserved)
{
	t.rsvd.clear();
	u64 pos = t.base;
	for (const MemRange &r : list) {
		if (r.end <= pos)
			continue;
		if (r.start >= t.end())
			break;
		if (r.start > pos && add_reserved(t, pos, r.start, max_reserved).is_error())
			goto too_many;
		pos = r.end;
	}
	if (pos < t.end() && add_reserved(t, pos, t.end(), max_reserved).is_error())
		goto too_many;
	for (const TdmrDesc &o : all)
		for (unsigned l = 0; l < abi::kNumPageLevels; l++)
			if (o.pamt_size[l] &&
			    add_reserved(t, o.pamt_base[l], o.pamt_base[l] + o.pamt_size[l], max_reserved)
				    .is_error())
				goto too_many;
	return Status::ok();
too_many:
	kapi_log(KAPI_LOG_ERR, "TDMR [0x%llx, 0x%llx) needs more than %u reserved areas\n",
		 (unsigned long long)t.base, (unsigned long long)t.end(), max_reserved);
	return error(err::kE2BIG);
}

void write_tdmr_info(const TdmrDesc &t, abi::TdmrInfo *info)
{
	info->base = t.base;
	info->size = t.size;
	info->pamt_1g_base = t.pamt_base[unsigned(PageLevel::k1G)];
	info->pamt_1g_size = t.pamt_size[unsigned(PageLevel::k1G)];
	info->pamt_2m_base = t.pamt_base[unsigned(PageLevel::k2M)];
	info->pamt_2m_size = t.pamt_size[unsigned(PageLevel::k2M)];
	info->pamt_4k_base = t.pamt_base[unsigned(PageLevel::k4K)];
	info->pamt_4k_size = t.pamt_size[unsigned(PageLevel::k4K)];
	for (usize i = 0; i < t.rsvd.size(); i++)
		info->reserved_areas[i] = t.rsvd[i];
}

} // namespace tdx
