// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_tdx_quote_kunit: the request validation of TDG.VP.VMCALL<GetQuote> (ABI.md section 9)
 * through kvm_tdx_quote.ko's exported entry, for a TD whose guest memory the test supplies:
 * eight kernel pages just below the TD's shared alias, some shared, some private, one mapped
 * shared without memory. Each case sees the TDVMCALL status and the header status the TD reads.
 *
 * Whether a TD's quotes are made in the kernel is decided at its creation from tdx_host's quoting
 * (and the module parameter in_kernel); the cases that go past the checks expect what either path
 * answers. Nothing may have /dev/kvm_tdx_quote open while the suite runs: with no VMM, the
 * userspace path ends a request at once instead of waiting for an answer.
 * Load tdx_host.ko and kvm_tdx_quote.ko first.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/types.h>

#include <kunit/test.h>

#include <tdx/kvm_tdx_quote.h>
#include <uapi/linux/kvm_tdx_quote.h>

#define GQ_ALIGN_ERROR		KVM_TDX_QUOTE_TDVMCALL_ALIGN_ERROR

#define GQ_PAGES		8
#define GQ_HEADER		24
#define GQ_OFF_STATUS		8
#define GQ_REPORT_LEN		16	/* a length tdx_host refuses: no quote is ever made here */
#define GQ_TD_STATUS		0x5555ULL	/* what the TD left in status before the call */


enum gq_page_kind { GQ_SHARED, GQ_PRIVATE, GQ_UNBACKED };

/* Page i of the TD's memory: a shared 2-page buffer, then private, shared, unbacked, ... */
static const enum gq_page_kind gq_layout[GQ_PAGES] = {
	GQ_SHARED, GQ_SHARED, GQ_PRIVATE, GQ_SHARED, GQ_UNBACKED, GQ_SHARED, GQ_PRIVATE, GQ_SHARED,
};

struct gq_td {
	struct kvm_tdx_quote_td *td;
	unsigned int shared_bit;
	u64 base; /* GPA of page 0 (shared bit stripped): the TD's memory ends at the alias */
	void *mem[GQ_PAGES]; /* NULL: not backed */
	/* observations */
	unsigned int range_shared_calls, accesses, injects;
	unsigned int contract_violations; /* an op called outside what the ops contract allows */
};

static u64 gq_shared(const struct gq_td *t)
{
	return 1ULL << t->shared_bit;
}

/* GPA of page i, shared bit set: what the TD puts in r12. */
static u64 gq_r12(const struct gq_td *t, unsigned int i)
{
	return (t->base + i * (u64)PAGE_SIZE) | gq_shared(t);
}

/* Page index of gpa, or -1 outside the TD's memory. */
static int gq_page(const struct gq_td *t, u64 gpa)
{
	if (gpa < t->base || gpa - t->base >= GQ_PAGES * (u64)PAGE_SIZE)
		return -1;
	return (gpa - t->base) >> PAGE_SHIFT;
}

static bool gq_range_shared(void *priv, u64 gpa, u64 len)
{
	struct gq_td *t = priv;
	u64 p;

	t->range_shared_calls++;
	if (!len || gpa + len < gpa || gpa + len > gq_shared(t)) {
		t->contract_violations++;
		return false;
	}
	for (p = gpa & PAGE_MASK; p < gpa + len; p += PAGE_SIZE) {
		int i = gq_page(t, p);

		if (i < 0 || gq_layout[i] == GQ_PRIVATE)
			return false;
	}
	return true;
}

/* Copies between buf and the TD's memory; only shared pages may be asked for. */
static int gq_copy(struct gq_td *t, u64 gpa, void *buf, u64 len, bool write)
{
	u64 done = 0;

	t->accesses++;
	while (done < len) {
		u64 at = gpa + done, off = at & ~PAGE_MASK, n = min(len - done, PAGE_SIZE - off);
		int i = gq_page(t, at);

		if (i >= 0 && gq_layout[i] == GQ_PRIVATE)
			t->contract_violations++;
		if (i < 0 || !t->mem[i] || gq_layout[i] == GQ_PRIVATE)
			return -EFAULT;
		if (write)
			memcpy(t->mem[i] + off, buf + done, n);
		else
			memcpy(buf + done, t->mem[i] + off, n);
		done += n;
	}
	return 0;
}

