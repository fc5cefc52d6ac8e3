// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_gq_harness.ko: the KVM integration of kvm_tdx_quote.ko for tests (test build only; never
 * part of what users install). It plays KVM for the TD harness's simulated TDs: each attached TD
 * gets guest memory (kernel pages at chosen GPAs, shared or private), the ops kvm_tdx_quote.ko
 * reads and writes that memory through, and vCPUs that issue TDG.VP.VMCALL<GetQuote> and
 * <SetupEventNotifyInterrupt> with whatever registers a test chooses (include/tdx/kvm_tdx_quote.h;
 * ABI.md §9). TDREPORTs come from the emulator-only service, as in tdx_td_harness.ko.
 *
 * Driven from debugfs, /sys/kernel/debug/tdx_gq_harness/:
 *   ctl     write one command:
 *             attach ID [shared_bit=N]         kvm_tdx_quote_td_create for tdx_td_harness's TD ID
 *                                              (finalized; lent until detach), shared bit N
 *                                              (default 47): "ok td=ID handle=H path=kernel|user"
 *             detach ID                        waits for the TD's commands and storm threads,
 *                                              then kvm_tdx_quote_td_destroy; frees its memory
 *             mem ID GPA NPAGES shared|private guest memory: NPAGES zeroed pages at GPA (page
 *                                              aligned, below the shared bit). Over pages that
 *                                              are all backed already it converts them instead
 *                                              (contents kept); a range that is partly backed is
 *                                              refused
 *             prep ID GPA RD [version=V] [in_len=N] [out_len=N] [status=S] [noreport]
 *                                              a request at GPA (shared bit stripped): the header
 *                                              (default version 1, status 0, in_len 1024,
 *                                              out_len 0) and, unless noreport, the TD's fresh
 *                                              TDREPORT with REPORTDATA RD (128 hex digits) at
 *                                              GPA + 24
 *             gq ID R12 R13 [nowait]           TDG.VP.VMCALL<GetQuote> with these r12, r13 (hex or
 *                                              decimal, the shared bit as given). Unless nowait,
 *                                              when r10 is SUCCESS and the header's status reads
 *                                              IN_FLIGHT, waits until it does not (woken by the
 *                                              TD's memory writes and interrupts; at most wait_ms,
 *                                              then the result ends in "inflight"):
 *                                              "ok ret=R10 status=S in_len=N out_len=N irqs=N"
 *                                              (status=none when the header cannot be read; irqs:
 *                                              notify interrupts raised on the TD so far)
 *             wait ID GPA                      waits as gq does for the request at GPA (e.g.
 *                                              one a "gq ... nowait" left in flight): its result
 *                                              without "ret=", "quote" and "buf" as gq
 *             peek ID GPA                      the header at GPA: "ok version=V status=S
 *                                              in_len=N out_len=N"
 *             notify ID VECTOR                 TDG.VP.VMCALL<SetupEventNotifyInterrupt>(r12 =
 *                                              VECTOR): "ok ret=R10"
 *             vmcall ID SUBFN R12 R13          any TDG.VP.VMCALL (r11 = SUBFN): "ok ret=R10"
 *             storm ID N RD [size=BYTES]       N vCPU threads at once, each with a fresh shared
 *                                              buffer (default 2 pages, at GPAs above the TD's
 *                                              memory with an unbacked page after each) and
 *                                              REPORTDATA RD with its index (big endian) in the
 *                                              last 2 bytes: prep, then gq (waiting as above).
 *                                              Returns at once: "ok storm td=ID n=N gpa=FIRST"
 *             stormwait ID                     waits for that storm: "ok n=N success=K
 *                                              inflight=I errors=E irqs=N rets=R,...
 *                                              statuses=S,..."
 *                                              (success: r10 and status SUCCESS, a quote read)
 *             stormquote ID I                  request I's quote into "quote":
 *                                              "ok rd=RD status=S out_len=N ret=R10"
 *             info ID                          "ok td=ID handle=H path=.. pages=N shared=N irqs=N
 *                                              private_io=N vectors=V:COUNT,..." (private_io: ops
 *                                              reads and writes that touched a private page,
 *                                              which kvm_tdx_quote.ko must never do)
 *             bench ID N GPA [size=BYTES]      N GetQuotes in a row on the buffer at GPA, each
 *                                              timed until its status is final (make bench):
 *                                              "ok bench ... n=N success=K min_ns=.. p50_ns=..
 *                                              p90_ns=.. p99_ns=.. max_ns=.."
 *   result  the last command's outcome, one line: "ok ..." or "error ERRNO what"
 *   quote   the quote of the last gq (out_len bytes at GPA + 24 when status is SUCCESS; empty
 *           otherwise) or of the last stormquote
 *   buf     the page at the last gq's r12 (shared bit stripped), as it was after the call
 * IDs are tdx_td_harness's (1..16). Commands on different TDs, and on one TD, run concurrently:
 * no lock is held across a TDVMCALL. With concurrent writers, "result" is the last one's.
 * Unloading stops everything: storm threads end (their waits cut short), then every TD detaches.
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/hex.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <tdx/host_api.h>
#include <tdx/kvm_tdx_quote.h>
#include <uapi/linux/kvm_tdx_quote.h>

#include "td_harness.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KVM integration of kvm_tdx_quote for the TD harness's TDs (test build only)");
TDX_IMPORT_HOST();
TDX_IMPORT_KVM_QUOTE();

static unsigned int wait_ms = 60000;
module_param(wait_ms, uint, 0644);
MODULE_PARM_DESC(wait_ms, "How long gq waits for a request's status to leave IN_FLIGHT (ms)");

#define GQ_MAX_TDS 16
#define GQ_MAX_ARGS 12
#define GQ_MAX_MEM_PAGES 4096      /* one mem command */
#define GQ_MAX_TD_PAGES 32768      /* one TD */
#define GQ_MAX_STORM 64
#define GQ_MAX_STORM_PAGES 16
#define GQ_STORM_PAGES 2
#define GQ_STORM_BASE 0x100000ull  /* the first storm buffer of a TD without memory */
#define GQ_RESULT_SIZE 4096

/* include/tdx/abi/getquote.h, include/tdx/emu/service.h, restated for C. */
#define GQ_HDR_SIZE 24
#define GQ_VERSION 1
#define EMU_SERVICE_TD_REPORT ((1ull << 62) | 1)
#define REPORT_BYTES 1024
#define REPORTDATA_BYTES 64

