// SPDX-License-Identifier: GPL-2.0
/*
 * The quoting extension: the quote buffer's HPA linked list (ABI.md section 8) from its encoding
 * and from pages the kernel really allocated, the buffer's bounds, and, when the emulator runs a
 * QUOTE profile, that bring-up left quoting enabled with a buffer of MAX_QUOTE_SIZE.
 */
#include <linux/kernel.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define LIST_END		(~0ULL)
#define DATA_BASE		0x10000000ULL
#define NODE_BASE		0x90000000ULL
#define QUOTE_INIT		100
#define FIELD_TDX_FEATURES0	0x0A00000300000008ULL
#define FIELD_MAX_QUOTE_SIZE	0x2300000200000002ULL
#define FEATURES0_QUOTE		(1ULL << 50)

struct list_case {
	u64 data_pages, nodes;
};

static const struct list_case list_cases[] = {
	{ 1, 1 }, { 511, 1 }, { 512, 2 }, { 1022, 2 }, { 1023, 3 },
};

static void list_nodes(struct kunit *test)
{
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(list_cases); c++) {
		const struct list_case *lc = &list_cases[c];

		KUNIT_EXPECT_EQ_MSG(test, tdx_kunit_quote_list_nr_nodes(lc->data_pages), lc->nodes,
				    "%llu data pages", lc->data_pages);
	}
}

/* What entry k of node j should be: data addresses in order, then ~0. */
static u64 expected_data_entry(u64 nr_data, u64 node, unsigned int k)
{
	u64 i = node * 511 + k;

	return i < nr_data ? DATA_BASE + i * 4096 : LIST_END;
}

/* Entry 511: the next node, ~0 in the last one. */
static u64 expected_link(u64 nr_nodes, u64 node)
{
	return node + 1 < nr_nodes ? NODE_BASE + (node + 1) * 4096 : LIST_END;
}

/* The core's encoding, over the synthetic addresses above. */
static u64 quote_entry(u64 nr_data, u64 node, unsigned int k)
{
	return tdx_kunit_quote_list_entry(nr_data, node, k, DATA_BASE, NODE_BASE);
}

static void list_entries(struct kunit *test)
{
	unsigned int c, k;

	for (c = 0; c < ARRAY_SIZE(list_cases); c++) {
		const struct list_case *lc = &list_cases[c];
		u64 node, n = lc->data_pages;

		for (node = 0; node < lc->nodes; node++) {
			u64 link = quote_entry(n, node, 511);

			for (k = 0; k < 511; k++)
				KUNIT_EXPECT_EQ_MSG(test, quote_entry(n, node, k),
						    expected_data_entry(n, node, k),
						    "%llu pages, node %llu entry %u", n, node, k);
			KUNIT_EXPECT_EQ_MSG(test, link, expected_link(lc->nodes, node),
					    "%llu pages, link of node %llu", n, node);
		}
	}
}

static void buffer_bounds(struct kunit *test)
{
	u64 cap = tdx_kunit_quote_size_cap(), pages = 0;

	KUNIT_EXPECT_EQ(test, cap, 1ULL << 20);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(0, &pages), 0);
	KUNIT_EXPECT_EQ(test, pages, 1ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(4096, &pages), 0);
	KUNIT_EXPECT_EQ(test, pages, 1ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(4097, &pages), 0);
	KUNIT_EXPECT_EQ(test, pages, 2ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(cap, &pages), 0);
	KUNIT_EXPECT_EQ(test, pages, 256ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(cap + 1, &pages), -E2BIG);
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer_pages(0xFFFFFFFFULL, &pages), -E2BIG);
}

static const u64 buffer_sizes[] = { 1, 4, 256, 512 };

static void buffer_from_kernel_pages(struct kunit *test)
{
	struct tdx_kunit_quote_buffer_report r;
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(buffer_sizes); c++) {
		u64 n = buffer_sizes[c], nodes = tdx_kunit_quote_list_nr_nodes(n);

		KUNIT_ASSERT_EQ_MSG(test, tdx_kunit_quote_buffer(n, &r), 0, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.nr_nodes, nodes, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.data_pages, n, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.out_of_order, 0ULL, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.not_ones, 0ULL, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.pages_held, n + nodes, "%llu pages", n);
		KUNIT_EXPECT_EQ_MSG(test, r.held_after, 0ULL, "%llu pages", n);
	}
	KUNIT_EXPECT_EQ(test, tdx_kunit_quote_buffer(0, &r), -EINVAL);
}

/* Reads a field through the emulator; false when it cannot. */
static bool read_field(u64 field, u64 *value)
{
	int ret;

	if (tdx_kunit_hold())
		return false;
	ret = tdx_kunit_sys_rd(field, value);
	tdx_kunit_release();
	return ret == 0;
}

static void bring_up_enabled_quoting(struct kunit *test)
{
	struct tdx_kunit_quote_state q;
	u64 features0 = 0, max = 0, pages;

	if (!tdx_kunit_emu_active())
		kunit_skip(test, "tdx_host is not using the emulator");
	KUNIT_ASSERT_EQ(test, tdx_kunit_ensure_up(), 0);
	KUNIT_ASSERT_TRUE(test, read_field(FIELD_TDX_FEATURES0, &features0));
	if (!(features0 & FEATURES0_QUOTE))
		kunit_skip(test, "the emulator's profile has no QUOTE");
	KUNIT_ASSERT_EQ(test, tdx_kunit_quote_state(&q), 0);
	KUNIT_EXPECT_GE(test, tdx_kunit_emu_leaf_calls(QUOTE_INIT), 1ULL);
	KUNIT_ASSERT_TRUE(test, q.enabled);
	KUNIT_ASSERT_TRUE(test, read_field(FIELD_MAX_QUOTE_SIZE, &max));
	KUNIT_EXPECT_EQ(test, (u64)q.max_quote_size, max);
	pages = max ? DIV_ROUND_UP(max, 4096) : 1;
	KUNIT_EXPECT_EQ(test, q.data_pages, pages);
	KUNIT_EXPECT_EQ(test, q.nr_nodes, DIV_ROUND_UP(pages, 511));
}

static struct kunit_case tdx_quote_cases[] = {
	KUNIT_CASE(list_nodes),
	KUNIT_CASE(list_entries),
	KUNIT_CASE(buffer_bounds),
	KUNIT_CASE(buffer_from_kernel_pages),
	KUNIT_CASE(bring_up_enabled_quoting),
	{}
};

struct kunit_suite tdx_quote_suite = {
	.name = "tdx_quote",
	.test_cases = tdx_quote_cases,
};
