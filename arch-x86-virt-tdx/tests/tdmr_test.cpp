// SPDX-License-Identifier: GPL-2.0
/*
 * The TDMR planner (which TDMRs, how big their PAMTs, which reserved areas) on synthetic memory
 * maps, and construct_tdmrs' choice of layout in a bring-up against the emulator's model of the
 * TDX module (model_backend.h): large
 * TDMRs when their PAMTs can be allocated, smaller ones while MAX_TDMRS allows, a clear error
 * naming both numbers when neither works; and the page ledger.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bringup.h"
#include "fake_kapi.h"
#include "model_backend.h"
#include "phys_mem.h"
#include "tdmr.h"

using namespace tdx;
constexpr u64 G = 1ull << 30, M = 1ull << 20, K = 1ull << 10;

namespace {
TdxSysInfo info(u16 max_tdmrs = 64, u16 max_rsvd = 16)
{
	TdxSysInfo i;
	i.max_tdmrs = max_tdmrs;
	i.max_reserved_per_tdmr = max_rsvd;
	i.pamt_entry_size[0] = i.pamt_entry_size[1] = i.pamt_entry_size[2] = 16;
	return i;
}

/* System RAM of a q35 guest with more than 2.75 GiB: low RAM up to 2 GiB, the rest from 4 GiB. */
MemList q35(u64 ram)
{
	MemList l;
	EXPECT_TRUE(memlist_add(l, 0x1000, 0x9f000).is_ok());
	EXPECT_TRUE(memlist_add(l, 0x100000, 2 * G - 0x20000).is_ok());
	EXPECT_TRUE(memlist_add(l, 4 * G, 4 * G + ram - 2 * G).is_ok());
	return l;
}

/* The exact PAMT bytes of a TDMR at 16-byte entries: one entry per page of each size, page granular. */
u64 pamt_4k(u64 size) { return size / 4096 * 16; }
u64 pamt_2m(u64 size) { return align_up(size / (2 * M) * 16, 4096); }
u64 pamt_1g(u64 size) { return align_up(size / G * 16, 4096); }
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
	/* 6 GiB: 1.5 Mi entries (24 MiB), 3072 (48 KiB), 6 (96 bytes: one page). */
	EXPECT_EQ(pamt_level_bytes(6 * G, tdx::abi::PageLevel::k4K, 16), 24 * M);
	EXPECT_EQ(pamt_level_bytes(6 * G, tdx::abi::PageLevel::k2M, 16), 48 * K);
	EXPECT_EQ(pamt_level_bytes(6 * G, tdx::abi::PageLevel::k1G, 16), 4096u);
	/* Another entry size scales the same way. */
	EXPECT_EQ(pamt_level_bytes(2 * G, tdx::abi::PageLevel::k4K, 8), 4 * M);
	EXPECT_EQ(pamt_level_bytes(2 * G, tdx::abi::PageLevel::k2M, 24), 24 * K);
}

TEST(Tdmr, RangesSharingAGigabyteShareATdmr)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0x1000, 0x9f000).is_ok());
	ASSERT_TRUE(memlist_add(l, 0x100000, 0x3ffe0000).is_ok());
	TdmrDesc out[4];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
	EXPECT_EQ(out[0].base, 0u);
	EXPECT_EQ(out[0].size, G);
}

