// SPDX-License-Identifier: GPL-2.0
/* The TDH.SYS.RDALL list parser and metadata decoding. */
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "fake_kapi.h"
#include "metadata.h"
#include "model_backend.h"
#include "pages.h"
#include "phys_mem.h"

using namespace tdx;

namespace {

using Seen = std::vector<std::pair<u64, u64>>;

void collect(void *ctx, u64 id, u64 v)
{
	static_cast<Seen *>(ctx)->emplace_back(id, v);
}

struct List {
	alignas(8) u8 page[4096] = {};
	usize off = sizeof(tdx::abi::MdListHeader);
	u16 seqs = 0;
	void seq(u64 hdr, std::vector<u64> vals)
	{
		memcpy(page + off, &hdr, 8);
		off += 8;
		for (u64 v : vals) {
			memcpy(page + off, &v, 8);
			off += 8;
		}
		seqs++;
	}
	void finish(u16 size_override = 0)
	{
		tdx::abi::MdListHeader h{};
		h.list_buff_size = size_override ? size_override : u16(off);
		h.num_sequences = seqs;
		memcpy(page, &h, sizeof(h));
	}
};

} // namespace

TEST(MdList, SequencesOfConsecutiveFields)
{
	List l;
	/* CMR_BASE[0..2]: three fields in one sequence (last field in sequence = 2). */
	l.seq(tdx::abi::field::cmr_base(0) | (2ull << tdx::abi::kFieldLastInSeqShift), {0x1000, 0x2000, 0x3000});
	l.seq(tdx::abi::field::kMajorVersion, {1});
	l.finish();
	Seen seen;
	ASSERT_TRUE(parse_md_list(l.page, sizeof(l.page), collect, &seen).is_ok());
	Seen want = {{tdx::abi::field::cmr_base(0), 0x1000},
		     {tdx::abi::field::cmr_base(1), 0x2000},
		     {tdx::abi::field::cmr_base(2), 0x3000},
		     {tdx::abi::field::kMajorVersion, 1}};
	EXPECT_EQ(seen, want);
}

TEST(MdList, MultiElementFields)
{
	List l;
	/* One field of 2 elements, two fields in sequence: 4 values with codes base..base+3. */
	u64 hdr = tdx::abi::field::cmr_size(0) | (1ull << tdx::abi::kFieldLastElemShift) |
		  (1ull << tdx::abi::kFieldLastInSeqShift);
	l.seq(hdr, {1, 2, 3, 4});
	l.finish();
	Seen seen;
	ASSERT_TRUE(parse_md_list(l.page, sizeof(l.page), collect, &seen).is_ok());
	ASSERT_EQ(seen.size(), 4u);
	EXPECT_EQ(seen[3].first, tdx::abi::field::cmr_size(3));
	EXPECT_EQ(seen[3].second, 4u);
}

TEST(MdList, RejectsMalformedLists)
{
	Seen seen;
	List truncated;
	truncated.seq(tdx::abi::field::cmr_base(0) | (5ull << tdx::abi::kFieldLastInSeqShift), {1, 2});
	truncated.finish(); /* says 6 fields, holds 2 */
	EXPECT_EQ(parse_md_list(truncated.page, sizeof(truncated.page), collect, &seen), error(err::kEINVAL));
	List too_big;
	too_big.finish(8192);
	EXPECT_EQ(parse_md_list(too_big.page, sizeof(too_big.page), collect, &seen), error(err::kEINVAL));
	List too_small;
	too_small.finish(4);
	EXPECT_EQ(parse_md_list(too_small.page, sizeof(too_small.page), collect, &seen), error(err::kEINVAL));
	List missing_seq;
	missing_seq.seqs = 3;
	missing_seq.finish();
	EXPECT_EQ(parse_md_list(missing_seq.page, sizeof(missing_seq.page), collect, &seen), error(err::kEINVAL));
	EXPECT_EQ(parse_md_list(missing_seq.page, 4, collect, &seen), error(err::kEINVAL));
}

TEST(Metadata, DecodeBySize)
{
	EXPECT_EQ(metadata_decode(tdx::abi::field::kMajorVersion, 0xFFFF0001), 1u);
	EXPECT_EQ(metadata_decode(tdx::abi::field::kBuildDate, 0x1FFFFFFFF), 0xFFFFFFFFu);
	EXPECT_EQ(metadata_decode(tdx::abi::field::kNoDowngrade, 0x101), 1u);
	EXPECT_EQ(metadata_decode(tdx::abi::field::kTdxFeatures0, ~0ull), ~0ull);
}

