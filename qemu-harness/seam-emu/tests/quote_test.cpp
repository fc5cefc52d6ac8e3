// SPDX-License-Identifier: GPL-2.0
// The quoting extension (seam-emu README, "Quoting"): TDH.QUOTE.INIT and its chain, TDH.QUOTE.GET's
// operands, HPA linked list, budgeted resumption and restart, SYS.DISABLE, the module locks, the
// emulator's "quote" control command, and quotes of genuine TDREPORTs checked with
// dice_quote::verify_quote against the exported root.
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <dice-quote/dice_quote.h>

#include <tdx/abi/leaves.h>
#include <tdx/abi/quote.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

#include "emulator.h"
#include "quote_state.h"
#include "seam_identity.h"
#include "test_support.h"

namespace seam_emu::test {
namespace {

using json = nlohmann::json;

constexpr u64 kRam = 128 * kMiB;
constexpr u64 kExtList = 4 * kMiB;    /* EXT.MEM.ADD's list page */
constexpr u64 kNodeArea = 8 * kMiB;   /* quote list nodes */
constexpr u64 kInputArea = 12 * kMiB; /* QUOTE.GET inputs (TDREPORTs) */
constexpr u64 kBufArea = 16 * kMiB;   /* quote data pages */
constexpr u64 kTdArea = 32 * kMiB;    /* TDR and TDCS pages, TD_PARAMS, REPORTDATA, TDREPORTs */
constexpr u64 kPoolArea = 64 * kMiB;  /* the extension pool */
constexpr u64 kPamtPage = 56 * kMiB;  /* one_tdmr_layout()'s PAMTs */
constexpr u64 kNotRam = 200 * kMiB;
constexpr u8 kUntouched = 0xA5;             /* what the data pages hold before a quote */

constexpr u64 kInvalidR10 = status::kOperandInvalid | kOperandIdR10;
constexpr u64 kRangeR10 = status::kOperandAddrRangeError | kOperandIdR10;
constexpr u64 kInvalidR11 = status::kOperandInvalid | kOperandIdR11;

/*
 * ext-quote.json with the signature made inside the first call and one page written per call: the
 * calls of a request are exact.
 */
Profile quote_profile()
{
	ProfileResult r = load_profile(profile_path("ext-quote.json"));
	EXPECT_TRUE(r.profile) << r.error;
	Profile p = r.profile ? *r.profile : default_profile();
	p.quote.sign_budget_us = 0;
	p.quote.get_budget_pages = 1;
	return p;
}

template <size_t N>
std::array<u8, N> bytes_at(const u8 *p)
{
	std::array<u8, N> a;
	std::copy_n(p, N, a.begin());
	return a;
}

class Quote : public ModelTest {
protected:
	explicit Quote(Profile p = quote_profile()) : ModelTest(kRam, p) {}

	void remake(const Profile &p)
	{
		profile_ = p;
		m_ = std::make_unique<Module>(profile_, mem_);
	}
	u64 rd(u64 id, u64 *v = nullptr)
	{
		const u64 st = call(0, leaf::kSysRd, 0, id);
		if (v)
			*v = out_.r8;
		return st;
	}
	/* SYS.INIT .. SYS_READY with SYS.CONFIG `version` and `addons`, TDMRs initialized. */
	void ready(u64 addons = features0::kQuote, u8 version = 1)
	{
		sys_init();
		lp_init_all();
		ASSERT_EQ(config(one_tdmr_layout(profile_), 32, version, addons), status::kSuccess);
		key_config_all();
		tdmr_init_all();
		ASSERT_EQ(m_->state(), SysState::kSysReady);
	}
	/* The extension pool (one list) and EXT.INIT to completion. */
	void ext_up()
	{
		std::vector<u64> page(512, ~0ull);
		const u32 n = profile_.ext.pool_pages;
		ASSERT_LE(n, 512u);
		for (u32 i = 0; i < n; i++)
			page[i] = kPoolArea + i * kPageSize;
		ASSERT_TRUE(mem_.write(kExtList, page.data(), kPageSize));
		RegBlock r{};
		r.rcx = hpa_list_info(kExtList, 0, n - 1);
		u64 st;
		while ((st = call_rax(0, rax(leaf::kExtMemAdd), r)) == status::kInterruptedResumable)
			r = out_;
		ASSERT_EQ(st, status::kSuccess);
		while ((st = call(0, leaf::kExtInit)) == status::kInterruptedResumable) {
		}
		ASSERT_EQ(st, status::kSuccess);
	}
	/* QUOTE.INIT until it is no longer resumable; *calls counts them. */
	u64 quote_init(u32 *calls = nullptr, u32 lp = 0)
	{
		u64 st = status::kSuccess;
		u32 n = 0;
		for (int guard = 0; guard < 1000; guard++) {
			n++;
			st = call(lp, leaf::kQuoteInit);
			if (st != status::kInterruptedResumable)
				break;
		}
		if (calls)
			*calls = n;
		return st;
	}
	void all_up()
	{
		ready();
		ext_up();
		ASSERT_EQ(quote_init(), status::kSuccess);
	}

	/* The host's quote buffer: `data` pages, listed 511 per node from `head` on, the last node ~0-filled. */
	u64 write_list(const std::vector<u64> &data, u64 head = kNodeArea)
	{
		const u64 nodes = std::max<u64>(1, quote_list_nr_nodes(data.size()));
		for (u64 n = 0; n < nodes; n++) {
			std::vector<u64> e(kQuoteListEntries, kQuoteListEnd);
			for (u64 i = 0; i < kQuoteListDataPerNode && n * kQuoteListDataPerNode + i < data.size(); i++)
				e[i] = data[n * kQuoteListDataPerNode + i];
			if (n + 1 < nodes)
				e[kQuoteListNextEntry] = head + (n + 1) * kPageSize;
			EXPECT_TRUE(mem_.write(head + n * kPageSize, e.data(), kPageSize));
		}
		return head;
	}
	std::vector<u64> buffer_pages(u64 n, u64 at = kBufArea)
	{
		std::vector<u64> v;
		for (u64 i = 0; i < n; i++) {
			v.push_back(at + i * kPageSize);
			std::memset(mem_.ptr(at + i * kPageSize, kPageSize), kUntouched, kPageSize);
		}
		return v;
	}
	bool untouched(u64 pa)
	{
		const u8 *p = mem_.ptr(pa, kPageSize);
		return std::all_of(p, p + kPageSize, [](u8 b) { return b == kUntouched; });
	}
	/* QUOTE.GET's registers for a buffer of `pages` pages listed at kNodeArea, the input at r8. */
	RegBlock get_regs(u64 pages, u64 tdr = 0, u64 input = kInputArea)
	{
		write_list(buffer_pages(pages));
		return quote_get_regs(tdr ? tdr : td_.tdr, input, kNodeArea, pages);
	}
	u64 get(const RegBlock &r, u32 lp = 0) { return call_rax(lp, rax(leaf::kQuoteGet), r); }
	/*
	 * The host's loop; *resumable counts the INTERRUPTED_RESUMABLE answers. The guard only stops a
	 * request that never ends: with a 1 µs sign budget each call waits that long for a signature
	 * made at idle priority, which on a loaded host takes far more than a thousand such calls.
	 */
	u64 get_all(const RegBlock &r, u32 *resumable = nullptr)
	{
		u64 st = status::kSuccess;
		u32 n = 0;
		for (u32 guard = 0; guard < 10000000; guard++) {
			st = get(r);
			if (st != status::kInterruptedResumable)
				break;
			n++;
		}
		if (resumable)
			*resumable = n;
		return st;
	}
	/* The quote the buffer of `r` holds, by rcx out. */
	dice_quote::Bytes read_quote(const RegBlock &r, u64 len)
	{
		dice_quote::Bytes q(len);
		std::vector<u64> node(kQuoteListEntries);
		mem_.read(r.r10, node.data(), kPageSize);
		for (u64 off = 0, i = 0; off < len; off += kPageSize, i++)
			mem_.read(node[i], q.data() + off, std::min<u64>(kPageSize, len - off));
		return q;
	}

