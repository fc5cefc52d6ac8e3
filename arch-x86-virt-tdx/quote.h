/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The quoting extension on the host side (ABI.md §8):
 * - QuoteBuffer: the quote buffer, allocated once at bring-up from MAX_QUOTE_SIZE, as single data
 *   pages described to the TDX module by an HPA linked list (include/tdx/abi/quote.h);
 * - Quoting: TDH.QUOTE.INIT at bring-up (TdxModule::init_quoting) and TDH.QUOTE.GET requests,
 *   serialized on the quote lock (one buffer).
 *
 * Locking: the quote lock (kapi_quote_lock, a sleeping mutex) guards Quoting's state and the
 * buffer. It nests inside the state lock (state lock -> quote lock, never the other way): a
 * quote request takes the state lock only to find the running module, takes the quote lock and
 * drops the state lock before the TDH.QUOTE.GET loop; teardown (under the state lock) takes the
 * quote lock before it disables the TDX module, so it waits for a request in progress and never
 * frees the buffer under it.
 *
 * A quoting failure (QUOTE.INIT, MAX_QUOTE_SIZE, the buffer, a QUOTE.GET the module fails or
 * answers with a length that cannot be right) disables quoting, logged once; TDX stays up. Only a
 * refusal of the request's input (quote_get_refusal: the TD is not one, or not one that can be
 * quoted, or its TDREPORT is not genuine) leaves it enabled.
 */
#pragma once

#include <kapi/kapi.h>
#include <kstd/bits.h>
#include <kstd/guard.h>
#include <tdx/abi/quote.h>
#include <tdx/abi/td.h>

#include "pages.h"
#include "seamcall.h"

namespace tdx {

namespace leaves {
inline constexpr Leaf kQuoteGet{abi::leaf::kQuoteGet};
inline constexpr Leaf kQuoteInit{abi::leaf::kQuoteInit};
} // namespace leaves

/* ---- the buffer's size and list (pure, for KUnit and host tests) ------------------------------ */

/*
 * MAX_QUOTE_SIZE is a u32 the module reports; a quote buffer larger than this (1 MiB, 256 data
 * pages: quotes are a few KiB) is refused rather than allocated.
 */
inline constexpr u64 kMaxQuoteSizeCap = 1ull << 20;

/* Data pages for a MAX_QUOTE_SIZE: ceil(size / 4096), at least one (it also holds the TDREPORT). */
constexpr u64 quote_buffer_pages(u64 max_quote_size)
{
	u64 pages = div_round_up(max_quote_size, kPageSize);
	return pages ? pages : 1;
}

/* Data pages for MAX_QUOTE_SIZE, or -E2BIG above kMaxQuoteSizeCap. */
inline Result<u64> quote_buffer_pages_checked(u64 max_quote_size)
{
	if (max_quote_size > kMaxQuoteSizeCap)
		return error(err::kE2BIG);
	return quote_buffer_pages(max_quote_size);
}

static_assert(quote_buffer_pages(0) == 1 && quote_buffer_pages(1) == 1 && quote_buffer_pages(4096) == 1);
static_assert(quote_buffer_pages(4097) == 2 && quote_buffer_pages(16384) == 4);
static_assert(quote_buffer_pages(kMaxQuoteSizeCap) == 256);
static_assert(quote_buffer_pages(abi::tdreport::kSize) == 1);

/*
 * Entry `entry` (0..511) of node `node` of the list for nr_data data pages, data page i at
 * data_pa(i) and node j at node_pa(j): entries 0..510 name data pages in buffer order, entry 511
 * the next node; ~0 where the list has nothing (after the last data page, and entry 511 of the
 * last node).
 */
template <class DataPa, class NodePa>
constexpr u64 quote_list_entry(u64 nr_data, u64 node, u32 entry, DataPa data_pa, NodePa node_pa)
{
	if (entry == abi::kQuoteListNextEntry)
		return node + 1 < abi::quote_list_nr_nodes(nr_data) ? node_pa(node + 1) : abi::kQuoteListEnd;
	u64 i = node * abi::kQuoteListDataPerNode + entry;
	return i < nr_data ? data_pa(i) : abi::kQuoteListEnd;
}

namespace detail {
constexpr u64 example_data_pa(u64 i) { return 0x100000 + i * kPageSize; }
constexpr u64 example_node_pa(u64 j) { return 0x900000 + j * kPageSize; }
constexpr u64 example_entry(u64 nr, u64 node, u32 entry)
{
	return quote_list_entry(nr, node, entry, example_data_pa, example_node_pa);
}
} // namespace detail
static_assert(detail::example_entry(1, 0, 0) == 0x100000 && detail::example_entry(1, 0, 1) == ~0ull);
static_assert(detail::example_entry(1, 0, 511) == ~0ull);
static_assert(detail::example_entry(512, 0, 510) == 0x100000 + 510 * 4096 && detail::example_entry(512, 0, 511) == 0x901000);
static_assert(detail::example_entry(512, 1, 0) == 0x100000 + 511 * 4096 && detail::example_entry(512, 1, 1) == ~0ull);

/* ---- the quote buffer ------------------------------------------------------------------------- */

/*
 * Data pages and list nodes, each a single page (the list is what lets the buffer be scattered:
 * no high-order allocation), zeroed, the list written once at allocation. The TDX module writes
 * the data pages only during TDH.QUOTE.GET; they stay the kernel's (PageRun) otherwise.
 */
class QuoteBuffer {
public:
	QuoteBuffer() = default;
	~QuoteBuffer() { reset(); }
	QuoteBuffer(const QuoteBuffer &) = delete;
	QuoteBuffer &operator=(const QuoteBuffer &) = delete;

