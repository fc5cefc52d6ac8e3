// SPDX-License-Identifier: GPL-2.0
/*
 * The quoting extension: the quote buffer's size and HPA linked list (ABI.md §8), the buffer in
 * (fake) physical memory, QUOTE.INIT at bring-up and its failures (quoting off, TDX up, nothing
 * leaked), and TDH.QUOTE.GET requests against the emulator's model (model_backend.h) for real TDs
 * of the model, made through the TD-management wrappers, and their TDREPORTs from the
 * emulator-only service: quotes that verify against the model's DICE root, the status mapping
 * (the caller's TD or TDREPORT refused: -EINVAL; quoting's own failures: -EIO, quoting off),
 * malformed lengths, a transport that dies in the middle.
 */
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <dice-quote/dice_quote.h>
#include <tdx/abi/quote.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

#include "bringup.h"
#include "fake_kapi.h"
#include "metadata.h"
#include "model_backend.h"
#include "page_ledger.h"
#include "phys_mem.h"
#include "quote.h"
#include "td.h"

using namespace tdx;
namespace f0 = tdx::abi::features0;
namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;
namespace tr = tdx::abi::tdreport;

namespace {

constexpr u64 kEnd = ~0ull;

/* The list as the module reads it: from the head node, data pages until ~0 or nr; the nodes seen. */
struct ListWalk {
	std::vector<u64> data;
	std::vector<u64> nodes;
	bool ended = false; /* reached ~0 (not just nr pages) */
};
template <class ReadNode> ListWalk walk_list(u64 head, ReadNode read_node)
{
	ListWalk w;
	for (u64 node = head; node != kEnd && w.nodes.size() < 16;) {
		w.nodes.push_back(node);
		const u64 *e = read_node(node);
		for (u32 k = 0; k < tdx::abi::kQuoteListDataPerNode; k++) {
			if (e[k] == kEnd) {
				/* Everything after the end is ~0 too, the link included. */
				for (u32 j = k; j < tdx::abi::kQuoteListEntries; j++)
					EXPECT_EQ(e[j], kEnd) << "node " << w.nodes.size() - 1 << " entry " << j;
				w.ended = true;
				return w;
			}
			w.data.push_back(e[k]);
		}
		node = e[tdx::abi::kQuoteListNextEntry];
	}
	w.ended = true;
	return w;
}

} // namespace

/* ---- sizes and the list encoding -------------------------------------------------------------- */

TEST(QuoteList, NodesForDataPages)
{
	EXPECT_EQ(tdx::abi::quote_list_nr_nodes(1), 1u);
	EXPECT_EQ(tdx::abi::quote_list_nr_nodes(511), 1u);
	EXPECT_EQ(tdx::abi::quote_list_nr_nodes(512), 2u);
	EXPECT_EQ(tdx::abi::quote_list_nr_nodes(1022), 2u);
	EXPECT_EQ(tdx::abi::quote_list_nr_nodes(1023), 3u);
}

TEST(QuoteList, BufferPagesFromMaxQuoteSize)
{
	EXPECT_EQ(quote_buffer_pages(0), 1u);
	EXPECT_EQ(quote_buffer_pages(1), 1u);
	EXPECT_EQ(quote_buffer_pages(4096), 1u);
	EXPECT_EQ(quote_buffer_pages(4097), 2u);
	EXPECT_EQ(quote_buffer_pages(16384), 4u);
	Result<u64> r = quote_buffer_pages_checked(kMaxQuoteSizeCap);
	ASSERT_TRUE(r.is_ok());
	EXPECT_EQ(r.value(), 256u);
	EXPECT_EQ(quote_buffer_pages_checked(kMaxQuoteSizeCap + 1).status(), error(err::kE2BIG));
	EXPECT_EQ(quote_buffer_pages_checked(0xFFFFFFFFull).status(), error(err::kE2BIG));
}

class QuoteListSizes : public ::testing::TestWithParam<u64> {};

TEST_P(QuoteListSizes, EntriesNameDataInOrderLinkNodesAndEndWithOnes)
{
	const u64 nr = GetParam();
	const u64 nodes = tdx::abi::quote_list_nr_nodes(nr);
	auto data_pa = [](u64 i) { return 0x10000000ull + i * 4096; };
	auto node_pa = [](u64 j) { return 0x90000000ull + j * 4096; };
	std::vector<std::vector<u64>> mem(nodes, std::vector<u64>(512));
	for (u64 j = 0; j < nodes; j++)
		for (u32 k = 0; k < 512; k++)
			mem[j][k] = quote_list_entry(nr, j, k, data_pa, node_pa);
	/* Entry 511 links each node to the next; the last node's is ~0. */
	for (u64 j = 0; j + 1 < nodes; j++)
		EXPECT_EQ(mem[j][511], node_pa(j + 1)) << "node " << j;
	EXPECT_EQ(mem[nodes - 1][511], kEnd);
	ListWalk w = walk_list(node_pa(0), [&](u64 pa) { return mem[(pa - node_pa(0)) / 4096].data(); });
	ASSERT_EQ(w.data.size(), nr);
	for (u64 i = 0; i < nr; i++)
		EXPECT_EQ(w.data[i], data_pa(i)) << "data page " << i;
	EXPECT_EQ(w.nodes.size(), nodes);
	/* The last node holds the rest of the data pages, then ~0. */
	u64 used = nr - (nodes - 1) * 511;
	for (u32 k = u32(used); k < 512; k++)
		EXPECT_EQ(mem[nodes - 1][k], kEnd) << "entry " << k;
}

INSTANTIATE_TEST_SUITE_P(Sizes, QuoteListSizes, ::testing::Values(1, 4, 510, 511, 512, 1021, 1022, 1023));

/* ---- the buffer in (fake) physical memory ----------------------------------------------------- */

using QuoteLedger = fake::PageLedgerTest;
using QuoteBufferTest = QuoteLedger;

/* The list of a buffer as the module finds it in physical memory, checked against the buffer. */
void expect_laid_out(const QuoteBuffer &b)
{
	ListWalk w = walk_list(b.head().value(), [](u64 pa) {
		const u64 *e = static_cast<const u64 *>(fake::phys_ptr(pa, 4096));
		EXPECT_NE(e, nullptr);
		return e;
	});
	ASSERT_EQ(w.data.size(), b.nr_data_pages());
	ASSERT_EQ(w.nodes.size(), b.nr_nodes());
	std::set<u64> seen;
	for (u64 i = 0; i < b.nr_data_pages(); i++) {
		EXPECT_EQ(w.data[i], b.data_pa(i).value()) << "data page " << i;
		EXPECT_EQ(w.data[i] % 4096, 0u);
		seen.insert(w.data[i]);
	}
	for (u64 j = 0; j < b.nr_nodes(); j++) {
		EXPECT_EQ(w.nodes[j], b.node_pa(j).value());
		seen.insert(w.nodes[j]);
	}
	EXPECT_EQ(seen.size(), b.nr_pages()) << "a page used twice";
}