	/* A TD built through the TD leaves, and its TDREPORTs through the emulator's service request. */
	struct Td {
		u64 tdr = 0;
		u64 params = 0;
	};
	/* TD number `n`: TDR + TDCS pages at kTdArea + n MiB, HKID 33 + n; `seed` varies its measurement. */
	void make_td(u32 n, u8 seed, Td *td)
	{
		const u64 base = kTdArea + n * kMiB;
		td->tdr = base;
		td->params = base + 512 * 1024;
		ASSERT_EQ(call(0, leaf::kMngCreate, td->tdr, 33 + n), status::kSuccess);
		const u32 per_pkg = profile_.lps / profile_.packages;
		for (u32 pkg = 0; pkg < profile_.packages; pkg++)
			ASSERT_EQ(call(pkg * per_pkg, leaf::kMngKeyConfig, td->tdr), status::kSuccess);
		for (u32 i = 0; i < profile_.td.tdcs_base_size / kPageSize; i++)
			ASSERT_EQ(call(0, leaf::kMngAddcx, base + (1 + i) * kPageSize, td->tdr), status::kSuccess);
		std::vector<u8> params(td_params::kSize, 0);
		params[td_params::kMaxVcpus] = 1;
		params[td_params::kXfam] = 3; /* x87, SSE */
		for (u32 i = 0; i < kMeasurementBytes; i++)
			params[td_params::kMrConfigId + i] = u8(seed + i);
		ASSERT_TRUE(mem_.write(td->params, params.data(), params.size()));
		ASSERT_EQ(call(0, leaf::kMngInit, td->tdr, td->params), status::kSuccess);
		ASSERT_EQ(call(0, leaf::kMrExtend, u64(seed) * kPageSize, td->tdr), status::kSuccess);
		ASSERT_EQ(call(0, leaf::kMrFinalize, td->tdr), status::kSuccess);
	}
	/* The TD's TDREPORT with this REPORTDATA, written to `out`. */
	u64 td_report(const Td &td, const dice_quote::ReportData &rd, u64 out)
	{
		const u64 rd_pa = td.params + 2 * kPageSize;
		EXPECT_TRUE(mem_.write(rd_pa, rd.data(), rd.size()));
		RegBlock r{};
		r.rcx = td.tdr;
		r.rdx = rd_pa;
		r.r8 = out;
		return call_rax(0, tdx::emu::service_rax(tdx::emu::kServiceTdReport), r);
	}
	/* The fixture's TD (TD 0), whose requests get_regs() makes by default. */
	void one_td() { ASSERT_NO_FATAL_FAILURE(make_td(0, 7, &td_)); }
	/* td_'s TDREPORT with this REPORTDATA at `at`: the input of get_regs(). */
	void write_report(const dice_quote::ReportData &rd, u64 at = kInputArea)
	{
		ASSERT_EQ(td_report(td_, rd, at), status::kSuccess);
	}
	/* What the module's own TD check says of the input at kInputArea for `tdr`. */
	u64 check_input(u64 tdr)
	{
		std::vector<u8> rep(tdreport::kSize);
		mem_.read(kInputArea, rep.data(), rep.size());
		std::lock_guard<std::mutex> g(m_->state_mutex());
		ReportedTd out;
		return m_->check_td_report(tdr, rep.data(), &out);
	}
	Module::QuoteInfo info()
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		return m_->quote_info();
	}
	std::string root()
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		return m_->quote_root_pem();
	}
	/* The control command "quote pad N". */
	void pad(u32 n)
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		m_->set_quote_pad(n);
	}

	Td td_;
};

/*
 * A quote of `len` bytes made with pad `n`: its last n bytes zero, the quote before them verifies
 * (REPORTDATA `rd`), the whole does not (trailing bytes).
 */
::testing::AssertionResult padded_quote(const dice_quote::Bytes &q, u32 n, const std::string &root_pem,
					const dice_quote::ReportData &rd)
{
	if (q.size() <= n)
		return ::testing::AssertionFailure() << q.size() << " bytes, pad " << n;
	if (!std::all_of(q.end() - n, q.end(), [](u8 b) { return b == 0; }))
		return ::testing::AssertionFailure() << "the last " << n << " bytes are not all zero";
	const dice_quote::Bytes signed_part(q.begin(), q.end() - n);
	if (auto v = dice_quote::verify_quote(signed_part, root_pem, rd); !v)
		return ::testing::AssertionFailure() << "the quote before the pad: " << v.error().to_string();
	if (n && dice_quote::verify_quote(q, root_pem, rd))
		return ::testing::AssertionFailure() << "a padded quote verified";
	return ::testing::AssertionSuccess();
}

/* ---- QUOTE.INIT ------------------------------------------------------------------------------ */

TEST_F(Quote, InitTakesItsStepsThenMaxQuoteSizeReads)
{
	ready();
	ext_up();
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
	for (u32 i = 1; i < profile_.quote.init_steps; i++) {
		EXPECT_EQ(call(1, leaf::kQuoteInit), status::kInterruptedResumable) << i;
		EXPECT_EQ(info().init_progress, i);
		EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
		EXPECT_FALSE(info().initialized);
	}
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSuccess); /* any LP continues it */
	u64 v = 0;
	EXPECT_EQ(rd(field::kMaxQuoteSize, &v), status::kSuccess);
	EXPECT_EQ(v, profile_.quote.max_quote_size);
	Module::QuoteInfo i = info();
	EXPECT_TRUE(i.initialized);
	EXPECT_EQ(i.init_progress, 0u);
	EXPECT_EQ(i.inits_completed, 1u);
	ASSERT_TRUE(i.layer2_measurement);
	EXPECT_EQ(*i.layer2_measurement, seam_identity(profile_.image()).mrseam);

	/* Again: a re-key, init_steps calls again, the same root. */
	const std::string r1 = root();
	u32 calls = 0;
	EXPECT_EQ(quote_init(&calls), status::kSuccess);
	EXPECT_EQ(calls, profile_.quote.init_steps);
	EXPECT_EQ(info().inits_completed, 2u);
	EXPECT_EQ(root(), r1);
	EXPECT_EQ(info().refused, 0u);
}

TEST_F(Quote, InitStepsComeFromTheProfile)
{
	for (u32 steps : {1u, 5u}) {
		Profile p = quote_profile();
		p.quote.init_steps = steps;
		remake(p);
		all_up();
		EXPECT_EQ(info().inits_completed, 1u);
		u32 calls = 0;
		EXPECT_EQ(quote_init(&calls), status::kSuccess);
		EXPECT_EQ(calls, steps);
	}
}

TEST_F(Quote, RefusedUntilQuoteIsEnabledAndExtInitDone)
{
	/* Before SYS_READY: the dispatcher. */
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSysNotReady);
	EXPECT_EQ(get(get_regs(1)), status::kSysNotReady);

	/* SYS.CONFIG v0: QUOTE not enabled. */
	ready(0, 0);
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSysStateIncorrect);
	EXPECT_EQ(get(get_regs(1)), status::kSysStateIncorrect);
	EXPECT_EQ(info().refused, 2u);
	EXPECT_EQ(info().last_refusal, status::kSysStateIncorrect);
}

TEST_F(Quote, RefusedBeforeExtInit)
{
	ready();
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSysStateIncorrect); /* no pool yet */
	ext_up();
	EXPECT_EQ(info().init_progress, 0u);
	EXPECT_EQ(get(get_regs(1)), status::kSysStateIncorrect); /* QUOTE.INIT not completed */
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kInterruptedResumable);
	EXPECT_EQ(get(get_regs(1)), status::kSysStateIncorrect); /* ... nor while it is in progress */
	EXPECT_EQ(quote_init(), status::kSuccess);
	one_td();
	write_report(report_data_of(1));
	EXPECT_EQ(get(get_regs(1)), status::kSuccess); /* one page, one call */
}

