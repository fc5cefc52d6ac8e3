// SPDX-License-Identifier: GPL-2.0
// The module extensions' state (ABI.md §6, §7): what SYS.CONFIG made them need, the memory pool
// TDH.EXT.MEM.ADD fills, TDH.EXT.INIT's progress, and the integrity record of the pool's pages.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include <tdx/abi/ext.h>

#include "guest_memory.h"

namespace seam_emu {

/* HPA_LIST_INFO, TDH.EXT.MEM.ADD's rcx (ABI.md §7), over the encoding of include/tdx/abi/ext.h. */
class HpaListInfo {
public:
	static constexpr unsigned kEntries = kHpaListMaxEntries; /* u64 page addresses in one list page */

	explicit constexpr HpaListInfo(u64 raw) : raw_(raw) {}
	static constexpr HpaListInfo make(u64 list_pa, unsigned first, unsigned last)
	{
		return HpaListInfo(hpa_list_info(list_pa, first, last));
	}

	constexpr u64 raw() const { return raw_; }
	constexpr unsigned first() const { return hpa_list_info_first(raw_); }
	constexpr unsigned last() const { return hpa_list_info_last(raw_); }
	constexpr u64 list_pa() const { return hpa_list_info_list_pa(raw_); }
	constexpr bool reserved_bits() const { return raw_ & kHpaListInfoReservedMask; }
	/* The same list from entry `first` on: what a resumption is called with. */
	constexpr HpaListInfo with_first(unsigned first) const
	{
		return HpaListInfo((raw_ & ~(kHpaListInfoFirstMask << kHpaListInfoFirstShift)) |
				   (u64(first) & kHpaListInfoFirstMask) << kHpaListInfoFirstShift);
	}

private:
	u64 raw_;
};
static_assert(HpaListInfo::make(0x1234000, 7, 9).with_first(8).raw() == hpa_list_info(0x1234000, 8, 9));
static_assert(HpaListInfo(hpa_list_info(0x1234000, 7, 9) | 1).reserved_bits());

/* Why TDH.EXT.MEM.ADD last refused something (control channel "ext": last_reject). */
enum class ExtReject : u8 {
	kNone,
	kListInfo,      /* reserved bits of HPA_LIST_INFO, or last < first */
	kListPageNotRam, /* the list page is not guest RAM */
	kListPageOwned, /* the list page belongs to the module */
	kMisaligned,    /* an entry not 4 KiB aligned or beyond the maximum PA */
	kNotRam,        /* an entry not guest RAM */
	kDuplicate,     /* an entry already in the pool */
	kOwned,         /* an entry the module owns otherwise (PAMT, ...) */
	kListPage,      /* an entry naming the list page itself */
	kPoolFull,      /* more pages than MEMORY_POOL_REQUIRED_PAGES */
};
const char *ext_reject_name(ExtReject r);

/*
 * Guarded by Module::state_mutex(). Reset by SYS.DISABLE, except the integrity counters, which
 * count for the emulator's whole life (a harness asks at the end whether the host ever wrote a
 * page the module owned).
 */
class ExtState {
public:
	/* What TDH.EXT.INIT writes into each pool page: "EXT_INIT" repeated. */
	static constexpr u64 kExtInitPattern = 0x54494E495F545845ull;

	/* SYS.CONFIG on a module that reports EXT: what the extensions need from now on. */
	void configure(bool required, u32 pool_pages, bool quote_enabled);
	/* SYS.DISABLE: the pool is released, progress forgotten. */
	void reset();
	/*
	 * An update was installed: the new image knows nothing of the extensions until SYS.UPDATE
	 * hands them over. The pool, its initialization and the integrity record stay.
	 */
	void suspend();
	/*
	 * SYS.UPDATE: the new image's needs over the pool carried over. Pages it needs beyond the pool
	 * must be added (and initialized by EXT.INIT) again; a pool that suffices stays initialized.
	 */
	void resume(bool required, u32 pool_pages, bool quote_enabled);

