// SPDX-License-Identifier: GPL-2.0
/* The TDH.SYS.RDALL list parser and metadata decoding. */
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "metadata.h"

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
