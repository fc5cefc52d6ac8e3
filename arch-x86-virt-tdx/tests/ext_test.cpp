// SPDX-License-Identifier: GPL-2.0
/*
 * Add-on features and TDX module extensions: the add-on bitmap and SYS.CONFIG's version, the
 * HPA_LIST_INFO encoding and batching of the memory pool, the pool's ownership (given to the
 * module, taken back only after SYS.DISABLE, or abandoned), and the extension bring-up against
 * the emulator's model (model_backend.h).
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include <tdx/abi/ext.h>

#include "bringup.h"
#include "ext.h"
#include "fake_kapi.h"
#include "model_backend.h"
#include "page_ledger.h"
#include "phys_mem.h"

using namespace tdx;
namespace f0 = tdx::abi::features0;

/* ---- add-on features ------------------------------------------------------------------------ */

TEST(AddOns, QuoteOnlyWhenTheModuleReportsIt)
{
	EXPECT_EQ(select_addons(0), 0u);
	EXPECT_EQ(select_addons(f0::kNoRbpMod | f0::kTdPreserving), 0u); /* the default profile */
	EXPECT_EQ(select_addons(f0::kQuote), f0::kQuote);
	EXPECT_EQ(select_addons(f0::kQuote | f0::kExt | f0::kNoRbpMod), f0::kQuote);
	/* EXT alone is not an add-on to ask for, nor is anything else the module reports. */
	EXPECT_EQ(select_addons(f0::kExt), 0u);
	EXPECT_EQ(select_addons(~0ull), f0::kQuote);
	EXPECT_EQ(select_addons(~0ull & ~f0::kQuote), 0u);
}

TEST(AddOns, SysConfigV1OnlyWithABitmap)
{
	EXPECT_EQ(sys_config_leaf(0).rax(), 0x2Du);
	EXPECT_EQ(sys_config_leaf(0).version(), 0);
	EXPECT_EQ(sys_config_leaf(f0::kQuote).rax(), 0x1002Du);
	EXPECT_EQ(sys_config_leaf(select_addons(f0::kExt | f0::kNoRbpMod)).version(), 0);
	EXPECT_EQ(sys_config_leaf(select_addons(f0::kExt | f0::kQuote)).version(), 1);
}

TEST(AddOns, Names)
{
	char buf[32];
	EXPECT_STREQ(addon_names(f0::kQuote, buf, sizeof(buf)), "QUOTE");
	EXPECT_STREQ(addon_names(0, buf, sizeof(buf)), "none");
	EXPECT_STREQ(addon_names(f0::kExt, buf, sizeof(buf)), "none"); /* not an add-on we name */
	char tiny[3];
	EXPECT_STREQ(addon_names(f0::kQuote, tiny, sizeof(tiny)), "QU"); /* truncated, terminated */
}

/* ---- HPA_LIST_INFO -------------------------------------------------------------------------- */

TEST(HpaListInfo, FieldsAndReservedBits)
{
	constexpr u64 list = 0x7654321000ull;
	u64 info = tdx::abi::hpa_list_info(list, 0, 511);
	EXPECT_EQ(info & 0xFFF, 0u);                   /* first entry 0, reserved bits 2:0 */
	EXPECT_EQ((info >> 12) & ((1ull << 40) - 1), list >> 12); /* bits 51:12: the PFN */
	EXPECT_EQ((info >> 52) & 7, 0u);               /* reserved bits 54:52 */
	EXPECT_EQ(info >> 55, 511u);                   /* bits 63:55: the last entry */
	EXPECT_EQ(tdx::abi::hpa_list_info(list, 5, 9), list | (5u << 3) | (9ull << 55));
	EXPECT_EQ(tdx::abi::hpa_list_info_first(tdx::abi::hpa_list_info(list, 5, 9)), 5u);
	EXPECT_EQ(tdx::abi::hpa_list_info_last(tdx::abi::hpa_list_info(list, 5, 9)), 9u);
	EXPECT_EQ(tdx::abi::hpa_list_info_list_pa(tdx::abi::hpa_list_info(list, 5, 9)), list);
	EXPECT_EQ(hpa_list_info_for(PhysAddr(list), 1), list); /* one page: first = last = 0 */
	EXPECT_EQ(hpa_list_info_for(PhysAddr(list), 512), list | (511ull << 55));
}

