// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.CONFIG's TDMR/PAMT rules, one by one, through the module (state must stay unchanged).
#include "test_support.h"

namespace seam_emu::test {
namespace {

constexpr unsigned k4K = unsigned(PageLevel::k4K), k2M = unsigned(PageLevel::k2M), k1G = unsigned(PageLevel::k1G);

class Tdmr : public ModelTest {
protected:
	void SetUp() override
	{
		sys_init();
		lp_init_all();
	}
	/* Expect SYS.CONFIG to refuse the layout with `expected` and leave the module as it was. */
	void refuse(const TdmrLayout &l, u64 expected)
	{
		EXPECT_EQ(config(l), expected) << std::hex << "0x" << expected;
		EXPECT_EQ(m_->state(), SysState::kSysinitDone);
		EXPECT_TRUE(m_->tdmrs().empty());
		EXPECT_EQ(m_->global_keyid(), 0);
	}
	TdmrLayout one() { return one_tdmr_layout(profile_); }
	TdmrLayout two() { return two_tdmr_layout(profile_); }
};

TEST_F(Tdmr, GoodLayoutsAreAccepted)
{
	EXPECT_EQ(check_tdmrs(one().tdmrs, profile_, mem_.ranges()), status::kSuccess);
	EXPECT_EQ(check_tdmrs(two().tdmrs, profile_, mem_.ranges()), status::kSuccess);
	EXPECT_EQ(config(two()), status::kSuccess);
	EXPECT_EQ(m_->tdmrs().size(), 2u);
}

TEST_F(Tdmr, BaseAndSizeMustBe1GAligned)
{
	TdmrLayout l = one();
	l.tdmrs[0].base = 2 * kMiB;
	refuse(l, status::kInvalidTdmr | 0);
	l = one();
	l.tdmrs[0].size = kGiB + 2 * kMiB;
	refuse(l, status::kInvalidTdmr);
	l = one();
	l.tdmrs[0].size = 0;
	refuse(l, status::kInvalidTdmr);
	l = one();
	l.tdmrs[0].base = ~0ull & ~(kGiB - 1);
	refuse(l, status::kInvalidTdmr); /* base + size wraps */
}

TEST_F(Tdmr, TdmrsSortedAndNotOverlapping)
{
	TdmrLayout l = two();
	std::swap(l.tdmrs[0], l.tdmrs[1]);
	refuse(l, status::kNonOrderedTdmr | 1);
	l = two();
	l.tdmrs[1].base = 0; /* same base: overlaps TDMR 0 */
	refuse(l, status::kNonOrderedTdmr | 1);
	l = two();
	l.tdmrs[1].base = kGiB / 2; /* overlap is checked before alignment */
	refuse(l, status::kNonOrderedTdmr | 1);
}

TEST_F(Tdmr, ReservedAreaRules)
{
	auto with_rsvd = [&](std::vector<TdmrReservedArea> r) {
		TdmrLayout l = one();
		l.tdmrs[0].rsvd = rsvd_list(profile_, std::move(r));
		return l;
	};
	const u64 tail = kGiB - 56 * kMiB;
	/* Not 4K aligned (offset, size). */
	refuse(with_rsvd({{56 * kMiB + 512, tail - 512}}), status::kInvalidReservedInTdmr | 0);
	refuse(with_rsvd({{56 * kMiB, tail - 512}}), status::kInvalidReservedInTdmr | 0);
	/* Past the end of the TDMR. */
	refuse(with_rsvd({{56 * kMiB, tail + 4096}}), status::kInvalidReservedInTdmr);
	/* Offset + size wraps. */
	refuse(with_rsvd({{56 * kMiB, ~0ull - 4095}}), status::kInvalidReservedInTdmr);
	/* Out of order, and overlapping (second area is index 1 -> byte 1 of the details). */
	refuse(with_rsvd({{60 * kMiB, kGiB - 60 * kMiB}, {56 * kMiB, 4 * kMiB}}),
	       status::kNonOrderedReservedInTdmr | (1 << 8));
	refuse(with_rsvd({{56 * kMiB, 8 * kMiB}, {60 * kMiB, kGiB - 60 * kMiB}}),
	       status::kNonOrderedReservedInTdmr | (1 << 8));
	/* A null area may only be followed by null areas. */
	refuse(with_rsvd({{56 * kMiB, tail}, {0, 0}, {4 * kMiB, 4096}}), status::kNonOrderedReservedInTdmr | (1 << 8));
	/* Adjacent areas are fine. */
	EXPECT_EQ(config(with_rsvd({{56 * kMiB, 4 * kMiB}, {60 * kMiB, kGiB - 60 * kMiB}})), status::kSuccess);
}

TEST_F(Tdmr, UsableMemoryMustBeInCmrs)
{
	TdmrLayout l = one();
	/* Reserve less: [60M, 1G) leaves [0, 60M) usable but the PAMT at 56M now sits in usable memory. */
	l.tdmrs[0].rsvd = rsvd_list(profile_, {{128 * kMiB, kGiB - 128 * kMiB}});
	/* [64M, 128M) is usable but not RAM; the PAMT check trips first as the PAMT is in usable memory. */
	refuse(l, status::kPamtOverlap | (k4K << 8));
	/* Move PAMTs into a reserved hole inside RAM: then the CMR rule is what fails. */
	l.tdmrs[0].rsvd = rsvd_list(profile_, {{56 * kMiB, 8 * kMiB}, {128 * kMiB, kGiB - 128 * kMiB}});
	refuse(l, status::kTdmrOutsideCmrs | 0);
	/* A second TDMR above RAM with usable memory. */
	l = two();
	l.tdmrs[1].rsvd = rsvd_list(profile_, {{4096, kGiB - 4096}});
	refuse(l, status::kTdmrOutsideCmrs | 1);
}

TEST_F(Tdmr, PamtAddressAndSize)
{
	TdmrLayout l = one();
	l.tdmrs[0].pamt_base[k4K] += 512;
	refuse(l, status::kInvalidPamt | (k4K << 8));
	l = one();
	l.tdmrs[0].pamt_size[k2M] = 4096; /* needs 8K */
	refuse(l, status::kInvalidPamt | (k2M << 8));
	l = one();
	l.tdmrs[0].pamt_size[k4K] -= 4096;
	refuse(l, status::kInvalidPamt | (k4K << 8));
	l = one();
	l.tdmrs[0].pamt_size[k1G] = 100;
	refuse(l, status::kInvalidPamt | (k1G << 8));
	l = one();
	l.tdmrs[0].pamt_base[k1G] = ~0ull & ~0xFFFull;
	refuse(l, status::kInvalidPamt | (k1G << 8)); /* wraps */
	/* Larger than needed is fine. */
	l = one();
	l.tdmrs[0].pamt_size[k1G] = 8192;
	l.tdmrs[0].pamt_base[k1G] = 61 * kMiB;
	EXPECT_EQ(config(l), status::kSuccess);
}

TEST_F(Tdmr, PamtsMustNotOverlapEachOther)
{
	TdmrLayout l = one();
	l.tdmrs[0].pamt_base[k2M] = l.tdmrs[0].pamt_base[k4K] + 4096;
	refuse(l, status::kPamtOverlap | (k4K << 8));
	l = two();
	l.tdmrs[1].pamt_base[k1G] = l.tdmrs[0].pamt_base[k2M];
	refuse(l, status::kPamtOverlap | 1 | (k1G << 8) | (0 << 16));
}

TEST_F(Tdmr, PamtMustNotSitInUsableTdmrMemory)
{
	TdmrLayout l = one();
	l.tdmrs[0].pamt_base[k1G] = 8 * kMiB; /* inside usable [0, 56M) */
	refuse(l, status::kPamtOverlap | (k1G << 8));
	/* TDMR 1's PAMT inside TDMR 0's usable memory. */
	l = two();
	l.tdmrs[1].pamt_base[k2M] = 16 * kMiB;
	refuse(l, status::kPamtOverlap | 1 | (k2M << 8));
}

TEST_F(Tdmr, PamtMustBeInCmrs)
{
	TdmrLayout l = one();
	/* Outside every TDMR (above 1G) but not RAM. */
	l.tdmrs[0].pamt_base[k1G] = 3 * kGiB;
	refuse(l, status::kPamtOutsideCmrs | (k1G << 8));
	/* In the reserved area but beyond RAM. */
	l = one();
	l.tdmrs[0].pamt_base[k2M] = 512 * kMiB;
	refuse(l, status::kPamtOutsideCmrs | (k2M << 8));
}

TEST_F(Tdmr, EntrySizesComeFromProfile)
{
	Profile p = profile_;
	p.tdmr.pamt_entry_size[k4K] = 8;
	EXPECT_EQ(pamt_required_size(p, PageLevel::k4K, kGiB), 2 * kMiB);
	EXPECT_EQ(pamt_required_size(p, PageLevel::k2M, kGiB), 512u * 16);
	EXPECT_EQ(pamt_required_size(p, PageLevel::k1G, 2 * kGiB), 32u);
}

TEST_F(Tdmr, AvailableAreas)
{
	TdmrDesc d = one().tdmrs[0];
	d.rsvd = rsvd_list(profile_, {{0, 4096}, {8192, 4096}, {kGiB - 4096, 4096}});
	auto a = tdmr_available_areas(d);
	ASSERT_EQ(a.size(), 2u);
	EXPECT_EQ(a[0].base, 4096u);
	EXPECT_EQ(a[0].size, 4096u);
	EXPECT_EQ(a[1].base, 12288u);
	EXPECT_EQ(a[1].end(), kGiB - 4096);
}

class TdmrLargeRam : public ModelTest {
protected:
	TdmrLargeRam() : ModelTest(3 * kGiB) {}
};

TEST_F(TdmrLargeRam, TdmrsAcrossTheHole)
{
	sys_init();
	lp_init_all();
	/* RAM is [0, 2G) and [4G, 5G); all PAMTs live in a reserved 32 MiB at the top of low RAM. */
	u64 at = 2 * kGiB - 32 * kMiB;
	auto make = [&](u64 base, u64 size, std::vector<TdmrReservedArea> rsvd) {
		TdmrDesc d;
		d.base = base;
		d.size = size;
		d.rsvd = rsvd_list(profile_, std::move(rsvd));
		for (unsigned lv : {k4K, k2M, k1G}) {
			d.pamt_base[lv] = at;
			d.pamt_size[lv] = (pamt_required_size(profile_, PageLevel(lv), size) + 4095) & ~4095ull;
			at += d.pamt_size[lv];
		}
		return d;
	};
	TdmrLayout l;
	l.tdmrs.push_back(make(0, 2 * kGiB, {{2 * kGiB - 32 * kMiB, 32 * kMiB}}));
	l.tdmrs.push_back(make(4 * kGiB, kGiB, {}));
	ASSERT_LE(at, 2 * kGiB);
	ASSERT_EQ(config(l), status::kSuccess);
	key_config_all();
	tdmr_init_all();
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);

	/* One TDMR [2G, 5G) over the PCI hole: refused unless the hole is reserved. */
	sys_init();
	lp_init_all();
	at = 2 * kGiB - 32 * kMiB;
	l.tdmrs.clear();
	l.tdmrs.push_back(make(0, 2 * kGiB, {{2 * kGiB - 32 * kMiB, 32 * kMiB}}));
	l.tdmrs.push_back(make(2 * kGiB, 3 * kGiB, {}));
	ASSERT_LE(at, 2 * kGiB);
	EXPECT_EQ(config(l), status::kTdmrOutsideCmrs | 1);
	l.tdmrs[1].rsvd = rsvd_list(profile_, {{0, 2 * kGiB}});
	EXPECT_EQ(config(l), status::kSuccess);
}

} // namespace
} // namespace seam_emu::test
