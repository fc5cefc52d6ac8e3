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

namespace {

/* Calls fn(base, size) for each TDMR of the layout count_tdmrs describes, in ascending order. */
template <class Fn> void for_each_tdmr(const MemList &list, u64 max_span, Fn fn)
{
	if (max_span != kTdmrSpanUnlimited)
		max_span = max(kGiB, align_down(max_span, kGiB));
	auto cut = [&](u64 start, u64 end) {
		for (u64 base = start; base < end;) {
			u64 size = min(max_span, end - base);
			fn(base, size);
			base += size;
		}
	};
	u64 start = 0, end = 0; /* the run of 1 GiB regions being gathered; empty while end == 0 */
	for (const MemRange &r : list) {
		u64 s = align_down(r.start, kGiB), e = align_up(r.end, kGiB);
		if (end && s <= end) {
			end = max(end, e);
			continue;
		}
		if (end)
			cut(start, end);
		start = s;
		end = e;
	}
	if (end)
		cut(start, end);
}

} // namespace

usize count_tdmrs(const MemList &list, u64 max_span)
{
	usize n = 0;
	for_each_tdmr(list, max_span, [&n](u64, u64) { n++; });
	return n;
}

u64 largest_tdmr(const MemList &list, u64 max_span)
{
	u64 largest = 0;
	for_each_tdmr(list, max_span, [&largest](u64, u64 size) { largest = max(largest, size); });
	return largest;
}

Result<usize> plan_tdmrs(const MemList &list, const TdxSysInfo &info, Span<TdmrDesc> out, u64 max_span)
{
	usize need = count_tdmrs(list, max_span);
	if (need > info.max_tdmrs || need > out.size()) {
		bool module_limit = need > info.max_tdmrs;
		unsigned have = unsigned(module_limit ? info.max_tdmrs : out.size());
		if (max_span == kTdmrSpanUnlimited)
			kapi_log(KAPI_LOG_ERR, "memory needs %zu TDMRs, %s supports %u\n", (kstd::usize)need,
				 module_limit ? "the TDX module" : "tdx_host", have);
		else
			kapi_log(KAPI_LOG_ERR, "with TDMRs of at most %llu GiB memory needs %zu TDMRs, %s supports %u\n",
				 (unsigned long long)(max_span / kGiB), (kstd::usize)need,
				 module_limit ? "the TDX module" : "tdx_host", have);
		return error(err::kENOSPC);
	}
	usize n = 0;
	for_each_tdmr(list, max_span, [&](u64 base, u64 size) {
		TdmrDesc &t = out[n++];
		t = TdmrDesc();
		t.base = base;
		t.size = size;
		for (unsigned l = 0; l < abi::kNumPageLevels; l++)
			t.pamt_size[l] = pamt_level_bytes(size, PageLevel(l), info.pamt_entry_size[l]);
	});
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
	/* The TDX module's limit, or what a TdmrDesc holds if that is less. */
	max_reserved = u16(min<usize>(max_reserved, kMaxReservedAreas));
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
	kapi_log(KAPI_LOG_WARN, "TDMR [0x%llx, 0x%llx) needs more than %u reserved areas\n",
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
