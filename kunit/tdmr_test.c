// SPDX-License-Identifier: GPL-2.0
/* TDMR/PAMT construction from synthetic memory maps: merging, holes, alignment, limits. */
#include <linux/errno.h>
#include <linux/sizes.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define MAX_OUT 8

static const struct tdx_kunit_limits limits = {
	.max_tdmrs = 64, .max_rsvd = 16, .pamt_entry_size = 16,
};

static struct tdx_kunit_tdmr *out_buf(struct kunit *test)
{
	struct tdx_kunit_tdmr *out = kunit_kcalloc(test, MAX_OUT, sizeof(*out), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, out);
	return out;
}

static void covers_ram_with_1g_aligned_tdmrs(struct kunit *test)
{
	/* A q35 guest with 3 GiB: low RAM to 2 GiB, the rest above 4 GiB. */
	const struct tdx_kunit_range ram[] = {
		{ 0x1000, 0x9f000 }, { 0x100000, SZ_2G }, { SZ_4G, SZ_4G + SZ_1G },
	};
	struct tdx_kunit_tdmr *out = out_buf(test);
	int n;

	/* As few TDMRs as the layout allows: [0, 2G) (both low ranges) and [4G, 5G). */
	n = tdx_kunit_build_tdmrs(ram, 3, ram, 3, &limits, NULL, out, MAX_OUT);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, out[0].base, 0ULL);
	KUNIT_EXPECT_EQ(test, out[0].size, (u64)SZ_2G);
	KUNIT_EXPECT_EQ(test, out[1].base, (u64)SZ_4G);
	KUNIT_EXPECT_EQ(test, out[1].size, (u64)SZ_1G);
	/* 4K PAMT: one 16-byte entry per 4 KiB page; 2M: per 2 MiB; 1G: per GiB, page granular. */
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[0], (u64)SZ_8M);
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[1], (u64)SZ_16K);
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[2], (u64)SZ_4K);
	KUNIT_EXPECT_EQ(test, out[1].pamt_size[0], (u64)SZ_4M);
	KUNIT_EXPECT_EQ(test, out[1].pamt_size[1], (u64)SZ_8K);
	KUNIT_EXPECT_EQ(test, out[1].pamt_size[2], (u64)SZ_4K);
}

static void many_gib_in_one_tdmr(struct kunit *test)
{
	/* 64 GiB from 1 MiB: one TDMR (64 of 1 GiB would use every TDMR a 1.5 module has). */
	const struct tdx_kunit_range ram[] = { { SZ_1M, 64ULL * SZ_1G } };
	struct tdx_kunit_tdmr *out = out_buf(test);
	int n;

	n = tdx_kunit_build_tdmrs(ram, 1, ram, 1, &limits, NULL, out, MAX_OUT);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, out[0].size, 64ULL * SZ_1G);
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[0], (u64)SZ_256M);
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[1], (u64)SZ_512K);
	KUNIT_EXPECT_EQ(test, out[0].pamt_size[2], (u64)SZ_4K);
	KUNIT_ASSERT_EQ(test, out[0].nr_rsvd, 1U);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[0].size, (u64)SZ_1M);
}

static void holes_become_reserved_areas(struct kunit *test)
{
	const struct tdx_kunit_range ram[] = {
		{ 0x1000, 0x9f000 }, { 0x100000, 0x3ffe0000 },
	};
	const u64 pamt[3] = { 0x10000000, 0x10400000, 0x20000000 };
	struct tdx_kunit_tdmr *out = out_buf(test);
	int n;

	n = tdx_kunit_build_tdmrs(ram, 2, ram, 2, &limits, pamt, out, MAX_OUT);
	KUNIT_ASSERT_EQ(test, n, 1);
	/* page 0, the legacy hole, the PAMTs (4K+2M adjacent: merged), 1G PAMT, top of TDMR */
	KUNIT_ASSERT_EQ(test, out[0].nr_rsvd, 5U);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[0].offset, 0ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[0].size, 0x1000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[1].offset, 0x9f000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[1].size, 0x61000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[2].offset, 0x10000000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[2].size, (u64)(SZ_4M + SZ_8K));
	KUNIT_EXPECT_EQ(test, out[0].rsvd[3].offset, 0x20000000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[4].offset + out[0].rsvd[4].size, (u64)SZ_1G);
}