	bool configured() const { return configured_; }
	/*
	 * What SYS.RD says: after SYS.CONFIG, EXT_REQUIRED and MEMORY_POOL_REQUIRED_PAGES as
	 * configured; after SYS.UPDATE, what is still missing: EXT_REQUIRED while EXT.INIT must run,
	 * and the pages beyond the pool carried over.
	 */
	bool ext_required_field() const { return resumed_ ? required_ && !init_done_ : required_; }
	u32 pool_pages_field() const { return resumed_ ? pages_missing() : required_pages_; }
	u32 pages_missing() const
	{
		return pool_.size() >= required_pages_ ? 0 : u32(required_pages_ - pool_.size());
	}
	bool required() const { return required_; }
	u32 required_pages() const { return required_pages_; }
	bool quote_enabled() const { return quote_enabled_; }
	/* Set by QUOTE.INIT when it completed (MAX_QUOTE_SIZE becomes readable then). */
	bool quote_initialized() const { return quote_initialized_; }
	void set_quote_initialized(bool v) { quote_initialized_ = v; }

	/* The pool, in the order its pages were added. */
	const std::vector<u64> &pool() const { return pool_; }
	bool pool_complete() const { return pool_.size() >= required_pages_; }
	bool in_pool(u64 pa) const { return pages_.count(pa) != 0; }
	/* A page the module took: it clears it and records what it holds. */
	void add_page(const GuestMemory &mem, u64 pa);

	/* Distinct HPA lists MEM.ADD started (resumptions not counted). */
	u64 lists() const { return lists_; }
	/* MEM.ADD answered INTERRUPTED_RESUMABLE with this rcx: a call with it continues that list. */
	bool is_resumption(u64 rcx) const { return resume_rcx_ && *resume_rcx_ == rcx; }
	void start_list() { lists_++; }
	void set_resume(std::optional<u64> rcx) { resume_rcx_ = rcx; }
	ExtReject last_reject() const { return last_reject_; }
	u64 last_reject_pa() const { return last_reject_pa_; }
	void note_reject(ExtReject r, u64 pa)
	{
		last_reject_ = r;
		last_reject_pa_ = pa;
	}

	/* TDH.EXT.INIT: pool pages initialized so far (in pool order) and whether it completed. */
	u64 init_next() const { return init_next_; }
	bool init_done() const { return init_done_; }
	/* Initialize up to `budget` more pages; true when every pool page is initialized. */
	bool init_chunk(const GuestMemory &mem, u64 budget);

	/*
	 * Integrity. Each pool page's content is recorded (64-bit FNV-1a over its words) whenever the
	 * module writes it; a page whose content differs from the record was written by the host. It
	 * counts once until the module writes the page again. check() scans the whole pool; returns
	 * the pages newly found written.
	 */
	u64 check(const GuestMemory &mem);
	/* One page; true if it still holds what the module wrote (counts a violation if not). */
	bool check_page(const GuestMemory &mem, u64 pa);
	/* The module wrote pool page `pa`: record its content. */
	void record(const GuestMemory &mem, u64 pa);
	u64 integrity_violations() const { return violations_; }
	std::optional<u64> first_violation_pa() const { return first_violation_pa_; }

	static u64 page_hash(const GuestMemory &mem, u64 pa);

private:
	struct PageRecord {
		u64 hash;
		bool violated; /* host write already counted */
	};

	bool configured_ = false;
	bool resumed_ = false; /* configured by SYS.UPDATE, not SYS.CONFIG */
	bool required_ = false;
	u32 required_pages_ = 0;
	bool quote_enabled_ = false;
	bool quote_initialized_ = false;

	std::vector<u64> pool_;
	std::map<u64, PageRecord> pages_;
	u64 lists_ = 0;
	std::optional<u64> resume_rcx_;
	ExtReject last_reject_ = ExtReject::kNone;
	u64 last_reject_pa_ = 0;

	u64 init_next_ = 0;
	bool init_done_ = false;

	u64 violations_ = 0;
	std::optional<u64> first_violation_pa_;
};

} // namespace seam_emu
