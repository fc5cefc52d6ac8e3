// SPDX-License-Identifier: GPL-2.0
#include "phymem_state.h"

#include <iterator>

namespace seam_emu {

const char *page_owner_name(PageOwner o)
{
	switch (o) {
	case PageOwner::kPamt:
		return "pamt";
	case PageOwner::kExtPool:
		return "ext_pool";
	case PageOwner::kTdr:
		return "tdr";
	case PageOwner::kTdcs:
		return "tdcs";
	}
	return "?";
}

bool PageOwners::overlaps(u64 base, u64 size) const
{
	if (!size)
		return false;
	const u64 end = base + size < base ? ~0ull : base + size;
	/* The first range ending after base is either the one before it or the first one from it. */
	auto it = ranges_.upper_bound(base);
	if (it != ranges_.begin() && std::prev(it)->second.end() > base)
		return true;
	return it != ranges_.end() && it->first < end;
}

bool PageOwners::claim(u64 base, u64 size, PageOwner owner, u32 index)
{
	if (!size)
		return true;
	if (base + size < base || overlaps(base, size))
		return false;
	ranges_.emplace(base, OwnedRange{base, size, owner, index});
	return true;
}

const OwnedRange *PageOwners::find(u64 pa) const
{
	auto it = ranges_.upper_bound(pa);
	if (it == ranges_.begin())
		return nullptr;
	--it;
	return pa < it->second.end() ? &it->second : nullptr;
}

u64 PageOwners::bytes(PageOwner owner) const
{
	u64 sum = 0;
	for (const auto &[base, r] : ranges_)
		if (r.owner == owner)
			sum += r.size;
	return sum;
}

u64 PageOwners::bytes() const
{
	u64 sum = 0;
	for (const auto &[base, r] : ranges_)
		sum += r.size;
	return sum;
}

} // namespace seam_emu