class QuoteBufferSizes : public QuoteBufferTest, public ::testing::WithParamInterface<u64> {};

TEST_P(QuoteBufferSizes, ListInPhysicalMemoryThenEverythingFreed)
{
	const u64 nr = GetParam();
	{
		QuoteBuffer b;
		ASSERT_TRUE(b.alloc(nr).is_ok());
		EXPECT_EQ(b.nr_data_pages(), nr);
		EXPECT_EQ(b.nr_nodes(), tdx::abi::quote_list_nr_nodes(nr));
		EXPECT_EQ(b.bytes(), nr * 4096);
		EXPECT_EQ(held(), b.nr_pages());
		expect_laid_out(b);
	}
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

INSTANTIATE_TEST_SUITE_P(Sizes, QuoteBufferSizes, ::testing::Values(1, 4, 256, 511, 512, 1023));

TEST_F(QuoteBufferTest, EveryAllocationFailureKeepsNothing)
{
	const u64 nr = 512; /* the page array, 512 data pages, 2 nodes */
	for (int nth = 1; nth <= 1 + 512 + 2; nth++) {
		fake::kernel().fail_alloc_at = nth;
		QuoteBuffer b;
		ASSERT_EQ(b.alloc(nr), error(err::kENOMEM)) << nth;
		EXPECT_FALSE(b);
		EXPECT_EQ(held(), 0u);
		EXPECT_EQ(fake::kernel().live_allocs, 0);
	}
	QuoteBuffer b;
	EXPECT_EQ(b.alloc(0), error(err::kEINVAL));
	EXPECT_FALSE(b);
}

TEST_F(QuoteBufferTest, InputInTheFirstPageOutputAcrossPages)
{
	QuoteBuffer b;
	ASSERT_TRUE(b.alloc(3).is_ok());
	std::vector<u8> in(1024);
	for (size_t i = 0; i < in.size(); i++)
		in[i] = u8(i * 7);
	b.put_input(in.data(), in.size());
	EXPECT_EQ(memcmp(fake::phys_ptr(b.data_pa(0).value(), 1024), in.data(), 1024), 0);
	/* What the module writes, page by page, comes out as one run. */
	for (u64 i = 0; i < 3; i++)
		memset(fake::phys_ptr(b.data_pa(i).value(), 4096), int(0xA0 + i), 4096);
	std::vector<u8> out(2 * 4096 + 5);
	b.get_output(out.data(), out.size());
	EXPECT_EQ(out[0], 0xA0);
	EXPECT_EQ(out[4095], 0xA0);
	EXPECT_EQ(out[4096], 0xA1);
	EXPECT_EQ(out[8192], 0xA2);
	EXPECT_EQ(out[8196], 0xA2);
}

TEST_F(QuoteBufferTest, AbandonedPagesNeverComeBack)
{
	QuoteBuffer b;
	ASSERT_TRUE(b.alloc(4).is_ok());
	EXPECT_EQ(b.abandon_to_module(), 5 * 4096u);
	EXPECT_FALSE(b);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(abandoned(), 5u);
	EXPECT_EQ(fake::phys_pages_in_use(), 5u);
	EXPECT_EQ(fake::kernel().live_allocs, 5); /* the pages, not the array */
}

/* ---- bring-up against the emulator's model ----------------------------------------------------- */

namespace {

constexpr u64 kPlaceholder = st::kOperandInvalid | tdx::abi::kOperandIdRax;

} // namespace

class QuoteBringUp : public QuoteLedger {
protected:
	void SetUp() override
	{
		QuoteLedger::SetUp();
		/* Every QUOTE.GET runs under the quote lock. */
		emu.on_answer = [this](u16 leaf, u64 &, RegBlock &) {
			if (leaf == lf::kQuoteGet)
				get_under_quote_lock &= fake::g_quote_lock_depth == 1;
		};
	}
	/* The model still answers the quoting leaves as unknown ones (its quoting not there yet). */
	bool placeholder(u16 leaf) const
	{
		for (const fake::Call &c : emu.calls)
			if (c.leaf == leaf)
				return c.status == kPlaceholder;
		return false;
	}
	seam_emu::Module::QuoteInfo quote_info()
	{
		return emu.inspect([](const seam_emu::Module &m) { return m.quote_info(); });
	}
	std::string root_pem()
	{
		seam_emu::Module &m = emu.model();
		std::lock_guard<std::mutex> g(m.state_mutex());
		return m.quote_root_pem();
	}
	/* Pages bring-up holds without quoting: PAMTs and the extension pool. */
	u64 tdx_pages(TdxModule &m) { return m.pamt_bytes() / 4096 + m.ext_pool_pages(); }

	Status generate(TdxModule &m, u64 tdr, const std::vector<u8> &report, std::vector<u8> *quote)
	{
		void *q = nullptr;
		u32 len = 0;
		QuoteGuard g(quote_lock);
		Status s = m.quoting().generate_locked(tdr, report.data(), u32(report.size()), &q, &len);
		if (s.is_ok()) {
			auto *b = static_cast<const u8 *>(q);
			quote->assign(b, b + len);
			kapi_kvfree(q);
		}
		return s;
	}

	fake::ModelBackend emu{fake::emulator_profile("ext-quote.json")};
	fake::Recorder wire{emu};
	Seamcall sc{wire};
	bool get_under_quote_lock = true;
};

#define SKIP_IF_PLACEHOLDER(leaf)                                                                  \
	do {                                                                                       \
		if (placeholder(leaf))                                                             \
			GTEST_SKIP() << "seam-emu's model still answers leaf " << (leaf)          \
				     << " as unknown (TDX_OPERAND_INVALID | RAX)";                    \
	} while (0)

TEST_F(QuoteBringUp, WithoutTheQuoteAddOnNoQuoteLeaf)
{
	for (const char *profile : {"default.json", "ext-only.json"}) {
		fake::reset();
		fake::ModelBackend e(fake::emulator_profile(profile));
		Seamcall s(e);
		{
			TdxModule m(s);
			ASSERT_TRUE(m.bring_up().is_ok()) << profile;
			EXPECT_FALSE(m.quoting().enabled());
			EXPECT_EQ(m.quoting().max_quote_size(), 0u);
			void *q = nullptr;
			u32 len = 0;
			std::vector<u8> report(tr::kSize);
			QuoteGuard g(quote_lock);
			EXPECT_EQ(m.quoting().generate_locked(0x1000, report.data(), tr::kSize, &q, &len),
				  error(err::kENODEV));
		}
		EXPECT_EQ(e.count(lf::kQuoteInit), 0) << profile;
		EXPECT_EQ(e.count(lf::kQuoteGet), 0) << profile;
		EXPECT_FALSE(fake::kernel().log_contains("quoting")) << profile;
	}
}

TEST_F(QuoteBringUp, QuoteInitThenMaxQuoteSizeThenTheBuffer)
{
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
		ASSERT_TRUE(m.quoting().enabled());
		EXPECT_EQ(m.quoting().max_quote_size(), emu.profile.quote.max_quote_size);
		/* QUOTE.INIT resumed to completion, after EXT.INIT, and the model made its chain. */
		EXPECT_EQ(emu.count(lf::kQuoteInit), int(emu.profile.quote.init_steps));
		EXPECT_EQ(quote_info().inits_completed, 1u);
		EXPECT_TRUE(quote_info().initialized);
		size_t ext_init = 0, quote_init = 0;
		for (size_t i = 0; i < emu.calls.size(); i++) {
			if (emu.calls[i].leaf == lf::kExtInit)
				ext_init = i;
			if (emu.calls[i].leaf == lf::kQuoteInit && !quote_init)
				quote_init = i;
		}
		EXPECT_GT(quote_init, ext_init);
		EXPECT_EQ(emu.calls.back().leaf, lf::kSysRd); /* MAX_QUOTE_SIZE, last */
		EXPECT_EQ(emu.count(lf::kQuoteGet), 0);
		const u64 pages = quote_buffer_pages(emu.profile.quote.max_quote_size);
		QuoteGuard g(quote_lock);
		const QuoteBuffer &b = m.quoting().buffer_locked();
		EXPECT_EQ(b.nr_data_pages(), pages);
		EXPECT_EQ(b.nr_nodes(), 1u);
		expect_laid_out(b);
		EXPECT_EQ(held(), tdx_pages(m) + pages + 1);
		EXPECT_TRUE(fake::kernel().log_contains("quoting enabled: MAX_QUOTE_SIZE 16384 bytes, buffer 4 pages in 1 list nodes"));
	}
	/* Teardown freed the buffer with everything else. */
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(abandoned(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

struct SizeCase {
	u32 max_quote_size;
	u64 pages; /* 0: refused */
};
void PrintTo(const SizeCase &c, std::ostream *os) { *os << "MAX_QUOTE_SIZE " << c.max_quote_size; }

class QuoteBufferFromMaxQuoteSize : public QuoteBringUp, public ::testing::WithParamInterface<SizeCase> {};

TEST_P(QuoteBufferFromMaxQuoteSize, SizedOnceOrRefusedAboveTheCap)
{
	const SizeCase c = GetParam();
	emu.profile.quote.max_quote_size = c.max_quote_size;
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
		EXPECT_TRUE(m.ready());
		EXPECT_EQ(m.quoting().enabled(), c.pages != 0);
		QuoteGuard g(quote_lock);
		EXPECT_EQ(m.quoting().buffer_locked().nr_data_pages(), c.pages);
		EXPECT_EQ(held(), tdx_pages(m) + (c.pages ? c.pages + 1 : 0));
		if (!c.pages) {
			EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: MAX_QUOTE_SIZE " +
								std::to_string(c.max_quote_size) +
								" bytes is above the 1048576 bytes tdx_host allocates"));
			EXPECT_EQ(m.quoting().max_quote_size(), 0u);
		}
	}
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, QuoteBufferFromMaxQuoteSize,
			 ::testing::Values(SizeCase{1, 1}, SizeCase{4096, 1}, SizeCase{4097, 2},
					   SizeCase{u32(kMaxQuoteSizeCap), 256}, SizeCase{u32(kMaxQuoteSizeCap) + 1, 0},
					   SizeCase{0xFFFFFFFFu, 0}));

