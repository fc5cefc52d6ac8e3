// SPDX-License-Identifier: GPL-2.0
/* The page ledger (see pages.h). */
#include "pages.h"

namespace tdx {
namespace {

/* Plain integers (no constructor to run), updated atomically: PageRuns live on any CPU. */
kstd::u64 g_pages_held;
kstd::u64 g_pages_given;
kstd::u64 g_pages_abandoned;

} // namespace

PageCounts page_counts()
{
	PageCounts c;
	c.held = __atomic_load_n(&g_pages_held, __ATOMIC_RELAXED);
	c.given = __atomic_load_n(&g_pages_given, __ATOMIC_RELAXED);
	c.abandoned = __atomic_load_n(&g_pages_abandoned, __ATOMIC_RELAXED);
	return c;
}

void page_ledger_take(kstd::u64 pages)
{
	__atomic_fetch_add(&g_pages_held, pages, __ATOMIC_RELAXED);
}

void page_ledger_return(kstd::u64 pages)
{
	__atomic_fetch_sub(&g_pages_held, pages, __ATOMIC_RELAXED);
}

void page_ledger_abandon(kstd::u64 pages)
{
	page_ledger_return(pages);
	__atomic_fetch_add(&g_pages_abandoned, pages, __ATOMIC_RELAXED);
}

void page_ledger_give(kstd::u64 pages)
{
	__atomic_fetch_add(&g_pages_given, pages, __ATOMIC_RELAXED);
}

void page_ledger_take_back(kstd::u64 pages)
{
	__atomic_fetch_sub(&g_pages_given, pages, __ATOMIC_RELAXED);
}

void page_ledger_abandon_given(kstd::u64 pages)
{
	page_ledger_take_back(pages);
	page_ledger_abandon(pages);
}

} // namespace tdx

extern "C" void tdx_core_report_pages(void)
{
	tdx::PageCounts c = tdx::page_counts();
	kapi_log(c.held ? KAPI_LOG_ERR : KAPI_LOG_INFO, "%llu pages still held, %llu abandoned to the TDX module\n",
		 (unsigned long long)c.held, (unsigned long long)c.abandoned);
}