struct PoolCase {
	u64 pages;
	u64 lists;
	u32 last_list_entries;
};

class HpaListBatches : public ::testing::TestWithParam<PoolCase> {};

TEST_P(HpaListBatches, CountAndBounds)
{
	const PoolCase c = GetParam();
	EXPECT_EQ(hpa_list_nr_batches(c.pages), c.lists);
	u64 covered = 0;
	for (u64 i = 0; i < c.lists; i++) {
		HpaListBatch b = hpa_list_batch(c.pages, i);
		EXPECT_EQ(b.first_page, covered) << "list " << i;
		EXPECT_EQ(b.nr, i + 1 < c.lists ? 512u : c.last_list_entries) << "list " << i;
		covered += b.nr;
	}
	EXPECT_EQ(covered, c.pages);
	EXPECT_EQ(hpa_list_batch(c.pages, c.lists).nr, 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, HpaListBatches,
			 ::testing::Values(PoolCase{1, 1, 1}, PoolCase{512, 1, 512}, PoolCase{513, 2, 1},
					   PoolCase{12800, 25, 512}, PoolCase{12801, 26, 1}));

/* ---- the pool: lists written from real (fake) pages, and their ownership --------------------- */

using Pool = fake::PageLedgerTest;

TEST_F(Pool, ListsHoldEveryPageOnce)
{
	for (u64 n : {1ull, 512ull, 513ull, 12800ull}) {
		ExtPool pool;
		ASSERT_TRUE(pool.alloc(n).is_ok()) << n;
		EXPECT_EQ(pool.nr_pages(), n);
		EXPECT_EQ(pool.nr_batches(), hpa_list_nr_batches(n));
		EXPECT_EQ(held(), n);
		PageRun list = PageRun::alloc(4096);
		ASSERT_TRUE(list);
		std::vector<u64> seen;
		for (usize i = 0; i < pool.nr_batches(); i++) {
			memset(list.va(), 0xAA, 4096);
			u64 info = pool.fill_list(i, list);
			u32 entries = hpa_list_batch(n, i).nr;
			EXPECT_EQ(tdx::abi::hpa_list_info_list_pa(info), list.pa().value());
			EXPECT_EQ(tdx::abi::hpa_list_info_first(info), 0u);
			EXPECT_EQ(tdx::abi::hpa_list_info_last(info), entries - 1);
			const auto *e = static_cast<const u64 *>(list.va());
			for (u32 k = 0; k < entries; k++) {
				EXPECT_EQ(e[k] % 4096, 0u);
				EXPECT_NE(fake::phys_ptr(e[k], 4096), nullptr);
				seen.push_back(e[k]);
			}
		}
		std::sort(seen.begin(), seen.end());
		EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a page listed twice";
		EXPECT_EQ(seen.size(), n);
	}
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
}

TEST_F(Pool, GivenPagesComeBackOnlyWhenTakenBack)
{
	ExtPool pool;
	ASSERT_TRUE(pool.alloc(1000).is_ok());
	pool.give(0);
	EXPECT_EQ(pool.pages_given(), 512u);
	EXPECT_EQ(given(), 512u);
	EXPECT_EQ(held(), 1000u);
	/* Freeing what was never given leaves the module's pages alone. */
	pool.free_not_given();
	EXPECT_EQ(held(), 512u);
	EXPECT_EQ(fake::phys_pages_in_use(), 512u);
	pool.take_back_after_disable();
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(abandoned(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
}

TEST_F(Pool, DroppingAGivenPoolAbandonsItNeverFrees)
{
	{
		ExtPool pool;
		ASSERT_TRUE(pool.alloc(513).is_ok());
		pool.give(0);
		pool.give(1);
		/* destroyed with everything given: nothing goes back to the kernel */
	}
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(abandoned(), 513u);
	EXPECT_EQ(fake::phys_pages_in_use(), 513u);
	{
		ExtPool pool;
		ASSERT_TRUE(pool.alloc(2).is_ok());
		pool.give(0);
		EXPECT_EQ(pool.abandon_to_module(), 2 * 4096u);
		pool.take_back_after_disable(); /* nothing left to take back */
	}
	EXPECT_EQ(abandoned(), 515u);
	EXPECT_EQ(held(), 0u);
}

TEST_F(Pool, AllocationFailureKeepsNothing)
{
	for (int nth = 1; nth <= 4; nth++) { /* the batch array, then each of the 3 batches' runs */
		fake::kernel().fail_alloc_at = nth;
		ExtPool pool;
		EXPECT_EQ(pool.alloc(1025), error(err::kENOMEM)) << nth;
		EXPECT_EQ(pool.nr_batches(), 0u);
		EXPECT_EQ(held(), 0u);
		EXPECT_EQ(fake::kernel().live_allocs, 0);
	}
	ExtPool pool;
	EXPECT_EQ(pool.alloc(0), error(err::kEINVAL));
}

TEST(ModuleOwnedRun, LedgerMovesWithOwnership)
{
	fake::reset();
	PageCounts b = page_counts();
	PageRun r = PageRun::alloc(3 * 4096);
	ASSERT_TRUE(r);
	ModuleOwnedRun g = r.give_to_module();
	EXPECT_FALSE(r);
	EXPECT_TRUE(g);
	EXPECT_EQ(page_counts().held - b.held, 3u);
	EXPECT_EQ(page_counts().given - b.given, 3u);
	ModuleOwnedRun moved = kstd::move(g);
	EXPECT_FALSE(g);
	EXPECT_EQ(page_counts().given - b.given, 3u);
	PageRun back = moved.take_back_after_disable();
	EXPECT_FALSE(moved);
	EXPECT_EQ(back.pages(), 3u);
	EXPECT_EQ(page_counts().given - b.given, 0u);
	EXPECT_EQ(page_counts().held - b.held, 3u);
	back.reset();
	EXPECT_EQ(page_counts().held - b.held, 0u);
	EXPECT_EQ(page_counts().abandoned - b.abandoned, 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	fake::reset();
}

/* ---- extension bring-up against the emulator's model ------------------------------------------ */

namespace {

namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;
namespace fld = tdx::abi::field;
using seam_emu::SysState;

} // namespace

class ExtBringUp : public ::testing::Test {
protected:
	void SetUp() override
	{
		fake::reset();
		before_ = page_counts();
	}
	void TearDown() override { fake::reset(); }

	/* A module reporting EXT (and QUOTE when quote), whose extensions want pool_pages. */
	void ext_profile(bool quote, u32 pool_pages, bool required = false)
	{
		emu.profile.tdx_features0 |= f0::kExt | (quote ? f0::kQuote : 0);
		emu.profile.ext.required = required;
		emu.profile.ext.pool_pages = pool_pages;
	}

	u64 held() const { return page_counts().held - before_.held; }
	u64 given() const { return page_counts().given - before_.given; }
	u64 abandoned() const { return page_counts().abandoned - before_.abandoned; }
	template <class F> auto model(F f) { return emu.inspect(f); }
	u64 model_pool() { return model([](const seam_emu::Module &m) { return u64(m.ext().pool().size()); }); }
	u64 model_lists() { return model([](const seam_emu::Module &m) { return m.ext().lists(); }); }
	bool model_ext_init_done() { return model([](const seam_emu::Module &m) { return m.ext().init_done(); }); }

	/* Failed (or torn down) cleanly: SYS.DISABLE ran, the model owns nothing, is ready for SYS.INIT. */
	void expect_released()
	{
		EXPECT_GE(emu.count(lf::kSysDisable), 1);
		EXPECT_EQ(emu.state(), SysState::kSysinitPending);
		EXPECT_EQ(model([](const seam_emu::Module &m) { return m.pages().bytes(); }), 0u);
		EXPECT_EQ(model_pool(), 0u);
	}

	fake::ModelBackend emu;
	fake::Recorder rec{emu};
	Seamcall sc{rec};
	PageCounts before_;
};

TEST_F(ExtBringUp, WithoutExtSysConfigV0AndNoExtensionCall)
{
	/* The default profile: TD_PRESERVING + NO_RBP_MOD, neither EXT nor QUOTE. */
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(m.addons(), 0u);
		EXPECT_EQ(m.ext_pool_pages(), 0u);
		EXPECT_FALSE(m.ext_initialized());
	}
	auto config = rec.of(lf::kSysConfig);
	ASSERT_EQ(config.size(), 1u);
	EXPECT_EQ(config[0].rax, 0x2Du);
	EXPECT_EQ(config[0].regs.r9, 0u);
	EXPECT_EQ(config[0].regs.r11, 0u);
	EXPECT_EQ(emu.count(lf::kExtMemAdd), 0);
	EXPECT_EQ(emu.count(lf::kExtInit), 0);
	EXPECT_EQ(emu.count(lf::kSysRd), 0); /* EXT_REQUIRED and the pool size are not even read */
	EXPECT_FALSE(fake::kernel().log_contains("add-on"));
	EXPECT_FALSE(fake::kernel().log_contains("extensions"));
	EXPECT_EQ(held(), 0u);
}

TEST_F(ExtBringUp, QuoteMakesSysConfigV1WithTheBitmapInR9)
{
	ext_profile(true, 3);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	auto config = rec.of(lf::kSysConfig);
	ASSERT_EQ(config.size(), 1u);
	EXPECT_EQ(config[0].rax, 0x1002Du);
	EXPECT_EQ(config[0].regs.r9, f0::kQuote);
	EXPECT_EQ(config[0].regs.r11, 0u);
	EXPECT_EQ(m.addons(), f0::kQuote); /* kept for the runtime update */
	EXPECT_EQ(model([](const seam_emu::Module &mod) { return mod.addons(); }), f0::kQuote);
	EXPECT_TRUE(fake::kernel().log_contains("add-on features enabled: QUOTE"));
	m.teardown();
	EXPECT_EQ(m.addons(), 0u);
}

struct PoolSize {
	u32 pages;
	u64 lists;
};
void PrintTo(const PoolSize &p, std::ostream *os) { *os << p.pages << " pages"; }

class ExtPoolSizes : public ExtBringUp, public ::testing::WithParamInterface<PoolSize> {};

TEST_P(ExtPoolSizes, EveryPageAddedInListsOf512ThenReturnedAfterDisable)
{
	const u32 n = GetParam().pages;
	ext_profile(true, n);
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(m.ext_pool_pages(), n);
		EXPECT_EQ(model_pool(), n);
		EXPECT_EQ(model_lists(), GetParam().lists);
		EXPECT_TRUE(m.ext_initialized());
		EXPECT_TRUE(model_ext_init_done());
		EXPECT_EQ(given(), n);
		u64 quote_pages; /* QUOTE is configured: its buffer (quote_test.cpp) */
		{
			QuoteGuard g(quote_lock);
			quote_pages = m.quoting().buffer_locked().nr_pages();
		}
		EXPECT_EQ(held(), m.pamt_bytes() / 4096 + n + quote_pages);
		EXPECT_TRUE(fake::kernel().log_contains("TDX module extensions: " + std::to_string(n) + " pages (" +
							std::to_string(n * 4) + " KiB) in the memory pool"));
		/* Each list is re-issued with the rcx the module returned, never going back. */
		auto adds = rec.of(lf::kExtMemAdd);
		u64 lists = 0;
		for (size_t i = 0; i < adds.size(); i++) {
			u64 rcx = adds[i].regs.rcx;
			EXPECT_EQ(rcx & tdx::abi::kHpaListInfoReservedMask, 0u);
			if (tdx::abi::hpa_list_info_first(rcx) == 0) {
				lists++;
				continue;
			}
			ASSERT_GT(i, 0u);
			EXPECT_EQ(tdx::abi::hpa_list_info_list_pa(rcx), tdx::abi::hpa_list_info_list_pa(adds[i - 1].regs.rcx));
			EXPECT_GT(tdx::abi::hpa_list_info_first(rcx), tdx::abi::hpa_list_info_first(adds[i - 1].regs.rcx));
		}
		EXPECT_EQ(lists, GetParam().lists);
		if (n > 64) { /* the model takes 64 entries a call: resumed */
			EXPECT_GT(adds.size(), lists);
		}
		/* EXT.INIT runs after the pool is complete, to completion; then no extension leaf (quoting follows). */
		EXPECT_GE(emu.count(lf::kExtInit), 1);
		auto last_ext = std::find_if(emu.calls.rbegin(), emu.calls.rend(), [](const fake::Call &c) {
			return c.leaf == lf::kExtInit || c.leaf == lf::kExtMemAdd;
		});
		ASSERT_NE(last_ext, emu.calls.rend());
		EXPECT_EQ(last_ext->leaf, lf::kExtInit);
		EXPECT_EQ(last_ext->status, st::kSuccess);
		int wbinvd = fake::kernel().wbinvd_calls;
		m.teardown();
		EXPECT_EQ(fake::kernel().wbinvd_calls, wbinvd + 1);
	}
	expect_released();
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(abandoned(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

INSTANTIATE_TEST_SUITE_P(Sizes, ExtPoolSizes,
			 ::testing::Values(PoolSize{1, 1}, PoolSize{512, 1}, PoolSize{513, 2}, PoolSize{12800, 25}));

TEST_F(ExtBringUp, NoPoolPagesNoMemAddButExtInit)
{
	ext_profile(true, 0);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_EQ(emu.count(lf::kExtMemAdd), 0);
	EXPECT_GE(emu.count(lf::kExtInit), 1);
	EXPECT_TRUE(m.ext_initialized());
	EXPECT_TRUE(fake::kernel().log_contains("TDX module extensions: 0 pages (0 KiB) in the memory pool"));
	EXPECT_EQ(given(), 0u);
}

TEST_F(ExtBringUp, ExtWithoutQuote)
{
	/* Nothing enabled needs the extensions: both fields read 0, no extension leaf runs. */
	ext_profile(false, 700);
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(rec.of(lf::kSysConfig).at(0).rax, 0x2Du);
		EXPECT_EQ(emu.count(lf::kSysRd), 2); /* EXT_REQUIRED, MEMORY_POOL_REQUIRED_PAGES */
		EXPECT_EQ(emu.count(lf::kExtMemAdd), 0);
		EXPECT_EQ(emu.count(lf::kExtInit), 0);
		EXPECT_EQ(m.addons(), 0u);
	}
	/* A module whose extensions are required on their own: pool and EXT.INIT, still v0. */
	fake::reset();
	fake::ModelBackend e2;
	e2.profile.tdx_features0 |= f0::kExt;
	e2.profile.ext.required = true;
	e2.profile.ext.pool_pages = 700;
	Seamcall s2(e2);
	{
		TdxModule m(s2);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_EQ(m.addons(), 0u);
		EXPECT_EQ(m.ext_pool_pages(), 700u);
		EXPECT_TRUE(m.ext_initialized());
		EXPECT_EQ(e2.inspect([](const seam_emu::Module &mod) { return mod.ext().lists(); }), 2u);
	}
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
}

TEST_F(ExtBringUp, MemAddFailureLeavesAddedPagesWithTheModule)
{
	/* 1200 pages: lists of 512, 512, 176; the model takes 64 entries a call (8 calls a list). */
	ext_profile(true, 1200);
	emu.fail(lf::kExtMemAdd, 11, st::kOperandInvalid | tdx::abi::kOperandIdRcx); /* in the 2nd list */
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
		EXPECT_EQ(emu.count(lf::kExtInit), 0);
	}
	/* The first list, and the failing one (the module may have taken any of it), stay; the third is freed. */
	EXPECT_EQ(abandoned(), 1024u);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 1024u);
	EXPECT_EQ(fake::kernel().live_allocs, 2); /* the two runs abandoned, nothing else */
	EXPECT_TRUE(fake::kernel().log_contains("TDH.EXT.MEM.ADD of list 2 of 3 failed: 4096 KiB"));
	EXPECT_TRUE(fake::kernel().log_contains("TDH.EXT.MEM.ADD failed: TDX_OPERAND_INVALID"));
	expect_released();
	/* And the next load works (the abandoned pages are never offered again). */
	TdxModule again(sc);
	EXPECT_TRUE(again.bring_up().is_ok());
	EXPECT_EQ(again.ext_pool_pages(), 1200u);
}

TEST_F(ExtBringUp, MemAddFailureOnTheFirstCall)
{
	ext_profile(true, 513);
	emu.fail(lf::kExtMemAdd, 1, st::kOperandBusy);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(abandoned(), 512u);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 512u);
	expect_released();
}

TEST_F(ExtBringUp, ExtInitFailureFlushesThenFailsCleanly)
{
	ext_profile(true, 600);
	emu.fail(lf::kExtInit, 2, st::kOperandInvalid);
	int wbinvd_before_disable = -1;
	emu.on_answer = [&](u16 leaf, u64 &, RegBlock &) {
		if (leaf == lf::kSysDisable && wbinvd_before_disable < 0)
			wbinvd_before_disable = fake::kernel().wbinvd_calls;
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
		EXPECT_FALSE(m.ext_initialized());
	}
	EXPECT_TRUE(fake::kernel().log_contains("TDH.EXT.INIT failed: TDX_OPERAND_INVALID"));
	/*
	 * Flushed before KEY.CONFIG, then once right after the failure, before SYS.DISABLE, and once
	 * after it.
	 */
	EXPECT_EQ(wbinvd_before_disable, 2);
	EXPECT_EQ(fake::kernel().wbinvd_calls, 3);
	/* The pool was given, then released by SYS.DISABLE: it comes back and is freed. */
	EXPECT_EQ(abandoned(), 0u);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	expect_released();
	TdxModule again(sc);
	EXPECT_TRUE(again.bring_up().is_ok());
}

TEST_F(ExtBringUp, ExtInitThatNeverFinishesIsBounded)
{
	ext_profile(true, 1);
	emu.fail(lf::kExtInit, 1, st::kInterruptedResumable, fake::ModelBackend::kAlways);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kExtInit), 1 << 16);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.EXT.INIT did not finish in 65536 calls"));
	EXPECT_EQ(fake::kernel().wbinvd_calls, 3); /* before KEY.CONFIG, after the failure, teardown */
	EXPECT_EQ(held(), 0u);
	expect_released();
}