class QuoteInitFaults : public QuoteBringUp, public ::testing::WithParamInterface<u64> {};

TEST_P(QuoteInitFaults, DisableQuotingKeepTdxUpLeakNothing)
{
	emu.fail(lf::kQuoteInit, 1, GetParam());
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_TRUE(m.ready());
		EXPECT_FALSE(m.quoting().enabled());
		EXPECT_EQ(held(), tdx_pages(m)); /* no quote buffer */
		EXPECT_TRUE(fake::kernel().log_contains(std::string("quoting disabled: TDH.QUOTE.INIT failed: ") +
							status_name(TdxStatus(GetParam()))));
		EXPECT_EQ(emu.count(lf::kSysRd), 2); /* the extensions' two fields; not MAX_QUOTE_SIZE */
		std::vector<u8> report(tr::kSize), quote;
		EXPECT_EQ(generate(m, 0x1000, report, &quote), error(err::kENODEV));
	}
	EXPECT_EQ(emu.count(lf::kQuoteGet), 0);
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(abandoned(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), 0u);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

INSTANTIATE_TEST_SUITE_P(Statuses, QuoteInitFaults,
			 ::testing::Values(st::kOperandInvalid, st::kSysBusy, st::kSysStateIncorrect,
					   tdx::abi::kQuoteInternalError));

TEST_F(QuoteBringUp, QuoteInitThatNeverFinishesIsBounded)
{
	emu.fail(lf::kQuoteInit, 1, st::kInterruptedResumable, fake::ModelBackend::kAlways);
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	EXPECT_FALSE(m.quoting().enabled());
	EXPECT_EQ(emu.count(lf::kQuoteInit), 1 << 16);
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.INIT did not finish in 65536 calls"));
	EXPECT_EQ(held(), tdx_pages(m));
}

TEST_F(QuoteBringUp, TransportDeathAtQuoteInitAllocatesNothing)
{
	wire.cut_leaf = lf::kQuoteInit;
	wire.cut_nth = 1;
	{
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		EXPECT_FALSE(m.quoting().enabled());
		EXPECT_EQ(held(), tdx_pages(m));
		EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.INIT failed: TDX_SEAMCALL_TIMEOUT"));
	}
	/* The TDX module cannot be disabled: its memory stays with it, nothing of quoting's. */
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), abandoned());
}

TEST_F(QuoteBringUp, MaxQuoteSizeUnreadableDisablesQuoting)
{
	emu.fail(lf::kSysRd, 3, st::kMetadataFieldIdIncorrect); /* after EXT_REQUIRED and the pool size */
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
	EXPECT_TRUE(m.ready());
	EXPECT_FALSE(m.quoting().enabled());
	EXPECT_TRUE(fake::kernel().log_contains(
		"quoting disabled: TDH.SYS.RD of MAX_QUOTE_SIZE failed: TDX_METADATA_FIELD_ID_INCORRECT"));
	EXPECT_EQ(held(), tdx_pages(m));
}