static int gq_read(void *priv, u64 gpa, void *buf, u64 len)
{
	return gq_copy(priv, gpa, buf, len, false);
}

static int gq_write(void *priv, u64 gpa, const void *buf, u64 len)
{
	return gq_copy(priv, gpa, (void *)buf, len, true);
}

static void gq_inject(void *priv, u8 vector)
{
	struct gq_td *t = priv;

	t->injects++;
}

static const struct kvm_tdx_quote_td_ops gq_ops = {
	.read = gq_read,
	.write = gq_write,
	.range_shared = gq_range_shared,
	.inject = gq_inject,
};

static void gq_destroy(void *td)
{
	kvm_tdx_quote_td_destroy(td);
}

/* Page i's header as the TD sees it. */
static struct kvm_tdx_quote_header *gq_hdr(struct gq_td *t, unsigned int i)
{
	return t->mem[i];
}

static void gq_set_header(struct gq_td *t, unsigned int i, u64 version, u32 in_len, u32 out_len)
{
	*gq_hdr(t, i) = (struct kvm_tdx_quote_header){ version, GQ_TD_STATUS, in_len, out_len };
}

/* A TD with shared bit shared_bit over fresh pages; every shared page holds a valid header. */
static struct gq_td *gq_td_create(struct kunit *test, unsigned int shared_bit)
{
	struct gq_td *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned int i;
	int err = 0;

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->shared_bit = shared_bit;
	t->base = gq_shared(t) - GQ_PAGES * (u64)PAGE_SIZE;
	for (i = 0; i < GQ_PAGES; i++) {
		if (gq_layout[i] == GQ_UNBACKED)
			continue;
		t->mem[i] = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, t->mem[i]);
		gq_set_header(t, i, 1, GQ_REPORT_LEN, 0);
	}
	t->td = kvm_tdx_quote_td_create(&gq_ops, t, 0, shared_bit, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_NOT_NULL(test, t->td);
	/* Destroyed before the pages are freed (cleanups run last-registered first). */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, gq_destroy, t->td), 0);
	return t;
}

static u64 gq_get_quote(struct gq_td *t, u64 r12, u64 r13)
{
	return kvm_tdx_quote_tdvmcall(t->td, KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE, r12, r13);
}

/* No op went past the ops contract; called at the end of every case. */
static void gq_expect_contract(struct kunit *test, struct gq_td *t)
{
	KUNIT_EXPECT_EQ(test, t->contract_violations, 0U);
	KUNIT_EXPECT_EQ(test, t->injects, 0U);
}

/*
 * A request refused before its header is read: ret, and page i's header exactly as the TD left
 * it. consulted: whether the TD's memory attributes may have been asked (the checks before the
 * range check never ask).
 */
static void gq_expect_refused(struct kunit *test, struct gq_td *t, u64 r12, u64 r13, u64 ret,
			      unsigned int i, bool consulted)
{
	struct kvm_tdx_quote_header before = *gq_hdr(t, i);
	unsigned int calls = t->range_shared_calls, accesses = t->accesses;

	KUNIT_EXPECT_EQ_MSG(test, gq_get_quote(t, r12, r13), ret, "r12 %#llx r13 %#llx", r12, r13);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(&before, gq_hdr(t, i), sizeof(before)), 0,
			    "r12 %#llx r13 %#llx", r12, r13);
	if (!consulted) {
		KUNIT_EXPECT_EQ_MSG(test, t->range_shared_calls, calls, "r12 %#llx r13 %#llx", r12, r13);
		KUNIT_EXPECT_EQ_MSG(test, t->accesses, accesses, "r12 %#llx r13 %#llx", r12, r13);
	}
}

/* A header check that fails: status ERROR written, the rest as the TD left it, INVALID_OPERAND. */
static void gq_expect_header_error(struct kunit *test, struct gq_td *t, u64 size)
{
	struct kvm_tdx_quote_header before = *gq_hdr(t, 0);

	KUNIT_EXPECT_EQ(test, gq_get_quote(t, gq_r12(t, 0), size), KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND);
	KUNIT_EXPECT_EQ(test, gq_hdr(t, 0)->status, KVM_TDX_QUOTE_STATUS_ERROR);
	KUNIT_EXPECT_EQ(test, gq_hdr(t, 0)->version, before.version);
	KUNIT_EXPECT_EQ(test, gq_hdr(t, 0)->in_len, before.in_len);
	KUNIT_EXPECT_EQ(test, gq_hdr(t, 0)->out_len, before.out_len);
}

