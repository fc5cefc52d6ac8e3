// SPDX-License-Identifier: GPL-2.0
/*
 * Physically contiguous memory for the TDX module (PAMTs, TDMR_INFO arrays, metadata pages): see
 * kapi_alloc_contig_pages in include/kapi/kapi.h.
 *
 * Up to 2^MAX_PAGE_ORDER pages come from the buddy allocator, trimmed to the exact count. A PAMT
 * is bigger than that for any TDMR above 1 GiB (16 bytes per 4 KiB page: 4 MiB per GiB), and
 * alloc_contig_pages, which Linux's own TDX code uses for it, is not exported on 6.12. What is
 * exported is alloc_contig_range, which takes a given pfn range: so the range is chosen here the way
 * alloc_contig_pages chooses it (a zone's online pages, none reserved or hugetlb), and freed with
 * free_contig_range.
 *
 * Test build only (TDX_KUNIT_HOOKS): test_no_contig_alloc=1 makes a kernel with CONFIG_CONTIG_ALLOC
 * behave as one without it (buddy-sized runs only), so that the fallback to smaller TDMRs is tested
 * on any kernel (qemu-harness/scenarios/bigmem.sh).
 */
#include <linux/gfp.h>
#include <linux/hugetlb.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/page-flags.h>
#include <linux/pageblock-flags.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <asm/io.h>

#include <kapi/kapi.h>

#ifdef TDX_KUNIT_HOOKS
static bool test_no_contig_alloc;
module_param(test_no_contig_alloc, bool, 0444);
MODULE_PARM_DESC(test_no_contig_alloc,
		 "test build only: no alloc_contig_range, as on a kernel without CONFIG_CONTIG_ALLOC");
#else
#define test_no_contig_alloc false
#endif

#ifdef CONFIG_CONTIG_ALLOC
/*
 * Whether alloc_contig_range may take [pfn, pfn + nr): online pages of zone z, none reserved nor
 * hugetlb (as alloc_contig_pages checks). If not, *bad is the first pfn that fails.
 */
static bool contig_candidate(struct zone *z, unsigned long pfn, unsigned long nr, unsigned long *bad)
{
	unsigned long i;

	for (i = pfn; i < pfn + nr; i++) {
		struct page *page = pfn_to_online_page(i);

		if (!page || page_zone(page) != z || PageReserved(page) || PageHuge(page)) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* Scans a zone from its start for nr free-able pages and takes the first range that works. */
static void *alloc_contig_in_zone(struct zone *z, unsigned long nr)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;
	unsigned long pfn = ALIGN(z->zone_start_pfn, pageblock_nr_pages);
	unsigned long flags, bad;
	bool ok;

	while (pfn + nr <= zone_end_pfn(z)) {
		/* The zone lock keeps the zone's span still while its pages are looked at. */
		spin_lock_irqsave(&z->lock, flags);
		ok = contig_candidate(z, pfn, nr, &bad);
		spin_unlock_irqrestore(&z->lock, flags);
		if (ok) {
			if (!alloc_contig_range(pfn, pfn + nr, MIGRATE_MOVABLE, gfp))
				return pfn_to_kaddr(pfn);
			/* Busy (unmovable or pinned pages): the next window. */
			bad = pfn + nr - 1;
		}
		pfn = ALIGN(bad + 1, pageblock_nr_pages);
		cond_resched();
	}
	return NULL;
}

/* Every online node's zones a GFP_KERNEL allocation may use, ZONE_NORMAL first (DMA32 is scarcer). */
static void *alloc_contig_any_zone(unsigned long nr)
{
	int nid, zi;

	for_each_online_node(nid) {
		for (zi = ZONE_NORMAL; zi >= 0; zi--) {
			struct zone *z = &NODE_DATA(nid)->node_zones[zi];
			void *va;

			if (!populated_zone(z))
				continue;
			va = alloc_contig_in_zone(z, nr);
			if (va)
				return va;
		}
	}
	return NULL;
}
#else
static void *alloc_contig_any_zone(unsigned long nr)
{
	return NULL; /* no alloc_contig_range on this kernel: buddy-sized runs only */
}
#endif

void *kapi_alloc_contig_pages(kapi_u64 nr_pages)
{
	void *va = NULL;

	if (!nr_pages || nr_pages > totalram_pages())
		return NULL;
	if (nr_pages <= MAX_ORDER_NR_PAGES)
		va = alloc_pages_exact(nr_pages << PAGE_SHIFT, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!va && !test_no_contig_alloc)
		va = alloc_contig_any_zone(nr_pages);
	return va;
}

/*
 * Both kinds of run are order-0 pages with a reference each (alloc_pages_exact splits its block,
 * alloc_contig_range splits the range), which is what free_contig_range frees.
 */
void kapi_free_contig_pages(void *va, kapi_u64 nr_pages)
{
	if (va)
		free_contig_range(PHYS_PFN(__pa(va)), nr_pages);
}

kapi_u64 kapi_virt_to_phys(const void *va)
{
	if (WARN_ONCE(!virt_addr_valid(va), "tdx_host: %p is not in the direct map\n", va))
		return ~0ULL;
	return virt_to_phys((void *)va);
}