TEST_F(QuoteBringUp, BufferAllocationFailuresDisableQuotingOnly)
{
	long before_quote, total;
	{
		fake::ModelBackend e(fake::emulator_profile("ext-quote.json"));
		Seamcall s(e);
		TdxModule m(s);
		/* Bring-up's allocations without quoting, then with it. */
		e.fail(lf::kQuoteInit, 1, st::kOperandInvalid);
		ASSERT_TRUE(m.bring_up().is_ok());
		before_quote = fake::kernel().total_allocs;
	}
	{
		fake::reset();
		TdxModule m(sc);
		ASSERT_TRUE(m.bring_up().is_ok());
		SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
		total = fake::kernel().total_allocs;
	}
	ASSERT_EQ(total - before_quote, 1 + 4 + 1); /* the page array, 4 data pages, 1 node */
	for (long i = before_quote + 1; i <= total; i++) {
		fake::reset();
		fake::ModelBackend e(fake::emulator_profile("ext-quote.json"));
		Seamcall s(e);
		fake::kernel().fail_alloc_at = int(i);
		{
			TdxModule m(s);
			ASSERT_TRUE(m.bring_up().is_ok()) << "allocation " << i;
			EXPECT_TRUE(m.ready());
			EXPECT_FALSE(m.quoting().enabled()) << "allocation " << i;
			EXPECT_EQ(held(), tdx_pages(m)) << "allocation " << i;
			EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: no memory for the 4-page quote buffer"));
		}
		EXPECT_EQ(fake::kernel().live_allocs, 0) << "allocation " << i;
		EXPECT_EQ(fake::phys_pages_in_use(), 0u) << "allocation " << i;
	}
}

TEST_F(QuoteBringUp, TeardownStopsQuotingBeforeDisableAndFreesTheBufferAfter)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
	ASSERT_TRUE(m.quoting().enabled());
	bool stopped_at_disable = false, buffer_at_disable = false;
	emu.on_answer = [&](u16 leaf, u64 &, RegBlock &) {
		if (leaf == lf::kSysDisable && !stopped_at_disable) {
			stopped_at_disable = !m.quoting().enabled();
			buffer_at_disable = bool(m.quoting().buffer_locked());
		}
	};
	m.teardown();
	EXPECT_TRUE(stopped_at_disable);
	EXPECT_TRUE(buffer_at_disable);
	EXPECT_FALSE(m.quoting().buffer_locked());
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::g_quote_lock_depth, 0);
}

TEST_F(QuoteBringUp, StartingAgainReplacesTheBufferOrDisables)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
	ASSERT_TRUE(m.quoting().enabled());
	const u64 with_buffer = held();
	/* QUOTE.INIT again (a re-key): one buffer, not two. */
	ASSERT_TRUE(m.quoting().start().is_ok());
	EXPECT_TRUE(m.quoting().enabled());
	EXPECT_EQ(held(), with_buffer);
	EXPECT_EQ(quote_info().inits_completed, 2u);
	/* And when it fails, quoting is off and its buffer gone. */
	emu.fail(lf::kQuoteInit, 1, st::kSysBusy);
	EXPECT_EQ(m.quoting().start(), error(err::kEIO));
	EXPECT_FALSE(m.quoting().enabled());
	EXPECT_EQ(m.quoting().max_quote_size(), 0u);
	EXPECT_EQ(held(), tdx_pages(m));
}

TEST_F(QuoteBringUp, TeardownTakesTheQuoteLock)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	/* A request in progress holds the lock: teardown must wait for it (the fake lock traps instead). */
	EXPECT_DEATH(
		{
			kapi_quote_lock();
			m.teardown();
		},
		"quote lock taken twice");
}

TEST_F(QuoteLedger, EntryPointsWithoutATdxModule)
{
	/* No TDX module up (nothing loaded): quoting is off, and a request says so. */
	EXPECT_EQ(tdx_core_quote_enabled(), 0);
	EXPECT_EQ(tdx_core_max_quote_size(), 0u);
	std::vector<u8> report(tr::kSize);
	void *q = nullptr;
	unsigned len = 0;
	EXPECT_EQ(tdx_core_generate_quote(0x1000, report.data(), tr::kSize, &q, &len), -19); /* -ENODEV */
	EXPECT_EQ(q, nullptr);
	EXPECT_EQ(fake::g_state_lock_depth, 0);
	EXPECT_EQ(fake::g_quote_lock_depth, 0);
}

/* ---- TDH.QUOTE.GET ----------------------------------------------------------------------------- */

TEST(QuoteGetRefusal, TheTdAndItsTdreportAreTheCallersEverythingElseIsQuotings)
{
	namespace a = tdx::abi;
	using R = QuoteGetRefusal;
	const struct {
		u64 status;
		R want;
	} cases[] = {
		/* The TDR page (rcx): not a page address, not TDMR memory, not a TDR. */
		{st::kOperandInvalid | a::kOperandIdRcx, R::kTd},
		{st::kOperandAddrRangeError | a::kOperandIdRcx, R::kTd},
		{st::kPageMetadataIncorrect | a::kOperandIdRcx, R::kTd},
		/* The TD's state (no register operand; OP_STATE_INCORRECT carries the TD's OP_STATE). */
		{st::kTdKeysNotConfigured, R::kTd},
		{st::kTdcsNotAllocated, R::kTd},
		{st::kOpStateIncorrect, R::kTd},
		{st::kOpStateIncorrect | 1, R::kTd},
		/* The TDREPORT (r8): not genuine, or another TD's. */
		{st::kOperandInvalid | a::kOperandIdR8, R::kTdreport},
		/* The same statuses about the buffer and list tdx_host gave, or about the leaf itself. */
		{st::kOperandInvalid | a::kOperandIdRax, R::kNone},
		{st::kOperandInvalid | a::kOperandIdRdx, R::kNone},
		{st::kOperandInvalid | a::kOperandIdR9, R::kNone},
		{st::kOperandInvalid | a::kOperandIdR10, R::kNone},
		{st::kOperandInvalid | a::kOperandIdR11, R::kNone},
		{st::kOperandAddrRangeError | a::kOperandIdR8, R::kNone},
		{st::kOperandAddrRangeError | a::kOperandIdR10, R::kNone},
		{st::kPageMetadataIncorrect | a::kOperandIdR10, R::kNone},
		/* Quoting's own failures. */
		{st::kSysStateIncorrect, R::kNone},
		{a::kQuoteInternalError, R::kNone},
		{kTdxSeamcallTimeout, R::kNone},
		/* Not an answer of the TD check (a torn-down TD is TD_KEYS_NOT_CONFIGURED there). */
		{st::kLifecycleStateIncorrect, R::kNone},
		/* Retried, and a failure when they never end. */
		{st::kSysBusy, R::kNone},
		{st::kOperandBusy | a::kOperandIdRcx, R::kNone},
		{st::kInterruptedResumable, R::kNone},
	};
	for (const auto &c : cases)
		EXPECT_EQ(quote_get_refusal(TdxStatus(c.status)), c.want) << std::hex << c.status;
}