TEST(Tdmr, OneTdmrPerRunOfGigabytesWithExactPamts)
{
	/* An 8 GiB q35 guest: [0, 2 GiB) and [4 GiB, 10 GiB), as Linux would cover it. */
	MemList l = q35(8 * G);
	TdmrDesc out[8];
	Result<usize> n = plan_tdmrs(l, info(4), Span<TdmrDesc>(out));
	ASSERT_TRUE(n.is_ok());
	ASSERT_EQ(n.value(), 2u);
	EXPECT_EQ(out[0].base, 0u);
	EXPECT_EQ(out[0].size, 2 * G);
	EXPECT_EQ(out[1].base, 4 * G);
	EXPECT_EQ(out[1].size, 6 * G);
	for (usize i = 0; i < 2; i++) {
		EXPECT_EQ(out[i].pamt_size[0], pamt_4k(out[i].size));
		EXPECT_EQ(out[i].pamt_size[1], pamt_2m(out[i].size));
		EXPECT_EQ(out[i].pamt_size[2], pamt_1g(out[i].size));
		EXPECT_EQ(out[i].pamt_base[0], 0u); /* placed by the caller */
	}
	EXPECT_EQ(out[1].pamt_size[0], 24 * M);
	EXPECT_EQ(count_tdmrs(l), 2u);
	EXPECT_EQ(largest_tdmr(l), 6 * G);
}

TEST(Tdmr, SpansThatTouchAreMergedAndTheGapIsOneReservedArea)
{
	/* [0, 512 MiB) and [1.25 GiB, 1.5 GiB): widened to [0, 1G) and [1G, 2G), which touch. */
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0, G / 2).is_ok());
	ASSERT_TRUE(memlist_add(l, G + G / 4, G + G / 2).is_ok());
	TdmrDesc out[2];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
	EXPECT_EQ(out[0].size, 2 * G);
	ASSERT_TRUE(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 0), 16).is_ok());
	ASSERT_EQ(out[0].rsvd.size(), 2u);
	EXPECT_EQ(out[0].rsvd[0].offset, G / 2); /* one area across the 1 GiB boundary */
	EXPECT_EQ(out[0].rsvd[0].size, G / 2 + G / 4);
	EXPECT_EQ(out[0].rsvd[1].offset, G + G / 2);
	EXPECT_EQ(out[0].rsvd[1].offset + out[0].rsvd[1].size, 2 * G);
}

TEST(Tdmr, RangesFarApartGetTheirOwnTdmrs)
{
	/* Merging would cover (and pay PAMT for) 2 GiB of nothing. */
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0, G / 2).is_ok());
	ASSERT_TRUE(memlist_add(l, 3 * G + G / 2, 4 * G).is_ok());
	TdmrDesc out[4];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 2u);
	EXPECT_EQ(out[0].base, 0u);
	EXPECT_EQ(out[0].size, G);
	EXPECT_EQ(out[1].base, 3 * G);
	EXPECT_EQ(out[1].size, G);
}

TEST(Tdmr, ManyGigabytesInOneTdmr)
{
	/* A 1 TiB host with RAM from 1 MiB on: one TDMR whose 4K PAMT is 4 GiB. */
	MemList l;
	ASSERT_TRUE(memlist_add(l, M, 1024 * G).is_ok());
	TdmrDesc out[1];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out)).value(), 1u);
	EXPECT_EQ(out[0].size, 1024 * G);
	EXPECT_EQ(out[0].pamt_size[0], 4 * G);
	EXPECT_EQ(out[0].pamt_size[1], 8 * M);
	EXPECT_EQ(out[0].pamt_size[2], 16 * K);
	/* The 1 GiB scheme would need 1024 TDMRs. */
	EXPECT_EQ(count_tdmrs(l, G), 1024u);
}

TEST(Tdmr, SpanLimitCutsTdmrs)
{
	MemList l = q35(8 * G);
	TdmrDesc out[16];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out), 4 * G).value(), 3u);
	EXPECT_EQ(out[0].base, 0u);
	EXPECT_EQ(out[0].size, 2 * G);
	EXPECT_EQ(out[1].base, 4 * G);
	EXPECT_EQ(out[1].size, 4 * G);
	EXPECT_EQ(out[2].base, 8 * G);
	EXPECT_EQ(out[2].size, 2 * G);
	EXPECT_EQ(out[1].pamt_size[0], 16 * M);
	EXPECT_EQ(count_tdmrs(l, 2 * G), 4u);
	EXPECT_EQ(largest_tdmr(l, 2 * G), 2 * G);
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out), G).value(), 8u);
	for (usize i = 0; i < 8; i++) {
		EXPECT_EQ(out[i].size, G);
		EXPECT_EQ(out[i].base, i < 2 ? i * G : (i + 2) * G);
		EXPECT_EQ(out[i].pamt_size[0], 4 * M);
	}
}

