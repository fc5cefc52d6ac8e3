// SPDX-License-Identifier: GPL-2.0
/*
 * The quoting extension: the quote buffer's size and HPA linked list (ABI.md §8), the buffer in
 * (fake) physical memory, QUOTE.INIT at bring-up and its failures (quoting off, TDX up, nothing
 * leaked), and TDH.QUOTE.GET requests against the emulator's model (model_backend.h): quotes that
 * verify against the model's DICE root, the status mapping, malformed lengths, a transport that
 * dies in the middle.
 */
#include <gtest/gtest.h>

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
#include "model_backend.h"
#include "phys_mem.h"
#include "quote.h"
#include "seam-emu/src/seam_identity.h"

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

/* Each test from a fresh fake kernel; the page ledger relative to the start. */
class QuoteLedger : public ::testing::Test {
protected:
	void SetUp() override
	{
		fake::reset();
		before_ = page_counts();
	}
	void TearDown() override { fake::reset(); }
	u64 held() const { return page_counts().held - before_.held; }
	u64 abandoned() const { return page_counts().abandoned - before_.abandoned; }
	PageCounts before_;
};
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

namespace {

constexpr u64 kFakeTdr = 0x7000000; /* what the stand-in check accepts as a TD */

/* A TDREPORT-shaped input: type 0x81, the REPORTDATA, the rest a pattern. */
std::vector<u8> report_with(u8 seed)
{
	std::vector<u8> r(tr::kSize);
	for (size_t i = 0; i < r.size(); i++)
		r[i] = u8(seed + i);
	r[tr::kReportType] = tr::kReportTypeTdx;
	return r;
}

dice_quote::ReportData report_data_of(const std::vector<u8> &report)
{
	dice_quote::ReportData d;
	memcpy(d.data(), report.data() + tr::kReportData, d.size());
	return d;
}

} // namespace

/*
 * Quoting enabled, and TDH.QUOTE.GET's check of the TD and its TDREPORT replaced by a stand-in
 * (the model's hook for tests), so the requests here do not depend on TD creation.
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
		seam_emu::Module &model = emu.model();
		std::lock_guard<std::mutex> g(model.state_mutex());
		model.set_td_report_check_for_tests([this](u64 tdr, const u8 *report, seam_emu::ReportedTd *out) -> u64 {
			checks++;
			if (tdr != kFakeTdr)
				return refuse_tdr;
			if (report[tr::kReportType] != tr::kReportTypeTdx)
				return st::kOperandInvalid | tdx::abi::kOperandIdR8;
			memcpy(out->report_data.data(), report + tr::kReportData, 64);
			const seam_emu::SeamIdentity id = seam_emu::seam_identity(emu.profile.image());
			out->seam_current = {id.attributes, id.mrseam, id.mrsignerseam, id.tee_tcb_svn};
			out->seam_origin = out->seam_current;
			return st::kSuccess;
		});
	}
	void TearDown() override
	{
		m_.reset();
		QuoteBringUp::TearDown();
	}
	TdxModule &m() { return *m_; }
	u64 buffer_pages() { return quote_buffer_pages(emu.profile.quote.max_quote_size) + 1; }
	/* Quoting was switched off by a failure: the buffer went, TDX stays up. */
	void expect_disabled_tdx_up()
	{
		EXPECT_FALSE(m().quoting().enabled());
		EXPECT_TRUE(m().ready());
		EXPECT_EQ(held(), tdx_pages(m()));
		std::vector<u8> quote;
		size_t lines = fake::kernel().log.size();
		EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kENODEV));
		EXPECT_EQ(fake::kernel().log.size(), lines); /* logged once, when it failed */
	}

	std::unique_ptr<TdxModule> m_;
	int checks = 0;
	u64 refuse_tdr = st::kOperandInvalid | tdx::abi::kOperandIdRcx;
};

TEST_F(QuoteGet, AQuoteThatVerifiesAgainstTheModelsRoot)
{
	std::vector<u8> report = report_with(3), quote;
	const long live = fake::kernel().live_allocs;
	ASSERT_EQ(generate(m(), kFakeTdr, report, &quote), Status::ok());
	EXPECT_EQ(fake::kernel().live_allocs, live); /* the copy was the caller's to kvfree */
	EXPECT_EQ(checks, 1);
	auto v = dice_quote::verify_quote(quote, root_pem(), report_data_of(report));
	ASSERT_TRUE(v.ok()) << v.error().to_string();
	EXPECT_EQ(v.value().claims.report_data, report_data_of(report));
	EXPECT_EQ(quote.size(), quote_info().last_quote_length);
	/* The registers of ABI.md §8, the same in every call of the request. */
	auto gets = wire.of(lf::kQuoteGet);
	ASSERT_GE(gets.size(), 2u); /* the model signs, then writes: resumed at least once */
	const QuoteBuffer &b = m().quoting().buffer_locked();
	for (const auto &get : gets) {
		const RegBlock &r = get.regs;
		EXPECT_EQ(get.rax, lf::kQuoteGet);
		EXPECT_EQ(r.rcx, kFakeTdr);
		EXPECT_EQ(r.rdx, 0x0000FFFF00000000ull);
		EXPECT_EQ(r.r8, b.data_pa(0).value());
		EXPECT_EQ(r.r9, tr::kSize);
		EXPECT_EQ(r.r10, b.head().value());
		EXPECT_EQ(r.r11, b.bytes());
	}
	EXPECT_TRUE(get_under_quote_lock);
	/* Another request, another REPORTDATA: the buffer is reused. */
	std::vector<u8> report2 = report_with(9), quote2;
	ASSERT_EQ(generate(m(), kFakeTdr, report2, &quote2), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote2, root_pem(), report_data_of(report2)).ok());
	EXPECT_FALSE(dice_quote::verify_quote(quote2, root_pem(), report_data_of(report)).ok());
	EXPECT_EQ(held(), tdx_pages(m()) + buffer_pages());
}