namespace {

/* How far a test TD is built, in the TD harness's order (td-harness/td_harness.c). */
enum class TdStage { kCreated, kKeysConfigured, kTdcsShort, kTdcsAdded, kInitialized, kFinalized, kTornDown };

std::string step_failed(const char *step, TdxStatus s)
{
	char buf[96];
	snprintf(buf, sizeof(buf), "%s failed: 0x%016llx", step, (unsigned long long)s.raw());
	return buf;
}

/*
 * A TD of the model made as the TD harness makes one, through the kernel's TD-management wrappers
 * (td.h): a guest KeyID, MNG.CREATE, MNG.KEY.CONFIG on every package, MNG.ADDCX of every TDCS page,
 * MNG.INIT (TD_PARAMS with MRCONFIGID naming the TD), MR.EXTEND, MR.FINALIZE; torn down, also
 * MNG.KEY.FREEID. Its TDR and TDCS pages are the test's until the TDX module's teardown
 * (SYS.DISABLE forgets every TD).
 */
class TestTd {
public:
	/* "" once the TD reached `stage`, else the step that failed. */
	std::string build(TdManager &tdm, unsigned tdcs_pages, TdStage stage, u8 id)
	{
		Result<u32> keyid = tdm.guest_keyid_alloc();
		if (keyid.is_error())
			return "no guest KeyID";
		tdr_ = PageRun::alloc(kPageSize);
		if (!tdr_)
			return "no TDR page";
		if (TdxStatus s = tdm.mng_create(tdr_pa(), u16(keyid.value())); !s.is_success())
			return step_failed("TDH.MNG.CREATE", s);
		if (stage == TdStage::kCreated)
			return "";
		if (TdxStatus s = tdm.mng_key_config_all(tdr_pa()); !s.is_success())
			return step_failed("TDH.MNG.KEY.CONFIG", s);
		if (stage == TdStage::kKeysConfigured)
			return "";
		const unsigned n = stage == TdStage::kTdcsShort ? tdcs_pages - 1 : tdcs_pages;
		for (unsigned i = 0; i < n; i++) {
			tdcs_.push_back(PageRun::alloc(kPageSize));
			if (!tdcs_.back())
				return "no TDCS page";
			if (TdxStatus s = tdm.mng_addcx(tdr_pa(), tdcs_pa(i)); !s.is_success())
				return step_failed("TDH.MNG.ADDCX", s);
		}
		if (stage == TdStage::kTdcsShort || stage == TdStage::kTdcsAdded)
			return "";
		if (std::string e = init(tdm, id); !e.empty())
			return e;
		for (u64 gpa : {0x0ull, 0x1000ull * id}) {
			if (TdxStatus s = tdm.mr_extend(tdr_pa(), gpa); !s.is_success())
				return step_failed("TDH.MR.EXTEND", s);
		}
		if (stage == TdStage::kInitialized)
			return "";
		if (TdxStatus s = tdm.mr_finalize(tdr_pa()); !s.is_success())
			return step_failed("TDH.MR.FINALIZE", s);
		if (stage == TdStage::kFinalized)
			return "";
		if (TdxStatus s = tdm.mng_key_freeid(tdr_pa()); !s.is_success())
			return step_failed("TDH.MNG.KEY.FREEID", s);
		return "";
	}

	u64 tdr_pa() const { return tdr_.pa().value(); }
	u64 tdcs_pa(unsigned i) const { return tdcs_[i].pa().value(); }
	/* The pages the test holds for it (the page ledger counts them). */
	u64 pages() const { return (tdr_ ? 1 : 0) + tdcs_.size(); }

private:
	/* TD_PARAMS (x87 and SSE, one vCPU, MRCONFIGID the id) in a page of its own, for MNG.INIT only. */
	std::string init(TdManager &tdm, u8 id)
	{
		namespace tp = tdx::abi::td_params;
		PageRun params = PageRun::alloc(tp::kSize);
		if (!params)
			return "no TD_PARAMS page";
		auto *p = static_cast<u8 *>(params.va());
		const u64 xfam = 0x3;
		const u16 max_vcpus = 1;
		memcpy(p + tp::kXfam, &xfam, sizeof(xfam));
		memcpy(p + tp::kMaxVcpus, &max_vcpus, sizeof(max_vcpus));
		memset(p + tp::kMrConfigId, id, tdx::abi::kMeasurementBytes);
		TdxStatus s = tdm.mng_init(tdr_pa(), params.pa().value());
		return s.is_success() ? "" : step_failed("TDH.MNG.INIT", s);
	}

	PageRun tdr_;
	std::vector<PageRun> tdcs_;
};

dice_quote::ReportData report_data_from(u8 seed)
{
	dice_quote::ReportData d;
	for (size_t i = 0; i < d.size(); i++)
		d[i] = u8(seed + i);
	return d;
}

dice_quote::ReportData report_data_of(const std::vector<u8> &report)
{
	dice_quote::ReportData d;
	memcpy(d.data(), report.data() + tr::kReportData, d.size());
	return d;
}

/*
 * The TDREPORT of the TD at tdr_pa with REPORTDATA rd, from the emulator-only service request
 * (include/tdx/emu/service.h), as the TD harness obtains it (a simulated TD has no vCPU to run
 * TDG.MR.REPORT): the REPORTDATA in one page, the report written into another. The service's
 * status; the report in *out on success.
 */
u64 td_report(tdx::SeamcallBackend &emu, u64 tdr_pa, const dice_quote::ReportData &rd, std::vector<u8> *out)
{
	PageRun in = PageRun::alloc(kPageSize), report = PageRun::alloc(kPageSize);
	if (!in || !report)
		return tdx::abi::kTdxSwError;
	memcpy(in.va(), rd.data(), rd.size());
	RegBlock r{};
	r.rcx = tdr_pa;
	r.rdx = in.pa().value();
	r.r8 = report.pa().value();
	const u64 s = emu.call(tdx::emu::service_rax(tdx::emu::kServiceTdReport), r);
	if (s == st::kSuccess) {
		const auto *b = static_cast<const u8 *>(report.va());
		out->assign(b, b + tr::kSize);
	}
	return s;
}

} // namespace

/*
 * Quoting enabled, and a real TD of the model (finalized, made through the TD-management
 * wrappers) with a genuine TDREPORT of it: what TDH.QUOTE.GET checks is the model's own check.
 */
