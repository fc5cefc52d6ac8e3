// SPDX-License-Identifier: GPL-2.0
/* The quote buffer and its HPA linked list, TDH.QUOTE.INIT and TDH.QUOTE.GET (see quote.h). */
#include "quote.h"

#include <kapi/kapi.h>
#include <kstd/new.h>
#include <tdx/abi/metadata.h>

#include "metadata.h"

namespace tdx {

namespace st = abi::status;

/* ---- QuoteBuffer ------------------------------------------------------------------------------ */

Status QuoteBuffer::alloc(u64 nr_data)
{
	reset();
	if (!nr_data)
		return error(err::kEINVAL);
	u64 nr_nodes = abi::quote_list_nr_nodes(nr_data);
	usize nr = usize(nr_data + nr_nodes);
	void *mem = kapi_kzalloc(nr * sizeof(PageRun));
	if (!mem)
		return error(err::kENOMEM);
	pages_ = static_cast<PageRun *>(mem);
	for (usize i = 0; i < nr; i++)
		new (&pages_[i]) PageRun();
	nr_data_ = nr_data;
	nr_nodes_ = nr_nodes;
	for (usize i = 0; i < nr; i++) {
		pages_[i] = PageRun::alloc(kPageSize);
		if (!pages_[i]) {
			reset();
			return error(err::kENOMEM);
		}
	}
	write_list();
	return Status::ok();
}

void QuoteBuffer::write_list()
{
	auto data_pa = [this](u64 i) { return this->data_pa(i).value(); };
	auto node_pa = [this](u64 j) { return this->node_pa(j).value(); };
	for (u64 j = 0; j < nr_nodes_; j++) {
		auto *entries = static_cast<u64 *>(pages_[nr_data_ + j].va());
		for (u32 k = 0; k < abi::kQuoteListEntries; k++)
			entries[k] = quote_list_entry(nr_data_, j, k, data_pa, node_pa);
	}
}

void QuoteBuffer::put_input(const void *src, u64 len)
{
	if (len > kPageSize)
		kapi_bug("quote input larger than a page");
	__builtin_memcpy(pages_[0].va(), src, len);
}

void QuoteBuffer::get_output(void *dst, u64 len) const
{
	if (len > bytes())
		kapi_bug("quote output larger than the buffer");
	auto *d = static_cast<u8 *>(dst);
	for (u64 i = 0; len; i++) {
		u64 n = len < kPageSize ? len : kPageSize;
		__builtin_memcpy(d, pages_[i].va(), n);
		d += n;
		len -= n;
	}
}

u64 QuoteBuffer::abandon_to_module()
{
	u64 bytes = 0;
	for (u64 i = 0; pages_ && i < nr_pages(); i++)
		bytes += pages_[i].abandon_to_module();
	reset();
	return bytes;
}

void QuoteBuffer::reset()
{
	if (!pages_)
		return;
	for (u64 i = 0; i < nr_pages(); i++)
		pages_[i].~PageRun();
	kapi_kfree(pages_);
	pages_ = nullptr;
	nr_data_ = 0;
	nr_nodes_ = 0;
}

/* ---- Quoting ---------------------------------------------------------------------------------- */

/*
 * TDH.QUOTE.GET checks the caller's input before it quotes: the TD first (as every TD leaf does,
 * the TDR page: a page address, in TDMR memory, of type TDR; then the TD: keys configured on every
 * package, its TDCS pages added, its measurement finalized, OP_STATE RUNNABLE), then the TDREPORT
 * (its MAC, and that its TDINFO is this TD's). Failing either is the caller's error (a page that
 * is no TD, a TD still being built or torn down, a forged report) and says nothing about
 * quoting. The operand id tells the TD (rcx) apart from what tdx_host gave: r8 is the first page
 * of our buffer, always an aligned page of RAM, so OPERAND_INVALID there is the report's content,
 * while ADDR_RANGE_ERROR or PAGE_METADATA_INCORRECT there (or on r10, the list) is our buffer's.
 * The TD state statuses have no register operand (OP_STATE_INCORRECT carries the TD's OP_STATE).
 * Any other status (quoting's own state or keys, our buffer or its list) is a quoting failure.
 */
QuoteGetRefusal quote_get_refusal(TdxStatus s)
{
	const bool rcx = s.operand() == abi::kOperandIdRcx;
	if (s.is(st::kOperandInvalid)) {
		if (rcx)
			return QuoteGetRefusal::kTd;
		return s.operand() == abi::kOperandIdR8 ? QuoteGetRefusal::kTdreport : QuoteGetRefusal::kNone;
	}
	if (s.is(st::kOperandAddrRangeError) || s.is(st::kPageMetadataIncorrect))
		return rcx ? QuoteGetRefusal::kTd : QuoteGetRefusal::kNone;
	if (s.is(st::kTdKeysNotConfigured) || s.is(st::kTdcsNotAllocated) || s.is(st::kOpStateIncorrect))
		return QuoteGetRefusal::kTd;
	return QuoteGetRefusal::kNone;
}

namespace {
/* A QUOTE.INIT or QUOTE.GET still interrupted after this many calls is a module not to trust. */
constexpr u32 kQuoteInitMaxCalls = 1u << 16;
constexpr u32 kQuoteGetMaxCalls = 1u << 16;

void log_disabled(Leaf leaf, TdxStatus s)
{
	kapi_log(KAPI_LOG_ERR, "quoting disabled: %s failed: %s (0x%016llx)\n", leaf_name(leaf), status_name(s),
		 (unsigned long long)s.raw());
}
} // namespace

Status Quoting::start()
{
	QuoteGuard g(quote_lock);
	/* Again (a bring-up driven step by step repeats it): quoting is off until this one succeeds. */
	__atomic_store_n(&enabled_, false, __ATOMIC_RELEASE);
	Status s = init_locked();
	if (s.is_error())
		buf_.reset();
	return s;
}

/*
 * QUOTE.INIT works in chunks (TDX_INTERRUPTED_RESUMABLE until done); only then is MAX_QUOTE_SIZE
 * readable. Logs nothing and allocates nothing (the update window calls it too): the leaf that
 * failed and its status, or success and *size.
 */
TdxStatus Quoting::tdh_quote_init(Leaf *failed, u64 *size)
{
	RegBlock r{};
	*failed = leaves::kQuoteInit;
	TdxStatus s = sc_.call_resumable(leaves::kQuoteInit, r, /*retry_busy=*/false, kQuoteInitMaxCalls);
	if (!s.is_success())
		return s;
	*failed = leaves::kSysRd;
	r = RegBlock{};
	r.rdx = abi::field::kMaxQuoteSize;
	s = sc_.call(leaves::kSysRd, r);
	if (s.is_success())
		*size = metadata_decode(abi::field::kMaxQuoteSize, r.r8);
	return s;
}

/* Why tdh_quote_init() failed, in the one log line that disables quoting; its errno. */
static Status log_init_failure(Leaf failed, TdxStatus s)
{
	if (failed == leaves::kQuoteInit && s.is(st::kInterruptedResumable)) {
		kapi_log(KAPI_LOG_ERR, "quoting disabled: TDH.QUOTE.INIT did not finish in %u calls\n", kQuoteInitMaxCalls);
		return error(err::kEIO);
	}
	if (failed == leaves::kSysRd)
		kapi_log(KAPI_LOG_ERR, "quoting disabled: TDH.SYS.RD of MAX_QUOTE_SIZE failed: %s (0x%016llx)\n",
			 status_name(s), (unsigned long long)s.raw());
	else
		log_disabled(failed, s);
	return status_to_errno(s);
}

/* The buffer is sized from MAX_QUOTE_SIZE once for the module's life. */
Status Quoting::init_locked()
{
	Leaf failed = leaves::kQuoteInit;
	u64 size = 0;
	if (const TdxStatus s = tdh_quote_init(&failed, &size); !s.is_success())
		return log_init_failure(failed, s);
	Result<u64> pages = quote_buffer_pages_checked(size);
	if (pages.is_error()) {
		kapi_log(KAPI_LOG_ERR, "quoting disabled: MAX_QUOTE_SIZE %llu bytes is above the %llu bytes tdx_host allocates\n",
			 (unsigned long long)size, (unsigned long long)kMaxQuoteSizeCap);
		return pages.status();
	}
	Status a = buf_.alloc(pages.value());
	if (a.is_error()) {
		kapi_log(KAPI_LOG_ERR, "quoting disabled: no memory for the %llu-page quote buffer\n",
			 (unsigned long long)pages.value());
		return a;
	}
	__atomic_store_n(&max_quote_size_, u32(size), __ATOMIC_RELAXED);
	__atomic_store_n(&enabled_, true, __ATOMIC_RELEASE);
	kapi_log(KAPI_LOG_INFO, "quoting enabled: MAX_QUOTE_SIZE %llu bytes, buffer %llu pages in %llu list nodes\n",
		 (unsigned long long)size, (unsigned long long)buf_.nr_data_pages(), (unsigned long long)buf_.nr_nodes());
	return Status::ok();
}

void Quoting::stop()
{
	QuoteGuard g(quote_lock);
	__atomic_store_n(&enabled_, false, __ATOMIC_RELEASE);
}

void Quoting::release()
{
	QuoteGuard g(quote_lock);
	__atomic_store_n(&enabled_, false, __ATOMIC_RELEASE);
	buf_.reset();
}

void Quoting::reinit_in_window()
{
	reinit_ran_ = enabled();
	if (reinit_ran_)
		reinit_status_ = tdh_quote_init(&reinit_leaf_, &reinit_size_).raw();
}

void Quoting::after_update_locked()
{
	if (!reinit_ran_)
		return;
	reinit_ran_ = false;
	if (const TdxStatus s(reinit_status_); !s.is_success()) {
		(void)log_init_failure(reinit_leaf_, s);
		disable_locked();
		return;
	}
	/* The buffer was sized at bring-up and nothing may be allocated in the window: it must do. */
	if (reinit_size_ > buf_.bytes()) {
		kapi_log(KAPI_LOG_ERR,
			 "quoting disabled: the updated module's MAX_QUOTE_SIZE %llu bytes is above the %llu-byte quote buffer of bring-up\n",
			 (unsigned long long)reinit_size_, (unsigned long long)buf_.bytes());
		disable_locked();
		return;
	}
	__atomic_store_n(&max_quote_size_, u32(reinit_size_), __ATOMIC_RELAXED);
	kapi_log(KAPI_LOG_INFO, "quoting re-keyed by the updated module (MAX_QUOTE_SIZE %llu bytes)\n",
		 (unsigned long long)reinit_size_);
}

void Quoting::disable_locked()
{
	__atomic_store_n(&enabled_, false, __ATOMIC_RELEASE);
	if (!sc_.dead()) {
		buf_.reset();
		return;
	}
	/* The call never answered: the module (the emulator) may still write the buffer. */
	u64 lost = buf_.abandon_to_module();
	kapi_log(KAPI_LOG_ERR, "%llu KiB of quote buffer stay with the TDX module\n", (unsigned long long)(lost >> 10));
}

Status Quoting::generate_locked(u64 tdr_pa, const void *report, u32 report_len, void **out, u32 *out_len)
{
	if (!enabled_)
		return error(err::kENODEV);
	if (report_len != abi::tdreport::kSize || !report || !out || !out_len)
		return error(err::kEINVAL);
	buf_.put_input(report, report_len);
	u64 len = 0;
	TRY(tdh_quote_get(tdr_pa, report_len, len));
	void *copy = kapi_kvmalloc(len);
	if (!copy)
		return error(err::kENOMEM);
	buf_.get_output(copy, len);
	*out = copy;
	*out_len = u32(len);
	return Status::ok();
}

/*
 * One request to completion. The module works on it in chunks and answers
 * TDX_INTERRUPTED_RESUMABLE until the quote is written: each call re-issues the same input
 * registers (ABI.md §8; Seamcall::call_resumable would re-issue what the module handed back).
 * A busy answer (the module's global or quoting lock, or the TD, held by another CPU's SEAMCALL
 * for a moment) is retried the same way rather than taken for a quoting failure.
 */
Status Quoting::tdh_quote_get(u64 tdr_pa, u32 report_len, u64 &quote_len)
{
	RegBlock in{};
	in.rcx = tdr_pa;
	in.rdx = abi::quote_get_rdx(abi::kQuoteIdDefault);
	in.r8 = buf_.data_pa(0).value(); /* the TDREPORT, in the first data page */
	in.r9 = report_len;
	in.r10 = buf_.head().value();
	in.r11 = buf_.bytes();
	RegBlock r;
	TdxStatus s;
	for (u32 n = 1;; n++) {
		kapi_cond_resched_if_may_sleep();
		r = in;
		s = sc_.call(leaves::kQuoteGet, r);
		bool again = s.is(st::kInterruptedResumable) || s.is(st::kSysBusy) || s.is(st::kOperandBusy);
		if (!again || n == kQuoteGetMaxCalls)
			break;
	}
	if (s.is_success()) {
		if (r.rcx && r.rcx <= buf_.bytes()) {
			quote_len = r.rcx;
			return Status::ok();
		}
		kapi_log(KAPI_LOG_ERR, "quoting disabled: TDH.QUOTE.GET returned a quote of %llu bytes for a buffer of %llu\n",
			 (unsigned long long)r.rcx, (unsigned long long)buf_.bytes());
		disable_locked();
		return error(err::kEPROTO);
	}
	/* The module refused the caller's TD or TDREPORT: the caller's error. Quoting still works. */
	if (QuoteGetRefusal why = quote_get_refusal(s); why != QuoteGetRefusal::kNone) {
		kapi_log(KAPI_LOG_DEBUG, "TDH.QUOTE.GET refused the %s: %s (0x%016llx)\n",
			 why == QuoteGetRefusal::kTd ? "TD" : "TDREPORT", status_name(s), (unsigned long long)s.raw());
		return error(err::kEINVAL);
	}
	if (s.is(st::kInterruptedResumable) || s.is(st::kSysBusy) || s.is(st::kOperandBusy))
		kapi_log(KAPI_LOG_ERR, "quoting disabled: TDH.QUOTE.GET did not finish in %u calls (last %s)\n",
			 kQuoteGetMaxCalls, status_name(s));
	else
		log_disabled(leaves::kQuoteGet, s);
	disable_locked();
	return error(err::kEIO);
}

} // namespace tdx