static_assert(sizeof(struct kvm_tdx_quote_header) == GQ_HDR_SIZE);

/* A page of guest memory is shared when it carries this mark; an unmarked page is private. */
#define GQ_SHARED XA_MARK_0

struct gq_storm;

/* One attached TD. Its memory and ops live from attach until detach's kvm_tdx_quote_td_destroy. */
struct gq_td {
	unsigned int id;
	u64 tdr_pa;             /* lent by tdx_td_harness until detach */
	u64 shared_mask;
	struct kvm_tdx_quote_td *qtd;
	bool dying;             /* detach began: no new commands; waits end (under gq_lock) */
	bool detaching;         /* a detach is running (under gq_lock) */
	atomic_t users;         /* commands in progress on this TD */
	struct xarray mem;      /* GFN -> struct page *, GQ_SHARED on shared pages */
	struct mutex mem_lock;  /* serializes changes to mem (ops only read it) */
	unsigned long pages;
	unsigned long top_gfn;  /* above every backed page */
	wait_queue_head_t wq;   /* woken by the ops' writes and injects, and by detach */
	atomic64_t irqs;
	atomic_t vector_irqs[256];
	atomic64_t private_io;
	struct mutex storm_lock; /* storm, and the storm's results while they are read */
	struct gq_storm *storm;
};

/* What one GetQuote came to. */
struct gq_outcome {
	int err;                /* the harness's own failure (interrupted, no memory), else 0 */
	u64 ret;                /* r10 */
	bool has_header;
	struct kvm_tdx_quote_header hdr;
	bool inflight;          /* the wait ran out with the status still IN_FLIGHT */
	void *quote;            /* kvmalloc'ed, status SUCCESS only */
	u32 quote_len;
};

/* One request of a storm: a vCPU thread of its own. */
struct gq_req {
	struct gq_td *td;
	u64 gpa;
	u64 size;
	u8 rd[REPORTDATA_BYTES];
	struct gq_outcome out;
	struct completion done; /* the thread ended (consumed by the first wait) */
	bool reaped;            /* done was consumed: out is final (under the TD's storm_lock) */
};

struct gq_storm {
	unsigned int n;
	struct gq_req reqs[] __counted_by(n);
};

static DEFINE_MUTEX(gq_lock);            /* tds[] and each TD's dying/detaching */
static struct gq_td *tds[GQ_MAX_TDS + 1];
static DECLARE_WAIT_QUEUE_HEAD(gq_users_wq); /* a TD's users dropped to 0 */

static DEFINE_MUTEX(out_lock);           /* what the debugfs files show */
static char *result;
static void *last_quote;
static u32 last_quote_len;
static u8 *last_buf;
static size_t last_buf_len;
static struct dentry *dir;

static void set_result(const char *fmt, ...) __printf(1, 2);
static void set_result(const char *fmt, ...)
{
	va_list ap;

	mutex_lock(&out_lock);
	va_start(ap, fmt);
	vscnprintf(result, GQ_RESULT_SIZE, fmt, ap);
	va_end(ap);
	mutex_unlock(&out_lock);
}

static int fail(int err, const char *fmt, ...) __printf(2, 3);
static int fail(int err, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	set_result("error %d %pV\n", err, &vaf);
	va_end(ap);
	return err;
}

/* Takes ownership of quote (kvfree'd when replaced). */
static void set_quote(void *quote, u32 len)
{
	mutex_lock(&out_lock);
	kvfree(last_quote);
	last_quote = quote;
	last_quote_len = quote ? len : 0;
	mutex_unlock(&out_lock);
}

/* ---- guest memory ---- */

static bool gq_shared(struct gq_td *td, unsigned long gfn)
{
	return xa_get_mark(&td->mem, gfn, GQ_SHARED);
}

/* The GFNs of [gpa, gpa + len), len > 0: false on a wrap. */
static bool gq_gfns(u64 gpa, u64 len, unsigned long *first, unsigned long *last)
{
	u64 end;

	if (!len || check_add_overflow(gpa, len - 1, &end))
		return false;
	*first = gpa >> PAGE_SHIFT;
	*last = end >> PAGE_SHIFT;
	return true;
}

/*
 * Copies between buf and the TD's memory; -EFAULT, with nothing copied, when any page is not
 * backed. Pages are only freed after kvm_tdx_quote_td_destroy(), so a page looked up stays.
 */