TEST_F(QuoteGet, RefusedTdOrReportIsEinvalAndQuotingStays)
{
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr + 4096, report_with(1), &quote), error(err::kEINVAL)); /* rcx */
	std::vector<u8> bad = report_with(1);
	bad[tr::kReportType] = 0;
	EXPECT_EQ(generate(m(), kFakeTdr, bad, &quote), error(err::kEINVAL)); /* r8 */
	EXPECT_TRUE(m().quoting().enabled());
	EXPECT_FALSE(fake::kernel().log_contains("quoting disabled"));
	ASSERT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), Status::ok());
	EXPECT_FALSE(quote.empty());
}

TEST_F(QuoteGet, BadArgumentsNeverReachTheModule)
{
	std::vector<u8> quote, shorter(tr::kSize - 1), longer(tr::kSize + 1);
	EXPECT_EQ(generate(m(), kFakeTdr, shorter, &quote), error(err::kEINVAL));
	EXPECT_EQ(generate(m(), kFakeTdr, longer, &quote), error(err::kEINVAL));
	QuoteGuard g(quote_lock);
	u32 len;
	EXPECT_EQ(m().quoting().generate_locked(kFakeTdr, nullptr, tr::kSize, nullptr, &len), error(err::kEINVAL));
	EXPECT_EQ(emu.count(lf::kQuoteGet), 0);
	EXPECT_TRUE(m().quoting().enabled());
}

TEST_F(QuoteGet, OtherRefusalsDisableQuotingOnce)
{
	refuse_tdr = st::kPageMetadataIncorrect | tdx::abi::kOperandIdRcx; /* not OPERAND_INVALID */
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr + 4096, report_with(1), &quote), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed: "));
	EXPECT_TRUE(fake::kernel().log_contains("(0xc000030000000001)"));
	expect_disabled_tdx_up();
}

TEST_F(QuoteGet, InjectedFailuresDisableQuoting)
{
	emu.fail(lf::kQuoteGet, 2, tdx::abi::kQuoteInternalError); /* after the first, resumable, answer */
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed"));
	expect_disabled_tdx_up();
}

TEST_F(QuoteGet, BusyIsRetried)
{
	emu.fail(lf::kQuoteGet, 1, st::kSysBusy, 2);
	std::vector<u8> report = report_with(5), quote;
	ASSERT_EQ(generate(m(), kFakeTdr, report, &quote), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote, root_pem(), report_data_of(report)).ok());
	/* In the middle of a request too (the model keeps it: same registers). */
	emu.fail(lf::kQuoteGet, 2, st::kOperandBusy | tdx::abi::kOperandIdRcx, 3);
	ASSERT_EQ(generate(m(), kFakeTdr, report, &quote), Status::ok());
	EXPECT_TRUE(dice_quote::verify_quote(quote, root_pem(), report_data_of(report)).ok());
	/* Busy for ever is bounded like any request that does not finish. */
	emu.fail(lf::kQuoteGet, 1, st::kSysBusy, fake::ModelBackend::kAlways);
	EXPECT_EQ(generate(m(), kFakeTdr, report, &quote), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("did not finish in 65536 calls (last TDX_SYS_BUSY)"));
	expect_disabled_tdx_up();
}

TEST_F(QuoteGet, NeverFinishingIsBounded)
{
	emu.fail(lf::kQuoteGet, 1, st::kInterruptedResumable, fake::ModelBackend::kAlways);
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kEIO));
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
	EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kEPROTO));
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
	ASSERT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), Status::ok());
	EXPECT_EQ(quote.size(), bytes);
	EXPECT_TRUE(m().quoting().enabled());
}

TEST_F(QuoteGet, CopyFailureKeepsQuoting)
{
	/* The copy for the caller is the request's one allocation. */
	fake::kernel().fail_alloc_at = 1;
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kENOMEM));
	EXPECT_TRUE(m().quoting().enabled());
	ASSERT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), Status::ok());
}