TEST_F(ExtBringUp, MemAddRcxThatIsNotTheSameListIsRefused)
{
	ext_profile(true, 512);
	emu.on_answer = [](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kExtMemAdd && s == st::kInterruptedResumable)
			r.rcx += 4096; /* another list page */
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("not a later entry of the same list"));
	EXPECT_EQ(abandoned(), 512u); /* the module may have taken them */
	EXPECT_EQ(held(), 0u);
	expect_released();

	/* Going back to an earlier entry. */
	fake::kernel().log.clear();
	int interrupted = 0;
	emu.on_answer = [&interrupted](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kExtMemAdd && s == st::kInterruptedResumable && ++interrupted == 2)
			r.rcx &= ~(tdx::abi::kHpaListInfoFirstMask << tdx::abi::kHpaListInfoFirstShift); /* 128 -> 0 */
	};
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_TRUE(fake::kernel().log_contains("not a later entry of the same list"));
}

TEST_F(ExtBringUp, MemAddThatStopsProgressingIsBounded)
{
	ext_profile(true, 512);
	/* Interrupted forever, rcx handed back unchanged. */
	emu.fail(lf::kExtMemAdd, 1, st::kInterruptedResumable, fake::ModelBackend::kAlways);
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kExtMemAdd), 1024);
	EXPECT_TRUE(fake::kernel().log_contains("made no progress past entry 0 in 1024 calls"));
	EXPECT_EQ(held(), 0u);
	expect_released();
}