static int gq_copy(struct gq_td *td, u64 gpa, void *buf, u64 len, bool to_guest)
{
	unsigned long gfn, first, last;

	if (!len)
		return 0;
	if (!gq_gfns(gpa, len, &first, &last))
		return -EFAULT;
	for (gfn = first; gfn <= last; gfn++)
		if (!xa_load(&td->mem, gfn))
			return -EFAULT;
	while (len) {
		struct page *page = xa_load(&td->mem, gpa >> PAGE_SHIFT);
		u64 off = offset_in_page(gpa);
		u64 n = min_t(u64, len, PAGE_SIZE - off);
		u8 *p = page_address(page) + off;

		if (to_guest)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		buf += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* ops read and write only touch ranges range_shared() accepted: count any private page they do. */
static void gq_count_private_io(struct gq_td *td, u64 gpa, u64 len)
{
	unsigned long gfn, first, last;

	if (!gq_gfns(gpa, len, &first, &last))
		return;
	for (gfn = first; gfn <= last; gfn++) {
		if (!gq_shared(td, gfn)) {
			atomic64_inc(&td->private_io);
			pr_warn_ratelimited("tdx_gq_harness: TD %u: memory access at 0x%llx touches a private page\n",
					    td->id, gpa);
			return;
		}
	}
}

static int gq_op_read(void *priv, u64 gpa, void *buf, u64 len)
{
	struct gq_td *td = priv;
	int ret;

	gq_count_private_io(td, gpa, len);
	ret = gq_copy(td, gpa, buf, len, false);
	smp_rmb(); /* later reads see what the writer stored before this */
	return ret;
}

static int gq_op_write(void *priv, u64 gpa, const void *buf, u64 len)
{
	struct gq_td *td = priv;
	int ret;

	gq_count_private_io(td, gpa, len);
	ret = gq_copy(td, gpa, (void *)buf, len, true);
	smp_wmb(); /* the quote and out_len land before a later write's status */
	wake_up_all(&td->wq);
	return ret;
}

static bool gq_op_range_shared(void *priv, u64 gpa, u64 len)
{
	struct gq_td *td = priv;
	unsigned long gfn, first, last;

	if (!gq_gfns(gpa, len, &first, &last))
		return false;
	for (gfn = first; gfn <= last; gfn++)
		if (!gq_shared(td, gfn))
			return false;
	return true;
}

static void gq_op_inject(void *priv, u8 vector)
{
	struct gq_td *td = priv;

	atomic_inc(&td->vector_irqs[vector]);
	atomic64_inc(&td->irqs);
	wake_up_all(&td->wq);
}

static const struct kvm_tdx_quote_td_ops gq_ops = {
	.read = gq_op_read,
	.write = gq_op_write,
	.range_shared = gq_op_range_shared,
	.inject = gq_op_inject,
};

/* Under mem_lock: npages new zeroed pages at gfn0 (none of them backed yet). */
static int gq_mem_add(struct gq_td *td, unsigned long gfn0, unsigned long npages, bool shared)
{
	unsigned long i;
	int ret = 0;

	if (td->pages + npages > GQ_MAX_TD_PAGES)
		return -ENOSPC;
	for (i = 0; i < npages && !ret; i++) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);

		if (!page) {
			ret = -ENOMEM;
			break;
		}
		/* Stored unmarked (private): a shared page is seen as shared only once marked. */
		ret = xa_err(xa_store(&td->mem, gfn0 + i, page, GFP_KERNEL));
		if (ret)
			__free_page(page);
		else if (shared)
			xa_set_mark(&td->mem, gfn0 + i, GQ_SHARED);
	}
	if (ret) {
		while (i--) {
			struct page *page = xa_erase(&td->mem, gfn0 + i);

			if (page)
				__free_page(page);
		}
		return ret;
	}
	td->pages += npages;
	td->top_gfn = max(td->top_gfn, gfn0 + npages);
	return 0;
}

static int gq_mem(struct gq_td *td, u64 gpa, u64 npages, bool shared)
{
	unsigned long gfn0 = gpa >> PAGE_SHIFT, i, backed = 0;
	int ret = 0;

	if (!PAGE_ALIGNED(gpa) || npages < 1 || npages > GQ_MAX_MEM_PAGES ||
	    gpa >= td->shared_mask || npages > (td->shared_mask - gpa) >> PAGE_SHIFT)
		return fail(-EINVAL, "mem: a page-aligned GPA, 1..%d pages below the shared bit",
			    GQ_MAX_MEM_PAGES);
	mutex_lock(&td->mem_lock);
	for (i = 0; i < npages; i++)
		backed += !!xa_load(&td->mem, gfn0 + i);
	if (backed == npages) {
		for (i = 0; i < npages; i++) {
			if (shared)
				xa_set_mark(&td->mem, gfn0 + i, GQ_SHARED);
			else
				xa_clear_mark(&td->mem, gfn0 + i, GQ_SHARED);
		}
		set_result("ok converted td=%u gpa=0x%llx pages=%llu %s\n", td->id, gpa, npages,
			   shared ? "shared" : "private");
	} else if (backed) {
		ret = fail(-EINVAL, "[0x%llx, +%llu pages) is partly backed (%lu pages)", gpa,
			   npages, backed);
	} else {
		ret = gq_mem_add(td, gfn0, npages, shared);
		if (ret)
			fail(ret, "mem: %llu pages for TD %u", npages, td->id);
		else
			set_result("ok mem td=%u gpa=0x%llx pages=%llu %s\n", td->id, gpa, npages,
				   shared ? "shared" : "private");
	}
	mutex_unlock(&td->mem_lock);
	return ret;
}

static void gq_mem_free(struct gq_td *td)
{
	unsigned long gfn;
	struct page *page;

	xa_for_each(&td->mem, gfn, page)
		__free_page(page);
	xa_destroy(&td->mem);
}

/* ---- requests ---- */

/* The TD's TDREPORT with this REPORTDATA, through the emulator-only service. */
static int gq_tdreport(struct gq_td *td, const u8 *rd, u8 *report)
{
	struct page *in = alloc_page(GFP_KERNEL | __GFP_ZERO);
	struct page *out = alloc_page(GFP_KERNEL | __GFP_ZERO);
	u64 st = 0;
	int ret = 0;

	if (!in || !out) {
		ret = -ENOMEM;
	} else {
		memcpy(page_address(in), rd, REPORTDATA_BYTES);
		st = tdx_host_test_emu_service(EMU_SERVICE_TD_REPORT, td->tdr_pa, page_to_phys(in),
					       page_to_phys(out));
		if (st)
			ret = -EIO;
		else
			memcpy(report, page_address(out), REPORT_BYTES);
	}
	if (in)
		__free_page(in);
	if (out)
		__free_page(out);
	if (st)
		pr_info("tdx_gq_harness: TD %u: TDREPORT service: 0x%016llx\n", td->id, st);
	return ret;
}

/* A request at gpa (shared bit stripped): the header, then (unless !rd) the TDREPORT. */
static int gq_prep(struct gq_td *td, u64 gpa, const struct kvm_tdx_quote_header *hdr, const u8 *rd)
{
	u32 len = rd ? GQ_HDR_SIZE + REPORT_BYTES : GQ_HDR_SIZE;
	u8 *req = kzalloc(GQ_HDR_SIZE + REPORT_BYTES, GFP_KERNEL);
	int ret = 0;

	if (!req)
		return -ENOMEM;
	memcpy(req, hdr, GQ_HDR_SIZE);
	if (rd)
		ret = gq_tdreport(td, rd, req + GQ_HDR_SIZE);
	if (!ret)
		ret = gq_copy(td, gpa & ~td->shared_mask, req, len, true);
	kfree(req);
	return ret;
}

static bool gq_read_header(struct gq_td *td, u64 gpa, struct kvm_tdx_quote_header *hdr)
{
	bool ok = !gq_copy(td, gpa, hdr, GQ_HDR_SIZE, false);

	smp_rmb(); /* out_len and the quote are read after the status */
	return ok;
}

static bool gq_settled(struct gq_td *td, u64 gpa)
{
	struct kvm_tdx_quote_header hdr;

	return READ_ONCE(td->dying) || !gq_read_header(td, gpa, &hdr) ||
	       hdr.status != KVM_TDX_QUOTE_STATUS_IN_FLIGHT;
}