TEST_F(QuoteGet, TransportDeathAbandonsTheBuffer)
{
	wire.cut_leaf = lf::kQuoteGet;
	wire.cut_nth = 2; /* the model signed; the quote's pages are being written */
	std::vector<u8> quote;
	EXPECT_EQ(generate(m(), kFakeTdr, report_with(1), &quote), error(err::kEIO));
	EXPECT_FALSE(m().quoting().enabled());
	EXPECT_EQ(abandoned(), buffer_pages());
	EXPECT_TRUE(fake::kernel().log_contains("quoting disabled: TDH.QUOTE.GET failed: TDX_SEAMCALL_TIMEOUT"));
	EXPECT_TRUE(fake::kernel().log_contains(std::to_string(buffer_pages() * 4) +
						" KiB of quote buffer stay with the TDX module"));
	m_.reset();
	EXPECT_EQ(held(), 0u);
	EXPECT_EQ(fake::phys_pages_in_use(), abandoned());
}

/* ---- a real TD of the model: TD leaves, its TDREPORT, its quote -------------------------------- */

namespace {

/* One SEAMCALL (or emulator service) straight to the model; its status. */
u64 model_call(fake::ModelBackend &emu, u64 rax, RegBlock r)
{
	return emu.call(rax, r);
}

} // namespace

TEST_F(QuoteBringUp, AGenuineTdreportGivesAQuoteOfThatTd)
{
	TdxModule m(sc);
	ASSERT_TRUE(m.bring_up().is_ok());
	SKIP_IF_PLACEHOLDER(lf::kQuoteInit);
	ASSERT_TRUE(m.quoting().enabled());
	const u32 tdcs_pages = u32(quote_buffer_pages(emu.profile.td.tdcs_base_size));
	PageRun tdr = PageRun::alloc(4096), tdcs = PageRun::alloc(u64(tdcs_pages) * 4096);
	PageRun params = PageRun::alloc(tdx::abi::td_params::kSize), io = PageRun::alloc(4096);
	ASSERT_TRUE(tdr && tdcs && params && io);
	u32 keyid_start, nr_keyids;
	ASSERT_TRUE(emu.tdx_keyids(keyid_start, nr_keyids).is_ok());
	const u64 tdr_pa = tdr.pa().value();

	RegBlock r{};
	r.rcx = tdr_pa;
	r.rdx = keyid_start + 1; /* the first KeyID after the global one */
	u64 s = model_call(emu, lf::kMngCreate, r);
	if (s == kPlaceholder)
		GTEST_SKIP() << "seam-emu's model still answers TDH.MNG.CREATE as unknown (TDX_OPERAND_INVALID | RAX)";
	ASSERT_EQ(s, st::kSuccess);
	r = RegBlock{};
	r.rcx = tdr_pa;
	ASSERT_EQ(model_call(emu, lf::kMngKeyConfig, r), st::kSuccess); /* one package */
	for (u32 i = 0; i < tdcs_pages; i++) {
		r = RegBlock{};
		r.rcx = (tdcs.pa() + u64(i) * 4096).value();
		r.rdx = tdr_pa;
		ASSERT_EQ(model_call(emu, lf::kMngAddcx, r), st::kSuccess) << "TDCS page " << i;
	}
	auto *p = static_cast<u8 *>(params.va());
	p[tdx::abi::td_params::kMaxVcpus] = 1;
	r = RegBlock{};
	r.rcx = tdr_pa;
	r.rdx = params.pa().value();
	ASSERT_EQ(model_call(emu, lf::kMngInit, r), st::kSuccess);
	for (u64 gpa : {0x0ull, 0x100ull, 0x1000ull}) {
		r = RegBlock{};
		r.rcx = gpa;
		r.rdx = tdr_pa;
		ASSERT_EQ(model_call(emu, lf::kMrExtend, r), st::kSuccess);
	}
	r = RegBlock{};
	r.rcx = tdr_pa;
	ASSERT_EQ(model_call(emu, lf::kMrFinalize, r), st::kSuccess);

	/* The TDREPORT the TD would get with TDG.MR.REPORT: REPORTDATA at io, report at io + 1024. */
	auto *page = static_cast<u8 *>(io.va());
	for (u32 i = 0; i < tdx::abi::kReportDataBytes; i++)
		page[i] = u8(0xC0 + i);
	r = RegBlock{};
	r.rcx = tdr_pa;
	r.rdx = io.pa().value();
	r.r8 = io.pa().value() + tr::kSize;
	ASSERT_EQ(model_call(emu, tdx::emu::service_rax(tdx::emu::kServiceTdReport), r), st::kSuccess);
	std::vector<u8> report(page + tr::kSize, page + 2 * tr::kSize), quote;

	ASSERT_EQ(generate(m, tdr_pa, report, &quote), Status::ok());
	auto v = dice_quote::verify_quote(quote, root_pem(), report_data_of(report));
	ASSERT_TRUE(v.ok()) << v.error().to_string();
	/* The quote carries this TD's MRTD, as its TDREPORT does. */
	EXPECT_EQ(memcmp(v.value().claims.td.current.mrtd.data(), report.data() + tr::kTdInfo + tr::kMrTd, 48), 0);

	/* A report altered after the fact is not genuine: refused as input, quoting stays. */
	std::vector<u8> forged = report;
	forged[tr::kReportData] ^= 1;
	EXPECT_EQ(generate(m, tdr_pa, forged, &quote), error(err::kEINVAL));
	EXPECT_TRUE(m.quoting().enabled());
	m.teardown();
}