TEST_F(ExtBringUp, PoolLargerThanTheBoundIsRefused)
{
	ext_profile(true, u32(kMaxPoolPages + 1));
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kE2BIG));
	}
	EXPECT_TRUE(fake::kernel().log_contains("want 4194305 pages"));
	EXPECT_EQ(emu.count(lf::kExtMemAdd), 0);
	EXPECT_EQ(held(), 0u);
	expect_released();
}

TEST_F(ExtBringUp, ExtMetadataReadFailureFailsCleanly)
{
	ext_profile(true, 10);
	emu.fail(lf::kSysRd, 2, st::kMetadataFieldIdIncorrect); /* MEMORY_POOL_REQUIRED_PAGES */
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(emu.count(lf::kExtMemAdd), 0);
	EXPECT_EQ(held(), 0u);
	expect_released();
}

TEST_F(ExtBringUp, EveryAllocationFailureUnwinds)
{
	ext_profile(true, 1025); /* three runs of the pool, its batch array, the list page */
	long n;
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		n = fake::kernel().total_allocs;
	}
	for (long i = 1; i <= n; i++) {
		fake::reset();
		fake::ModelBackend e;
		e.profile.tdx_features0 |= f0::kExt | f0::kQuote;
		e.profile.ext.pool_pages = 1025;
		Seamcall s(e);
		fake::kernel().fail_alloc_at = int(i);
		{
			TdxModule m(s);
			Status r = m.bring_up();
			EXPECT_TRUE(r.is_ok() || r == error(err::kENOMEM)) << "allocation " << i;
		}
		EXPECT_EQ(fake::kernel().live_allocs, 0) << "allocation " << i;
		EXPECT_EQ(fake::phys_pages_in_use(), 0u) << "allocation " << i;
		EXPECT_EQ(e.state(), SysState::kSysinitPending) << "allocation " << i;
	}
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(abandoned(), 0u);
}