TEST(Tdmr, MoreTdmrsThanTheModuleHasNamesBothNumbers)
{
	MemList l = q35(8 * G);
	TdmrDesc out[16];
	fake::reset();
	EXPECT_EQ(plan_tdmrs(l, info(1), Span<TdmrDesc>(out)).status(), error(err::kENOSPC));
	EXPECT_TRUE(fake::kernel().log_contains("memory needs 2 TDMRs, the TDX module supports 1"));
	fake::reset();
	EXPECT_EQ(plan_tdmrs(l, info(4), Span<TdmrDesc>(out), G).status(), error(err::kENOSPC));
	EXPECT_TRUE(fake::kernel().log_contains("with TDMRs of at most 1 GiB memory needs 8 TDMRs, the TDX module supports 4"));
	/* The caller's table can be the smaller limit. */
	fake::reset();
	EXPECT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out, 1)).status(), error(err::kENOSPC));
	EXPECT_TRUE(fake::kernel().log_contains("memory needs 2 TDMRs, tdx_host supports 1"));
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
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out), G).value(), 2u);
	/* Both TDMRs' PAMTs live in the first GiB, apart from each other. */
	for (int i = 0; i < 2; i++)
		for (int lv = 0; lv < 3; lv++)
			out[i].pamt_base[lv] = 0x1000000 + u64(i * 3 + lv) * 0x800000;
	ASSERT_TRUE(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	ASSERT_TRUE(fill_reserved_areas(out[1], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	EXPECT_EQ(out[0].rsvd.size(), 6u);
	EXPECT_EQ(out[1].rsvd.size(), 0u);
}

TEST(Tdmr, APamtBlockAcrossTwoTdmrsIsReservedInEach)
{
	MemList l;
	ASSERT_TRUE(memlist_add(l, 0, 2 * G).is_ok());
	TdmrDesc out[2];
	ASSERT_EQ(plan_tdmrs(l, info(), Span<TdmrDesc>(out), G).value(), 2u);
	/* One run holding both TDMRs' PAMTs back to back, across the 1 GiB boundary. */
	u64 pa = G - 4 * M;
	for (int i = 0; i < 2; i++)
		for (int lv = 0; lv < 3; lv++) {
			out[i].pamt_base[lv] = pa;
			pa += out[i].pamt_size[lv];
		}
	ASSERT_TRUE(fill_reserved_areas(out[0], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	ASSERT_TRUE(fill_reserved_areas(out[1], l, Span<const TdmrDesc>(out, 2), 16).is_ok());
	ASSERT_EQ(out[0].rsvd.size(), 1u);
	EXPECT_EQ(out[0].rsvd[0].offset, G - 4 * M);
	EXPECT_EQ(out[0].rsvd[0].size, 4 * M);
	ASSERT_EQ(out[1].rsvd.size(), 1u);
	EXPECT_EQ(out[1].rsvd[0].offset, 0u);
	EXPECT_EQ(out[1].rsvd[0].size, pa - G);
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
	EXPECT_TRUE(fake::kernel().log_contains("needs more than 4 reserved areas"));
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

/* ---- construct_tdmrs in a bring-up: which layout is chosen ---------------------------------- */

namespace fld = tdx::abi::field;

class TdmrLayout : public ::testing::Test {
protected:
	void SetUp() override
	{
		fake::reset();
		before_ = page_counts();
	}
	void TearDown() override { fake::reset(); }

	/* The fake kernel and TDX module of an 8 GiB q35 guest: RAM and CMRs [0, 2G) and [4G, 10G). */
	void q35_8g(u16 max_tdmrs)
	{
		fake::kernel().ram = {{0x1000, 0x9f000}, {0x100000, 2 * G - 0x20000}, {4 * G, 10 * G}};
		fake::set_phys_bytes(8 * G); /* q35: [0, 2G) and [4G, 10G), the model's two CMRs */
		emu.profile.tdmr.max_tdmrs = max_tdmrs;
	}

	std::vector<std::pair<uint64_t, uint64_t>> tdmrs_of(u64 size, std::initializer_list<u64> bases)
	{
		std::vector<std::pair<uint64_t, uint64_t>> v;
		for (u64 b : bases)
			v.emplace_back(b, size);
		return v;
	}

	u64 pages_held() const { return page_counts().held - before_.held; }

	/*
	 * Every PAMT of every TDMR has its exact size, lies inside one of the table's runs, overlaps
	 * no other PAMT, and the runs hold nothing else.
	 */
	static void expect_pamts_placed(const TdxModule &m)
	{
		const TdmrTable *t = m.tdmr_table();
		ASSERT_NE(t, nullptr);
		std::vector<std::pair<u64, u64>> pamts; /* [start, end) */
		u64 sum = 0;
		for (usize i = 0; i < t->count; i++) {
			const TdmrDesc &d = t->tdmrs[i];
			EXPECT_EQ(d.pamt_size[0], pamt_4k(d.size));
			EXPECT_EQ(d.pamt_size[1], pamt_2m(d.size));
			EXPECT_EQ(d.pamt_size[2], pamt_1g(d.size));
			for (unsigned l = 0; l < 3; l++) {
				pamts.emplace_back(d.pamt_base[l], d.pamt_base[l] + d.pamt_size[l]);
				sum += d.pamt_size[l];
				bool in_a_run = false;
				for (usize r = 0; r < t->nr_pamt; r++) {
					u64 rs = t->pamt[r].pa().value(), re = rs + t->pamt[r].bytes();
					in_a_run |= d.pamt_base[l] >= rs && d.pamt_base[l] + d.pamt_size[l] <= re;
				}
				EXPECT_TRUE(in_a_run) << "TDMR " << i << " level " << l;
			}
		}
		for (usize a = 0; a < pamts.size(); a++)
			for (usize b = a + 1; b < pamts.size(); b++)
				EXPECT_TRUE(pamts[a].second <= pamts[b].first || pamts[b].second <= pamts[a].first)
					<< "PAMTs " << a << " and " << b << " overlap";
		EXPECT_EQ(m.pamt_bytes(), sum);
	}
	u64 pages_abandoned() const { return page_counts().abandoned - before_.abandoned; }

	fake::ModelBackend emu;
	Seamcall sc{emu};
	PageCounts before_;
};

TEST_F(TdmrLayout, LargeTdmrsWithOnePamtRunWhenMemoryAllows)
{
	q35_8g(4);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	expect_pamts_placed(m);
	std::vector<std::pair<uint64_t, uint64_t>> want = {{0, 2 * G}, {4 * G, 6 * G}};
	EXPECT_EQ(emu.tdmrs(), want);
	u64 pamt = pamt_4k(2 * G) + pamt_2m(2 * G) + pamt_1g(2 * G) + pamt_4k(6 * G) + pamt_2m(6 * G) +
		   pamt_1g(6 * G);
	EXPECT_EQ(m.pamt_bytes(), pamt); /* exact: no power-of-two rounding */
	EXPECT_EQ(fake::kernel().live_allocs, 1 + 1); /* the TDMR table and the one PAMT run */
	EXPECT_TRUE(fake::kernel().log_contains("2 TDMRs"));
	EXPECT_FALSE(fake::kernel().log_contains("trying"));
	EXPECT_EQ(emu.count(tdx::abi::leaf::kSysTdmrInit), 8 + 24); /* 256 MiB a call */
}

TEST_F(TdmrLayout, PamtRunsShrinkBeforeTdmrsDo)
{
	/* No run above 24 MiB + 48 KiB + 4 KiB (one 6 GiB TDMR's PAMTs): a run per TDMR works. */
	q35_8g(4);
	fake::kernel().max_contig_pages = (pamt_4k(6 * G) + pamt_2m(6 * G) + pamt_1g(6 * G)) / 4096;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	expect_pamts_placed(m);
	EXPECT_EQ(emu.tdmrs().size(), 2u);
	EXPECT_EQ(fake::kernel().contig_refused, 1); /* the one-block run */
	EXPECT_EQ(fake::kernel().live_allocs, 1 + 2); /* the TDMR table and a run per TDMR */
	EXPECT_FALSE(fake::kernel().log_contains("trying"));
}

TEST_F(TdmrLayout, FallsBackToSmallerTdmrsWhileMaxTdmrsAllows)
{
	/* Runs of at most 16 MiB: a 6 GiB TDMR's 4K PAMT (24 MiB) cannot be had, a 4 GiB one's can. */
	q35_8g(4);
	fake::kernel().max_contig_pages = 16 * M / 4096;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	expect_pamts_placed(m);
	std::vector<std::pair<uint64_t, uint64_t>> want = {{0, 2 * G}, {4 * G, 4 * G}, {8 * G, 2 * G}};
	EXPECT_EQ(emu.tdmrs(), want);
	EXPECT_TRUE(fake::kernel().log_contains("trying 3 TDMRs of at most 4 GiB"));
	EXPECT_EQ(m.pamt_bytes(), pamt_4k(8 * G) + 2 * pamt_2m(2 * G) + pamt_2m(4 * G) + 3 * 4096);
}

TEST_F(TdmrLayout, FallsBackToGigabyteTdmrs)
{
	/* Only buddy-sized runs (4 MiB), as on a kernel without CONFIG_CONTIG_ALLOC. */
	q35_8g(64);
	fake::kernel().max_contig_pages = 1024;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	expect_pamts_placed(m);
	EXPECT_EQ(emu.tdmrs(), tdmrs_of(G, {0, G, 4 * G, 5 * G, 6 * G, 7 * G, 8 * G, 9 * G}));
	EXPECT_TRUE(fake::kernel().log_contains("trying 8 TDMRs of at most 1 GiB"));
	EXPECT_EQ(m.pamt_bytes(), 8 * (4 * M + 8 * K + 4 * K));
	EXPECT_EQ(pages_held(), m.pamt_bytes() / 4096);
}

TEST_F(TdmrLayout, NeitherWorksNamesBothNumbers)
{
	q35_8g(4);
	fake::kernel().max_contig_pages = 1024;
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kENOMEM));
	}
	EXPECT_TRUE(fake::kernel().log_contains(
		"cannot cover memory: TDMRs of up to 2 GiB failed (no memory for their PAMTs), and with TDMRs of at most 1 GiB memory needs 8 TDMRs, the TDX module supports 4"));
	EXPECT_EQ(emu.count(tdx::abi::leaf::kSysConfig), 0);
	EXPECT_EQ(emu.state(), seam_emu::SysState::kSysinitPending);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_EQ(pages_held(), 0u);
}

TEST_F(TdmrLayout, MoreTdmrsThanTheModuleHasFailsAtOnce)
{
	q35_8g(1);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kENOSPC));
	}
	EXPECT_TRUE(fake::kernel().log_contains("memory needs 2 TDMRs, the TDX module supports 1"));
	EXPECT_FALSE(fake::kernel().log_contains("trying")); /* no smaller TDMRs could help */
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_EQ(pages_held(), 0u);
}

