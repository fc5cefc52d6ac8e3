// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime update images (ABI.md sections 4 and 5): the kernel's header checks on v1 and v2 blobs
 * built here in vmalloc'ed memory, as fw_upload hands a payload over (a header, a 2 KiB sigstruct
 * in its page, module pages, the v1 checksum fixed), one refusal code per damage, the page-count
 * limits, and SEAMLDR.INSTALL's seamldr_params naming each page's frame (vmalloc_to_pfn).
 */
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define BLOB_PAGE		4096ULL
#define MAX_MODULE_PAGES	496
#define SIGSTRUCT_SIZE		2048
#define V1			0x100
#define V2			0x200

/* SEAMLDR.INSTALL's input page, as ABI.md section 4 lays it out. */
struct seamldr_params {
	u32 version;
	u32 scenario;
	u64 sigstruct_pa;
	u8 reserved[104];
	u64 num_module_pages;
	u64 module_page_pa[MAX_MODULE_PAGES];
} __packed;
static_assert(sizeof(struct seamldr_params) == 4096);
static_assert(offsetof(struct seamldr_params, num_module_pages) == 120);
static_assert(offsetof(struct seamldr_params, module_page_pa) == 128);

/* A payload in vmalloc'ed memory with a spare page after it; freed when the test ends. */
struct blob {
	u8 *data;
	u64 size;
};