/*
 * The buffer at gpa: with wait, once its status leaves IN_FLIGHT (at most wait_ms, a fatal signal,
 * or the TD's detach); its header, and the quote when the status is SUCCESS.
 */
static void gq_collect(struct gq_td *td, u64 gpa, bool wait, struct gq_outcome *o)
{
	if (wait && wait_event_killable_timeout(td->wq, gq_settled(td, gpa),
						msecs_to_jiffies(READ_ONCE(wait_ms))) < 0)
		o->err = -EINTR;
	o->has_header = gq_read_header(td, gpa, &o->hdr);
	if (!o->has_header)
		return;
	o->inflight = o->hdr.status == KVM_TDX_QUOTE_STATUS_IN_FLIGHT;
	if (o->hdr.status != KVM_TDX_QUOTE_STATUS_SUCCESS || !o->hdr.out_len ||
	    o->hdr.out_len > KVM_TDX_QUOTE_MEM_MAX)
		return;
	o->quote = kvmalloc(o->hdr.out_len, GFP_KERNEL);
	if (!o->quote) {
		o->err = -ENOMEM;
		return;
	}
	if (gq_copy(td, gpa + GQ_HDR_SIZE, o->quote, o->hdr.out_len, false)) {
		kvfree(o->quote);
		o->quote = NULL;
		return;
	}
	o->quote_len = o->hdr.out_len;
}

/* The vCPU's TDG.VP.VMCALL<GetQuote>(r12, r13), then the buffer (waited for on SUCCESS). */
static void gq_getquote(struct gq_td *td, u64 r12, u64 r13, bool wait, struct gq_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->ret = kvm_tdx_quote_tdvmcall(td->qtd, KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE, r12, r13);
	gq_collect(td, r12 & ~td->shared_mask, wait && o->ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS, o);
}

/* ---- TDs ---- */

static const char *gq_path(struct gq_td *td)
{
	return kvm_tdx_quote_td_in_kernel(td->qtd) ? "kernel" : "user";
}

/* A reference on attached TD id for one command; NULL (result set) when there is none. */
static struct gq_td *gq_td_get(unsigned int id)
{
	struct gq_td *td = NULL;

	mutex_lock(&gq_lock);
	if (id >= 1 && id <= GQ_MAX_TDS)
		td = tds[id];
	if (td && !td->dying)
		atomic_inc(&td->users);
	else
		td = NULL;
	mutex_unlock(&gq_lock);
	if (!td)
		fail(-ENOENT, "TD %u is not attached", id);
	return td;
}

/* The wake-up is on a static queue: detach may free td as soon as users reads 0. */
static void gq_td_put(struct gq_td *td)
{
	if (atomic_dec_and_test(&td->users))
		wake_up_all(&gq_users_wq);
}

static int gq_attach(unsigned int id, unsigned int shared_bit)
{
	struct gq_td *td;
	int ret, i;

	if (id < 1 || id > GQ_MAX_TDS)
		return fail(-EINVAL, "TD id %u outside 1..%d", id, GQ_MAX_TDS);
	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return fail(-ENOMEM, "no memory");
	td->id = id;
	xa_init(&td->mem);
	mutex_init(&td->mem_lock);
	mutex_init(&td->storm_lock);
	init_waitqueue_head(&td->wq);
	for (i = 0; i < ARRAY_SIZE(td->vector_irqs); i++)
		atomic_set(&td->vector_irqs[i], 0);

	mutex_lock(&gq_lock);
	if (tds[id]) {
		ret = fail(-EEXIST, "TD %u is attached already", id);
		goto free;
	}
	ret = tdx_td_harness_get_td(id, &td->tdr_pa);
	if (ret) {
		fail(ret, "tdx_td_harness has no finalized TD %u", id);
		goto free;
	}
	td->qtd = kvm_tdx_quote_td_create(&gq_ops, td, td->tdr_pa, shared_bit, &ret);
	if (!td->qtd) {
		tdx_td_harness_put_td(id);
		fail(ret, "kvm_tdx_quote_td_create (shared_bit %u)", shared_bit);
		goto free;
	}
	td->shared_mask = shared_bit < 64 ? BIT_ULL(shared_bit) : 0;
	tds[id] = td;
	mutex_unlock(&gq_lock);
	set_result("ok td=%u handle=%u path=%s\n", id, kvm_tdx_quote_td_handle(td->qtd),
		   gq_path(td));
	return 0;
free:
	mutex_unlock(&gq_lock);
	kfree(td);
	return ret;
}

static int gq_storm_wait(struct gq_storm *storm, bool killable);
static void gq_storm_free(struct gq_storm *storm);

/*
 * Ends TD id: no new commands, waits cut short; then, once its commands and storm threads are
 * done (killable when asked: the TD then stays detaching and a later detach goes on),
 * kvm_tdx_quote_td_destroy, and the memory freed.
 */
static int gq_detach(unsigned int id, bool killable)
{
	struct gq_td *td = NULL;
	int ret = 0;

	mutex_lock(&gq_lock);
	if (id >= 1 && id <= GQ_MAX_TDS)
		td = tds[id];
	if (!td)
		ret = fail(-ENOENT, "TD %u is not attached", id);
	else if (td->detaching)
		ret = fail(-EBUSY, "TD %u is being detached", id);
	else
		td->detaching = true;
	if (!ret)
		WRITE_ONCE(td->dying, true);
	mutex_unlock(&gq_lock);
	if (ret)
		return ret;

	wake_up_all(&td->wq);
	if (killable)
		ret = wait_event_killable(gq_users_wq, !atomic_read(&td->users));
	else
		wait_event(gq_users_wq, !atomic_read(&td->users));
	/* No command runs any more, so td->storm stays as it is. */
	if (!ret)
		ret = gq_storm_wait(td->storm, killable);
	if (ret) {
		mutex_lock(&gq_lock);
		td->detaching = false;
		mutex_unlock(&gq_lock);
		return fail(-EINTR, "detach of TD %u interrupted (it stays detaching)", id);
	}
	kvm_tdx_quote_td_destroy(td->qtd);
	gq_storm_free(td->storm);
	gq_mem_free(td);
	tdx_td_harness_put_td(id);
	mutex_lock(&gq_lock);
	tds[id] = NULL;
	mutex_unlock(&gq_lock);
	kfree(td);
	set_result("ok detached %u\n", id);
	return 0;
}

