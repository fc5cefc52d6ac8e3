// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include "fake_kapi.h"
#include "tdmr.h"

using namespace tdx;
constexpr u64 G = 1ull << 30, M = 1ull << 20;

namespace {
TdxSysInfo info(u16 max_tdmrs = 64, u16 max_rsvd = 16)
{
	TdxSysInfo i;
	i.max_tdmrs = max_tdmrs;
	i.max_reserved_per_tdmr = max_rsvd;
	i.pamt_entry_size[0] = i.pamt_entry_size[1] = i.pamt_entry_size[2] = 16;
	return i;
}
} // namespace

TEST(Memlist, AlignsInwardAndMerges)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1001, 0x9f000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x9f000, 0xa0000).is_ok()); /* adjacent: merged */
	ASSERT_TRUE(memlist_add(l, 0x100000, 0x100800).is_ok()); /* < 1 page: dropped */
	ASSERT_EQ(l.size(), 1u);
	EXPECT_EQ(l[0].start, 0x2000u);
	EXPECT_EQ(l[0].end, 0xa0000u);
	EXPECT_EQ(memlist_add(l, 0x1000, 0x5000), error(err::kEINVAL)); /* not ascending */
}

TEST(Memlist, Bounded)
{
	MemList l;
	for (u64 i = 0; i < kMaxMemRanges; i++)
		ASSERT_TRUE(memlist_add(l, i * 0x10000, i * 0x10000 + 0x1000).is_ok());
	EXPECT_EQ(memlist_add(l, 0x10000000, 0x10001000), error(err::kE2BIG));
}

TEST(Memlist, CmrCoverage)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1000, 0x80000000).is_ok());
	Cmr one[] = {{0, 0x80000000}};
	EXPECT_TRUE(memlist_check_cmrs(l, Span<const Cmr>(one)).is_ok());
	Cmr split[] = {{0x40000000, 0x40000000}, {0, 0x40000000}}; /* adjacent, unordered */
	EXPECT_TRUE(memlist_check_cmrs(l, Span<const Cmr>(split)).is_ok());
	Cmr hole[] = {{0, 0x40000000}, {0x40001000, 0x3ffff000}};
	fake::reset();
	EXPECT_EQ(memlist_check_cmrs(l, Span<const Cmr>(hole)), error(err::kEINVAL));
	EXPECT_TRUE(fake::kernel().log_contains("not convertible"));
}

TEST(Pamt, SizesPerLevel)
{
	EXPECT_EQ(pamt_level_bytes(G, tdx::abi::PageLevel::k4K, 16), 4 * M);
	EXPECT_EQ(pamt_level_bytes(G, tdx::abi::PageLevel::k2M, 16), 8192u);
	EXPECT_EQ(pamt_level_bytes(G, tdx::abi::PageLevel::k1G, 16), 4096u); /* 16 bytes, page granular */
}

TEST(Tdmr, CoversRamWithGigabyteTdmrs)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1000, 0x9f000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x100000, 0x7ffe0000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x100000000, 0x140000000).is_ok()); /* RAM above 4 GiB */
	TdmrDesc out[8];
	Result<usize> n = plan_tdmrs(l, info(), Span<TdmrDesc>(out));
	ASSERT_TRUE(n.is_ok());
	ASSERT_EQ(n.value(), 3u);
	EXPECT_EQ(out[0].base, 0u);
	EXPECT_EQ(out[0].size, G);
	EXPECT_EQ(out[1].base, G);
	EXPECT_EQ(out[2].base, 4 * G);
	EXPECT_EQ(out[2].size, G);
	for (usize i = 0; i < 3; i++) {
		EXPECT_EQ(out[i].base % tdx::abi::kTdmrAlignment, 0u);
		EXPECT_EQ(out[i].pamt_size[0], 4 * M);
	}
}

TEST(Tdmr, RangesSharingAGigabyteShareATdmr)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1000, 0x9f000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x100000, 0x3ffe0000).is_ok());
	TdmrDesc out[4];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
}

TEST(Tdmr, TooManyTdmrs)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0, 3 * G).is_ok());
	TdmrDesc out[8];
	fake::reset();
	EXPECT_EQ(plan_tdmrs(l, info(2), Span<TdmrDesc>(out)).status(), error(err::kENOSPC));
	EXPECT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out, 2)).status(), error(err::kENOSPC));
}