static void free_blob(void *p)
{
	vfree(p);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

/* The checksum makes the file's 16-bit little-endian word sum 0. */
static void fix_checksum(struct blob *b)
{
	u16 sum = 0;
	u64 i;

	put16(b->data + 2, 0);
	for (i = 0; i + 1 < b->size; i += 2)
		sum += b->data[i] | b->data[i + 1] << 8;
	put16(b->data + 2, -sum);
}

static int alloc_blob(struct kunit *test, struct blob *b, u64 pages)
{
	b->size = pages * BLOB_PAGE;
	b->data = vzalloc(b->size + BLOB_PAGE);
	if (!b->data)
		return -ENOMEM;
	return kunit_add_action_or_reset(test, free_blob, b->data);
}

/* Non-zero sigstruct bytes (the rest of its page zero) and module pages that differ. */
static void fill_parts(struct blob *b, u64 module)
{
	u64 i;

	for (i = 0; i < SIGSTRUCT_SIZE; i++)
		b->data[BLOB_PAGE + i] = i * 7 + 1;
	for (i = module; i < b->size; i++)
		b->data[i] = (i / BLOB_PAGE) * 13 + i;
}

/* v1: header, sigstruct page, `padding` zero pages, `pages` module pages; checksum fixed. */
static int make_v1(struct kunit *test, struct blob *b, u32 pages, u32 padding)
{
	u64 module = (2 + padding) * BLOB_PAGE;
	int ret = alloc_blob(test, b, 2 + padding + pages);

	if (ret)
		return ret;
	put16(b->data, V1);
	put32(b->data + 4, module);
	memcpy(b->data + 8, "TDX-BLOB", 8);
	put32(b->data + 16, b->size);
	fill_parts(b, module);
	fix_checksum(b);
	return 0;
}

/* v2: header, one sigstruct page, `pages` module pages; the checksum filled in or left 0. */
static int make_v2(struct kunit *test, struct blob *b, u32 pages, bool checksum)
{
	int ret = alloc_blob(test, b, 2 + pages);

	if (ret)
		return ret;
	put16(b->data, V2);
	memcpy(b->data + 4, "TDX-BLOB", 8);
	put32(b->data + 12, 1);
	put32(b->data + 16, pages);
	fill_parts(b, 2 * BLOB_PAGE);
	if (checksum)
		fix_checksum(b);
	return 0;
}

/* The refusal's code, or "accepted" (layout in *l). */
static const char *verdict(const struct blob *b, struct tdx_kunit_image_layout *l)
{
	struct tdx_kunit_image_refusal why = { "none", "" };
	int ret = tdx_kunit_validate_image(b->data, b->size, l, &why);

	if (!ret)
		return "accepted";
	return ret == -EINVAL && why.message[0] ? why.code : "bad-return";
}

static void expect_layout(struct kunit *test, const struct blob *b, unsigned int format,
			  u64 module_offset, unsigned int module_pages)
{
	struct tdx_kunit_image_layout l;

	KUNIT_ASSERT_STREQ(test, verdict(b, &l), "accepted");
	KUNIT_EXPECT_EQ(test, l.format, format);
	KUNIT_EXPECT_EQ(test, l.size, b->size);
	KUNIT_EXPECT_EQ(test, l.sigstruct_offset, BLOB_PAGE);
	KUNIT_EXPECT_EQ(test, l.module_offset, module_offset);
	KUNIT_EXPECT_EQ(test, l.module_pages, module_pages);
}

static void accepts_v1(struct kunit *test)
{
	struct blob b;

	KUNIT_ASSERT_EQ(test, make_v1(test, &b, 3, 0), 0);
	expect_layout(test, &b, V1, 0x2000, 3);
	/* Zero pages between the sigstruct's page and the module. */
	KUNIT_ASSERT_EQ(test, make_v1(test, &b, 2, 2), 0);
	expect_layout(test, &b, V1, 0x4000, 2);
}

static void accepts_v2(struct kunit *test)
{
	struct blob b;

	KUNIT_ASSERT_EQ(test, make_v2(test, &b, 3, false), 0);
	expect_layout(test, &b, V2, 0x2000, 3);
	KUNIT_ASSERT_EQ(test, make_v2(test, &b, 3, true), 0);
	KUNIT_ASSERT_NE(test, b.data[2] | b.data[3], 0);
	expect_layout(test, &b, V2, 0x2000, 3);
}

/* ---- one damage per refusal code ------------------------------------------------------------ */

enum image_kind { IMAGE_V1, IMAGE_V2, IMAGE_V2_SUMMED };

/* Every case starts from a blob of 2 module pages: header, sigstruct page, module at 0x2000. */
#define CASE_PAGES	2
#define CASE_SIZE	((2 + CASE_PAGES) * BLOB_PAGE)
#define CASE_MODULE	0x3000 /* a byte of the last module page */

/* One damage: the file cut or grown to `size` (0: as built), and/or a `width`-byte field set. */
struct damage_case {
	const char *what;
	enum image_kind kind;
	u64 size;
	unsigned int at, width;
	u32 value;
	const char *code;
};

static const struct damage_case damage_cases[] = {
	{ "v1 cut in its header", IMAGE_V1, 100, 0, 0, 0, "truncated" },
	{ "v1 without its last page", IMAGE_V1, CASE_SIZE - BLOB_PAGE, 0, 0, 0, "truncated" },
	{ "v2 without its last page", IMAGE_V2, CASE_SIZE - BLOB_PAGE, 0, 0, 0, "truncated" },
	{ "version 0x300", IMAGE_V1, 0, 0, 2, 0x300, "bad-version" },
	{ "version 0x101", IMAGE_V2, 0, 0, 2, 0x101, "bad-version" },
	{ "v1 signature", IMAGE_V1, 0, 15, 1, 'C', "bad-signature-string" },
	{ "v2 signature", IMAGE_V2, 0, 11, 1, 'b', "bad-signature-string" },
	{ "v1 a page longer", IMAGE_V1, CASE_SIZE + BLOB_PAGE, 0, 0, 0, "bad-length" },
	{ "v1 length a page short", IMAGE_V1, 0, 16, 4, CASE_SIZE - BLOB_PAGE, "bad-length" },
	{ "v1 not whole pages", IMAGE_V1, CASE_SIZE + 2, 16, 4, CASE_SIZE + 2, "bad-length" },
	{ "v2 a page longer", IMAGE_V2, CASE_SIZE + BLOB_PAGE, 0, 0, 0, "bad-length" },
	{ "v2 two bytes longer", IMAGE_V2, CASE_SIZE + 2, 0, 0, 0, "bad-length" },
	{ "v2 no module pages", IMAGE_V2, 0, 16, 4, 0, "bad-length" },
	{ "v2 no sigstruct page", IMAGE_V2, 0, 12, 4, 0, "bad-length" },
	{ "v1 offset misaligned", IMAGE_V1, 0, 4, 4, 0x2800, "bad-offset" },
	{ "v1 offset below 8 KiB", IMAGE_V1, 0, 4, 4, 0x1000, "bad-offset" },
	{ "v1 offset at the end", IMAGE_V1, 0, 4, 4, CASE_SIZE, "bad-offset" },
	{ "v1 offset past the end", IMAGE_V1, 0, 4, 4, 0xFFFFF000, "bad-offset" },
	{ "v2 497 module pages", IMAGE_V2, 0, 16, 4, 497, "too-many-pages" },
	{ "v2 2 sigstruct pages", IMAGE_V2, 0, 12, 4, 2, "too-many-pages" },
	/* 4096 * (1 + 1 + 2^20 + 2) is the file's size in 32 bits. */
	{ "v2 counts wrapping 32 bits", IMAGE_V2, 0, 16, 4, (1U << 20) + CASE_PAGES,
	  "too-many-pages" },
	{ "v1 reserved0", IMAGE_V1, 0, 20, 1, 1, "reserved-not-zero" },
	{ "v1 last header byte", IMAGE_V1, 0, 4095, 1, 0x80, "reserved-not-zero" },
	{ "v2 first reserved byte", IMAGE_V2, 0, 20, 1, 1, "reserved-not-zero" },
	{ "v2 last header byte", IMAGE_V2_SUMMED, 0, 4095, 1, 0x80, "reserved-not-zero" },
	{ "v1 module byte", IMAGE_V1, 0, CASE_MODULE, 1, 0xFF, "bad-checksum" },
	{ "v2 module byte, checksum", IMAGE_V2_SUMMED, 0, CASE_MODULE, 1, 0xFF, "bad-checksum" },
	{ "v2 module byte, checksum 0", IMAGE_V2, 0, CASE_MODULE, 1, 0xFF, "accepted" },
};

static int make_case(struct kunit *test, struct blob *b, const struct damage_case *dc)
{
	if (dc->kind == IMAGE_V1)
		return make_v1(test, b, CASE_PAGES, 0);
	return make_v2(test, b, CASE_PAGES, dc->kind == IMAGE_V2_SUMMED);
}

static void damage(struct blob *b, const struct damage_case *dc)
{
	if (dc->size)
		b->size = dc->size; /* at most a page more: alloc_blob's spare page, zeros */
	if (dc->width == 1)
		b->data[dc->at] = dc->value;
	else if (dc->width == 2)
		put16(b->data + dc->at, dc->value);
	else if (dc->width == 4)
		put32(b->data + dc->at, dc->value);
}

/* Each damage alone: a v1 checksum is made right again unless the checksum is the point. */
static void refusal_codes(struct kunit *test)
{
	struct tdx_kunit_image_layout l;
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(damage_cases); c++) {
		const struct damage_case *dc = &damage_cases[c];
		struct blob b;

		KUNIT_ASSERT_EQ(test, make_case(test, &b, dc), 0);
		KUNIT_ASSERT_LE(test, dc->size, b.size + BLOB_PAGE);
		damage(&b, dc);
		if (dc->kind == IMAGE_V1 && strcmp(dc->code, "bad-checksum") && b.size >= BLOB_PAGE)
			fix_checksum(&b);
		KUNIT_EXPECT_STREQ_MSG(test, verdict(&b, &l), dc->code, "%s", dc->what);
	}
}