/* ---- storms ---- */

static int gq_storm_fn(void *arg)
{
	struct gq_req *req = arg;
	struct gq_td *td = req->td;
	struct kvm_tdx_quote_header hdr = { .version = GQ_VERSION, .in_len = REPORT_BYTES };

	req->out.err = gq_prep(td, req->gpa, &hdr, req->rd);
	if (!req->out.err)
		gq_getquote(td, req->gpa | td->shared_mask, req->size, true, &req->out);
	/* Signals the waiter and exits without returning into this module. */
	kthread_complete_and_exit(&req->done, 0);
}

/* Whether req's thread has ended; a wait consumes its completion, so the answer is kept. */
static bool gq_req_ended(struct gq_req *req)
{
	if (!req->reaped && try_wait_for_completion(&req->done))
		req->reaped = true;
	return req->reaped;
}

static int gq_storm_wait(struct gq_storm *storm, bool killable)
{
	unsigned int i;

	for (i = 0; storm && i < storm->n; i++) {
		struct gq_req *req = &storm->reqs[i];

		if (req->reaped)
			continue;
		if (!killable)
			wait_for_completion(&req->done);
		else if (wait_for_completion_killable(&req->done))
			return -EINTR;
		req->reaped = true;
	}
	return 0;
}

static bool gq_storm_running(struct gq_storm *storm)
{
	unsigned int i;

	for (i = 0; storm && i < storm->n; i++)
		if (!gq_req_ended(&storm->reqs[i]))
			return true;
	return false;
}

static void gq_storm_free(struct gq_storm *storm)
{
	unsigned int i;

	for (i = 0; storm && i < storm->n; i++)
		kvfree(storm->reqs[i].out.quote);
	kfree(storm);
}

/* Fresh shared buffers for every request, each followed by an unbacked page. */
static int gq_storm_buffers(struct gq_td *td, struct gq_storm *storm, u64 size)
{
	unsigned long npages = size >> PAGE_SHIFT, gfn;
	unsigned int i;
	int ret = 0;

	mutex_lock(&td->mem_lock);
	gfn = td->top_gfn ? td->top_gfn + 1 : GQ_STORM_BASE >> PAGE_SHIFT;
	if (((u64)gfn + storm->n * (npages + 1)) << PAGE_SHIFT > td->shared_mask)
		ret = -ENOSPC;
	for (i = 0; i < storm->n && !ret; i++) {
		ret = gq_mem_add(td, gfn, npages, true);
		storm->reqs[i].gpa = (u64)gfn << PAGE_SHIFT;
		storm->reqs[i].size = size;
		gfn += npages + 1;
	}
	mutex_unlock(&td->mem_lock);
	return ret;
}

static int gq_storm_start(struct gq_td *td, unsigned int n, const u8 *rd, u64 size)
{
	struct task_struct *threads[GQ_MAX_STORM];
	struct gq_storm *storm;
	unsigned int i, made;
	int ret;

	if (mutex_lock_killable(&td->storm_lock))
		return fail(-EINTR, "interrupted");
	if (gq_storm_running(td->storm)) {
		mutex_unlock(&td->storm_lock);
		return fail(-EBUSY, "a storm of TD %u is running", td->id);
	}
	storm = kzalloc(struct_size(storm, reqs, n), GFP_KERNEL);
	if (!storm) {
		mutex_unlock(&td->storm_lock);
		return fail(-ENOMEM, "no memory");
	}
	storm->n = n;
	for (i = 0; i < n; i++) {
		struct gq_req *req = &storm->reqs[i];

		req->td = td;
		memcpy(req->rd, rd, REPORTDATA_BYTES);
		req->rd[REPORTDATA_BYTES - 2] = i >> 8;
		req->rd[REPORTDATA_BYTES - 1] = i & 0xff;
		init_completion(&req->done);
	}
	ret = gq_storm_buffers(td, storm, size);
	if (ret) {
		fail(ret, "storm buffers for TD %u", td->id);
		goto out;
	}
	for (made = 0; made < n; made++) {
		threads[made] = kthread_create(gq_storm_fn, &storm->reqs[made], "gq_storm/%u:%u",
					       td->id, made);
		if (IS_ERR(threads[made])) {
			ret = PTR_ERR(threads[made]);
			break;
		}
	}
	if (ret) {
		/* None has run: kthread_stop() ends each before gq_storm_fn. */
		while (made--)
			kthread_stop(threads[made]);
		fail(ret, "storm threads for TD %u", td->id);
		goto out;
	}
	gq_storm_free(td->storm);
	td->storm = storm;
	storm = NULL;
	for (i = 0; i < n; i++)
		wake_up_process(threads[i]);
	set_result("ok storm td=%u n=%u gpa=0x%llx\n", td->id, n, td->storm->reqs[0].gpa);
out:
	mutex_unlock(&td->storm_lock);
	kfree(storm); /* its buffers stay the TD's memory */
	return ret;
}

static bool gq_success(const struct gq_outcome *o)
{
	return !o->err && o->ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS && o->has_header &&
	       o->hdr.status == KVM_TDX_QUOTE_STATUS_SUCCESS && o->quote;
}

static int gq_storm_summary(struct gq_td *td)
{
	struct gq_storm *storm;
	unsigned int i, success = 0, inflight = 0, errors = 0;
	char *rets, *statuses;
	size_t r = 0, s = 0;
	int ret;

	if (mutex_lock_killable(&td->storm_lock))
		return fail(-EINTR, "interrupted");
	storm = td->storm;
	if (!storm) {
		mutex_unlock(&td->storm_lock);
		return fail(-ENOENT, "TD %u has had no storm", td->id);
	}
	ret = gq_storm_wait(storm, true);
	if (ret) {
		mutex_unlock(&td->storm_lock);
		return fail(ret, "interrupted");
	}
	rets = kzalloc(GQ_RESULT_SIZE, GFP_KERNEL);
	statuses = kzalloc(GQ_RESULT_SIZE, GFP_KERNEL);
	if (!rets || !statuses) {
		mutex_unlock(&td->storm_lock);
		kfree(rets);
		kfree(statuses);
		return fail(-ENOMEM, "no memory");
	}
	for (i = 0; i < storm->n; i++) {
		const struct gq_outcome *o = &storm->reqs[i].out;
		const char *sep = i ? "," : "";

		success += gq_success(o);
		inflight += o->inflight;
		errors += !!o->err;
		r += scnprintf(rets + r, GQ_RESULT_SIZE - r, "%s0x%llx", sep, o->ret);
		if (o->has_header)
			s += scnprintf(statuses + s, GQ_RESULT_SIZE - s, "%s0x%llx", sep,
				       o->hdr.status);
		else
			s += scnprintf(statuses + s, GQ_RESULT_SIZE - s, "%snone", sep);
	}
	set_result("ok n=%u success=%u inflight=%u errors=%u irqs=%lld rets=%s statuses=%s\n",
		   storm->n, success, inflight, errors, atomic64_read(&td->irqs), rets, statuses);
	mutex_unlock(&td->storm_lock);
	kfree(rets);
	kfree(statuses);
	return 0;
}

