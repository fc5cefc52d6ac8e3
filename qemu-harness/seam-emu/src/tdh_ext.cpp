// SPDX-License-Identifier: GPL-2.0
// Module extensions (ABI.md §6, §7): TDH.EXT.MEM.ADD, TDH.EXT.INIT and the metadata SYS.CONFIG and
// QUOTE.INIT make readable. Both leaves exist only on an image that reports EXT (TDX_FEATURES0
// bit 39); elsewhere they are unknown leaves. Both run in SYS_READY only (the dispatcher) and take
// the global lock exclusively: they change the module's global extension state.
#include <algorithm>

#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

namespace {
constexpr u64 kMaxPa = 1ull << GuestMemory::kMaxPaBits;
} // namespace

void Module::configure_ext(u64 addons)
{
	if (!ext_reported())
		return;
	/* Bit 39 in the bitmap has no effect: the extensions follow from the add-ons that need them. */
	const bool needed = image_.ext.required || (addons & kAddOnsNeedingExt);
	ext_.configure(needed, needed ? image_.ext.pool_pages : 0, addons & features0::kQuote);
	publish_ext_metadata();
}

void Module::publish_ext_metadata()
{
	if (ext_reported() && ext_.configured()) {
		metadata_.publish(field::kExtRequired, ext_.ext_required_field());
		metadata_.publish(field::kMemoryPoolRequiredPages, ext_.pool_pages_field());
	} else {
		metadata_.withdraw(field::kExtRequired);
		metadata_.withdraw(field::kMemoryPoolRequiredPages);
	}
	if ((image_.tdx_features0 & features0::kQuote) && ext_.quote_initialized())
		metadata_.publish(field::kMaxQuoteSize, image_.quote.max_quote_size);
	else
		metadata_.withdraw(field::kMaxQuoteSize);
}

void Module::set_quote_initialized(bool done)
{
	ext_.set_quote_initialized(done);
	publish_ext_metadata();
}

/*
 * One list entry. The pool takes no more than MEMORY_POOL_REQUIRED_PAGES; a page must be 4 KiB
 * aligned guest RAM that the module does not own yet in any role (pool, PAMT, later TD pages),
 * and not the list page being read.
 */
u64 Module::ext_mem_add_entry(u64 pa, u64 list_pa, ExtReject *why)
{
	if (ext_.pool().size() >= ext_.required_pages()) {
		*why = ExtReject::kPoolFull;
		return status::kSysStateIncorrect;
	}
	if ((pa & (kPageSize - 1)) || pa >= kMaxPa) {
		*why = ExtReject::kMisaligned;
		return status::kOperandInvalid | kOperandIdRcx;
	}
	if (!mem_.contains(pa, kPageSize)) {
		*why = ExtReject::kNotRam;
		return status::kOperandAddrRangeError | kOperandIdRcx;
	}
	if (pa == list_pa) {
		*why = ExtReject::kListPage;
		return status::kOperandInvalid | kOperandIdRcx;
	}
	if (ext_.in_pool(pa)) {
		*why = ExtReject::kDuplicate;
		return status::kOperandInvalid | kOperandIdRcx;
	}
	if (pages_.overlaps(pa, kPageSize)) {
		*why = ExtReject::kOwned;
		return status::kOperandInvalid | kOperandIdRcx;
	}
	/* The page becomes the module's for good (until SYS.DISABLE): it clears it with its key. */
	pages_.claim(pa, kPageSize, PageOwner::kExtPool, u32(ext_.pool().size()));
	ext_.add_page(mem_, pa);
	return status::kSuccess;
}

/*
 * rcx = HPA_LIST_INFO. Takes entries first..last of the list page in order, at most
 * mem_add_budget_entries per call; with entries left it answers INTERRUPTED_RESUMABLE with rcx's
 * first entry advanced, and the host calls again with the same registers. A refused entry stops
 * the call with rcx pointing at it; the pages before it stay in the pool.
 */
u64 Module::tdh_ext_mem_add(Call &c)
{
	if (!ext_reported())
		return status::kOperandInvalid | kOperandIdRax;
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	RegBlock &r = c.regs;
	const HpaListInfo info(r.rcx);
	const bool resumed = ext_.is_resumption(info.raw());
	ext_.set_resume(std::nullopt);

	if (info.reserved_bits() || info.last() < info.first()) {
		ext_.note_reject(ExtReject::kListInfo, info.raw());
		return status::kOperandInvalid | kOperandIdRcx;
	}
	const u64 list_pa = info.list_pa();
	if (!mem_.contains(list_pa, kPageSize)) {
		ext_.note_reject(ExtReject::kListPageNotRam, list_pa);
		return status::kOperandAddrRangeError | kOperandIdRcx;
	}
	/* The module reads the list with the host's key: a page it owns cannot be one. */
	if (pages_.overlaps(list_pa, kPageSize)) {
		ext_.note_reject(ExtReject::kListPageOwned, list_pa);
		return status::kOperandInvalid | kOperandIdRcx;
	}

	const unsigned first = info.first(), last = info.last();
	const unsigned end = unsigned(std::min<u64>(u64(last) + 1, u64(first) + image_.ext.mem_add_budget_entries));
	u64 entries[HpaListInfo::kEntries];
	mem_.read(list_pa + u64(first) * sizeof(u64), entries, u64(end - first) * sizeof(u64));
	bool counted = resumed;
	for (unsigned i = first; i < end; i++) {
		ExtReject why = ExtReject::kNone;
		const u64 st = ext_mem_add_entry(entries[i - first], list_pa, &why);
		if (st != status::kSuccess) {
			ext_.note_reject(why, entries[i - first]);
			r.rcx = info.with_first(i).raw();
			return st;
		}
		/* A list counts once, when it gives its first page; its resumptions do not count. */
		if (!counted) {
			ext_.start_list();
			counted = true;
		}
	}
	if (end <= last) {
		r.rcx = info.with_first(end).raw();
		ext_.set_resume(r.rcx);
		return status::kInterruptedResumable;
	}
	return status::kSuccess;
}

/*
 * Once the pool holds MEMORY_POOL_REQUIRED_PAGES: initializes init_budget_pages pool pages per
 * call (writing "EXT_INIT" over each), INTERRUPTED_RESUMABLE until the last, then success. Before
 * the pool is complete, and after it completed, TDX_SYS_STATE_INCORRECT.
 */
u64 Module::tdh_ext_init(Call &c)
{
	if (!ext_reported())
		return status::kOperandInvalid | kOperandIdRax;
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	if (ext_.init_done() || !ext_.pool_complete())
		return status::kSysStateIncorrect;
	return ext_.init_chunk(mem_, image_.ext.init_budget_pages) ? status::kSuccess : status::kInterruptedResumable;
}

} // namespace seam_emu