TEST(Tdmr, ReservedAreasForHolesAndPamts)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1000, 0x9f000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x100000, 0x3ffe0000).is_ok());
	TdmrDesc out[2];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
	TdmrDesc &t = out[0];
	t.pamt_base[0] = 0x10000000; /* 4 MiB */
	t.pamt_base[1] = 0x10400000; /* adjacent: merged with the 4K PAMT */
	t.pamt_base[2] = 0x20000000;
	ASSERT_TRUE(fill_reserved_areas(t, l, Span<const TdmrDesc>(out, 1), 16).is_ok());
	ASSERT_EQ(t.rsvd.size(), 5u);
	EXPECT_EQ(t.rsvd[0].offset, 0u);
	EXPECT_EQ(t.rsvd[0].size, 0x1000u); /* page 0 */
	EXPECT_EQ(t.rsvd[1].offset, 0x9f000u);
	EXPECT_EQ(t.rsvd[1].size, 0x61000u); /* legacy hole */
	EXPECT_EQ(t.rsvd[2].offset, 0x10000000u);
	EXPECT_EQ(t.rsvd[2].size, 4 * M + 8192);
	EXPECT_EQ(t.rsvd[3].offset, 0x20000000u);
	EXPECT_EQ(t.rsvd[3].size, 4096u);
	EXPECT_EQ(t.rsvd[4].offset, 0x3ffe0000u); /* top of the TDMR, not RAM */
	EXPECT_EQ(t.rsvd[4].offset + t.rsvd[4].size, G);
	for (usize i = 1; i < t.rsvd.size(); i++)
		EXPECT_GT(t.rsvd[i].offset, t.rsvd[i - 1].offset + t.rsvd[i - 1].size - 1);
}

TEST(Tdmr, PamtsOfOtherTdmrsAreReservedWhereTheyFall)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0, 2 * G).is_ok());
	TdmrDesc out[2];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 2u);
	/* Both TDMRs' PAMTs live in the first GiB. */
	for (int i = 0; i < 2; i++)
		for (int lv = 0; lv < 3; lv++)
			out[i].pamt_base[lv] = 0x1000000 + u64(i * 3 + lv) * 0x800000;
	ASSERT_TRUE(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	ASSERT_TRUE(fill_reserved_areas(out[1], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	EXPECT_EQ(out[0].rsvd.size(), 6u);
	EXPECT_EQ(out[1].rsvd.size(), 0u);
}

TEST(Tdmr, TooManyReservedAreas)
{
	MemList l;
	for (u64 i = 0; i < 8; i++)
		ASSERT_TRUE(memlist_add(l, i * 0x100000, i * 0x100000 + 0x80000).is_ok());
	TdmrDesc out[1];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
	fake::reset();
	EXPECT_EQ(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 0), 4), error(err::kE2BIG));
	EXPECT_TRUE(fake::kernel().log_contains("reserved areas"));
	EXPECT_TRUE(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 0), 16).is_ok());
	EXPECT_EQ(out[0].rsvd.size(), 8u);
}

TEST(Tdmr, WritesTdmrInfo)
{
	alignas(512) unsigned char buf[512] = {};
	TdmrDesc t;
	t.base = G;
	t.size = G;
	t.pamt_base[0] = 0x1000000;
	t.pamt_size[0] = 4 * M;
	t.pamt_base[2] = 0x2000000;
	t.pamt_size[2] = 4096;
	ASSERT_TRUE(t.rsvd.push_back({0x1000, 0x2000}));
	auto *info = reinterpret_cast<tdx::abi::TdmrInfo *>(buf);
	write_tdmr_info(t, info);
	EXPECT_EQ(info->base, G);
	EXPECT_EQ(info->pamt_4k_base, 0x1000000u);
	EXPECT_EQ(info->pamt_4k_size, 4 * M);
	EXPECT_EQ(info->pamt_1g_base, 0x2000000u);
	EXPECT_EQ(info->reserved_areas[0].offset, 0x1000u);
	EXPECT_EQ(info->reserved_areas[1].size, 0u);
}
