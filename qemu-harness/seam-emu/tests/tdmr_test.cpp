// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.CONFIG's TDMR/PAMT rules, one by one, through the module (state must stay unchanged).
#include "test_support.h"

#include <stdexcept>

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
}

TEST_F(Tdmr, PamtSizeMustBeExact)
{
	/* The module would take a larger PAMT; the emulator wants what the TDMR needs, to the page. */
	for (unsigned lv : {k4K, k2M, k1G}) {
		TdmrLayout l = one();
		l.tdmrs[0].pamt_size[lv] += 4096;
		refuse(l, status::kInvalidPamt | (lv << 8));
	}
	EXPECT_EQ(pamt_exact_size(profile_, PageLevel::k4K, kGiB), 4 * kMiB);
	EXPECT_EQ(pamt_exact_size(profile_, PageLevel::k2M, kGiB), 8192u);
	EXPECT_EQ(pamt_exact_size(profile_, PageLevel::k1G, kGiB), 4096u); /* 16 bytes, a page */
	EXPECT_EQ(pamt_exact_size(profile_, PageLevel::k1G, 300 * kGiB), 8192u);
	EXPECT_EQ(config(one()), status::kSuccess);
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
	p.tdmr.pamt_entry_size[k2M] = 20;
	EXPECT_EQ(pamt_required_size(p, PageLevel::k4K, kGiB), 2 * kMiB);
	EXPECT_EQ(pamt_required_size(p, PageLevel::k2M, kGiB), 512u * 20);
	EXPECT_EQ(pamt_exact_size(p, PageLevel::k2M, kGiB), 12288u);
	EXPECT_EQ(pamt_required_size(p, PageLevel::k1G, 2 * kGiB), 32u);
}

TEST_F(Tdmr, PamtPagesBelongToTheModuleUntilDisable)
{
	TdmrLayout l = two();
	refuse([&] {
		TdmrLayout bad = two();
		bad.tdmrs[1].pamt_size[k4K] += 4096;
		return bad;
	}(), status::kInvalidPamt | 1 | (k4K << 8));
	EXPECT_EQ(m_->pages().bytes(), 0u); /* a refused SYS.CONFIG takes nothing */

	ASSERT_EQ(config(l), status::kSuccess);
	u64 total = 0;
	for (unsigned t = 0; t < 2; t++)
		for (unsigned lv : {k4K, k2M, k1G}) {
			const TdmrDesc &d = l.tdmrs[t];
			total += d.pamt_size[lv];
			const OwnedRange *o = m_->pages().find(d.pamt_base[lv] + d.pamt_size[lv] - 1);
			ASSERT_NE(o, nullptr) << t << " " << lv;
			EXPECT_EQ(o->owner, PageOwner::kPamt);
			EXPECT_EQ(o->index, t);
			EXPECT_EQ(o->base, d.pamt_base[lv]);
		}
	EXPECT_EQ(m_->pages().bytes(PageOwner::kPamt), total);
	EXPECT_EQ(m_->pages().find(l.tdmrs[0].pamt_base[k4K] - 1), nullptr);

	key_config_all();
	tdmr_init_all();
	/* Still the module's half way through SYS.DISABLE. */
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(m_->pages().bytes(), total);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(m_->pages().bytes(), 0u);
	EXPECT_TRUE(m_->pages().ranges().empty());

	/* Released pages can be given again (they would be refused as in use otherwise). */
	sys_init();
	lp_init_all();
	EXPECT_EQ(config(l), status::kSuccess);
	EXPECT_EQ(m_->pages().bytes(), total);
}