TEST_F(TdmrLayout, ReservedAreasRunningOutFallsBackToSmallerTdmrs)
{
	/* [0, 2 GiB) with 12 holes in each GiB: one TDMR needs 24 areas, two need 12 or 13 each. */
	std::vector<std::pair<uint64_t, uint64_t>> ram;
	for (u64 i = 0; i < 24; i++)
		ram.emplace_back(i * (2 * G / 24) + M, (i + 1) * (2 * G / 24) & ~(4096ull - 1));
	fake::kernel().ram = ram;
	emu.profile.tdmr.max_reserved_per_tdmr = 16;
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.tdmrs(), tdmrs_of(G, {0, G}));
	EXPECT_TRUE(fake::kernel().log_contains("needs more than 16 reserved areas"));
	EXPECT_TRUE(fake::kernel().log_contains("trying 2 TDMRs of at most 1 GiB"));
	m.teardown();
	/* With one TDMR allowed there is nothing to fall back to. */
	fake::ModelBackend one_tdmr(fake::emulator_profile("max-tdmrs-1.json"));
	Seamcall sc1(one_tdmr);
	fake::kernel().log.clear();
	TdxModule m2(sc1);
	EXPECT_EQ(m2.bring_up(), error(err::kE2BIG));
	EXPECT_TRUE(fake::kernel().log_contains(
		"TDMRs of up to 2 GiB failed (too many reserved areas), and with TDMRs of at most 1 GiB memory needs 2 TDMRs, the TDX module supports 1"));
	EXPECT_EQ(pages_held(), 0u);
}