/* A damaged field names itself, not the checksum it also breaks. */
static void field_before_checksum(struct kunit *test)
{
	struct tdx_kunit_image_layout l;
	struct blob b;

	KUNIT_ASSERT_EQ(test, make_v1(test, &b, 1, 0), 0);
	b.data[100] = 1;
	KUNIT_EXPECT_STREQ(test, verdict(&b, &l), "reserved-not-zero");
}

static void page_limits(struct kunit *test)
{
	struct tdx_kunit_image_layout l;
	struct blob b;

	KUNIT_ASSERT_EQ(test, make_v1(test, &b, MAX_MODULE_PAGES, 0), 0);
	expect_layout(test, &b, V1, 0x2000, MAX_MODULE_PAGES);
	KUNIT_ASSERT_EQ(test, make_v1(test, &b, MAX_MODULE_PAGES + 1, 0), 0);
	KUNIT_EXPECT_STREQ(test, verdict(&b, &l), "too-many-pages");
	KUNIT_ASSERT_EQ(test, make_v2(test, &b, MAX_MODULE_PAGES, true), 0);
	expect_layout(test, &b, V2, 0x2000, MAX_MODULE_PAGES);
	KUNIT_ASSERT_EQ(test, make_v2(test, &b, MAX_MODULE_PAGES + 1, true), 0);
	KUNIT_EXPECT_STREQ(test, verdict(&b, &l), "too-many-pages");
}

/* ---- seamldr_params ------------------------------------------------------------------------- */

static kapi_u64 blob_pfn(const void *ctx, kapi_u64 offset)
{
	return vmalloc_to_pfn((const u8 *)ctx + offset);
}

static u64 blob_pa(const struct blob *b, u64 offset)
{
	return PFN_PHYS(vmalloc_to_pfn(b->data + offset));
}