TEST(PageOwners, ClaimFindOverlap)
{
	PageOwners p;
	EXPECT_TRUE(p.claim(0x10000, 0x3000, PageOwner::kPamt, 0));
	EXPECT_TRUE(p.claim(0x20000, 0x1000, PageOwner::kPamt, 1));
	EXPECT_TRUE(p.claim(0x13000, 0x1000, PageOwner::kPamt, 2)); /* adjacent is fine */
	EXPECT_TRUE(p.claim(0x5000, 0, PageOwner::kPamt, 3));       /* nothing */
	/* Any shared page is refused, and nothing changes. */
	EXPECT_FALSE(p.claim(0x12000, 0x2000, PageOwner::kPamt, 4));
	EXPECT_FALSE(p.claim(0xF000, 0x2000, PageOwner::kPamt, 4));
	EXPECT_FALSE(p.claim(0x0, 0x100000, PageOwner::kPamt, 4)); /* covers them all */
	EXPECT_FALSE(p.claim(0x20000, 0x1000, PageOwner::kPamt, 4));
	EXPECT_FALSE(p.claim(~0ull & ~0xFFFull, 0x2000, PageOwner::kPamt, 4)); /* wraps */
	EXPECT_EQ(p.ranges().size(), 3u);
	EXPECT_EQ(p.bytes(), 0x5000u);
	EXPECT_TRUE(p.overlaps(0x12FFF, 1));
	EXPECT_FALSE(p.overlaps(0x14000, 0xC000));
	EXPECT_TRUE(p.overlaps(0x14000, 0xC001));
	EXPECT_TRUE(p.overlaps(0x1F000, ~0ull)); /* a wrapping range overlaps what follows it */
	EXPECT_EQ(p.find(0xFFFF), nullptr);
	ASSERT_NE(p.find(0x12FFF), nullptr);
	EXPECT_EQ(p.find(0x12FFF)->index, 0u);
	EXPECT_EQ(p.find(0x13000)->index, 2u);
	EXPECT_EQ(p.find(0x14000), nullptr);
	p.release_all();
	EXPECT_EQ(p.bytes(), 0u);
	EXPECT_TRUE(p.claim(0x0, 0x100000, PageOwner::kPamt, 4));
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

/*
 * The host's new layout: 1 GiB-aligned TDMRs of many GiB. An 8 GiB q35 guest has RAM at [0, 2G)
 * and [4G, 10G); two TDMRs cover it, with every PAMT above 4 GiB.
 */
class TdmrHugeRam : public ModelTest {
protected:
	static Profile four_tdmrs()
	{
		ProfileResult r = load_profile(profile_path("max-tdmrs-4.json"));
		if (!r.profile)
			throw std::runtime_error(r.error);
		return *r.profile;
	}
	TdmrHugeRam() : ModelTest(8 * kGiB, four_tdmrs()) {}

	static constexpr u64 kPamtArea = 64 * kMiB;
	static constexpr u64 kPamtAt = 10 * kGiB - kPamtArea; /* reserved at the top of TDMR 1 */

	TdmrLayout layout()
	{
		TdmrLayout l;
		u64 at = kPamtAt;
		auto make = [&](u64 base, u64 size, std::vector<TdmrReservedArea> rsvd) {
			TdmrDesc d;
			d.base = base;
			d.size = size;
			d.rsvd = rsvd_list(profile_, std::move(rsvd));
			for (unsigned lv : {k4K, k2M, k1G}) {
				d.pamt_base[lv] = at;
				d.pamt_size[lv] = pamt_exact_size(profile_, PageLevel(lv), size);
				at += d.pamt_size[lv];
			}
			return d;
		};
		l.tdmrs.push_back(make(0, 2 * kGiB, {}));
		l.tdmrs.push_back(make(4 * kGiB, 6 * kGiB, {{6 * kGiB - kPamtArea, kPamtArea}}));
		EXPECT_LE(at, 10 * kGiB);
		return l;
	}
	/* Where a GPA above 4 GiB lives in the RAM file: q35 puts it right after the low 2 GiB. */
	const u8 *file_byte(u64 gpa) { return ram_.data() + (gpa - 4 * kGiB + 2 * kGiB); }
};

TEST_F(TdmrHugeRam, ExactPamtsForMultiGigabyteTdmrs)
{
	sys_init();
	lp_init_all();
	TdmrLayout l = layout();
	EXPECT_EQ(l.tdmrs[1].pamt_size[k4K], 24 * kMiB);
	EXPECT_EQ(l.tdmrs[1].pamt_size[k2M], 48 * 1024u);
	EXPECT_EQ(l.tdmrs[1].pamt_size[k1G], 4096u);
	for (unsigned lv : {k4K, k2M, k1G}) {
		for (s64 delta : {-4096, 4096}) {
			TdmrLayout bad = l;
			bad.tdmrs[1].pamt_size[lv] += delta;
			EXPECT_EQ(config(bad), status::kInvalidPamt | 1 | (lv << 8)) << lv << " " << delta;
		}
	}
	/* Sized for 1 GiB (the old layout), a 6 GiB TDMR's PAMT is refused. */
	TdmrLayout small = l;
	small.tdmrs[1].pamt_size[k4K] = pamt_exact_size(profile_, PageLevel::k4K, kGiB);
	EXPECT_EQ(config(small), status::kInvalidPamt | 1 | (k4K << 8));
	EXPECT_EQ(m_->state(), SysState::kSysinitDone);

	ASSERT_EQ(config(l), status::kSuccess);
	key_config_all();
	ASSERT_EQ(m_->state(), SysState::kSysReady);
	/* 256 MiB per call: rdx reports whole GiBs only, up to the end of the 6 GiB TDMR. */
	for (u64 n = 1; n <= 24; n++) {
		ASSERT_EQ(call(1, leaf::kSysTdmrInit, 4 * kGiB), status::kSuccess) << n;
		EXPECT_EQ(out_.rdx, 4 * kGiB + (n * 256 * kMiB / kGiB) * kGiB) << n;
	}
	EXPECT_EQ(out_.rdx, 10 * kGiB);
	EXPECT_EQ(call(1, leaf::kSysTdmrInit, 4 * kGiB), status::kTdmrAlreadyInitialized);
	/* The PAMT above 4 GiB was written where QEMU keeps that memory. */
	const TdmrDesc &d = l.tdmrs[1];
	for (unsigned lv : {k4K, k2M, k1G}) {
		u64 last_entry = d.pamt_base[lv] + pamt_required_size(profile_, PageLevel(lv), d.size) - 8;
		u64 word;
		std::memcpy(&word, file_byte(last_entry), 8);
		EXPECT_EQ(word, Module::kPamtInitPattern) << lv;
	}
	EXPECT_EQ(m_->tdmrs_initialized(), 1u);
	for (int n = 0; n < 8; n++)
		ASSERT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(out_.rdx, 2 * kGiB);
	EXPECT_EQ(m_->tdmrs_initialized(), 2u);
}

TEST_F(TdmrHugeRam, TdmrCountLimitFromTheImage)
{
	sys_init();
	lp_init_all();
	TdmrLayout l = layout();
	write_layout(mem_, l, profile_);
	EXPECT_EQ(call(0, leaf::kSysConfig, l.array_pa, 5, 32), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kSysConfig, l.array_pa, 2, 32), status::kSuccess);
}

} // namespace
} // namespace seam_emu::test