static int gq_storm_quote(struct gq_td *td, unsigned int i)
{
	const struct gq_req *req;
	void *quote = NULL;
	int ret = 0;

	mutex_lock(&td->storm_lock);
	if (!td->storm || i >= td->storm->n) {
		ret = fail(-ENOENT, "TD %u's storm has no request %u", td->id, i);
	} else if (!gq_req_ended(&td->storm->reqs[i])) {
		ret = fail(-EBUSY, "request %u of TD %u is running", i, td->id);
	} else {
		req = &td->storm->reqs[i];
		if (req->out.quote) {
			quote = kvmemdup(req->out.quote, req->out.quote_len, GFP_KERNEL);
			if (!quote)
				ret = fail(-ENOMEM, "no memory");
		}
		if (!ret) {
			set_quote(quote, req->out.quote_len);
			set_result("ok rd=%*phN status=0x%llx out_len=%u ret=0x%llx\n",
				   REPORTDATA_BYTES, req->rd, req->out.hdr.status,
				   req->out.hdr.out_len, req->out.ret);
		}
	}
	mutex_unlock(&td->storm_lock);
	return ret;
}

/* ---- commands ---- */

/* A "key=number" token: 0 with *v set; else nonzero. */
static int opt_u64(const char *tok, const char *key, u64 *v)
{
	size_t n = strlen(key);

	if (strncmp(tok, key, n) || tok[n] != '=')
		return -ENOENT;
	return kstrtou64(tok + n + 1, 0, v);
}

static int parse_rd(const char *hex, u8 *rd)
{
	if (strlen(hex) != 2 * REPORTDATA_BYTES || hex2bin(rd, hex, REPORTDATA_BYTES))
		return fail(-EINVAL, "REPORTDATA must be %d hex digits", 2 * REPORTDATA_BYTES);
	return 0;
}

static int cmd_prep(struct gq_td *td, int argc, char **argv)
{
	static const char *const keys[] = { "version", "status", "in_len", "out_len" };
	u64 v[ARRAY_SIZE(keys)] = { GQ_VERSION, 0, REPORT_BYTES, 0 };
	struct kvm_tdx_quote_header hdr;
	u8 rd[REPORTDATA_BYTES];
	bool report = true;
	int i, k, ret;
	u64 gpa;

	if (argc < 4 || kstrtou64(argv[2], 0, &gpa))
		return fail(-EINVAL, "usage: prep ID GPA RD [version=V] [in_len=N] [out_len=N] %s",
			    "[status=S] [noreport]");
	ret = parse_rd(argv[3], rd);
	if (ret)
		return ret;
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "noreport")) {
			report = false;
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(keys); k++)
			if (!opt_u64(argv[i], keys[k], &v[k]))
				break;
		if (k == ARRAY_SIZE(keys))
			return fail(-EINVAL, "bad prep option '%s'", argv[i]);
	}
	if (v[2] > U32_MAX || v[3] > U32_MAX)
		return fail(-EINVAL, "in_len and out_len are u32");
	hdr.version = v[0];
	hdr.status = v[1];
	hdr.in_len = v[2];
	hdr.out_len = v[3];
	ret = gq_prep(td, gpa, &hdr, report ? rd : NULL);
	if (ret)
		return fail(ret, "prep at 0x%llx (memory not backed, or no TDREPORT)", gpa);
	set_result("ok prep td=%u gpa=0x%llx version=%llu status=0x%llx in_len=%u out_len=%u%s\n",
		   td->id, gpa & ~td->shared_mask, hdr.version, hdr.status, hdr.in_len, hdr.out_len,
		   report ? "" : " noreport");
	return 0;
}

/* An outcome into result (after ret_field: "ret=R10 " or ""), quote, and buf (gpa's page). */
static int gq_show(struct gq_td *td, u64 gpa, struct gq_outcome *o, const char *ret_field)
{
	u8 *page = kzalloc(PAGE_SIZE, GFP_KERNEL);
	int err = o->err ? o->err : page ? 0 : -ENOMEM;

	if (err) {
		kvfree(o->quote);
		kfree(page);
		return fail(err, "TD %u: %sinterrupted", td->id, ret_field);
	}
	mutex_lock(&out_lock);
	if (!gq_copy(td, gpa & PAGE_MASK, page, PAGE_SIZE, false)) {
		swap(page, last_buf);
		last_buf_len = PAGE_SIZE;
	} else {
		last_buf_len = 0;
	}
	mutex_unlock(&out_lock);
	kfree(page);
	set_quote(o->quote, o->quote_len);
	if (o->has_header)
		set_result("ok %sstatus=0x%llx in_len=%u out_len=%u irqs=%lld%s\n", ret_field,
			   o->hdr.status, o->hdr.in_len, o->hdr.out_len, atomic64_read(&td->irqs),
			   o->inflight ? " inflight" : "");
	else
		set_result("ok %sstatus=none in_len=0 out_len=0 irqs=%lld\n", ret_field,
			   atomic64_read(&td->irqs));
	return 0;
}