TEST_F(Quote, LeavesAbsentWithoutTheQuoteFeature)
{
	Profile p = quote_profile();
	p.tdx_features0 &= ~features0::kQuote;
	remake(p);
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kSysNotReady);
	ready(0, 0);
	ext_up();
	EXPECT_EQ(call(0, leaf::kQuoteInit), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(get(get_regs(1)), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(info().refused, 0u); /* unknown leaves, not refusals */
	EXPECT_FALSE(info().reported);
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
}

/* ---- QUOTE.GET: operands --------------------------------------------------------------------- */

TEST_F(Quote, OperandRefusals)
{
	all_up();
	one_td();
	write_report(report_data_of(1));
	const u64 rdx = quote_get_rdx(kQuoteIdDefault);
	const u64 tdcs = td_.tdr + kPageSize; /* a page of the TD, but not its TDR */
	const u64 not_tdr = check_input(tdcs);
	ASSERT_EQ(not_tdr & (kStatusErrorBit | kStatusOperandMask), kStatusErrorBit | kOperandIdRcx);
	const struct {
		const char *what;
		std::function<void(RegBlock &)> edit;
		u64 status;
	} cases[] = {
		{"rdx bit 0", [&](RegBlock &r) { r.rdx = rdx | 1; }, status::kOperandInvalid | kOperandIdRdx},
		{"rdx bit 48", [&](RegBlock &r) { r.rdx = rdx | 1ull << 48; }, status::kOperandInvalid | kOperandIdRdx},
		{"rdx bit 63", [&](RegBlock &r) { r.rdx = rdx | 1ull << 63; }, status::kOperandInvalid | kOperandIdRdx},
		{"quote id 0", [](RegBlock &r) { r.rdx = quote_get_rdx(0); }, status::kOperandInvalid | kOperandIdRdx},
		{"quote id 1", [](RegBlock &r) { r.rdx = quote_get_rdx(1); }, status::kOperandInvalid | kOperandIdRdx},
		{"r9 0", [](RegBlock &r) { r.r9 = 0; }, status::kOperandInvalid | kOperandIdR9},
		{"r9 1023", [](RegBlock &r) { r.r9 = 1023; }, status::kOperandInvalid | kOperandIdR9},
		{"r9 4096", [](RegBlock &r) { r.r9 = 4096; }, status::kOperandInvalid | kOperandIdR9},
		{"r8 misaligned", [](RegBlock &r) { r.r8 += 1024; }, status::kOperandInvalid | kOperandIdR8},
		{"r8 beyond max PA", [](RegBlock &r) { r.r8 = 1ull << 52; }, status::kOperandInvalid | kOperandIdR8},
		{"r8 not RAM", [](RegBlock &r) { r.r8 = kNotRam; }, status::kOperandAddrRangeError | kOperandIdR8},
		{"r10 misaligned", [](RegBlock &r) { r.r10 += 8; }, kInvalidR10},
		{"r10 not RAM", [](RegBlock &r) { r.r10 = kNotRam; }, kRangeR10},
		{"r10 a pool page", [](RegBlock &r) { r.r10 = kPoolArea; }, kInvalidR10},
		{"r10 a PAMT page", [](RegBlock &r) { r.r10 = kPamtPage; }, kInvalidR10},
		{"r11 0", [](RegBlock &r) { r.r11 = 0; }, kInvalidR11},
		{"r11 100", [](RegBlock &r) { r.r11 = 100; }, kInvalidR11},
		{"r11 4097", [](RegBlock &r) { r.r11 = 4097; }, kInvalidR11},
		{"r11 above the list", [](RegBlock &r) { r.r11 += kPageSize; }, kInvalidR11},
		{"not a TDR", [&](RegBlock &r) { r.rcx = tdcs; }, not_tdr},
	};
	u64 refused = 0;
	for (const auto &k : cases) {
		RegBlock r = get_regs(3);
		k.edit(r);
		EXPECT_EQ(get(r), k.status) << k.what;
		Module::QuoteInfo i = info();
		EXPECT_EQ(i.refused, ++refused) << k.what;
		EXPECT_EQ(i.last_refusal, k.status) << k.what;
		EXPECT_FALSE(i.get_in_progress) << k.what;
		for (u64 p = 0; p < 3; p++)
			EXPECT_TRUE(untouched(kBufArea + p * kPageSize)) << k.what;
	}
	/* The registers unedited work. */
	u64 len = 0;
	RegBlock r = get_regs(3);
	EXPECT_EQ(get_all(r), status::kSuccess);
	len = out_.rcx;
	EXPECT_GT(len, 0u);
	EXPECT_EQ(info().refused, refused);
}

TEST_F(Quote, ListRefusals)
{
	all_up();
	one_td();
	write_report(report_data_of(1));
	const u64 n = 600; /* two nodes: 511 + 89 */
	struct Case {
		const char *what;
		std::function<void(std::vector<u64> &node0, std::vector<u64> &node1)> edit;
		u64 status;
	};
	const Case cases[] = {
		{"entry misaligned", [](auto &a, auto &) { a[5] += 16; }, kInvalidR10},
		{"entry beyond max PA", [](auto &a, auto &) { a[5] = 1ull << 52; }, kInvalidR10},
		{"entry not RAM", [](auto &a, auto &) { a[5] = kNotRam; }, kRangeR10},
		{"entry a pool page", [](auto &, auto &b) { b[3] = kPoolArea + kPageSize; }, kInvalidR10},
		{"entry the head node", [](auto &a, auto &) { a[7] = kNodeArea; }, kInvalidR10},
		{"entry the next node", [](auto &a, auto &) { a[7] = kNodeArea + kPageSize; }, kInvalidR10},
		{"entry twice", [](auto &a, auto &b) { b[0] = a[0]; }, kInvalidR10},
		{"next node misaligned", [](auto &a, auto &) { a[511] += 64; }, kInvalidR10},
		{"next node not RAM", [](auto &a, auto &) { a[511] = kNotRam; }, kRangeR10},
		{"next node owned", [](auto &a, auto &) { a[511] = kPamtPage; }, kInvalidR10},
		{"next node a data page", [](auto &a, auto &) { a[511] = a[0]; }, kInvalidR10},
		{"loop to the head", [](auto &a, auto &) { a[511] = kNodeArea; }, kInvalidR10},
		{"ends early", [](auto &, auto &b) { b[88] = kQuoteListEnd; }, kInvalidR11},
		{"ends after the first node", [](auto &a, auto &) { a[511] = kQuoteListEnd; }, kInvalidR11},
	};
	for (const Case &k : cases) {
		RegBlock r = get_regs(n);
		std::vector<u64> a(kQuoteListEntries), b(kQuoteListEntries);
		mem_.read(kNodeArea, a.data(), kPageSize);
		mem_.read(kNodeArea + kPageSize, b.data(), kPageSize);
		k.edit(a, b);
		mem_.write(kNodeArea, a.data(), kPageSize);
		mem_.write(kNodeArea + kPageSize, b.data(), kPageSize);
		EXPECT_EQ(get(r), k.status) << k.what;
		EXPECT_FALSE(info().get_in_progress) << k.what;
		EXPECT_TRUE(untouched(kBufArea)) << k.what;
	}
	/* Entries after the r11 / 4096 pages are never read: a list may hold more than r11 says. */
	RegBlock r = get_regs(n);
	std::vector<u64> b(kQuoteListEntries);
	mem_.read(kNodeArea + kPageSize, b.data(), kPageSize);
	b[88] = 0x1234; /* garbage in the 600th entry, past the end the host asks for */
	mem_.write(kNodeArea + kPageSize, b.data(), kPageSize);
	r.r11 = (n - 1) * kPageSize;
	EXPECT_EQ(get_all(r), status::kSuccess);
	/* A list of one node looping to itself, read no further than the pages asked for, is fine. */
	std::vector<u64> one = buffer_pages(kQuoteListDataPerNode);
	one.resize(kQuoteListEntries, 0);
	one[kQuoteListNextEntry] = kNodeArea;
	mem_.write(kNodeArea, one.data(), kPageSize);
	r.r11 = kQuoteListDataPerNode * kPageSize;
	EXPECT_EQ(get_all(r), status::kSuccess);
	r.r11 += kPageSize; /* one more: the walk comes back to the head */
	EXPECT_EQ(get(r), kInvalidR10);
}

TEST_F(Quote, ReportCheckRefusalIsReturnedAsIs)
{
	all_up();
	one_td();
	write_report(report_data_of(1));
	/* Not a TDREPORT (zeros): what the module's TD check says, as is, and nothing in progress. */
	std::vector<u8> rep(tdreport::kSize, 0);
	mem_.write(kInputArea, rep.data(), rep.size());
	const u64 want = check_input(td_.tdr);
	EXPECT_NE(want, status::kSuccess);
	EXPECT_EQ(get(get_regs(2)), want);
	EXPECT_EQ(info().last_refusal, want);
	EXPECT_FALSE(info().get_in_progress);
	/* A TDREPORT made before the TD's keys were freed: the TD can no longer be quoted. */
	write_report(report_data_of(1));
	ASSERT_EQ(call(0, leaf::kMngKeyFreeid, td_.tdr), status::kSuccess);
	const u64 gone = check_input(td_.tdr);
	EXPECT_NE(gone, status::kSuccess);
	EXPECT_EQ(get(get_regs(2)), gone);
	EXPECT_EQ(info().refused, 2u);
}

/* ---- QUOTE.GET: the quote, resumption, restart ----------------------------------------------- */

TEST_F(Quote, FakeReportQuoteVerifies)
{
	all_up();
	one_td();
	const dice_quote::ReportData want = report_data_of(0x40);
	write_report(want);
	const RegBlock r = get_regs(4);
	EXPECT_EQ(get(r), status::kInterruptedResumable);
	EXPECT_TRUE(info().get_in_progress);
	EXPECT_FALSE(untouched(kBufArea)); /* the first call signs and writes the first page */
	EXPECT_TRUE(untouched(kBufArea + kPageSize));
	ASSERT_EQ(get_all(r), status::kSuccess);
	const u64 len = out_.rcx;
	EXPECT_EQ(out_.rdx, r.rdx); /* only rcx changes */
	EXPECT_EQ(out_.r11, r.r11);
	ASSERT_GT(len, 0u);
	EXPECT_LE(len, profile_.quote.max_quote_size);
	const dice_quote::Bytes q = read_quote(r, len);
	auto v = dice_quote::verify_quote(q, root(), want);
	ASSERT_TRUE(v) << v.error().to_string();
	EXPECT_EQ(v.value().claims.seam.current.mrseam, seam_identity(profile_.image()).mrseam);
	EXPECT_EQ(v.value().claims.platform.current.digest, platform_measurement(profile_.platform()));
	std::vector<u8> rep(tdreport::kSize);
	mem_.read(kInputArea, rep.data(), rep.size());
	EXPECT_EQ(v.value().claims.td.current.mrtd, (bytes_at<48>(rep.data() + tdreport::kTdInfo + tdreport::kMrTd)));
	Module::QuoteInfo i = info();
	EXPECT_EQ(i.gets_completed, 1u);
	EXPECT_EQ(i.last_quote_length, len);
	EXPECT_FALSE(i.get_in_progress);
	EXPECT_EQ(i.refused, 0u);
	/* After the quote: zeros to the end of the buffer (the pages are consecutive here). */
	const u8 *buf = mem_.ptr(kBufArea, 4 * kPageSize);
	EXPECT_TRUE(std::all_of(buf + len, buf + 4 * kPageSize, [](u8 b) { return b == 0; }));
	/* The same registers again: a new request (a fresh signature), not a continuation. */
	EXPECT_EQ(get(r), status::kInterruptedResumable);
	EXPECT_EQ(get_all(r), status::kSuccess);
	EXPECT_EQ(out_.rcx, len);
	EXPECT_NE(read_quote(r, len), q);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, len), root(), want));
}