static const unsigned int gq_bits[] = { 47, 51 };

static void gq_bit_desc(const unsigned int *bit, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "shared bit %u", *bit);
}

KUNIT_ARRAY_PARAM(gq_bit, gq_bits, gq_bit_desc);

static struct gq_td *gq_param_td(struct kunit *test)
{
	return gq_td_create(test, *(const unsigned int *)test->param_value);
}

/* ---- the GPA and size checks ---- */

static void private_gpa(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	u64 other = 1ULL << (t->shared_bit == 47 ? 51 : 47);

	gq_expect_refused(test, t, gq_r12(t, 0) & ~gq_shared(t), PAGE_SIZE,
			  KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	/* The other GPAW's shared bit is not this TD's. */
	gq_expect_refused(test, t, (gq_r12(t, 0) & ~gq_shared(t)) | other, PAGE_SIZE,
			  KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	gq_expect_contract(test, t);
}

static void size_zero(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_expect_refused(test, t, gq_r12(t, 0), 0, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	gq_expect_contract(test, t);
}

static void misaligned(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_expect_refused(test, t, gq_r12(t, 0) + 0x800, PAGE_SIZE, GQ_ALIGN_ERROR, 0, false);
	gq_expect_refused(test, t, gq_r12(t, 0) + 8, PAGE_SIZE, GQ_ALIGN_ERROR, 0, false);
	gq_expect_refused(test, t, gq_r12(t, 0), 0x1800, GQ_ALIGN_ERROR, 0, false);
	gq_expect_refused(test, t, gq_r12(t, 0), GQ_HEADER, GQ_ALIGN_ERROR, 0, false);
	gq_expect_contract(test, t);
}

/* Each request fails two checks: the one ABI.md section 9 puts first answers. */
static void check_order(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	u64 priv0 = gq_r12(t, 0) & ~gq_shared(t);

	/* the shared bit before size and alignment */
	gq_expect_refused(test, t, priv0, 0, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	gq_expect_refused(test, t, priv0 + 0x800, PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	gq_expect_refused(test, t, priv0, 0x800, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	/* size 0 before alignment */
	gq_expect_refused(test, t, gq_r12(t, 0) + 0x800, 0, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	/* alignment before overflow: past the alias, and wrapping */
	gq_expect_refused(test, t, gq_r12(t, 7) + 0x800, 2 * PAGE_SIZE, GQ_ALIGN_ERROR, 7, false);
	gq_expect_refused(test, t, gq_r12(t, 0), ~0ULL - 0x7ff, GQ_ALIGN_ERROR, 0, false);
	/* alignment before the shared range (page 2 is private) */
	gq_expect_refused(test, t, gq_r12(t, 1), 0x1800, GQ_ALIGN_ERROR, 1, false);
	/* the range before the header: a bad version in a partly private buffer stays unanswered */
	gq_set_header(t, 1, 2, GQ_REPORT_LEN, 0);
	gq_expect_refused(test, t, gq_r12(t, 1), 2 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 1,
			  true);
	gq_expect_contract(test, t);
}

static void overflow(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	u64 top = ~0ULL & PAGE_MASK & ~gq_shared(t);

	/* wrapping */
	gq_expect_refused(test, t, gq_r12(t, 0), ~0ULL & PAGE_MASK, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0,
			  false);
	gq_expect_refused(test, t, top | gq_shared(t), 2 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND,
			  0, false);
	/* the last page, and one past it into the shared alias */
	gq_expect_refused(test, t, gq_r12(t, 7), 2 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 7,
			  false);
	/* a GPA above the shared bit */
	gq_expect_refused(test, t, gq_r12(t, 0) | (gq_shared(t) << 1), PAGE_SIZE,
			  KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0, false);
	gq_expect_contract(test, t);
}

static void partly_private(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	/* pages 0..2, the last private; pages 1..3, private in the middle */
	gq_expect_refused(test, t, gq_r12(t, 0), 3 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 0,
			  true);
	gq_expect_refused(test, t, gq_r12(t, 1), 3 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 1,
			  true);
	/* private first page */
	gq_expect_refused(test, t, gq_r12(t, 6), 2 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 7,
			  true);
	gq_expect_contract(test, t);
}

static void unbacked_first_page(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_expect_refused(test, t, gq_r12(t, 4), 2 * PAGE_SIZE, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, 5,
			  true);
	gq_expect_contract(test, t);
}

/* ---- the header checks ---- */

static void header_version(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_set_header(t, 0, 0, GQ_REPORT_LEN, 0);
	gq_expect_header_error(test, t, PAGE_SIZE);
	gq_set_header(t, 0, 2, GQ_REPORT_LEN, 0);
	gq_expect_header_error(test, t, PAGE_SIZE);
	gq_set_header(t, 0, ~0ULL, GQ_REPORT_LEN, 0);
	gq_expect_header_error(test, t, PAGE_SIZE);
	gq_expect_contract(test, t);
}

static void header_in_len(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_set_header(t, 0, 1, PAGE_SIZE - GQ_HEADER + 1, 0);
	gq_expect_header_error(test, t, 2 * PAGE_SIZE);
	gq_set_header(t, 0, 1, ~0U, 0);
	gq_expect_header_error(test, t, 2 * PAGE_SIZE);
	gq_expect_contract(test, t);
}

static void header_out_len(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);

	gq_set_header(t, 0, 1, GQ_REPORT_LEN, PAGE_SIZE - GQ_HEADER + 1);
	gq_expect_header_error(test, t, PAGE_SIZE);
	gq_set_header(t, 0, 1, GQ_REPORT_LEN, 2 * PAGE_SIZE - GQ_HEADER + 1);
	gq_expect_header_error(test, t, 2 * PAGE_SIZE);
	gq_set_header(t, 0, 1, GQ_REPORT_LEN, ~0U);
	gq_expect_header_error(test, t, 2 * PAGE_SIZE);
	gq_expect_contract(test, t);
}

/* ---- past the checks ---- */

/*
 * A request that passes every check (the largest in_len and out_len the checks allow, at the
 * last page below the alias too). No quote can be made for it: in the kernel, tdx_host refuses
 * the TDREPORT's length (status SERVICE_UNAVAILABLE, out_len 0, INVALID_OPERAND); through
 * userspace, no VMM has the device open (the exit ends with its preset SUBFUNC_UNSUPPORTED and
 * status SERVICE_UNAVAILABLE, never left IN_FLIGHT).
 */
static void valid_request_without_quote(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	bool in_kernel = kvm_tdx_quote_td_in_kernel(t->td);
	u64 ret = in_kernel ? KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND : KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	static const struct { unsigned int page; u64 size; u32 in_len, out_len; } reqs[] = {
		{ 0, PAGE_SIZE, GQ_REPORT_LEN, 0 },
		{ 0, 2 * PAGE_SIZE, PAGE_SIZE - GQ_HEADER, 2 * PAGE_SIZE - GQ_HEADER },
		{ 7, PAGE_SIZE, GQ_REPORT_LEN, PAGE_SIZE - GQ_HEADER },
	};
	unsigned int c;

	kunit_info(test, "the TD's quotes are made %s", in_kernel ? "in the kernel" : "through userspace");
	for (c = 0; c < ARRAY_SIZE(reqs); c++) {
		struct kvm_tdx_quote_header *h = gq_hdr(t, reqs[c].page);

		gq_set_header(t, reqs[c].page, 1, reqs[c].in_len, reqs[c].out_len);
		KUNIT_EXPECT_EQ_MSG(test, gq_get_quote(t, gq_r12(t, reqs[c].page), reqs[c].size), ret,
				    "request %u", c);
		KUNIT_EXPECT_EQ_MSG(test, h->status, KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE, "request %u", c);
		KUNIT_EXPECT_EQ_MSG(test, h->version, 1ULL, "request %u", c);
		KUNIT_EXPECT_EQ_MSG(test, h->in_len, reqs[c].in_len, "request %u", c);
		KUNIT_EXPECT_EQ_MSG(test, h->out_len, in_kernel ? 0 : reqs[c].out_len, "request %u", c);
	}
	gq_expect_contract(test, t);
}

/* ---- the other sub-functions ---- */

static void notify_interrupt(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	static const u64 vectors[] = { 31, 32, 255, 256, 0, ~0ULL };
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(vectors); c++) {
		u64 v = vectors[c], want;

		if (kvm_tdx_quote_td_in_kernel(t->td))
			want = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED; /* not offered */
		else if (v >= 32 && v <= 255)
			want = KVM_TDX_QUOTE_TDVMCALL_SUCCESS;
		else
			want = KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND;
		KUNIT_EXPECT_EQ_MSG(test,
				    kvm_tdx_quote_tdvmcall(t->td, KVM_TDX_QUOTE_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT,
							   v, 0),
				    want, "vector %llu", v);
	}
	/* Set up or not, a request that ends at once raises nothing. */
	KUNIT_EXPECT_EQ(test, gq_get_quote(t, gq_r12(t, 0), PAGE_SIZE),
			kvm_tdx_quote_td_in_kernel(t->td) ? KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND :
							    KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED);
	gq_expect_contract(test, t);
}

static void unknown_subfunction(struct kunit *test)
{
	struct gq_td *t = gq_param_td(test);
	static const u64 subfns[] = {
		0, 0x10001, 0x10003, 0x10005, KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE | (1ULL << 32), ~0ULL,
	};
	struct kvm_tdx_quote_header before = *gq_hdr(t, 0);
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(subfns); c++)
		KUNIT_EXPECT_EQ_MSG(test, kvm_tdx_quote_tdvmcall(t->td, subfns[c], gq_r12(t, 0), PAGE_SIZE),
				    KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED, "subfn %#llx", subfns[c]);
	/* Not a GetQuote: the buffer its registers name is never looked at. */
	KUNIT_EXPECT_EQ(test, t->range_shared_calls, 0U);
	KUNIT_EXPECT_EQ(test, t->accesses, 0U);
	KUNIT_EXPECT_EQ(test, memcmp(&before, gq_hdr(t, 0), sizeof(before)), 0);
	gq_expect_contract(test, t);
}

static void create_refuses_bad_arguments(struct kunit *test)
{
	static const unsigned int bad_bits[] = { 0, 46, 48, 50, 52, 63 };
	struct kvm_tdx_quote_td_ops no_inject = gq_ops;
	unsigned int c;
	int err;

	for (c = 0; c < ARRAY_SIZE(bad_bits); c++) {
		err = 0;
		KUNIT_EXPECT_NULL(test, kvm_tdx_quote_td_create(&gq_ops, NULL, 0, bad_bits[c], &err));
		KUNIT_EXPECT_EQ_MSG(test, err, -EINVAL, "shared bit %u", bad_bits[c]);
	}
	no_inject.inject = NULL;
	err = 0;
	KUNIT_EXPECT_NULL(test, kvm_tdx_quote_td_create(&no_inject, NULL, 0, 47, &err));
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	err = 0;
	KUNIT_EXPECT_NULL(test, kvm_tdx_quote_td_create(NULL, NULL, 0, 51, &err));
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
}

static struct kunit_case tdx_getquote_cases[] = {
	KUNIT_CASE_PARAM(private_gpa, gq_bit_gen_params),
	KUNIT_CASE_PARAM(size_zero, gq_bit_gen_params),
	KUNIT_CASE_PARAM(misaligned, gq_bit_gen_params),
	KUNIT_CASE_PARAM(check_order, gq_bit_gen_params),
	KUNIT_CASE_PARAM(overflow, gq_bit_gen_params),
	KUNIT_CASE_PARAM(partly_private, gq_bit_gen_params),
	KUNIT_CASE_PARAM(unbacked_first_page, gq_bit_gen_params),
	KUNIT_CASE_PARAM(header_version, gq_bit_gen_params),
	KUNIT_CASE_PARAM(header_in_len, gq_bit_gen_params),
	KUNIT_CASE_PARAM(header_out_len, gq_bit_gen_params),
	KUNIT_CASE_PARAM(valid_request_without_quote, gq_bit_gen_params),
	KUNIT_CASE_PARAM(notify_interrupt, gq_bit_gen_params),
	KUNIT_CASE_PARAM(unknown_subfunction, gq_bit_gen_params),
	KUNIT_CASE(create_refuses_bad_arguments),
	{}
};

static struct kunit_suite tdx_getquote_suite = {
	.name = "tdx_getquote",
	.test_cases = tdx_getquote_cases,
};

kunit_test_suites(&tdx_getquote_suite);

TDX_IMPORT_KVM_QUOTE();
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suite for kvm_tdx_quote: GetQuote request validation");