namespace {

/* Answers every TDH.SYS.RDALL with a status; dead() once that status is the transport's timeout. */
class RdAllFails final : public SeamcallBackend {
public:
	explicit RdAllFails(u64 status) : status_(status) {}
	u64 call(u64, RegBlock &) override
	{
		calls_++;
		return status_;
	}
	Status tdx_keyids(u32 &, u32 &) override { return error(err::kENODEV); }
	const char *name() const override { return "rdall-fails"; }
	bool dead() const override { return status_ == kTdxSeamcallTimeout && calls_ > 0; }

private:
	u64 status_;
	int calls_ = 0;
};

} // namespace

TEST(Metadata, RdAllPageOfATimedOutCallStaysWithTheModule)
{
	fake::reset();
	RdAllFails b(kTdxSeamcallTimeout);
	Seamcall sc(b);
	TdxSysInfo info;
	PageCounts before = page_counts();
	EXPECT_EQ(read_sys_info(sc, info), error(err::kETIMEDOUT));
	PageCounts after = page_counts();
	EXPECT_EQ(after.abandoned - before.abandoned, 1u);
	EXPECT_EQ(after.held, before.held);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.RDALL failed: TDX_SEAMCALL_TIMEOUT"));
	EXPECT_TRUE(fake::kernel().log_contains("its 4 KiB page stays with the TDX module"));
	fake::reset();
}

TEST(Metadata, RdAllPageOfAFailedCallIsFreed)
{
	fake::reset();
	/* The module answered (an error): it is done with the page, which goes back to the kernel. */
	RdAllFails b(tdx::abi::status::kOperandInvalid | tdx::abi::kOperandIdRcx);
	Seamcall sc(b);
	TdxSysInfo info;
	PageCounts before = page_counts();
	EXPECT_EQ(read_sys_info(sc, info), error(err::kEIO));
	PageCounts after = page_counts();
	EXPECT_EQ(after.abandoned, before.abandoned);
	EXPECT_EQ(after.held, before.held);
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

/* ---- against the emulator's model ---------------------------------------------------------- */

namespace {

constexpr u64 kG = 1ull << 30;

void expect_default_profile(const TdxSysInfo &i)
{
	EXPECT_EQ(i.major, 1);
	EXPECT_EQ(i.minor, 5);
	EXPECT_EQ(i.update, 6);
	EXPECT_EQ(i.build_num, 744);
	EXPECT_EQ(i.build_date, 20240229u);
	EXPECT_EQ(i.features0, tdx::abi::features0::kNoRbpMod | tdx::abi::features0::kTdPreserving);
	EXPECT_EQ(i.max_tdmrs, 64);
	EXPECT_EQ(i.max_reserved_per_tdmr, 16);
	for (u16 e : i.pamt_entry_size)
		EXPECT_EQ(e, 16);
	/* The CMRs are the fake physical memory's RAM: 8 GiB as q35 lays it out. */
	ASSERT_EQ(i.cmrs.size(), 2u);
	EXPECT_EQ(i.cmrs[0].base, 0u);
	EXPECT_EQ(i.cmrs[0].size, 2 * kG);
	EXPECT_EQ(i.cmrs[1].base, 4 * kG);
	EXPECT_EQ(i.cmrs[1].size, 6 * kG);
}

} // namespace

TEST(Metadata, RdAllAndSysRdReadWhatTheModelReports)
{
	fake::reset();
	fake::set_phys_bytes(8 * kG);
	PageCounts before = page_counts();
	fake::ModelBackend m;
	Seamcall sc(m);
	RegBlock r{};
	ASSERT_TRUE(sc.call(leaves::kSysInit, r).is_success());
	r = RegBlock{};
	ASSERT_TRUE(sc.call(leaves::kSysLpInit, r).is_success()); /* CPU 0: SYS.RD needs its LP.INIT */
	TdxSysInfo all;
	ASSERT_TRUE(read_sys_info(sc, all).is_ok());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysRdAll), 1);
	expect_default_profile(all);
	/* Field by field (a module without RDALL), the same values. */
	m.fail(tdx::abi::leaf::kSysRdAll, 1, tdx::abi::status::kOperandInvalid | tdx::abi::kOperandIdRax);
	TdxSysInfo by_field;
	ASSERT_TRUE(read_sys_info(sc, by_field).is_ok());
	EXPECT_EQ(m.count(tdx::abi::leaf::kSysRd), 12 + 2 * 2);
	expect_default_profile(by_field);
	EXPECT_EQ(page_counts().held, before.held);
	fake::reset();
}

TEST(Metadata, ReadOnACpuWithoutLpInitFails)
{
	fake::reset();
	fake::ModelBackend m;
	Seamcall sc(m);
	RegBlock r{};
	ASSERT_TRUE(sc.call(leaves::kSysInit, r).is_success());
	TdxSysInfo info;
	EXPECT_EQ(read_sys_info(sc, info), error(err::kEIO));
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.RDALL failed: TDX_SYS_LP_INIT_NOT_DONE"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	fake::reset();
}