TEST_F(Quote, InputInTheFirstDataPage)
{
	/* The kernel's way: the TDREPORT sits in the buffer's first page; all of it is read first. */
	all_up();
	one_td();
	const dice_quote::ReportData want = report_data_of(9);
	RegBlock r = get_regs(2);
	write_report(want, kBufArea);
	r.r8 = kBufArea;
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), want));
}

TEST_F(Quote, ResumptionWritesBudgetChunks)
{
	for (u32 budget : {1u, 2u, 3u, 5u, 8u}) {
		Profile p = quote_profile();
		p.quote.get_budget_pages = budget;
		remake(p);
		all_up();
		one_td();
		const u64 pages = 5;
		const RegBlock r = get_regs(pages);
		write_report(report_data_of(u8(budget)));
		/* Count the pages each call writes, the first call's too. */
		std::vector<u64> written_per_call;
		u64 st;
		for (int guard = 0; guard < 100; guard++) {
			u64 before = 0;
			for (u64 i = 0; i < pages; i++)
				before += !untouched(kBufArea + i * kPageSize);
			st = get(r);
			u64 after = 0;
			for (u64 i = 0; i < pages; i++)
				after += !untouched(kBufArea + i * kPageSize);
			written_per_call.push_back(after - before);
			if (st != status::kInterruptedResumable)
				break;
		}
		ASSERT_EQ(st, status::kSuccess) << budget;
		/* ceil(pages / budget) calls, each writing `budget` pages but the last. */
		const u64 calls = (pages + budget - 1) / budget;
		EXPECT_EQ(written_per_call.size(), calls) << budget;
		for (size_t c = 0; c < written_per_call.size(); c++)
			EXPECT_EQ(written_per_call[c], std::min<u64>(budget, pages - c * budget)) << budget << " call " << c;
		EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(u8(budget))));
	}
}

TEST_F(Quote, ChangedRegistersRestart)
{
	all_up();
	one_td();
	write_report(report_data_of(1), kInputArea);
	write_report(report_data_of(2), kInputArea + kPageSize);
	const RegBlock a = get_regs(4);
	RegBlock b = a;
	b.r8 = kInputArea + kPageSize;
	ASSERT_EQ(get(a), status::kInterruptedResumable);
	ASSERT_EQ(get(a), status::kInterruptedResumable); /* pages 1 and 2 of A written */
	EXPECT_FALSE(untouched(kBufArea + kPageSize));
	EXPECT_TRUE(untouched(kBufArea + 2 * kPageSize));
	/* B abandons A and starts afresh: its first call writes its page 1, not A's page 3. */
	std::memset(mem_.ptr(kBufArea, kPageSize), kUntouched, kPageSize);
	EXPECT_EQ(get(b), status::kInterruptedResumable);
	EXPECT_FALSE(untouched(kBufArea));
	EXPECT_TRUE(untouched(kBufArea + 2 * kPageSize));
	ASSERT_EQ(get_all(b), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(b, out_.rcx), root(), report_data_of(2)));
	/* A again: a new request, not the old one continued. */
	EXPECT_EQ(get(a), status::kInterruptedResumable);
	ASSERT_EQ(get_all(a), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(a, out_.rcx), root(), report_data_of(1)));

	/* A refused call abandons the request in progress too. */
	ASSERT_EQ(get(a), status::kInterruptedResumable);
	RegBlock bad = a;
	bad.r9 = 0;
	EXPECT_EQ(get(bad), status::kOperandInvalid | kOperandIdR9);
	EXPECT_FALSE(info().get_in_progress);
	std::memset(mem_.ptr(kBufArea, kPageSize), kUntouched, kPageSize);
	EXPECT_EQ(get(a), status::kInterruptedResumable);
	EXPECT_FALSE(untouched(kBufArea)); /* page 1 again: a continuation would have written page 2 */
	EXPECT_EQ(info().gets_completed, 2u);
}

TEST_F(Quote, QuoteAboveMaxQuoteSizeIsAnInternalError)
{
	Profile p = quote_profile();
	p.quote.max_quote_size = 1024; /* smaller than any quote: a profile that breaks its promise */
	remake(p);
	all_up();
	one_td();
	write_report(report_data_of(3));
	EXPECT_EQ(get(get_regs(3)), kQuoteInternalError);
	EXPECT_EQ(info().last_refusal, kQuoteInternalError);
	EXPECT_FALSE(info().get_in_progress);
	EXPECT_TRUE(untouched(kBufArea));
}

TEST_F(Quote, DefaultMaxQuoteSizeSuffices)
{
	Profile p = quote_profile();
	p.quote.max_quote_size = ModuleImage{}.quote.max_quote_size;
	remake(p);
	all_up();
	one_td();
	write_report(report_data_of(3));
	ASSERT_EQ(get_all(get_regs(ModuleImage{}.quote.max_quote_size / kPageSize)), status::kSuccess);
	EXPECT_LE(out_.rcx, ModuleImage{}.quote.max_quote_size);
}

/* ---- quote pad: quotes made larger, for buffers too small ------------------------------------- */

TEST_F(Quote, PadGrowsTheQuoteByN)
{
	all_up();
	one_td();
	write_report(report_data_of(5));
	const RegBlock r = get_regs(3);
	ASSERT_EQ(get_all(r), status::kSuccess);
	const u64 plain = out_.rcx;
	ASSERT_TRUE(padded_quote(read_quote(r, plain), 0, root(), report_data_of(5)));
	for (u32 n : {1u, 1000u, 8192u}) {
		pad(n);
		EXPECT_EQ(info().pad, n);
		ASSERT_EQ(get_all(r), status::kSuccess) << n;
		/* The same chain and claims: the signed part is as long as before. */
		EXPECT_EQ(out_.rcx, plain + n) << n;
		EXPECT_EQ(info().last_quote_length, out_.rcx);
		EXPECT_TRUE(padded_quote(read_quote(r, out_.rcx), n, root(), report_data_of(5))) << n;
	}
	/* pad 0: quotes as before, and they verify. */
	pad(0);
	EXPECT_EQ(info().pad, 0u);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_EQ(out_.rcx, plain);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(5)));
	EXPECT_EQ(info().refused, 0u);
}

TEST_F(Quote, PadBeyondTheBufferIsOperandR11)
{
	/* One page (r11 = 4096) holds a quote (~3.9 KB) but not a quote and 1000 bytes. */
	all_up();
	one_td();
	write_report(report_data_of(6));
	ASSERT_EQ(get_all(get_regs(1)), status::kSuccess);
	pad(1000);
	EXPECT_EQ(get(get_regs(1)), kInvalidR11); /* the buffer untouched again */
	EXPECT_EQ(kInvalidR11, 0xC00001000000000Bull);
	EXPECT_EQ(info().last_refusal, kInvalidR11);
	EXPECT_FALSE(info().get_in_progress);
	EXPECT_TRUE(untouched(kBufArea)) << "refused on the first call, nothing written";
	/* Two pages hold it. */
	ASSERT_EQ(get_all(get_regs(2)), status::kSuccess);
	EXPECT_GT(out_.rcx, kPageSize);
	EXPECT_EQ(info().refused, 1u);
}