class QuoteGet : public QuoteBringUp {
protected:
	void SetUp() override
	{
		QuoteBringUp::SetUp();
		m_ = std::make_unique<TdxModule>(sc);
		ASSERT_TRUE(m_->bring_up().is_ok());
		SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
		ASSERT_TRUE(m_->quoting().enabled());
		const TdxModule::KeyIds &k = m_->keyids();
		tdm_ = std::make_unique<TdManager>();
		tdm_->start(sc, k.start, k.nr, k.global);
		Result<u64> tdcs_bytes = sys_rd(sc, tdx::abi::field::kTdcsBaseSize);
		ASSERT_TRUE(tdcs_bytes.is_ok());
		tdcs_pages_ = unsigned(div_round_up(tdcs_bytes.value(), kPageSize));
		ASSERT_GE(tdcs_pages_, 2u); /* a TD can be short of one */
		td_ = make_td(TdStage::kFinalized);
		ASSERT_NE(td_, nullptr);
		report_ = report_of(*td_, 3);
		ASSERT_EQ(report_.size(), tr::kSize);
	}
	void TearDown() override
	{
		if (tdm_)
			tdm_->stop();
		m_.reset(); /* SYS.DISABLE: the model forgets every TD, their pages are the test's again */
		tds_.clear();
		QuoteBringUp::TearDown();
	}
	TdxModule &m() { return *m_; }
	u64 tdr() const { return td_->tdr_pa(); }
	u64 buffer_pages() { return quote_buffer_pages(emu.profile.quote.max_quote_size) + 1; }
	u64 td_pages() const
	{
		u64 n = 0;
		for (const auto &t : tds_)
			n += t->pages();
		return n;
	}

	/* Another TD of the model, built to `stage` (nullptr, and a test failure, if it could not be). */
	TestTd *make_td(TdStage stage)
	{
		tds_.push_back(std::make_unique<TestTd>());
		const std::string e = tds_.back()->build(*tdm_, tdcs_pages_, stage, u8(tds_.size()));
		EXPECT_EQ(e, "");
		return e.empty() ? tds_.back().get() : nullptr;
	}
	/* The TD's TDREPORT with REPORTDATA from seed (empty, and a test failure, if refused). */
	std::vector<u8> report_of(const TestTd &td, u8 seed)
	{
		std::vector<u8> r;
		EXPECT_EQ(td_report(emu, td.tdr_pa(), report_data_from(seed), &r), st::kSuccess);
		return r;
	}
	/* What the model answered the last TDH.QUOTE.GET. */
	u64 last_quote_get_status() const
	{
		for (auto c = emu.calls.rbegin(); c != emu.calls.rend(); ++c)
			if (c->leaf == lf::kQuoteGet)
				return c->status;
		ADD_FAILURE() << "no TDH.QUOTE.GET";
		return 0;
	}
	/* Quoting was switched off by a failure: the buffer went, TDX stays up. */
	void expect_disabled_tdx_up()
	{
		EXPECT_FALSE(m().quoting().enabled());
		EXPECT_TRUE(m().ready());
		EXPECT_EQ(held(), tdx_pages(m()) + td_pages());
		std::vector<u8> quote;
		size_t lines = fake::kernel().log.size();
		EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kENODEV));
		EXPECT_EQ(fake::kernel().log.size(), lines); /* logged once, when it failed */
	}

	std::unique_ptr<TdxModule> m_;
	std::unique_ptr<TdManager> tdm_;
	std::vector<std::unique_ptr<TestTd>> tds_;
	unsigned tdcs_pages_ = 0;
	TestTd *td_ = nullptr;    /* the finalized TD every request is for */
	std::vector<u8> report_;  /* its TDREPORT, REPORTDATA from seed 3 */
};

/*
 * The model signs inside a request's first QUOTE.GET and writes one page per call, so the calls
 * of a request are known whatever the host's speed (with the profile's sign budget a first call
 * may finish the whole request, or not yet have the signature).
 */
class QuoteGetPageByPage : public QuoteGet {
protected:
	void SetUp() override
	{
		emu.profile.quote.sign_budget_us = 0;
		emu.profile.quote.get_budget_pages = 1;
		QuoteGet::SetUp();
	}
};

TEST_F(QuoteGetPageByPage, AQuoteThatVerifiesAgainstTheModelsRoot)
{
	std::vector<u8> quote;
	const long live = fake::kernel().live_allocs;
	ASSERT_EQ(generate(m(), tdr(), report_, &quote), Status::ok());
	EXPECT_EQ(fake::kernel().live_allocs, live); /* the copy was the caller's to kvfree */
	auto v = dice_quote::verify_quote(quote, root_pem(), report_data_of(report_));
	ASSERT_TRUE(v.ok()) << v.error().to_string();
	const dice_quote::QuoteClaims &claims = v.value().claims;
	EXPECT_EQ(claims.report_data, report_data_from(3));
	/* The quote is of this TD: its MRTD and MRCONFIGID as its TDREPORT carries them, unchanged since finalized. */
	EXPECT_EQ(memcmp(claims.td.current.mrtd.data(), report_.data() + tr::kTdInfo + tr::kMrTd, 48), 0);
	EXPECT_EQ(memcmp(claims.td.current.mrconfigid.data(), report_.data() + tr::kTdInfo + tr::kTdMrConfigId, 48), 0);
	EXPECT_EQ(claims.td.origin, claims.td.current);
	EXPECT_EQ(quote.size(), quote_info().last_quote_length);
	/* The registers of ABI.md §8, the same in every call of the request. */
	auto gets = wire.of(lf::kQuoteGet);
	ASSERT_GE(gets.size(), buffer_pages() - 1); /* one page of the quote per call: resumed */
	const QuoteBuffer &b = m().quoting().buffer_locked();
	for (const auto &get : gets) {
		const RegBlock &r = get.regs;
		EXPECT_EQ(get.rax, lf::kQuoteGet);
		EXPECT_EQ(r.rcx, tdr());
		EXPECT_EQ(r.rdx, 0x0000FFFF00000000ull);
		EXPECT_EQ(r.r8, b.data_pa(0).value());
		EXPECT_EQ(r.r9, tr::kSize);
		EXPECT_EQ(r.r10, b.head().value());
		EXPECT_EQ(r.r11, b.bytes());
	}
	EXPECT_TRUE(get_under_quote_lock);
	/* Another request, another REPORTDATA: the buffer is reused. */
	std::vector<u8> report2 = report_of(*td_, 9), quote2;
	ASSERT_EQ(generate(m(), tdr(), report2, &quote2), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote2, root_pem(), report_data_of(report2)).ok());
	EXPECT_FALSE(dice_quote::verify_quote(quote2, root_pem(), report_data_of(report_)).ok());
	EXPECT_EQ(held(), tdx_pages(m()) + buffer_pages() + td_pages());
}

