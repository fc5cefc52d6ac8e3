/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDX module add-on features and extensions (ABI.md §1, §6, §7):
 * - which add-on features TDH.SYS.CONFIG enables (v1 with the bitmap in r9, v0 without one);
 * - HPA_LIST_INFO batches: the extension memory pool goes to the module in lists of up to 512
 *   pages, one 4 KiB list page per TDH.EXT.MEM.ADD;
 * - ExtPool: the pool's pages, allocated by the kernel and given to the TDX module for as long as
 *   it runs (ModuleOwnedRun, pages.h).
 * The bring-up steps that use them are TdxModule::init_extensions() and its helpers (bringup.cpp).
 */
#pragma once

#include <kstd/bits.h>
#include <tdx/abi/ext.h>
#include <tdx/abi/metadata.h>

#include "pages.h"
#include "seamcall.h"

namespace tdx {

namespace leaves {
inline constexpr Leaf kExtInit{abi::leaf::kExtInit};
inline constexpr Leaf kExtMemAdd{abi::leaf::kExtMemAdd};
} // namespace leaves

/* ---- add-on features ------------------------------------------------------------------------- */

/*
 * The add-ons tdx_host asks for when the module reports them: the quoting extension. Never a bit
 * the module does not report (it would refuse SYS.CONFIG v1); EXT (bit 39) is never asked for,
 * extensions follow from the features that need them.
 */
inline constexpr u64 kAddOnsWanted = abi::features0::kQuote;

constexpr u64 select_addons(u64 features0) { return features0 & kAddOnsWanted; }

/* TDH.SYS.CONFIG v1 carries the add-on bitmap in r9; a module gets v1 only when there is one. */
constexpr Leaf sys_config_leaf(u64 addons) { return addons ? leaves::kSysConfigV1 : leaves::kSysConfig; }

static_assert(select_addons(abi::features0::kQuote | abi::features0::kExt | abi::features0::kNoRbpMod) ==
	      abi::features0::kQuote);
static_assert(select_addons(abi::features0::kExt) == 0);
static_assert(sys_config_leaf(0).rax() == 0x2D && sys_config_leaf(abi::features0::kQuote).rax() == 0x1002D);

/* "QUOTE" (names of the bits of kAddOnsWanted set in addons, space-separated) into buf. */
const char *addon_names(u64 addons, char *buf, usize size);

/* ---- HPA_LIST_INFO batches ------------------------------------------------------------------- */

/* Pages [first_page, first_page + nr) of a pool of nr_pages go in list (batch) number i. */
struct HpaListBatch {
	u64 first_page;
	u32 nr;
};

constexpr u64 hpa_list_nr_batches(u64 nr_pages) { return div_round_up(nr_pages, abi::kHpaListMaxEntries); }

/* Batch i of a pool of nr_pages; {nr_pages, 0} past the last one. */
constexpr HpaListBatch hpa_list_batch(u64 nr_pages, u64 i)
{
	u64 first = i * abi::kHpaListMaxEntries;
	if (first >= nr_pages)
		return {nr_pages, 0};
	u64 left = nr_pages - first;
	return {first, u32(left < abi::kHpaListMaxEntries ? left : abi::kHpaListMaxEntries)};
}

/* The TDH.EXT.MEM.ADD operand for a list page holding nr (1..512) page addresses, from entry 0. */
constexpr u64 hpa_list_info_for(PhysAddr list_page, u32 nr) { return abi::hpa_list_info(list_page.value(), 0, nr - 1); }

static_assert(hpa_list_nr_batches(0) == 0 && hpa_list_nr_batches(1) == 1 && hpa_list_nr_batches(512) == 1);
static_assert(hpa_list_nr_batches(513) == 2 && hpa_list_nr_batches(12800) == 25);
static_assert(hpa_list_batch(513, 1).first_page == 512 && hpa_list_batch(513, 1).nr == 1);
static_assert(hpa_list_batch(513, 2).nr == 0);

/* ---- the extension memory pool --------------------------------------------------------------- */

/*
 * MEMORY_POOL_REQUIRED_PAGES is a u32; more than this (16 GiB) is refused rather than attempted,
 * so a bogus value never turns into a huge allocation (or a kvmalloc warning).
 */
inline constexpr u64 kMaxPoolPages = 1ull << 22;

/*
 * The pool as HPA_LIST_INFO batches: each batch's pages are one run of up to 512 pages (2 MiB,
 * an order-9 allocation, or alloc_contig_range when fragmented) that goes to the module in one
 * list. Linux allocates the whole pool as one contiguous block (tens of MiB) to keep it from
 * fragmenting memory; runs of a list's size are as kind to the buddy allocator and far easier to
 * find. A batch is the kernel's (pages) until the module accepted its list, then the module's
 * (given); destroying the pool frees what is still the kernel's and abandons what was given.
 */
class ExtPool {
public:
	ExtPool() = default;
	~ExtPool() { reset(); }
	ExtPool(const ExtPool &) = delete;
	ExtPool &operator=(const ExtPool &) = delete;

	/* Allocates nr_pages (> 0) in batches; -ENOMEM with nothing kept. */
	Status alloc(u64 nr_pages);

	u64 nr_pages() const { return nr_pages_; }
	usize nr_batches() const { return nr_batches_; }
	/* Pages the module owns (batches given). */
	u64 pages_given() const;

	/* Writes batch i's page addresses into the list page; returns the HPA_LIST_INFO for it. */
	u64 fill_list(usize i, const PageRun &list) const;
	/* The module accepted (or may have taken any page of) batch i's list. */
	void give(usize i);
	/* Frees the batches never given (the module never saw them). */
	void free_not_given();

	/* After SYS.DISABLE and a cache flush on all CPUs: every given page back to the kernel, freed. */
	void take_back_after_disable();
	/* The module keeps the given pages for good; returns their bytes. */
	u64 abandon_to_module();

	/* free_not_given(), abandon_to_module() for anything still given, and forget the pool. */
	void reset();

private:
	struct Batch {
		PageRun pages;
		ModuleOwnedRun given;
	};
	Batch *batches_ = nullptr;
	usize nr_batches_ = 0;
	u64 nr_pages_ = 0;
};

} // namespace tdx