static void unaligned_ram_is_trimmed_to_pages(struct kunit *test)
{
	const struct tdx_kunit_range ram[] = { { 0x1800, 0x40001800 } };
	const struct tdx_kunit_range cmr[] = { { 0, 0x80000000 } };
	struct tdx_kunit_tdmr *out = out_buf(test);
	int n;

	n = tdx_kunit_build_tdmrs(ram, 1, cmr, 1, &limits, NULL, out, MAX_OUT);
	KUNIT_ASSERT_EQ(test, n, 1);
	KUNIT_EXPECT_EQ(test, out[0].size, (u64)SZ_2G);
	/* Trimmed inwards to [0x2000, 0x40001000): the rest of the TDMR is reserved. */
	KUNIT_ASSERT_EQ(test, out[0].nr_rsvd, 2U);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[0].offset, 0ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[0].size, 0x2000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[1].offset, 0x40001000ULL);
	KUNIT_EXPECT_EQ(test, out[0].rsvd[1].size, (u64)SZ_2G - 0x40001000);
}

static void limits_are_enforced(struct kunit *test)
{
	/* RAM 3 GiB apart: two TDMRs. */
	const struct tdx_kunit_range ram[] = { { 0, SZ_1G }, { SZ_4G, SZ_4G + SZ_1G } };
	const struct tdx_kunit_limits one = { .max_tdmrs = 1, .max_rsvd = 16, .pamt_entry_size = 16 };
	const struct tdx_kunit_limits one_rsvd = { .max_tdmrs = 8, .max_rsvd = 1, .pamt_entry_size = 16 };
	const struct tdx_kunit_range holey[] = {
		{ 0x100000, 0x200000 }, { 0x300000, 0x400000 }, { 0x500000, 0x600000 },
	};
	struct tdx_kunit_tdmr *out = out_buf(test);

	KUNIT_EXPECT_EQ(test, tdx_kunit_build_tdmrs(ram, 2, ram, 2, &limits, NULL, out, MAX_OUT), 2);
	KUNIT_EXPECT_EQ(test, tdx_kunit_build_tdmrs(ram, 2, ram, 2, &one, NULL, out, MAX_OUT), -ENOSPC);
	KUNIT_EXPECT_EQ(test, tdx_kunit_build_tdmrs(ram, 2, ram, 2, &limits, NULL, out, 1), -ENOSPC);
	KUNIT_EXPECT_EQ(test, tdx_kunit_build_tdmrs(holey, 3, holey, 3, &one_rsvd, NULL, out, MAX_OUT),
			-E2BIG);
}

static void ram_outside_cmrs_is_refused(struct kunit *test)
{
	const struct tdx_kunit_range ram[] = { { 0x100000, SZ_1G } };
	const struct tdx_kunit_range cmr[] = { { 0, SZ_512M } };
	struct tdx_kunit_tdmr *out = out_buf(test);

	KUNIT_EXPECT_EQ(test, tdx_kunit_build_tdmrs(ram, 1, cmr, 1, &limits, NULL, out, MAX_OUT), -EINVAL);
}

static struct kunit_case tdx_tdmr_cases[] = {
	KUNIT_CASE(covers_ram_with_1g_aligned_tdmrs),
	KUNIT_CASE(many_gib_in_one_tdmr),
	KUNIT_CASE(holes_become_reserved_areas),
	KUNIT_CASE(unaligned_ram_is_trimmed_to_pages),
	KUNIT_CASE(limits_are_enforced),
	KUNIT_CASE(ram_outside_cmrs_is_refused),
	{}
};

struct kunit_suite tdx_tdmr_suite = {
	.name = "tdx_tdmr",
	.test_cases = tdx_tdmr_cases,
};