TEST_F(Quote, PadBeyondMaxQuoteSizeIsAnInternalError)
{
	/* No clamping: a module never makes a quote above its MAX_QUOTE_SIZE (16 KiB here). */
	all_up();
	one_td();
	write_report(report_data_of(7));
	const u32 max = profile_.quote.max_quote_size;
	ASSERT_EQ(max, 4 * kPageSize);
	pad(max - 3000); /* ~3.9 KB + ~13.4 KB */
	EXPECT_EQ(get(get_regs(5)), kQuoteInternalError);
	/* MAX_QUOTE_SIZE is checked before r11: a buffer too small as well says the same. */
	EXPECT_EQ(get(get_regs(1)), kQuoteInternalError);
	EXPECT_EQ(info().last_refusal, kQuoteInternalError);
	EXPECT_TRUE(untouched(kBufArea));
	/* A pad that still fits: the quote fills most of the buffer MAX_QUOTE_SIZE sized. */
	pad(max - 5000);
	const RegBlock r = get_regs(4);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_LE(out_.rcx, max);
	EXPECT_TRUE(padded_quote(read_quote(r, out_.rcx), max - 5000, root(), report_data_of(7)));
}

TEST_F(Quote, ResetBySysDisable)
{
	all_up();
	one_td();
	write_report(report_data_of(1));
	const std::string r1 = root();
	ASSERT_EQ(get(get_regs(3)), status::kInterruptedResumable);
	u64 st;
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	Module::QuoteInfo i = info();
	EXPECT_FALSE(i.initialized);
	EXPECT_FALSE(i.get_in_progress);
	EXPECT_FALSE(i.layer2_measurement);
	EXPECT_EQ(i.inits_completed, 1u); /* counters count for the emulator's life */

	ready();
	ext_up();
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(get(get_regs(3)), status::kSysStateIncorrect);
	/* A QUOTE.INIT interrupted before the disable starts from the beginning. */
	ASSERT_EQ(call(0, leaf::kQuoteInit), status::kInterruptedResumable);
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	ready();
	ext_up();
	u32 calls = 0;
	EXPECT_EQ(quote_init(&calls), status::kSuccess);
	EXPECT_EQ(calls, profile_.quote.init_steps);
	one_td(); /* SYS.DISABLE forgot the TDs */
	write_report(report_data_of(1));
	const RegBlock r = get_regs(3);
	EXPECT_EQ(get_all(r), status::kSuccess);
	EXPECT_EQ(root(), r1); /* the root outlives SYS.DISABLE */
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), r1, report_data_of(1)));
}

TEST_F(Quote, RootExistsBeforeQuoteInitAndStays)
{
	const std::string r0 = root();
	ASSERT_NE(r0.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
	all_up();
	EXPECT_EQ(root(), r0);
	one_td();
	write_report(report_data_of(5));
	const RegBlock r = get_regs(3);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), r0, report_data_of(5)));
	/* Another emulator has another seed: its root does not verify this quote. */
	Module other(profile_, mem_);
	std::string other_root;
	{
		std::lock_guard<std::mutex> g(other.state_mutex());
		other_root = other.quote_root_pem();
	}
	auto v = dice_quote::verify_quote(read_quote(r, out_.rcx), other_root, report_data_of(5));
	ASSERT_FALSE(v);
	EXPECT_EQ(v.error().code, dice_quote::ErrorCode::kUntrustedRoot);
}

/* ---- the module locks ------------------------------------------------------------------------ */

TEST_F(Quote, LocksWhileInside)
{
	all_up();
	one_td();
	write_report(report_data_of(1));
	RegBlock r = get_regs(3);
	std::vector<u64> inside;
	RegBlock io = r;
	/* While a QUOTE.GET is inside (its locks held), the other quoting calls and exclusive takers wait. */
	u64 st = m_->seamcall(0, rax(leaf::kQuoteGet), io, [&] {
		RegBlock o{};
		inside.push_back(m_->seamcall(1, rax(leaf::kQuoteInit), o));
		o = r;
		inside.push_back(m_->seamcall(1, rax(leaf::kQuoteGet), o));
		o = {};
		inside.push_back(m_->seamcall(1, rax(leaf::kExtInit), o));
		o = {};
		o.rdx = field::kMaxQuoteSize;
		inside.push_back(m_->seamcall(1, rax(leaf::kSysRd), o));
	});
	EXPECT_EQ(st, status::kInterruptedResumable);
	EXPECT_EQ(inside, (std::vector<u64>{status::kSysBusy, status::kSysBusy, status::kSysBusy, status::kSuccess}));
	EXPECT_TRUE(info().get_in_progress); /* the busy GET did not disturb it */
	/* An exclusive taker inside (EXT.INIT, refused, but its lock taken first): quoting is busy. */
	io = {};
	st = m_->seamcall(0, rax(leaf::kExtInit), io, [&] {
		RegBlock o{};
		inside.assign(1, m_->seamcall(1, rax(leaf::kQuoteInit), o));
		o = r;
		inside.push_back(m_->seamcall(1, rax(leaf::kQuoteGet), o));
	});
	EXPECT_EQ(st, status::kSysStateIncorrect);
	EXPECT_EQ(inside, (std::vector<u64>{status::kSysBusy, status::kSysBusy}));
	EXPECT_EQ(get_all(r), status::kSuccess);
	EXPECT_EQ(info().refused, 4u);
	EXPECT_EQ(info().last_refusal, status::kSysBusy);
}

/* ---- genuine TDREPORTs (the TD model) --------------------------------------------------------- */

/* Quotes of two TDs, and refused inputs, through the module's own TD check. */
class QuoteTd : public Quote {
protected:
	/* Quoting up, TD 0 (and TD 1) built. */
	void up_with_tds(Td *a, Td *b = nullptr)
	{
		ASSERT_NO_FATAL_FAILURE(all_up());
		ASSERT_NO_FATAL_FAILURE(make_td(0, 1, a));
		if (b) {
			ASSERT_NO_FATAL_FAILURE(make_td(1, 2, b));
		}
	}
	dice_quote::Result<dice_quote::VerifiedQuote> quote_of(const Td &td, const dice_quote::ReportData &rd, u64 *st)
	{
		EXPECT_EQ(td_report(td, rd, kInputArea), status::kSuccess);
		const RegBlock r = get_regs(4, td.tdr);
		const u64 got = get_all(r);
		if (st)
			*st = got;
		if (got != status::kSuccess)
			return dice_quote::make_error(dice_quote::ErrorCode::kInvalidArgument, "no quote");
		return dice_quote::verify_quote(read_quote(r, out_.rcx), root(), rd);
	}
};

TEST_F(QuoteTd, GenuineReportQuoteVerifies)
{
	Td td;
	ASSERT_NO_FATAL_FAILURE(up_with_tds(&td));
	const dice_quote::ReportData want = report_data_of(0x11);
	ASSERT_EQ(td_report(td, want, kInputArea), status::kSuccess);
	std::vector<u8> rep(tdreport::kSize);
	mem_.read(kInputArea, rep.data(), rep.size());
	const RegBlock r = get_regs(4, td.tdr);
	ASSERT_EQ(get_all(r), status::kSuccess);
	auto v = dice_quote::verify_quote(read_quote(r, out_.rcx), root(), want);
	ASSERT_TRUE(v) << v.error().to_string();
	const dice_quote::QuoteClaims &c = v.value().claims;
	EXPECT_EQ(c.td.current.mrtd, (bytes_at<48>(rep.data() + tdreport::kTdInfo + tdreport::kMrTd)));
	EXPECT_EQ(c.td.current.mrconfigid, (bytes_at<48>(rep.data() + tdreport::kTdInfo + tdreport::kTdMrConfigId)));
	EXPECT_EQ(c.seam.current.mrseam, (bytes_at<48>(rep.data() + tdreport::kTeeTcbInfo + tdreport::kMrSeam)));
	EXPECT_EQ(c.seam.current.mrseam, seam_identity(profile_.image()).mrseam);
	EXPECT_EQ(c.seam.origin, c.seam.current); /* no runtime update in between */
	/* A wrong expectation of REPORTDATA fails verification. */
	auto w = dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(0x12));
	ASSERT_FALSE(w);
	EXPECT_EQ(w.error().code, dice_quote::ErrorCode::kReportDataMismatch);
}