TEST_F(QuoteGet, EachTdsQuoteCarriesItsOwnMeasurements)
{
	TestTd *other = make_td(TdStage::kFinalized);
	ASSERT_NE(other, nullptr);
	std::vector<u8> other_report = report_of(*other, 3), quote, other_quote;
	ASSERT_EQ(generate(m(), tdr(), report_, &quote), Status::ok());
	ASSERT_EQ(generate(m(), other->tdr_pa(), other_report, &other_quote), Status::ok());
	auto v = dice_quote::verify_quote(quote, root_pem(), report_data_from(3));
	auto w = dice_quote::verify_quote(other_quote, root_pem(), report_data_from(3));
	ASSERT_TRUE(v.ok() && w.ok());
	EXPECT_NE(v.value().claims.td.current.mrconfigid, w.value().claims.td.current.mrconfigid);
	EXPECT_NE(v.value().claims.td.current.mrtd, w.value().claims.td.current.mrtd);
	EXPECT_EQ(memcmp(w.value().claims.td.current.mrtd.data(), other_report.data() + tr::kTdInfo + tr::kMrTd, 48), 0);
}

/* ---- what the module refuses of the caller's input: -EINVAL, quoting stays ---------------------- */

namespace {

enum class BadInput {
	kMisalignedTdr,   /* rcx not a page address */
	kTdrOutsideTdmrs, /* rcx not memory the TDX module manages */
	kPageNotATd,      /* a page of TDMR memory that no TD owns */
	kTdcsPage,        /* the TD's own TDCS page in place of its TDR */
	kTdAtStage,       /* a TD that cannot be quoted (not finalized, or torn down) */
	kForgedReport,    /* the TD's report altered after the fact */
	kOtherTdsReport,  /* a genuine report of another TD */
};

struct Refusal {
	const char *name;
	BadInput input;
	TdStage stage; /* kTdAtStage */
	u64 status;    /* what the model answers */
	QuoteGetRefusal what;
};
void PrintTo(const Refusal &r, std::ostream *os) { *os << r.name; }

} // namespace

class QuoteGetRefused : public QuoteGet, public ::testing::WithParamInterface<Refusal> {};

TEST_P(QuoteGetRefused, EinvalQuotingStaysAndTheNextRequestIsQuoted)
{
	const Refusal c = GetParam();
	u64 tdr_pa = tdr();
	std::vector<u8> report = report_;
	PageRun page;
	switch (c.input) {
	case BadInput::kMisalignedTdr:
		tdr_pa += 8;
		break;
	case BadInput::kTdrOutsideTdmrs:
		tdr_pa = 1ull << 40;
		for (const auto &t : emu.tdmrs())
			ASSERT_FALSE(tdr_pa >= t.first && tdr_pa - t.first < t.second);
		break;
	case BadInput::kPageNotATd:
		page = PageRun::alloc(kPageSize);
		ASSERT_TRUE(page);
		tdr_pa = page.pa().value();
		break;
	case BadInput::kTdcsPage:
		tdr_pa = td_->tdcs_pa(0);
		break;
	case BadInput::kTdAtStage: {
		TestTd *t = make_td(c.stage);
		ASSERT_NE(t, nullptr);
		tdr_pa = t->tdr_pa();
		break;
	}
	case BadInput::kForgedReport:
		report[tr::kReportData] ^= 1;
		break;
	case BadInput::kOtherTdsReport: {
		TestTd *t = make_td(TdStage::kFinalized);
		ASSERT_NE(t, nullptr);
		report = report_of(*t, 3);
		break;
	}
	}
	const u64 held_before = held();
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr_pa, report, &quote), error(err::kEINVAL));
	EXPECT_EQ(last_quote_get_status(), c.status) << std::hex << last_quote_get_status();
	EXPECT_EQ(quote_get_refusal(TdxStatus(c.status)), c.what);
	EXPECT_TRUE(quote.empty());
	EXPECT_TRUE(m().quoting().enabled());
	EXPECT_FALSE(fake::kernel().log_contains("quoting disabled"));
	EXPECT_TRUE(fake::kernel().log_contains(c.what == QuoteGetRefusal::kTd ? "TDH.QUOTE.GET refused the TD:"
									       : "TDH.QUOTE.GET refused the TDREPORT:"));
	EXPECT_EQ(held(), held_before); /* the buffer stays */
	/* The next request, for the genuine TD and report, is quoted. */
	ASSERT_EQ(generate(m(), tdr(), report_, &quote), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote, root_pem(), report_data_from(3)).ok());
}

namespace {

using B = BadInput;
using S = TdStage;
constexpr QuoteGetRefusal kTd = QuoteGetRefusal::kTd, kReport = QuoteGetRefusal::kTdreport;
constexpr u64 kRcx = tdx::abi::kOperandIdRcx, kR8 = tdx::abi::kOperandIdR8;
constexpr u64 kOpState(u64 op_state) { return st::kOpStateIncorrect | op_state; }

/* Each status the model's TD and TDREPORT check answers, reached with a real input. */
const Refusal kRefusals[] = {
	{"MisalignedTdr", B::kMisalignedTdr, {}, st::kOperandInvalid | kRcx, kTd},
	{"TdrOutsideTdmrs", B::kTdrOutsideTdmrs, {}, st::kOperandAddrRangeError | kRcx, kTd},
	{"PageNotATd", B::kPageNotATd, {}, st::kPageMetadataIncorrect | kRcx, kTd},
	{"TdcsPage", B::kTdcsPage, {}, st::kPageMetadataIncorrect | kRcx, kTd},
	{"KeysNotConfigured", B::kTdAtStage, S::kCreated, st::kTdKeysNotConfigured, kTd},
	{"NoTdcs", B::kTdAtStage, S::kKeysConfigured, st::kTdcsNotAllocated, kTd},
	{"TdcsShort", B::kTdAtStage, S::kTdcsShort, st::kTdcsNotAllocated, kTd},
	{"Uninitialized", B::kTdAtStage, S::kTdcsAdded, kOpState(0), kTd},
	{"NotFinalized", B::kTdAtStage, S::kInitialized, kOpState(1), kTd},
	{"TornDown", B::kTdAtStage, S::kTornDown, st::kTdKeysNotConfigured, kTd},
	{"ForgedReport", B::kForgedReport, {}, st::kOperandInvalid | kR8, kReport},
	{"OtherTdsReport", B::kOtherTdsReport, {}, st::kOperandInvalid | kR8, kReport},
};

} // namespace

INSTANTIATE_TEST_SUITE_P(Inputs, QuoteGetRefused, ::testing::ValuesIn(kRefusals),
			 [](const ::testing::TestParamInfo<Refusal> &i) { return std::string(i.param.name); });

TEST_F(QuoteGet, BadArgumentsNeverReachTheModule)
{
	std::vector<u8> quote, shorter(tr::kSize - 1), longer(tr::kSize + 1);
	EXPECT_EQ(generate(m(), tdr(), shorter, &quote), error(err::kEINVAL));
	EXPECT_EQ(generate(m(), tdr(), longer, &quote), error(err::kEINVAL));
	QuoteGuard g(quote_lock);
	u32 len;
	EXPECT_EQ(m().quoting().generate_locked(tdr(), nullptr, tr::kSize, nullptr, &len), error(err::kEINVAL));
	EXPECT_EQ(emu.count(lf::kQuoteGet), 0);
	EXPECT_TRUE(m().quoting().enabled());
}