static bool all_zero(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

/* The params page for a valid blob: every address is the frame vmalloc put that page in. */
static void expect_params(struct kunit *test, const struct blob *b)
{
	struct tdx_kunit_image_refusal why = { "none", "" };
	struct tdx_kunit_image_layout l;
	struct seamldr_params *p;
	unsigned int i;

	p = kunit_kmalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	memset(p, 0xA5, sizeof(*p));
	KUNIT_ASSERT_STREQ(test, verdict(b, &l), "accepted");
	KUNIT_ASSERT_EQ_MSG(test, tdx_kunit_build_seamldr_params(&l, blob_pfn, b->data, p, &why), 0,
			    "%s: %s", why.code, why.message);
	KUNIT_EXPECT_EQ(test, p->version, 0U);
	KUNIT_EXPECT_EQ(test, p->scenario, 1U);
	KUNIT_EXPECT_EQ(test, p->sigstruct_pa, blob_pa(b, l.sigstruct_offset));
	KUNIT_EXPECT_TRUE(test, all_zero(p->reserved, sizeof(p->reserved)));
	KUNIT_ASSERT_EQ(test, p->num_module_pages, (u64)l.module_pages);
	for (i = 0; i < l.module_pages; i++)
		KUNIT_EXPECT_EQ_MSG(test, p->module_page_pa[i],
				    blob_pa(b, l.module_offset + i * BLOB_PAGE),
				    "module page %u", i);
	KUNIT_EXPECT_TRUE(test, all_zero(&p->module_page_pa[l.module_pages],
					 (MAX_MODULE_PAGES - l.module_pages) * sizeof(u64)));
}

static void params_from_vmalloc_pages(struct kunit *test)
{
	struct blob b;

	KUNIT_ASSERT_EQ(test, make_v1(test, &b, 3, 1), 0);
	expect_params(test, &b);
	KUNIT_ASSERT_EQ(test, make_v2(test, &b, 5, false), 0);
	expect_params(test, &b);
	KUNIT_ASSERT_EQ(test, make_v2(test, &b, MAX_MODULE_PAGES, false), 0);
	expect_params(test, &b);
}

/* What build_seamldr_params makes of a layout: "built", or the refusal's code. */
static const char *params_verdict(const struct tdx_kunit_image_layout *l, const struct blob *b,
				  struct seamldr_params *p)
{
	struct tdx_kunit_image_refusal why = { "none", "" };
	int ret = tdx_kunit_build_seamldr_params(l, blob_pfn, b->data, p, &why);

	if (!ret)
		return "built";
	return ret == -EINVAL && why.message[0] ? why.code : "bad-return";
}

struct layout_case {
	const char *what;
	u64 size, sigstruct_offset, module_offset;
	unsigned int module_pages;
	const char *code;
};

/* Layouts validate_image never gives (its own for this blob is the first): refused, no address. */
static const struct layout_case layout_cases[] = {
	{ "as validated", 0x4000, 0x1000, 0x2000, 2, "built" },
	{ "sigstruct misaligned", 0x4000, 0x1800, 0x2000, 2, "bad-offset" },
	{ "module misaligned", 0x4000, 0x1000, 0x2800, 2, "bad-offset" },
	{ "sigstruct in the header", 0x4000, 0, 0x2000, 2, "bad-offset" },
	{ "last module page past the end", 0x3000, 0x1000, 0x2000, 2, "bad-offset" },
	{ "no module pages", 0x2000, 0x1000, 0x2000, 0, "too-many-pages" },
	{ "497 module pages", 0x1F3000, 0x1000, 0x2000, 497, "too-many-pages" },
};

static void params_refusals(struct kunit *test)
{
	struct seamldr_params *p;
	struct blob b;
	unsigned int c;

	KUNIT_ASSERT_EQ(test, make_v1(test, &b, 2, 0), 0);
	p = kunit_kmalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	for (c = 0; c < ARRAY_SIZE(layout_cases); c++) {
		const struct layout_case *lc = &layout_cases[c];
		struct tdx_kunit_image_layout l = {
			.format = V1,
			.module_pages = lc->module_pages,
			.size = lc->size,
			.sigstruct_offset = lc->sigstruct_offset,
			.module_offset = lc->module_offset,
		};

		memset(p, 0xA5, sizeof(*p));
		KUNIT_EXPECT_STREQ_MSG(test, params_verdict(&l, &b, p), lc->code, "%s", lc->what);
		if (strcmp(lc->code, "built"))
			KUNIT_EXPECT_TRUE_MSG(test, all_zero(p, sizeof(*p)), "%s", lc->what);
	}
}

static struct kunit_case tdx_image_cases[] = {
	KUNIT_CASE(accepts_v1),
	KUNIT_CASE(accepts_v2),
	KUNIT_CASE(refusal_codes),
	KUNIT_CASE(field_before_checksum),
	KUNIT_CASE(page_limits),
	KUNIT_CASE(params_from_vmalloc_pages),
	KUNIT_CASE(params_refusals),
	{}
};

struct kunit_suite tdx_image_suite = {
	.name = "tdx_image",
	.test_cases = tdx_image_cases,
};