	/* nr_data (> 0) data pages and their list; -EINVAL for 0, -ENOMEM with nothing kept. */
	Status alloc(u64 nr_data);

	explicit operator bool() const { return pages_ != nullptr; }
	u64 nr_data_pages() const { return nr_data_; }
	u64 nr_nodes() const { return nr_nodes_; }
	u64 nr_pages() const { return nr_data_ + nr_nodes_; }
	/* The buffer's length as QUOTE.GET's r11 gives it: data pages x 4096. */
	u64 bytes() const { return nr_data_ * kPageSize; }
	PhysAddr data_pa(u64 i) const { return pages_[i].pa(); }
	PhysAddr node_pa(u64 j) const { return pages_[nr_data_ + j].pa(); }
	PhysAddr head() const { return node_pa(0); }
	const u64 *node(u64 j) const { return static_cast<const u64 *>(pages_[nr_data_ + j].va()); }

	/* Copies len (<= one page) bytes into the first data page (QUOTE.GET's input). */
	void put_input(const void *src, u64 len);
	/* Copies the first len (<= bytes()) bytes of the buffer out. */
	void get_output(void *dst, u64 len) const;

	/* The TDX module may still write the pages (a QUOTE.GET never answered); returns the bytes. */
	u64 abandon_to_module();
	/* Frees every page. */
	void reset();

private:
	void write_list();

	PageRun *pages_ = nullptr; /* nr_data_ data pages, then nr_nodes_ list nodes */
	u64 nr_data_ = 0;
	u64 nr_nodes_ = 0;
};

/* ---- quoting ---------------------------------------------------------------------------------- */

/* What a failed TDH.QUOTE.GET refused of the caller's input, if anything. */
enum class QuoteGetRefusal {
	kNone,     /* nothing of the caller's: quoting itself failed */
	kTd,       /* the TDR page (not a TD) or the TD's state (not one that can be quoted) */
	kTdreport, /* the TDREPORT: not genuine, or not that TD's */
};

/* Classifies a failed TDH.QUOTE.GET (the statuses, and why: quote.cpp). Pure, for tests. */
QuoteGetRefusal quote_get_refusal(TdxStatus s);

/* The quote lock as a kstd::Guard policy. */
struct QuoteLockPolicy {
	void lock() { kapi_quote_lock(); }
	void unlock() { kapi_quote_unlock(); }
};
using QuoteGuard = kstd::Guard<QuoteLockPolicy>;
/* The one quote lock (stateless: the C glue owns the mutex). */
inline QuoteLockPolicy quote_lock;

class Quoting {
public:
	explicit Quoting(Seamcall &sc) : sc_(sc) {}
	Quoting(const Quoting &) = delete;
	Quoting &operator=(const Quoting &) = delete;

	/*
	 * Bring-up (QUOTE configured): TDH.QUOTE.INIT until done, MAX_QUOTE_SIZE, the buffer. Any
	 * failure disables quoting with one log line saying why and keeps nothing; the error is
	 * returned for tests, bring-up goes on. Takes the quote lock.
	 */
	Status start();
	/* Teardown, before the TDX module is disabled: waits for a request in progress, refuses new ones. */
	void stop();
	/* Teardown, after SYS.DISABLE (or once it cannot be): frees the buffer. */
	void release();

	/* Lock-free reads, for status queries (the quote lock serializes the changes). */
	bool enabled() const { return __atomic_load_n(&enabled_, __ATOMIC_ACQUIRE); }
	u32 max_quote_size() const { return enabled() ? __atomic_load_n(&max_quote_size_, __ATOMIC_RELAXED) : 0; }
	/* The buffer; the caller holds the quote lock. */
	const QuoteBuffer &buffer_locked() const { return buf_; }

	/*
	 * A quote for the TD at tdr_pa over its TDREPORT (report_len must be tdreport::kSize). The
	 * caller holds the quote lock. On success *out is a kapi_kvmalloc'ed copy of *out_len bytes
	 * the caller frees with kvfree. -ENODEV when quoting is not enabled; -EINVAL for a bad
	 * length, or when the module refuses the input (quote_get_refusal(): the TD at tdr_pa is not a
	 * TD or not one that can be quoted, or the TDREPORT is not genuine or not that TD's; quoting
	 * stays enabled); -EPROTO for a zero or oversized quote length and -EIO for any other failure
	 * (both disable quoting); -ENOMEM for the copy.
	 */
	Status generate_locked(u64 tdr_pa, const void *report, u32 report_len, void **out, u32 *out_len);

	/*
	 * Runtime update, inside the window (the caller holds the quote lock from before it): when
	 * quoting was enabled, TDH.QUOTE.INIT again until done (the new module re-keys) and its
	 * MAX_QUOTE_SIZE, both only recorded: nothing is logged or freed here. Never fails the update.
	 */
	void reinit_in_window();
	/* After the window, quote lock held: quoting goes on, or is disabled with the reason logged. */
	void after_update_locked();

private:
	TdxStatus tdh_quote_init(Leaf *failed, u64 *size);
	Status init_locked();
	Status tdh_quote_get(u64 tdr_pa, u32 report_len, u64 &quote_len);
	/* Quoting stops for good (until the next bring-up); the buffer goes (or stays, abandoned). */
	void disable_locked();

	Seamcall &sc_;
	QuoteBuffer buf_;
	bool enabled_ = false;
	u32 max_quote_size_ = 0;
	/* reinit_in_window()'s outcome: 0 or the failed call's status, and the new MAX_QUOTE_SIZE. */
	u64 reinit_status_ = 0;
	Leaf reinit_leaf_{abi::leaf::kQuoteInit};
	u64 reinit_size_ = 0;
	bool reinit_ran_ = false;
};

} // namespace tdx