static int cmd_gq(struct gq_td *td, int argc, char **argv)
{
	struct gq_outcome o;
	char ret_field[32];
	bool wait = true;
	u64 r12, r13;

	if (argc == 5 && !strcmp(argv[4], "nowait"))
		wait = false;
	else if (argc != 4)
		return fail(-EINVAL, "usage: gq ID R12 R13 [nowait]");
	if (kstrtou64(argv[2], 0, &r12) || kstrtou64(argv[3], 0, &r13))
		return fail(-EINVAL, "R12 and R13 are numbers");
	gq_getquote(td, r12, r13, wait, &o);
	snprintf(ret_field, sizeof(ret_field), "ret=0x%llx ", o.ret);
	return gq_show(td, r12 & ~td->shared_mask, &o, ret_field);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * bench ID N GPA [size=BYTES]: N GetQuotes one after another on the buffer at GPA (for make bench),
 * each timed from the TDVMCALL until its status is final (the quote in the buffer); the request
 * (header and one TDREPORT, made once) is written back before each, outside the timing.
 */
static int cmd_bench(struct gq_td *td, int argc, char **argv)
{
	struct kvm_tdx_quote_header hdr = { GQ_VERSION, 0, REPORT_BYTES, 0 };
	u64 gpa, size = 2 * PAGE_SIZE, *ns;
	unsigned int n, i, ok = 0;
	u64 fail_ret = 0, fail_status = 0;
	struct gq_outcome o;
	u8 rd[REPORTDATA_BYTES];
	u8 *req;
	int ret = 0;

	if (argc < 4 || argc > 5 || kstrtouint(argv[2], 0, &n) || !n || n > 100000 ||
	    kstrtou64(argv[3], 0, &gpa) || (argc == 5 && opt_u64(argv[4], "size", &size)))
		return fail(-EINVAL, "usage: bench ID N GPA [size=BYTES]");
	gpa &= ~td->shared_mask;
	ns = kvmalloc_array(n, sizeof(*ns), GFP_KERNEL);
	req = kzalloc(GQ_HDR_SIZE + REPORT_BYTES, GFP_KERNEL);
	if (!ns || !req) {
		ret = -ENOMEM;
		goto out;
	}
	memset(rd, 0xbe, sizeof(rd));
	memcpy(req, &hdr, GQ_HDR_SIZE);
	ret = gq_tdreport(td, rd, req + GQ_HDR_SIZE);
	for (i = 0; !ret && i < n; i++) {
		u64 t0;

		ret = gq_copy(td, gpa, req, GQ_HDR_SIZE + REPORT_BYTES, true);
		if (ret)
			break;
		t0 = ktime_get_ns();
		gq_getquote(td, gpa | td->shared_mask, size, true, &o);
		ns[i] = ktime_get_ns() - t0;
		if (gq_success(&o)) {
			ok++;
		} else if (ok == i) { /* the first one that did not succeed */
			fail_ret = o.ret;
			fail_status = o.has_header ? o.hdr.status : 0;
		}
		kvfree(o.quote);
		if (o.err)
			ret = o.err;
		if (fatal_signal_pending(current))
			ret = -EINTR;
	}
	if (ret)
		goto out;
	sort(ns, n, sizeof(*ns), cmp_u64, NULL);
	set_result("ok bench td=%u path=%s n=%u success=%u min_ns=%llu p50_ns=%llu p90_ns=%llu p99_ns=%llu max_ns=%llu first_fail_ret=0x%llx first_fail_status=0x%llx\n",
		   td->id, gq_path(td), n, ok, ns[0], ns[n / 2], ns[(u64)n * 90 / 100],
		   ns[(u64)n * 99 / 100], ns[n - 1], fail_ret, fail_status);
out:
	kvfree(ns);
	kfree(req);
	return ret ? fail(ret, "bench on TD %u", td->id) : 0;
}

/* wait ID GPA: a request in flight at GPA, as gq waits for it. */
static int cmd_wait(struct gq_td *td, u64 gpa)
{
	struct gq_outcome o = {};

	gpa &= ~td->shared_mask;
	gq_collect(td, gpa, true, &o);
	return gq_show(td, gpa, &o, "");
}

static int cmd_peek(struct gq_td *td, u64 gpa)
{
	struct kvm_tdx_quote_header hdr;

	if (!gq_read_header(td, gpa & ~td->shared_mask, &hdr))
		return fail(-EFAULT, "TD %u: no header at 0x%llx", td->id, gpa);
	set_result("ok version=%llu status=0x%llx in_len=%u out_len=%u\n", hdr.version, hdr.status,
		   hdr.in_len, hdr.out_len);
	return 0;
}

static int cmd_storm(struct gq_td *td, int argc, char **argv)
{
	u8 rd[REPORTDATA_BYTES];
	u64 size = GQ_STORM_PAGES * PAGE_SIZE;
	unsigned int n;
	int ret;

	if (argc < 4 || argc > 5 || kstrtouint(argv[2], 0, &n) || n < 1 || n > GQ_MAX_STORM ||
	    (argc == 5 && opt_u64(argv[4], "size", &size)))
		return fail(-EINVAL, "usage: storm ID N(1..%d) RD [size=BYTES]", GQ_MAX_STORM);
	if (!size || !PAGE_ALIGNED(size) || size > GQ_MAX_STORM_PAGES * PAGE_SIZE)
		return fail(-EINVAL, "storm size: whole pages, at most %d", GQ_MAX_STORM_PAGES);
	ret = parse_rd(argv[3], rd);
	return ret ? ret : gq_storm_start(td, n, rd, size);
}

/* Any TDG.VP.VMCALL: r[0] = r11 (the sub-function), r12, r13. */
static int cmd_vmcall(struct gq_td *td, const u64 *r)
{
	set_result("ok ret=0x%llx\n", kvm_tdx_quote_tdvmcall(td->qtd, r[0], r[1], r[2]));
	return 0;
}

static int cmd_info(struct gq_td *td)
{
	char *vec = kzalloc(GQ_RESULT_SIZE, GFP_KERNEL);
	unsigned long shared = 0, gfn;
	struct page *page;
	size_t n = 0;
	int i;

	if (!vec)
		return fail(-ENOMEM, "no memory");
	for (i = 0; i < ARRAY_SIZE(td->vector_irqs); i++)
		if (atomic_read(&td->vector_irqs[i]))
			n += scnprintf(vec + n, GQ_RESULT_SIZE - n, "%s%d:%d", n ? "," : "", i,
				       atomic_read(&td->vector_irqs[i]));
	mutex_lock(&td->mem_lock);
	xa_for_each_marked(&td->mem, gfn, page, GQ_SHARED)
		shared++;
	set_result("ok td=%u handle=%u path=%s pages=%lu shared=%lu %s=%lld %s=%lld vectors=%s\n",
		   td->id, kvm_tdx_quote_td_handle(td->qtd), gq_path(td), td->pages, shared,
		   "irqs", atomic64_read(&td->irqs), "private_io", atomic64_read(&td->private_io),
		   n ? vec : "-");
	mutex_unlock(&td->mem_lock);
	kfree(vec);
	return 0;
}

/* Commands on an attached TD, with a reference on it. */
static int run_td_command(struct gq_td *td, int argc, char **argv)
{
	const char *verb = argv[0];
	u64 gpa, npages, r[3];
	unsigned int i;

	if (!strcmp(verb, "mem")) {
		if (argc != 5 || kstrtou64(argv[2], 0, &gpa) || kstrtou64(argv[3], 0, &npages) ||
		    (strcmp(argv[4], "shared") && strcmp(argv[4], "private")))
			return fail(-EINVAL, "usage: mem ID GPA NPAGES shared|private");
		return gq_mem(td, gpa, npages, !strcmp(argv[4], "shared"));
	}
	if (!strcmp(verb, "prep"))
		return cmd_prep(td, argc, argv);
	if (!strcmp(verb, "gq"))
		return cmd_gq(td, argc, argv);
	if (!strcmp(verb, "wait") || !strcmp(verb, "peek")) {
		if (argc != 3 || kstrtou64(argv[2], 0, &gpa))
			return fail(-EINVAL, "usage: %s ID GPA", verb);
		return verb[0] == 'w' ? cmd_wait(td, gpa) : cmd_peek(td, gpa);
	}
	if (!strcmp(verb, "notify")) {
		if (argc != 3 || kstrtou64(argv[2], 0, &r[1]))
			return fail(-EINVAL, "usage: notify ID VECTOR");
		r[0] = KVM_TDX_QUOTE_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
		r[2] = 0;
		return cmd_vmcall(td, r);
	}
	if (!strcmp(verb, "vmcall")) {
		if (argc != 5 || kstrtou64(argv[2], 0, &r[0]) || kstrtou64(argv[3], 0, &r[1]) ||
		    kstrtou64(argv[4], 0, &r[2]))
			return fail(-EINVAL, "usage: vmcall ID SUBFN R12 R13");
		return cmd_vmcall(td, r);
	}
	if (!strcmp(verb, "storm"))
		return cmd_storm(td, argc, argv);
	if (!strcmp(verb, "stormwait") && argc == 2)
		return gq_storm_summary(td);
	if (!strcmp(verb, "stormquote")) {
		if (argc != 3 || kstrtouint(argv[2], 0, &i))
			return fail(-EINVAL, "usage: stormquote ID I");
		return gq_storm_quote(td, i);
	}
	if (!strcmp(verb, "info") && argc == 2)
		return cmd_info(td);
	if (!strcmp(verb, "bench"))
		return cmd_bench(td, argc, argv);
	return fail(-EINVAL, "unknown command or arguments: '%s'", verb);
}

static int run_command(char *line)
{
	char *argv[GQ_MAX_ARGS], *tok;
	u64 shared_bit = 47;
	struct gq_td *td;
	unsigned int id;
	int argc = 0, ret;

	while ((tok = strsep(&line, " \t")) != NULL) {
		if (!*tok)
			continue;
		if (argc == GQ_MAX_ARGS)
			return fail(-E2BIG, "too many arguments");
		argv[argc++] = tok;
	}
	if (argc < 2 || kstrtouint(argv[1], 0, &id))
		return fail(-EINVAL, "usage: VERB ID ...");
	if (!strcmp(argv[0], "attach")) {
		if (argc > 3 || (argc == 3 && opt_u64(argv[2], "shared_bit", &shared_bit)) ||
		    shared_bit > UINT_MAX)
			return fail(-EINVAL, "usage: attach ID [shared_bit=N]");
		return gq_attach(id, shared_bit);
	}
	if (!strcmp(argv[0], "detach"))
		return argc == 2 ? gq_detach(id, true) : fail(-EINVAL, "usage: detach ID");
	td = gq_td_get(id);
	if (!td)
		return -ENOENT;
	ret = run_td_command(td, argc, argv);
	gq_td_put(td);
	return ret;
}

static ssize_t ctl_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char *buf;
	int ret;

	if (len == 0 || len > 1024)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = run_command(strim(buf));
	kfree(buf);
	return ret ? ret : len;
}

