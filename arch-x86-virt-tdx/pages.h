/* SPDX-License-Identifier: GPL-2.0 */
/* PageRun: 2^order physically contiguous pages that free themselves. */
#pragma once

#include <kapi/kapi.h>
#include <kstd/addr.h>
#include <kstd/utility.h>

namespace tdx {

using kstd::PhysAddr;

class PageRun {
public:
	PageRun() = default;
	PageRun(const PageRun &) = delete;
	PageRun &operator=(const PageRun &) = delete;
	PageRun(PageRun &&o) noexcept : va_(kstd::exchange(o.va_, nullptr)), order_(o.order_) {}
	PageRun &operator=(PageRun &&o) noexcept
	{
		if (this != &o) {
			reset();
			va_ = kstd::exchange(o.va_, nullptr);
			order_ = o.order_;
		}
		return *this;
	}
	~PageRun() { reset(); }

	/* Zeroed pages covering at least bytes; an empty run when memory is short. */
	static PageRun alloc(kstd::u64 bytes)
	{
		PageRun r;
		r.order_ = kstd::page_order(bytes);
		r.va_ = kapi_alloc_pages(r.order_);
		return r;
	}

	explicit operator bool() const { return va_ != nullptr; }
	void *va() const { return va_; }
	PhysAddr pa() const { return PhysAddr(kapi_virt_to_phys(va_)); }
	kstd::u64 bytes() const { return va_ ? kstd::kPageSize << order_ : 0; }

	/*
	 * The TDX module may still use these pages (it could not be disabled): they can never go back
	 * to the kernel. Returns the bytes given up.
	 */
	kstd::u64 abandon_to_module() { return va_ ? (kstd::exchange(va_, nullptr), kstd::kPageSize << order_) : 0; }

	void reset()
	{
		if (va_)
			kapi_free_pages(kstd::exchange(va_, nullptr), order_);
	}

private:
	void *va_ = nullptr;
	unsigned order_ = 0;
};

} // namespace tdx