TEST_F(QuoteTd, ForgedReportRefused)
{
	Td a, b;
	ASSERT_NO_FATAL_FAILURE(up_with_tds(&a, &b));
	ASSERT_EQ(td_report(a, report_data_of(1), kInputArea), status::kSuccess);
	/* QUOTE.GET answers what the module's check says, as is. */
	auto check = [&](u64 tdr) {
		std::vector<u8> rep(tdreport::kSize);
		mem_.read(kInputArea, rep.data(), rep.size());
		std::lock_guard<std::mutex> g(m_->state_mutex());
		ReportedTd out;
		return m_->check_td_report(tdr, rep.data(), &out);
	};
	/* REPORTDATA changed after the MAC: not genuine. */
	u8 byte;
	mem_.read(kInputArea + tdreport::kReportData, &byte, 1);
	byte ^= 1;
	mem_.write(kInputArea + tdreport::kReportData, &byte, 1);
	EXPECT_EQ(check(a.tdr), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(get(get_regs(4, a.tdr)), status::kOperandInvalid | kOperandIdR8);
	/* Genuine, but another TD's. */
	ASSERT_EQ(td_report(a, report_data_of(1), kInputArea), status::kSuccess);
	EXPECT_EQ(check(b.tdr), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(get(get_regs(4, b.tdr)), status::kOperandInvalid | kOperandIdR8);
	/* Not a TDR at all: the TD model's status for that, operand RCX. */
	const u64 not_td = check(kBufArea + 64 * kPageSize);
	EXPECT_EQ(not_td & (kStatusErrorBit | kStatusOperandMask), kStatusErrorBit | kOperandIdRcx);
	EXPECT_EQ(get(get_regs(4, kBufArea + 64 * kPageSize)), not_td);
	EXPECT_EQ(info().refused, 3u);
	EXPECT_EQ(info().last_refusal, not_td);
	EXPECT_EQ(get_all(get_regs(4, a.tdr)), status::kSuccess);
}

TEST_F(QuoteTd, TwoTdsHaveDifferentMeasurements)
{
	Td a, b;
	ASSERT_NO_FATAL_FAILURE(up_with_tds(&a, &b));
	u64 st;
	auto qa = quote_of(a, report_data_of(1), &st);
	ASSERT_EQ(st, status::kSuccess);
	ASSERT_TRUE(qa) << qa.error().to_string();
	auto qb = quote_of(b, report_data_of(1), &st);
	ASSERT_EQ(st, status::kSuccess);
	ASSERT_TRUE(qb) << qb.error().to_string();
	EXPECT_NE(qa.value().claims.td.current.mrtd, qb.value().claims.td.current.mrtd);
	EXPECT_NE(qa.value().claims.td.current.mrconfigid, qb.value().claims.td.current.mrconfigid);
	EXPECT_EQ(qa.value().claims.seam.current, qb.value().claims.seam.current);
}

/*
 * The platform's quoting enclave (control "qe sign"): the same check, and the same quote signed by the
 * same chain as QUOTE.GET's once QUOTE.INIT ran; before it (and after SYS.DISABLE) a chain of its own
 * under the same root.
 */
TEST_F(QuoteTd, QeSignsWhatQuoteGetSigns)
{
	Td td;
	ASSERT_NO_FATAL_FAILURE(ready());
	ASSERT_NO_FATAL_FAILURE(ext_up());
	ASSERT_NO_FATAL_FAILURE(make_td(0, 1, &td));
	const dice_quote::ReportData want = report_data_of(0x51);
	ASSERT_EQ(td_report(td, want, kInputArea), status::kSuccess);
	std::vector<u8> rep(tdreport::kSize);
	mem_.read(kInputArea, rep.data(), rep.size());
	const std::string r1 = root();

	/* Before QUOTE.INIT: the QE's own chain. */
	Module::QeQuote before = m_->qe_sign(rep.data());
	ASSERT_EQ(before.error, "");
	auto vb = dice_quote::verify_quote(before.quote, r1, want);
	ASSERT_TRUE(vb) << vb.error().to_string();
	EXPECT_FALSE(info().initialized);

	/* After: QUOTE.GET's quote and the QE's have the same claims and chain. */
	ASSERT_EQ(quote_init(), status::kSuccess);
	auto vg = quote_of(td, want, nullptr);
	ASSERT_TRUE(vg) << vg.error().to_string();
	Module::QeQuote after = m_->qe_sign(rep.data());
	ASSERT_EQ(after.error, "");
	auto va = dice_quote::verify_quote(after.quote, root(), want);
	ASSERT_TRUE(va) << va.error().to_string();
	EXPECT_EQ(va.value().claims, vg.value().claims);
	EXPECT_EQ(va.value().chain_der, vg.value().chain_der);
	EXPECT_EQ(vb.value().claims, vg.value().claims);
	EXPECT_EQ(root(), r1);
	EXPECT_EQ(info().gets_completed, 1u) << "the QE is not a QUOTE.GET";
	EXPECT_EQ(info().refused, 0u);

	/* The same refusal as QUOTE.GET's for a report QUOTE.GET refuses. */
	rep[tdreport::kReportData] ^= 1;
	EXPECT_EQ(m_->qe_sign(rep.data()).error, "report refused: bad MAC");
	EXPECT_EQ(info().refused, 0u) << "not QUOTE.GET's counter";

	/* SYS.DISABLE: QUOTE.INIT's chain goes, and the TDs; the QE still answers (no TD now). */
	u64 st;
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	rep[tdreport::kReportData] ^= 1;
	EXPECT_EQ(m_->qe_sign(rep.data()).error, "report refused: unknown TD");
}

/* ---- a sign budget: the signature made beside the calls ---------------------------------------- */

class QuoteSignBudget : public Quote {
protected:
	void with_budget(u32 us, u32 max_quote_size = 0)
	{
		Profile p = quote_profile();
		p.quote.sign_budget_us = us;
		if (max_quote_size)
			p.quote.max_quote_size = max_quote_size;
		remake(p);
		ASSERT_NO_FATAL_FAILURE(all_up());
		ASSERT_NO_FATAL_FAILURE(one_td());
	}
	/*
	 * A request started while the signer is held: its first call ends with the budget, having
	 * written nothing. The signer goes on afterwards.
	 */
	void start_unsigned(const RegBlock &r)
	{
		m_->set_quote_signer_hold(true);
		ASSERT_EQ(get(r), status::kInterruptedResumable);
		EXPECT_TRUE(untouched(kBufArea));
		EXPECT_TRUE(info().get_in_progress);
		m_->set_quote_signer_hold(false);
	}
	/* Calls of `r` until the first page of the buffer is written (the signature arrived). */
	u64 until_signed(const RegBlock &r, u32 *calls)
	{
		u64 st = status::kInterruptedResumable;
		for (*calls = 0; *calls < 100000 && st == status::kInterruptedResumable && untouched(kBufArea); ++*calls)
			st = get(r);
		return st;
	}
};

TEST_F(QuoteSignBudget, AWaitLongerThanTheSignatureIsOneCall)
{
	/* A second's budget: the first call always has the signature, as without a budget. */
	ASSERT_NO_FATAL_FAILURE(with_budget(1000000));
	write_report(report_data_of(4));
	const RegBlock r = get_regs(3);
	ASSERT_EQ(get(r), status::kInterruptedResumable);
	EXPECT_TRUE(info().get_in_progress);
	EXPECT_FALSE(untouched(kBufArea)); /* the signature, and one page */
	EXPECT_TRUE(untouched(kBufArea + kPageSize));
	EXPECT_EQ(get(r), status::kInterruptedResumable);
	EXPECT_EQ(get(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(4)));
	EXPECT_EQ(info().gets_completed, 1u);
}

TEST_F(QuoteSignBudget, AnInterruptAtTheCallerEndsTheWait)
{
	/* A second's budget and a held signer: only the interrupt can end the first call's wait. */
	ASSERT_NO_FATAL_FAILURE(with_budget(1000000));
	/* The mailbox server's part: an interrupt at LP 1 until told otherwise; waits block on the
	 * signature's eventfd (a doorbell never rings here). */
	struct Source final : Module::IrqSource {
		std::atomic<bool> irq{true};
		std::atomic<u32> asked{~0u};
		std::atomic<int> waits{0};
		bool pending(u32 lp) override
		{
			asked = lp;
			return irq.load();
		}
		void wait(u32, int done_fd, std::chrono::nanoseconds timeout) override
		{
			waits++;
			pollfd p{done_fd, POLLIN, 0};
			(void)poll(&p, 1, int(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
		}
	} source;
	auto &pending = source.irq;
	auto &asked = source.asked;
	m_->set_irq_source(&source);
	m_->set_quote_signer_hold(true);
	EXPECT_TRUE(info().signer_held);
	write_report(report_data_of(5));
	const RegBlock r = get_regs(3);
	ASSERT_EQ(get(r, 1), status::kInterruptedResumable); /* starts the (held) signature, interrupted */
	EXPECT_EQ(asked.load(), 1u) << "the caller's LP is asked";
	EXPECT_TRUE(untouched(kBufArea));
	EXPECT_EQ(info().gets_interrupted, 1u);
	EXPECT_TRUE(info().get_in_progress);
	/* No interrupt, the signer going: the request goes on to its quote, no more interruptions. */
	pending = false;
	m_->set_quote_signer_hold(false);
	EXPECT_FALSE(info().signer_held);
	u64 st;
	u32 calls = 0;
	while ((st = get(r, 1)) == status::kInterruptedResumable && ++calls < 1000) {
	}
	ASSERT_EQ(st, status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(5)));
	EXPECT_EQ(info().gets_interrupted, 1u);
	EXPECT_GE(source.waits.load(), 1) << "the wait blocked on the signature's eventfd";
	m_->set_irq_source(nullptr);
}

TEST_F(QuoteSignBudget, TheSignerRunsAtNormalPriorityWhileACallWaits)
{
	/* A second's budget and a held signer; the wait notes the signer's policy, then an interrupt
	 * ends it. */
	ASSERT_NO_FATAL_FAILURE(with_budget(1000000));
	struct Source final : Module::IrqSource {
		Module *m = nullptr;
		std::atomic<bool> irq{false};
		std::atomic<int> during{-2};
		bool pending(u32) override { return irq.load(); }
		void wait(u32, int, std::chrono::nanoseconds) override
		{
			during = m->quote_signer_policy();
			irq = true;
		}
	} source;
	source.m = m_.get();
	m_->set_irq_source(&source);
	EXPECT_EQ(m_->quote_signer_policy(), -1) << "no signature yet, no thread";
	m_->set_quote_signer_hold(true);
	write_report(report_data_of(8));
	const RegBlock r = get_regs(3);
	ASSERT_EQ(get(r, 1), status::kInterruptedResumable);
	EXPECT_EQ(source.during.load(), SCHED_OTHER) << "while the call waited";
	/* Between calls: the host's idle priority (this test runs where it can be undone: root). */
	EXPECT_EQ(m_->quote_signer_policy(), SCHED_IDLE);
	EXPECT_EQ(info().signer_policy, SCHED_IDLE);
	source.irq = false;
	m_->set_quote_signer_hold(false);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(8)));
	EXPECT_EQ(m_->quote_signer_policy(), SCHED_IDLE);
	m_->set_irq_source(nullptr);
}

/* Without CAP_SYS_NICE a thread cannot leave SCHED_IDLE: the signer then never enters it. */
TEST(Signer, WithoutCapSysNiceItStaysAtNormalPriority)
{
	int policies[3] = {-2, -2, -2};
	bool reversible = true, signed_ok = false;
	/* Capabilities are per thread: drop CAP_SYS_NICE on this one, which the signer inherits. */
	std::thread t([&] {
		__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
		__user_cap_data_struct data[2]{};
		if (syscall(SYS_capget, &hdr, data) != 0)
			return;
		data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
		if (syscall(SYS_capset, &hdr, data) != 0)
			return;
		Signer s;
		s.hold(true);
		auto f = s.submit([] { return dice_quote::Result<dice_quote::Bytes>(dice_quote::Bytes{1, 2, 3}); });
		reversible = s.idle_is_reversible();
		policies[0] = s.policy();
		{
			Signer::Urgent u(s);
			policies[1] = s.policy();
			s.hold(false);
			signed_ok = f.get().value() == dice_quote::Bytes{1, 2, 3};
		}
		policies[2] = s.policy();
	});
	t.join();
	EXPECT_FALSE(reversible);
	EXPECT_TRUE(signed_ok);
	for (int p : policies)
		EXPECT_EQ(p, SCHED_OTHER);
}

/* Where it can be undone, the policy follows the waiters: idle, normal while one waits, idle. */
TEST(Signer, UrgentRaisesItWhileItLives)
{
	Signer s;
	EXPECT_EQ(s.policy(), -1);
	s.hold(true);
	auto f = s.submit([] { return dice_quote::Result<dice_quote::Bytes>(dice_quote::Bytes{4}); });
	ASSERT_TRUE(s.idle_is_reversible()) << "make check's host tests run as root";
	EXPECT_EQ(s.policy(), SCHED_IDLE);
	{
		Signer::Urgent a(s);
		EXPECT_EQ(s.policy(), SCHED_OTHER);
		{
			Signer::Urgent b(s); /* two waiters: the first to go leaves it raised */
		}
		EXPECT_EQ(s.policy(), SCHED_OTHER);
		s.hold(false);
		EXPECT_EQ(f.get().value(), dice_quote::Bytes{4});
	}
	EXPECT_EQ(s.policy(), SCHED_IDLE);
}

TEST_F(QuoteSignBudget, ShortWaitsUntilTheSignatureThenThePages)
{
	ASSERT_NO_FATAL_FAILURE(with_budget(1));
	for (u8 i = 1; i <= 3; i++) {
		write_report(report_data_of(i));
		const RegBlock r = get_regs(3);
		ASSERT_NO_FATAL_FAILURE(start_unsigned(r));
		u32 calls = 0;
		ASSERT_EQ(until_signed(r, &calls), status::kInterruptedResumable);
		EXPECT_TRUE(untouched(kBufArea + kPageSize));
		/* Then exactly one page per call, as without a budget. */
		EXPECT_EQ(get(r), status::kInterruptedResumable);
		EXPECT_TRUE(untouched(kBufArea + 2 * kPageSize));
		ASSERT_EQ(get(r), status::kSuccess);
		auto v = dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(i));
		ASSERT_TRUE(v) << v.error().to_string();
	}
	EXPECT_EQ(info().gets_completed, 3u);
	EXPECT_EQ(info().refused, 0u);
}