enum gq_file { GQ_RESULT, GQ_QUOTE, GQ_BUF };

static ssize_t out_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	enum gq_file which = (uintptr_t)file_inode(f)->i_private;
	ssize_t ret;

	mutex_lock(&out_lock);
	if (which == GQ_RESULT)
		ret = simple_read_from_buffer(ubuf, len, ppos, result, strlen(result));
	else if (which == GQ_QUOTE)
		ret = simple_read_from_buffer(ubuf, len, ppos, last_quote, last_quote_len);
	else
		ret = simple_read_from_buffer(ubuf, len, ppos, last_buf, last_buf_len);
	mutex_unlock(&out_lock);
	return ret;
}

static const struct file_operations ctl_fops = { .owner = THIS_MODULE, .write = ctl_write };
static const struct file_operations out_fops = { .owner = THIS_MODULE, .read = out_read };

static int __init gq_init(void)
{
	result = kzalloc(GQ_RESULT_SIZE, GFP_KERNEL);
	last_buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!result || !last_buf) {
		kfree(result);
		kfree(last_buf);
		return -ENOMEM;
	}
	dir = debugfs_create_dir("tdx_gq_harness", NULL);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	debugfs_create_file("result", 0400, dir, (void *)GQ_RESULT, &out_fops);
	debugfs_create_file("quote", 0400, dir, (void *)GQ_QUOTE, &out_fops);
	debugfs_create_file("buf", 0400, dir, (void *)GQ_BUF, &out_fops);
	set_result("ok ready\n");
	return 0;
}

static void __exit gq_exit(void)
{
	unsigned int id;

	/* An open file pins the module: no command runs now, only storm threads may. */
	debugfs_remove_recursive(dir);
	for (id = 1; id <= GQ_MAX_TDS; id++)
		if (tds[id])
			gq_detach(id, false);
	kvfree(last_quote);
	kfree(last_buf);
	kfree(result);
}

module_init(gq_init);
module_exit(gq_exit);