/* ---- quoting's own failures: -EIO, quoting disabled once, TDX up ------------------------------- */

class QuoteGetFailure : public QuoteGet, public ::testing::WithParamInterface<u64> {};

TEST_P(QuoteGetFailure, DisablesQuotingOnce)
{
	emu.fail(lf::kQuoteGet, 1, GetParam());
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kEIO));
	char raw[32];
	snprintf(raw, sizeof(raw), "(0x%016llx)", (unsigned long long)GetParam());
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed: "));
	EXPECT_TRUE(fake::kernel().log_contains(raw)) << raw;
	expect_disabled_tdx_up();
}

/*
 * Quoting's state and keys, and the statuses of the refusals above when their operand is the
 * buffer or list tdx_host gave rather than the caller's TD.
 */
INSTANTIATE_TEST_SUITE_P(Statuses, QuoteGetFailure,
			 ::testing::Values(st::kSysStateIncorrect, tdx::abi::kQuoteInternalError,
					   st::kOperandInvalid | tdx::abi::kOperandIdR10,
					   st::kOperandAddrRangeError | tdx::abi::kOperandIdR8,
					   st::kPageMetadataIncorrect | tdx::abi::kOperandIdR10),
			 [](const ::testing::TestParamInfo<u64> &i) {
				 char name[24];
				 snprintf(name, sizeof(name), "status_%016llx", (unsigned long long)i.param);
				 return std::string(name);
			 });

TEST_F(QuoteGet, InjectedFailuresDisableQuoting)
{
	emu.fail(lf::kQuoteGet, 2, tdx::abi::kQuoteInternalError); /* after the first, resumable, answer */
	/* Resumable whatever the host's speed: the signature is held until the first call answered. */
	emu.model().set_quote_signer_hold(true);
	emu.on_answer = [this](u16 leaf, u64 &, RegBlock &) {
		if (leaf == lf::kQuoteGet)
			emu.model().set_quote_signer_hold(false);
	};
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kEIO));
	auto first = std::find_if(emu.calls.begin(), emu.calls.end(), [](const auto &c) { return c.leaf == lf::kQuoteGet; });
	ASSERT_NE(first, emu.calls.end());
	EXPECT_EQ(first->status, st::kInterruptedResumable);
	EXPECT_EQ(emu.count(lf::kQuoteGet), 2);
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed"));
	expect_disabled_tdx_up();
}
TEST_F(QuoteGet, BusyIsRetried)
{
	emu.fail(lf::kQuoteGet, 1, st::kSysBusy, 2);
	std::vector<u8> report = report_of(*td_, 5), quote;
	ASSERT_EQ(generate(m(), tdr(), report, &quote), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote, root_pem(), report_data_of(report)).ok());
	/* In the middle of a request too (the model keeps it: same registers). */
	emu.fail(lf::kQuoteGet, 2, st::kOperandBusy | tdx::abi::kOperandIdRcx, 3);
	ASSERT_EQ(generate(m(), tdr(), report, &quote), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote, root_pem(), report_data_of(report)).ok());
	/* Busy for ever is bounded like any request that does not finish. */
	emu.fail(lf::kQuoteGet, 1, st::kSysBusy, fake::ModelBackend::kAlways);
	EXPECT_EQ(generate(m(), tdr(), report, &quote), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("did not finish in 65536 calls (last TDX_SYS_BUSY)"));
	expect_disabled_tdx_up();
}

TEST_F(QuoteGet, NeverFinishingIsBounded)
{
	emu.fail(lf::kQuoteGet, 1, st::kInterruptedResumable, fake::ModelBackend::kAlways);
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kEIO));
	EXPECT_EQ(emu.count(lf::kQuoteGet), 1 << 16);
	EXPECT_TRUE(fake::kernel().log_contains(
		"quoting disabled: TDH.QUOTE.GET did not finish in 65536 calls (last TDX_INTERRUPTED_RESUMABLE)"));
	expect_disabled_tdx_up();
}

class QuoteGetLength : public QuoteGet, public ::testing::WithParamInterface<int> {};

TEST_P(QuoteGetLength, ZeroOrLargerThanTheBufferIsEproto)
{
	const u64 bytes = m().quoting().buffer_locked().bytes();
	const u64 len = GetParam() < 0 ? 0 : bytes + u64(GetParam());
	emu.on_answer = [len](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kQuoteGet && s == st::kSuccess)
			r.rcx = len;
	};
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kEPROTO));
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET returned a quote of " + std::to_string(len) +
						" bytes for a buffer of " + std::to_string(bytes)));
	expect_disabled_tdx_up();
}

INSTANTIATE_TEST_SUITE_P(Lengths, QuoteGetLength, ::testing::Values(-1, 1, 1 << 20));

TEST_F(QuoteGet, TheLargestLengthFits)
{
	const u64 bytes = m().quoting().buffer_locked().bytes();
	emu.on_answer = [bytes](u16 leaf, u64 &s, RegBlock &r) {
		if (leaf == lf::kQuoteGet && s == st::kSuccess)
			r.rcx = bytes;
	};
	std::vector<u8> quote;
	ASSERT_EQ(generate(m(), tdr(), report_, &quote), Status::ok());
	EXPECT_EQ(quote.size(), bytes);
	EXPECT_TRUE(m().quoting().enabled());
}

TEST_F(QuoteGet, CopyFailureKeepsQuoting)
{
	/* The copy for the caller is the request's one allocation. */
	fake::kernel().fail_alloc_at = 1;
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kENOMEM));
	EXPECT_TRUE(m().quoting().enabled());
	ASSERT_EQ(generate(m(), tdr(), report_, &quote), Status::ok());
}

TEST_F(QuoteGetPageByPage, TransportDeathAbandonsTheBuffer)
{
	ASSERT_GE(buffer_pages(), 3u);
	wire.cut_leaf = lf::kQuoteGet;
	wire.cut_nth = 2; /* the model signed and wrote the first page; the second is next */
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), tdr(), report_, &quote), error(err::kEIO));
	EXPECT_FALSE(m().quoting().enabled());
	EXPECT_EQ(abandoned(), buffer_pages());
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed: TDX_SEAMCALL_TIMEOUT"));
	EXPECT_TRUE(fake::kernel().log_contains(std::to_string(buffer_pages() * 4) +
						" KiB of quote buffer stay with the TDX module"));
	m_.reset();
	/* What is left is the test's TD (its pages, in a real kernel, would stay with the module too). */
	EXPECT_EQ(held(), td_pages());
	EXPECT_EQ(fake::phys_pages_in_use(), abandoned() + td_pages());
}

