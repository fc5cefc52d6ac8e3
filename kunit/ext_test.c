// SPDX-License-Identifier: GPL-2.0
/*
 * TDX module extensions: which add-ons SYS.CONFIG asks for and with which version, the
 * HPA_LIST_INFO encoding (ABI.md section 7), and the memory pool cut into lists of up to 512 pages,
 * written from pages the kernel really allocated.
 */
#include <linux/kernel.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define FEATURES0_NO_RBP_MOD	(1ULL << 18)
#define FEATURES0_EXT		(1ULL << 39)
#define FEATURES0_QUOTE		(1ULL << 50)

#define INFO_FIRST(info)	(((info) >> 3) & 0x1ff)
#define INFO_PFN(info)		(((info) >> 12) & ((1ULL << 40) - 1))
#define INFO_LAST(info)		((info) >> 55)

static void addons_and_sys_config_version(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tdx_kunit_select_addons(FEATURES0_NO_RBP_MOD), 0ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_select_addons(FEATURES0_EXT), 0ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_select_addons(FEATURES0_EXT | FEATURES0_QUOTE | FEATURES0_NO_RBP_MOD),
			FEATURES0_QUOTE);
	KUNIT_EXPECT_EQ(test, tdx_kunit_select_addons(~0ULL), FEATURES0_QUOTE);
	KUNIT_EXPECT_EQ(test, tdx_kunit_sys_config_rax(0), 0x2DULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_sys_config_rax(FEATURES0_QUOTE), 0x1002DULL);
}

static void hpa_list_info_fields(struct kunit *test)
{
	u64 info = tdx_kunit_hpa_list_info(0x12345000ULL, 0, 511);

	KUNIT_EXPECT_EQ(test, info, 0xFF80000012345000ULL);
	KUNIT_EXPECT_EQ(test, INFO_FIRST(info), 0ULL);
	KUNIT_EXPECT_EQ(test, INFO_PFN(info), 0x12345ULL);
	KUNIT_EXPECT_EQ(test, INFO_LAST(info), 511ULL);
	/* The first entry is the byte offset of that entry in the list page. */
	KUNIT_EXPECT_EQ(test, tdx_kunit_hpa_list_info(0x12345000ULL, 7, 511), 0xFF80000012345038ULL);
	/* The PFN takes bits 51:12; nothing of it reaches the reserved bits 54:52. */
	info = tdx_kunit_hpa_list_info(0xFFFFFFFFFF000ULL, 0, 0);
	KUNIT_EXPECT_EQ(test, info, 0xFFFFFFFFFF000ULL);
	KUNIT_EXPECT_EQ(test, info & (7ULL << 52), 0ULL);
}

struct pool_case {
	u64 pages, lists;
	unsigned int last_list_entries;
};

static const struct pool_case pool_cases[] = {
	{ 1, 1, 1 }, { 512, 1, 512 }, { 513, 2, 1 }, { 12800, 25, 512 },
};

static void pool_batches(struct kunit *test)
{
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(pool_cases); c++) {
		const struct pool_case *pc = &pool_cases[c];
		u64 i, first = 0, covered = 0;
		unsigned int nr = 0;

		KUNIT_EXPECT_EQ(test, tdx_kunit_hpa_list_nr_batches(pc->pages), pc->lists);
		for (i = 0; i < pc->lists; i++) {
			KUNIT_ASSERT_EQ(test, tdx_kunit_hpa_list_batch(pc->pages, i, &first, &nr), 0);
			KUNIT_EXPECT_EQ_MSG(test, first, covered, "%llu pages, list %llu", pc->pages, i);
			covered += nr;
		}
		KUNIT_EXPECT_EQ_MSG(test, nr, pc->last_list_entries, "%llu pages", pc->pages);
		KUNIT_EXPECT_EQ(test, covered, pc->pages);
		KUNIT_EXPECT_EQ(test, tdx_kunit_hpa_list_batch(pc->pages, pc->lists, &first, &nr), -ERANGE);
	}
}

static void pool_lists_from_kernel_pages(struct kunit *test)
{
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(pool_cases); c++) {
		const struct pool_case *pc = &pool_cases[c];
		struct tdx_kunit_pool_report r;

		KUNIT_ASSERT_EQ_MSG(test, tdx_kunit_pool_lists(pc->pages, &r), 0, "%llu pages", pc->pages);
		KUNIT_EXPECT_EQ(test, r.nr_lists, pc->lists);
		KUNIT_EXPECT_EQ(test, r.entries, pc->pages);
		KUNIT_EXPECT_EQ(test, r.bad_entries, 0ULL);
		KUNIT_EXPECT_EQ(test, INFO_FIRST(r.first_info), 0ULL);
		KUNIT_EXPECT_EQ(test, INFO_LAST(r.first_info), (u64)(pc->lists > 1 ? 511 : pc->last_list_entries - 1));
		KUNIT_EXPECT_EQ(test, INFO_LAST(r.last_info), (u64)pc->last_list_entries - 1);
		/* One list page, reused: both lists name it. */
		KUNIT_EXPECT_EQ(test, INFO_PFN(r.first_info), INFO_PFN(r.last_info));
		KUNIT_EXPECT_EQ(test, r.pages_held, pc->pages + 1);
		KUNIT_EXPECT_EQ(test, r.held_after, 0ULL);
	}
}

static struct kunit_case tdx_ext_cases[] = {
	KUNIT_CASE(addons_and_sys_config_version),
	KUNIT_CASE(hpa_list_info_fields),
	KUNIT_CASE(pool_batches),
	KUNIT_CASE(pool_lists_from_kernel_pages),
	{}
};

struct kunit_suite tdx_ext_suite = {
	.name = "tdx_ext",
	.test_cases = tdx_ext_cases,
};