TEST_F(QuoteSignBudget, OtherRegistersWhileSigningStartAfresh)
{
	ASSERT_NO_FATAL_FAILURE(with_budget(1));
	write_report(report_data_of(1), kInputArea);
	write_report(report_data_of(2), kInputArea + kPageSize);
	const RegBlock a = get_regs(3);
	RegBlock b = a;
	b.r8 = kInputArea + kPageSize;
	m_->set_quote_signer_hold(true);
	ASSERT_EQ(get(a), status::kInterruptedResumable); /* A's signature under way */
	EXPECT_EQ(get(b), status::kInterruptedResumable); /* B drops it; its signature is queued behind A's */
	EXPECT_TRUE(untouched(kBufArea));
	m_->set_quote_signer_hold(false);
	ASSERT_EQ(get_all(b), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(b, out_.rcx), root(), report_data_of(2)));
	EXPECT_EQ(info().gets_completed, 1u);
}

TEST_F(QuoteSignBudget, ARekeyWhileSigningKeepsTheRequestsChain)
{
	ASSERT_NO_FATAL_FAILURE(with_budget(1));
	write_report(report_data_of(6));
	const RegBlock r = get_regs(3);
	m_->set_quote_signer_hold(true);
	ASSERT_EQ(get(r), status::kInterruptedResumable);
	ASSERT_EQ(quote_init(), status::kSuccess); /* a new chain replaces the one being signed with */
	m_->set_quote_signer_hold(false);
	EXPECT_TRUE(info().get_in_progress);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(6)));
}

TEST_F(QuoteSignBudget, SysDisableWhileSigningDropsTheRequest)
{
	ASSERT_NO_FATAL_FAILURE(with_budget(1));
	write_report(report_data_of(6));
	ASSERT_NO_FATAL_FAILURE(start_unsigned(get_regs(3)));
	u64 st;
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	EXPECT_FALSE(info().get_in_progress);
	EXPECT_TRUE(untouched(kBufArea));
}

TEST_F(QuoteSignBudget, ASignatureThatDoesNotFitIsRefusedWhenItArrives)
{
	/* Larger than MAX_QUOTE_SIZE (a profile breaking its promise): an internal error. */
	ASSERT_NO_FATAL_FAILURE(with_budget(1, 1024));
	write_report(report_data_of(3));
	const RegBlock r = get_regs(3);
	ASSERT_NO_FATAL_FAILURE(start_unsigned(r)); /* the size is known once signed */
	EXPECT_EQ(get_all(r), kQuoteInternalError);
	EXPECT_FALSE(info().get_in_progress);
	EXPECT_EQ(info().last_refusal, kQuoteInternalError);
	EXPECT_TRUE(untouched(kBufArea));
}

