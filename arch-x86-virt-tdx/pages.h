/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory the core hands to the TDX module by physical address (PAMTs, the TDMR_INFO array and its
 * PA array, metadata pages) is a PageRun: physically contiguous pages, exactly as many as asked
 * for, that free themselves. Core objects the TDX module never sees come from new (kAlloc)
 * (kvzalloc: virtually contiguous only) and must never be handed over by address.
 *
 * Pages the TDX module takes for as long as it runs (the extension memory pool, TDH.EXT.MEM.ADD)
 * change owner explicitly: PageRun::give_to_module() turns the run into a ModuleOwnedRun, which
 * never frees itself; the pages come back to the kernel only through take_back_after_disable()
 * (after TDH.SYS.DISABLE released them and caches were flushed), or stay with the module for good
 * (abandon_to_module).
 *
 * The page ledger counts every page the core holds through PageRun (given pages included: they
 * are still the core's to take back), the part of them given to the TDX module, and apart from
 * them the pages it gave up to the TDX module (abandon_to_module: never returned to the kernel).
 * The module logs held and abandoned when it is unloaded (tdx_core_report_pages): pages still
 * held then are a leak.
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
	kstd::u64 given = 0;     /* of those, owned by the TDX module while it runs (ModuleOwnedRun) */
	kstd::u64 abandoned = 0; /* given up to the TDX module */
};

/* The ledger (pages.cpp); PageRun and ModuleOwnedRun are its only writers. */
PageCounts page_counts();
void page_ledger_take(kstd::u64 pages);
void page_ledger_return(kstd::u64 pages);
void page_ledger_abandon(kstd::u64 pages);
void page_ledger_give(kstd::u64 pages);
void page_ledger_take_back(kstd::u64 pages);
void page_ledger_abandon_given(kstd::u64 pages);

class ModuleOwnedRun;

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

	/*
	 * The TDX module takes these pages for as long as it runs (the extension memory pool): call
	 * it once the module accepted them. See ModuleOwnedRun.
	 */
	ModuleOwnedRun give_to_module();

	void reset()
	{
		if (!va_)
			return;
		kapi_free_contig_pages(kstd::exchange(va_, nullptr), pages_);
		page_ledger_return(kstd::exchange(pages_, 0));
	}

private:
	friend class ModuleOwnedRun;
	void *va_ = nullptr;
	kstd::u64 pages_ = 0;
};

/*
 * Pages the TDX module owns while it runs. They never go back to the kernel by themselves: only
 * take_back_after_disable(), once TDH.SYS.DISABLE released every page given to the module and
 * caches were flushed on all CPUs (the module wrote them with its private KeyID), returns them as
 * a PageRun, which then frees itself. A run dropped without either call is abandoned to the module,
 * never freed.
 */
class ModuleOwnedRun {
public:
	ModuleOwnedRun() = default;
	ModuleOwnedRun(const ModuleOwnedRun &) = delete;
	ModuleOwnedRun &operator=(const ModuleOwnedRun &) = delete;
	ModuleOwnedRun(ModuleOwnedRun &&o) noexcept : run_(kstd::move(o.run_)) {}
	ModuleOwnedRun &operator=(ModuleOwnedRun &&o) noexcept
	{
		if (this != &o) {
			abandon_to_module();
			run_ = kstd::move(o.run_);
		}
		return *this;
	}
	~ModuleOwnedRun() { abandon_to_module(); }

	explicit operator bool() const { return bool(run_); }
	PhysAddr pa() const { return run_.pa(); }
	kstd::u64 pages() const { return run_.pages(); }
	kstd::u64 bytes() const { return run_.bytes(); }

	/* The module released the pages (SYS.DISABLE) and caches were flushed: the kernel's again. */
	PageRun take_back_after_disable()
	{
		page_ledger_take_back(run_.pages_);
		return kstd::move(run_);
	}

	/* The module keeps them for good (it could not be disabled). Returns the bytes given up. */
	kstd::u64 abandon_to_module()
	{
		if (!run_)
			return 0;
		kstd::u64 bytes = run_.bytes();
		page_ledger_abandon_given(run_.pages_);
		run_.va_ = nullptr;
		run_.pages_ = 0;
		return bytes;
	}

private:
	friend class PageRun;
	explicit ModuleOwnedRun(PageRun &&r) : run_(kstd::move(r)) { page_ledger_give(run_.pages_); }
	PageRun run_;
};

inline ModuleOwnedRun PageRun::give_to_module() { return ModuleOwnedRun(kstd::move(*this)); }

} // namespace tdx