TEST_F(TdmrLayout, NoRamIsAnError)
{
	fake::kernel().ram.clear();
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	EXPECT_TRUE(fake::kernel().log_contains("no System RAM"));
}

TEST_F(TdmrLayout, RamWalkCallbackErrorsArePassedOn)
{
	/* Not ascending: memlist_add's -EINVAL reaches the caller as it is. */
	fake::kernel().ram = {{0x100000, 0x200000}, {0x1000, 0x9f000}};
	TdxModule m(sc);
	EXPECT_EQ(m.bring_up(), error(err::kEINVAL));
	EXPECT_FALSE(fake::kernel().log_contains("no System RAM"));
}

/* ---- the page ledger ------------------------------------------------------------------------ */

TEST_F(TdmrLayout, LedgerCountsEveryPageAndReturnsToZero)
{
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(pages_held(), m.pamt_bytes() / 4096); /* SYS.CONFIG's and RDALL's pages are freed */
		m.teardown();
		EXPECT_EQ(pages_held(), 0u);
	}
	EXPECT_EQ(pages_abandoned(), 0u);
	fake::kernel().log.clear();
	tdx_core_report_pages();
	EXPECT_TRUE(fake::kernel().log_contains(std::to_string(before_.held) + " pages still held"));
}

TEST_F(TdmrLayout, LedgerCountsPagesAbandonedToTheModuleApart)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	u64 pamt_pages = m.pamt_bytes() / 4096;
	emu.fail(tdx::abi::leaf::kSysDisable, 1, tdx::abi::status::kSysNotReady);
	m.teardown();
	EXPECT_EQ(pages_held(), 0u);
	EXPECT_EQ(pages_abandoned(), pamt_pages);
	fake::kernel().log.clear();
	tdx_core_report_pages();
	EXPECT_TRUE(fake::kernel().log_contains(std::to_string(before_.abandoned + pamt_pages) +
						" abandoned to the TDX module"));
}

TEST(PageRun, ExactPagesAndLedger)
{
	fake::reset();
	PageCounts before = page_counts();
	{
		PageRun r = PageRun::alloc(5 * 4096 + 1);
		ASSERT_TRUE(r);
		EXPECT_EQ(r.pages(), 6u);
		EXPECT_EQ(r.bytes(), 6 * 4096u);
		EXPECT_EQ(page_counts().held, before.held + 6);
		PageRun moved = kstd::move(r);
		EXPECT_FALSE(r);
		EXPECT_EQ(page_counts().held, before.held + 6);
		EXPECT_FALSE(PageRun::alloc(0));
	}
	EXPECT_EQ(page_counts().held, before.held);
	fake::kernel().fail_alloc_at = 1;
	EXPECT_FALSE(PageRun::alloc(4096));
	EXPECT_EQ(page_counts().held, before.held);
	fake::reset();
}