TEST_F(QuoteSignBudget, PadTakenWhenTheRequestStarts)
{
	/* A second's budget: the first call of a request has the signature (get_all's guard holds). */
	ASSERT_NO_FATAL_FAILURE(with_budget(1000000));
	write_report(report_data_of(9));
	/* Signed beside the calls, refused by the call that gets the signature. */
	pad(1000);
	const RegBlock one = get_regs(1);
	EXPECT_EQ(get(one), kInvalidR11);
	EXPECT_EQ(info().last_refusal, kInvalidR11);
	/* A pad set while a request is under way is not that request's. */
	const RegBlock r = get_regs(2);
	ASSERT_EQ(get(r), status::kInterruptedResumable);
	pad(0);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(padded_quote(read_quote(r, out_.rcx), 1000, root(), report_data_of(9)));
	ASSERT_EQ(get(r), status::kInterruptedResumable);
	pad(1000);
	ASSERT_EQ(get_all(r), status::kSuccess);
	EXPECT_TRUE(dice_quote::verify_quote(read_quote(r, out_.rcx), root(), report_data_of(9)));
}

TEST_F(QuoteSignBudget, TheBenchSignsOnTheSigningThreadToo)
{
	/* With a sign budget QUOTE.GET signs on the signing thread; the raw loop signs there too. */
	ASSERT_NO_FATAL_FAILURE(with_budget(1000000));
	write_report(report_data_of(7));
	ASSERT_EQ(get_all(get_regs(4)), status::kSuccess);
	m_->set_quote_signer_hold(true);
	Module::QuoteBench b = m_->quote_bench(1);
	EXPECT_NE(b.error.find("signing thread is held"), std::string::npos) << b.error;
	EXPECT_EQ(b.quotes, 0u);
	m_->set_quote_signer_hold(false);
	b = m_->quote_bench(2);
	EXPECT_EQ(b.error, "");
	EXPECT_EQ(b.quotes, 2u);
}

/* ---- quote bench: the last request's work again, inside the emulator ---------------------------- */

TEST_F(Quote, BenchRepeatsTheLastSignedRequest)
{
	all_up();
	Module::QuoteBench b = m_->quote_bench(2);
	EXPECT_NE(b.error.find("no quote was signed"), std::string::npos) << b.error;
	EXPECT_EQ(b.quotes, 0u);
	one_td();
	write_report(report_data_of(8));
	const RegBlock r = get_regs(4);
	ASSERT_EQ(get_all(r), status::kSuccess);
	const u64 len = out_.rcx;
	const dice_quote::Bytes before = read_quote(r, len);
	b = m_->quote_bench(3);
	EXPECT_EQ(b.error, "");
	EXPECT_EQ(b.quotes, 3u);
	EXPECT_EQ(b.quote_bytes, len); /* the same claims: a quote of the same length */
	pad(1000);
	EXPECT_EQ(m_->quote_bench(1).quote_bytes, len) << "the bench does not pad";
	pad(0);
	EXPECT_GT(b.ns, 0u);
	EXPECT_EQ(read_quote(r, len), before); /* the guest's buffer is not touched */
	EXPECT_EQ(info().gets_completed, 1u);   /* nor counted as a QUOTE.GET */
	/* The TD's keys freed: its TDREPORT is no longer accepted, and the bench says so. */
	ASSERT_EQ(call(0, leaf::kMngKeyFreeid, td_.tdr), status::kSuccess);
	b = m_->quote_bench(1);
	EXPECT_NE(b.error.find("no longer accepted"), std::string::npos) << b.error;
	/* SYS.DISABLE forgets the request. */
	u64 st;
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	EXPECT_NE(m_->quote_bench(1).error.find("no quote was signed"), std::string::npos);
}

/* ---- the emulator: control command ----------------------------------------------------------- */

class QuoteEmu : public EmulatorTest {
protected:
	QuoteEmu() : EmulatorTest(kRam, quote_profile()) {}
};

TEST_F(QuoteEmu, QuoteCommand)
{
	json j = ctl("quote");
	ASSERT_EQ(j["ok"], true) << j.dump();
	EXPECT_EQ(j["quote"]["reported"], true);
	EXPECT_EQ(j["quote"]["initialized"], false);
	EXPECT_EQ(j["quote"]["layer2_measurement"], "none");
	EXPECT_EQ(j["quote"]["last_refusal"], "none");
	EXPECT_EQ(j["quote"]["max_quote_size"], 16384);
	/* Before SYS_READY the dispatcher refuses: not a refusal of the leaf. */
	EXPECT_EQ(serve(0, rax(leaf::kQuoteInit)), status::kSysNotReady);
	std::string s = kv("quote");
	for (const char *want : {"ok ", " reported=1 ", " initialized=0 ", " inits_completed=0 ", " gets_completed=0 ",
				 " get_in_progress=0 ", " refused=0 ", " last_refusal=none ", " last_quote_length=0 ",
				 " max_quote_size=16384 ", " layer2_measurement=none ", " pad=0 "})
		EXPECT_NE(s.find(want), std::string::npos) << want << " in " << s;
	EXPECT_EQ(j["quote"]["pad"], 0);

	/* Bring-up with QUOTE, the pool, EXT.INIT, QUOTE.INIT; then a refused QUOTE.GET. */
	ASSERT_NO_FATAL_FAILURE(configure(1, features0::kQuote));
	const Profile &p = profile_;
	ASSERT_NO_FATAL_FAILURE(ext_up(kExtList, kPoolArea, p.ext.pool_pages));
	u64 st;
	RegBlock r{};
	ASSERT_EQ(serve(1, rax(leaf::kQuoteInit)), status::kInterruptedResumable);
	EXPECT_EQ(ctl("quote")["quote"]["init_progress"], 1);
	while ((st = serve(1, rax(leaf::kQuoteInit))) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	r = {};
	r.rdx = 1;
	EXPECT_EQ(serve(0, rax(leaf::kQuoteGet), r), status::kOperandInvalid | kOperandIdRdx);
	j = ctl("quote");
	EXPECT_EQ(j["quote"]["initialized"], true);
	EXPECT_EQ(j["quote"]["init_progress"], 0);
	EXPECT_EQ(j["quote"]["inits_completed"], 1);
	EXPECT_EQ(j["quote"]["refused"], 1);
	EXPECT_EQ(j["quote"]["last_refusal"], "0xc000010000000002");
	const std::string mrseam = to_hex(seam_identity(p.image()).mrseam);
	EXPECT_EQ(j["quote"]["layer2_measurement"], mrseam);
	s = kv("quote");
	EXPECT_NE(s.find(" layer2_measurement=" + mrseam), std::string::npos) << s;
	EXPECT_EQ(emu_.counter(leaf::kQuoteInit), 4u);
	EXPECT_EQ(emu_.counter(leaf::kQuoteGet), 1u);
}

TEST_F(QuoteEmu, RootExport)
{
	json j = ctl("quote root");
	ASSERT_EQ(j["ok"], true) << j.dump();
	const std::string pem = j["root_pem"];
	EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
	EXPECT_EQ(ctl("quote root")["root_pem"], pem); /* the same every time */

	const std::filesystem::path dir = std::filesystem::temp_directory_path() /
					  ("seam-emu-quote-" + std::to_string(::getpid()));
	std::filesystem::create_directories(dir);
	const std::string file = (dir / "root.pem").string();
	EXPECT_EQ(kv("quote root " + file), "ok");
	std::ifstream in(file);
	std::stringstream got;
	got << in.rdbuf();
	EXPECT_EQ(got.str(), pem);
	j = ctl("quote root " + (dir / "no" / "such" / "dir.pem").string());
	EXPECT_EQ(j["ok"], false);
	EXPECT_NE(j["error"].get<std::string>().find("cannot open"), std::string::npos);
	std::filesystem::remove_all(dir);
	if (std::filesystem::exists("/dev/full")) { /* opens, but every write fails */
		j = ctl("quote root /dev/full");
		EXPECT_EQ(j["ok"], false);
		EXPECT_NE(j["error"].get<std::string>().find("writing /dev/full failed"), std::string::npos) << j.dump();
	}

	for (const char *bad : {"quote please", "quote root a b", "quote roots", "quote bench", "quote bench 0",
				"quote bench x", "quote bench 100001", "quote bench 1 2"})
		EXPECT_EQ(ctl(bad)["ok"], false) << bad;
	/* Nothing signed yet: the bench has nothing to repeat, and says so. */
	j = ctl("quote bench 1");
	EXPECT_EQ(j["ok"], false);
	EXPECT_NE(j["error"].get<std::string>().find("quote bench: no quote was signed"), std::string::npos) << j.dump();
}

TEST(QuoteEmuDefault, NoQuoting)
{
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	Emulator emu(default_profile(), mem);
	ControlFormat f = ControlFormat::kKv;
	const std::string s = emu.control("quote", &f);
	EXPECT_NE(s.find(" reported=0 "), std::string::npos) << s;
	EXPECT_NE(s.find(" max_quote_size=0 "), std::string::npos) << s;
}

} // namespace
} // namespace seam_emu::test
