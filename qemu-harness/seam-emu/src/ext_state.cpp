// SPDX-License-Identifier: GPL-2.0
#include "ext_state.h"

#include <algorithm>
#include <cstring>

namespace seam_emu {

const char *ext_reject_name(ExtReject r)
{
	switch (r) {
	case ExtReject::kNone:
		return "none";
	case ExtReject::kListInfo:
		return "list_info";
	case ExtReject::kListPageNotRam:
		return "list_page_not_ram";
	case ExtReject::kListPageOwned:
		return "list_page_owned";
	case ExtReject::kMisaligned:
		return "misaligned";
	case ExtReject::kNotRam:
		return "not_ram";
	case ExtReject::kDuplicate:
		return "duplicate";
	case ExtReject::kOwned:
		return "owned";
	case ExtReject::kListPage:
		return "list_page";
	case ExtReject::kPoolFull:
		return "pool_full";
	}
	return "?";
}

void ExtState::configure(bool required, u32 pool_pages, bool quote_enabled)
{
	configured_ = true;
	required_ = required;
	required_pages_ = pool_pages;
	quote_enabled_ = quote_enabled;
}

void ExtState::suspend()
{
	configured_ = false;
	resumed_ = false;
	quote_initialized_ = false;
	resume_rcx_.reset();
}

void ExtState::resume(bool required, u32 pool_pages, bool quote_enabled)
{
	configure(required, pool_pages, quote_enabled);
	resumed_ = true;
	if (pages_missing())
		init_done_ = false;
}

void ExtState::reset()
{
	const u64 violations = violations_;
	const std::optional<u64> first = first_violation_pa_;
	*this = ExtState();
	violations_ = violations;
	first_violation_pa_ = first;
}

u64 ExtState::page_hash(const GuestMemory &mem, u64 pa)
{
	const u8 *p = mem.ptr(pa, kPageSize);
	if (!p)
		return 0; /* cannot happen: MEM.ADD took only RAM pages */
	u64 h = 0xCBF29CE484222325ull; /* FNV-1a 64 offset basis and prime, one u64 word at a time */
	for (u64 off = 0; off < kPageSize; off += sizeof(u64)) {
		u64 w;
		std::memcpy(&w, p + off, sizeof(w));
		h = (h ^ w) * 0x100000001B3ull;
	}
	return h;
}

void ExtState::record(const GuestMemory &mem, u64 pa)
{
	auto it = pages_.find(pa);
	if (it == pages_.end())
		return;
	it->second = {page_hash(mem, pa), false};
}

void ExtState::add_page(const GuestMemory &mem, u64 pa)
{
	u8 *p = mem.ptr(pa, kPageSize);
	if (p)
		std::memset(p, 0, kPageSize);
	pool_.push_back(pa);
	pages_[pa] = {page_hash(mem, pa), false};
}

bool ExtState::check_page(const GuestMemory &mem, u64 pa)
{
	auto it = pages_.find(pa);
	if (it == pages_.end())
		return true;
	if (page_hash(mem, pa) == it->second.hash)
		return true;
	if (!it->second.violated) {
		it->second.violated = true;
		violations_++;
		if (!first_violation_pa_)
			first_violation_pa_ = pa;
	}
	return false;
}

u64 ExtState::check(const GuestMemory &mem)
{
	const u64 before = violations_;
	/* In address order, so "first" is the lowest page when one scan finds several. */
	for (const auto &[pa, rec] : pages_)
		check_page(mem, pa);
	return violations_ - before;
}

bool ExtState::init_chunk(const GuestMemory &mem, u64 budget)
{
	const u64 end = std::min<u64>(pool_.size(), init_next_ + budget);
	for (; init_next_ < end; init_next_++) {
		const u64 pa = pool_[init_next_];
		/* A host write since MEM.ADD is found before the module overwrites the evidence. */
		check_page(mem, pa);
		u8 *p = mem.ptr(pa, kPageSize);
		if (!p)
			continue;
		for (u64 off = 0; off < kPageSize; off += sizeof(u64))
			std::memcpy(p + off, &kExtInitPattern, sizeof(u64));
		record(mem, pa);
	}
	init_done_ = init_next_ >= pool_.size();
	return init_done_;
}

} // namespace seam_emu