TEST_F(ExtBringUp, DisableFailureLeavesThePoolWithTheModule)
{
	ext_profile(true, 700);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	u64 pamt_pages = m.pamt_bytes() / 4096;
	emu.fail(lf::kSysDisable, 1, st::kSysNotReady);
	m.teardown();
	EXPECT_TRUE(fake::kernel().log_contains("2800 KiB of extension memory pool stay with it"));
	EXPECT_EQ(abandoned(), pamt_pages + 700);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(model_pool(), 700u); /* the module still has them */
}

TEST_F(ExtBringUp, TransportDeathDuringMemAddKeepsTheListPageAway)
{
	u64 pamt_pages;
	{
		/* The PAMT of this machine, from a bring-up of its own. */
		fake::ModelBackend ref;
		Seamcall s(ref);
		TdxModule m(s);
		ASSERT_TRUE(m.bring_up().is_ok());
		pamt_pages = m.pamt_bytes() / 4096;
	}
	ASSERT_EQ(held(), 0u);
	ext_profile(true, 600);
	rec.cut_leaf = lf::kExtMemAdd;
	rec.cut_nth = 3; /* the first list, resumed twice */
	{
		TdxModule m(sc);
		EXPECT_EQ(m.bring_up(), error(err::kETIMEDOUT));
	}
	/*
	 * The module cannot be disabled: the PAMTs, the first list's pages and the list page (the
	 * emulator may still read it) stay away from the kernel; the second list's pages are freed.
	 */
	EXPECT_EQ(abandoned(), pamt_pages + 512 + 1);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(given(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), abandoned());
	EXPECT_TRUE(fake::kernel().log_contains("transport is dead"));
}
