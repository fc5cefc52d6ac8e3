/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory the core hands to the TDX module by physical address (PAMTs, the TDMR_INFO array and its
 * PA array, metadata pages) is a PageRun: physically contiguous pages, exactly as many as asked
 * for, that free themselves. Core objects the TDX module never sees come from new (kAlloc)
 * (kvzalloc: virtually contiguous only) and must never be handed over by address.
 *
 * The page ledger counts every page the core holds through PageRun, and apart from them the pages
 * it gave up to the TDX module (abandon_to_module: never returned to the kernel). The module logs
 * both when it is unloaded (tdx_core_report_pages): pages still held then are a leak.
 */
#pragma once

#include <kapi/kapi.h>
#include <kstd/addr.h>
#include <kstd/bits.h>
#include <kstd/utility.h>

namespace tdx {

using kstd::PhysAddr;

struct PageCounts {
	kstd::u64 held = 0;      /* allocated through PageRun and not yet freed */
	kstd::u64 abandoned = 0; /* given up to the TDX module */
};

/* The ledger (pages.cpp); PageRun is its only writer. */
PageCounts page_counts();
void page_ledger_take(kstd::u64 pages);
void page_ledger_return(kstd::u64 pages);
void page_ledger_abandon(kstd::u64 pages);

class PageRun {
public:
	PageRun() = default;
	PageRun(const PageRun &) = delete;
	PageRun &operator=(const PageRun &) = delete;
	PageRun(PageRun &&o) noexcept : va_(kstd::exchange(o.va_, nullptr)), pages_(kstd::exchange(o.pages_, 0)) {}
	PageRun &operator=(PageRun &&o) noexcept
	{
		if (this != &o) {
			reset();
			va_ = kstd::exchange(o.va_, nullptr);
			pages_ = kstd::exchange(o.pages_, 0);
		}
		return *this;
	}
	~PageRun() { reset(); }

	/* Zeroed, physically contiguous pages covering bytes; an empty run when memory is short. */
	static PageRun alloc(kstd::u64 bytes)
	{
		PageRun r;
		kstd::u64 pages = kstd::div_round_up(bytes, kstd::kPageSize);
		if (!pages)
			return r;
		r.va_ = kapi_alloc_contig_pages(pages);
		if (r.va_) {
			r.pages_ = pages;
			page_ledger_take(pages);
		}
		return r;
	}

	explicit operator bool() const { return va_ != nullptr; }
	void *va() const { return va_; }
	PhysAddr pa() const { return PhysAddr(kapi_virt_to_phys(va_)); }
	kstd::u64 pages() const { return pages_; }
	kstd::u64 bytes() const { return pages_ * kstd::kPageSize; }

	/*
	 * The TDX module may still use these pages (it could not be disabled, or a call that was
	 * given them never answered): they can never go back to the kernel. Returns the bytes given up.
	 */
	kstd::u64 abandon_to_module()
	{
		if (!va_)
			return 0;
		kstd::u64 bytes = this->bytes();
		page_ledger_abandon(pages_);
		va_ = nullptr;
		pages_ = 0;
		return bytes;
	}

	void reset()
	{
		if (!va_)
			return;
		kapi_free_contig_pages(kstd::exchange(va_, nullptr), pages_);
		page_ledger_return(kstd::exchange(pages_, 0));
	}

private:
	void *va_ = nullptr;
	kstd::u64 pages_ = 0;
};

} // namespace tdx
