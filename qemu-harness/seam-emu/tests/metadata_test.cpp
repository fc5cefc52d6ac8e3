// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

#include <map>

namespace seam_emu::test {
namespace {

class Md : public ModelTest {
protected:
	void SetUp() override
	{
		sys_init();
		ASSERT_EQ(call(0, leaf::kSysLpInit), status::kSuccess);
	}
	u64 rd(u64 id)
	{
		EXPECT_EQ(call(0, leaf::kSysRd, 0, id), status::kSuccess) << std::hex << id;
		return out_.r8;
	}
};

TEST_F(Md, SysRdEveryField)
{
	const Profile &p = profile_;
	EXPECT_EQ(rd(field::kMajorVersion), 1u);
	EXPECT_EQ(rd(field::kMinorVersion), 5u);
	EXPECT_EQ(rd(field::kUpdateVersion), 6u);
	EXPECT_EQ(rd(field::kBuildDate), 20240229u);
	EXPECT_EQ(rd(field::kBuildNum), 744u);
	EXPECT_EQ(rd(field::kTdxFeatures0), p.tdx_features0);
	EXPECT_EQ(rd(field::kNumCmrs), 1u);
	EXPECT_EQ(rd(field::cmr_base(0)), 0u);
	EXPECT_EQ(rd(field::cmr_size(0)), 64 * kMiB);
	EXPECT_EQ(rd(field::cmr_base(1)), 0u);
	EXPECT_EQ(rd(field::cmr_size(31)), 0u);
	EXPECT_EQ(rd(field::kMaxTdmrs), 64u);
	EXPECT_EQ(rd(field::kMaxReservedPerTdmr), 16u);
	EXPECT_EQ(rd(field::kPamt4kEntrySize), 16u);
	EXPECT_EQ(rd(field::kPamt2mEntrySize), 16u);
	EXPECT_EQ(rd(field::kPamt1gEntrySize), 16u);
	EXPECT_EQ(rd(field::kModuleHv), 0u);
	EXPECT_EQ(rd(field::kMinUpdateHv), 0u);
	EXPECT_EQ(rd(field::kNoDowngrade), 0u);
	EXPECT_EQ(rd(field::kNumHandoffPages), 1u);
	EXPECT_EQ(rd(field::kTdrBaseSize), 4096u);
	EXPECT_EQ(rd(field::kTdcsBaseSize), 16384u);
	EXPECT_EQ(rd(field::kTdvpsBaseSize), 20480u);
}

TEST_F(Md, SysRdOutputsNextFieldId)
{
	/* rdx out is the next field in the context (the module's behaviour), -1 after the last. */
	ASSERT_EQ(call(0, leaf::kSysRd, 0, field::kBuildDate), status::kSuccess);
	EXPECT_EQ(out_.rdx, field::kBuildNum);
	ASSERT_EQ(call(0, leaf::kSysRd, 0, field::kBuildNum), status::kSuccess);
	EXPECT_EQ(out_.rdx, field::kMinorVersion);
	ASSERT_EQ(call(0, leaf::kSysRd, 0, field::kTdvpsBaseSize), status::kSuccess);
	EXPECT_EQ(out_.rdx, kFieldIdNone);
	/* Walking the chain from the null id visits every field once. */
	ASSERT_EQ(call(0, leaf::kSysRd, 0, kFieldIdNone), status::kMetadataFirstFieldIdInContext);
	unsigned n = 0;
	for (u64 id = out_.rdx; id != kFieldIdNone; id = out_.rdx, n++)
		ASSERT_EQ(call(0, leaf::kSysRd, 0, id), status::kSuccess);
	EXPECT_EQ(n, m_->metadata().fields().size());
}

TEST_F(Md, SysRdBadIds)
{
	EXPECT_EQ(call(0, leaf::kSysRd, 0, 0), status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, 0x0800000100000099ull), status::kMetadataFieldIdIncorrect);
	/* Sequence bits or reserved bits set. */
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion | (1ull << kFieldLastElemShift)),
		  status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion | (1ull << kFieldLastInSeqShift)),
		  status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion | (1ull << 24)), status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(out_.r8, 0u);
	/* The element size is ignored for a single read. */
	EXPECT_EQ(call(0, leaf::kSysRd, 0, field::kMajorVersion | (3ull << kFieldElemSizeShift)), status::kSuccess);
	EXPECT_EQ(out_.r8, 1u);
}

/*
 * Parse an md_list page into field id -> value. A sequence header names its first field; later
 * fields take its bits, so a sequence that mixes architectural and non-architectural fields of one
 * class (as the module's does) reports them all with the first field's bit 63: key by id without it.
 */
constexpr u64 kNonArch = 1ull << kFieldNonArchBit;
std::map<u64, u64> parse_md_list(const u8 *page, unsigned *sequences)
{
	MdListHeader h;
	std::memcpy(&h, page, sizeof(h));
	*sequences = h.num_sequences;
	std::map<u64, u64> out;
	u64 off = sizeof(h);
	for (unsigned s = 0; s < h.num_sequences; s++) {
		u64 seq;
		std::memcpy(&seq, page + off, 8);
		off += 8;
		u64 nfields = ((seq >> kFieldLastInSeqShift) & kFieldLastInSeqMask) + 1;
		EXPECT_EQ((seq >> kFieldLastElemShift) & kFieldLastElemMask, 0u);
		u64 base = seq & ~(kFieldLastInSeqMask << kFieldLastInSeqShift);
		for (u64 f = 0; f < nfields; f++) {
			u64 v;
			std::memcpy(&v, page + off, 8);
			off += 8;
			out[(base + f) & ~kNonArch] = v;
		}
	}
	EXPECT_EQ(off, h.list_buff_size);
	return out;
}

TEST_F(Md, RdAllDumpsTheWholeTable)
{
	const u64 page = 0x20000;
	std::memset(mem_.ptr(page, 4096), 0xEE, 4096);
	ASSERT_EQ(call(0, leaf::kSysRdAll, 0, page, kFieldIdNone), status::kSuccess);
	EXPECT_EQ(out_.r8, kFieldIdNone);
	unsigned seqs;
	auto got = parse_md_list(mem_.ptr(page, 4096), &seqs);
	ASSERT_EQ(got.size(), m_->metadata().fields().size());
	for (const auto &f : m_->metadata().fields())
		EXPECT_EQ(got.at(f.id & ~kNonArch), f.value) << std::hex << f.id;
	/* BUILD_DATE (u32) stands alone; BUILD_NUM..UPDATE_VERSION (u16, codes 2..5) form one sequence. */
	EXPECT_LT(seqs, got.size());
	EXPECT_EQ(got.at(field::kTdxFeatures0 & ~kNonArch), profile_.tdx_features0);
}

TEST_F(Md, RdAllFromAField)
{
	const u64 page = 0x20000;
	ASSERT_EQ(call(0, leaf::kSysRdAll, 0, page, field::kMaxTdmrs), status::kSuccess);
	unsigned seqs;
	auto got = parse_md_list(mem_.ptr(page, 4096), &seqs);
	EXPECT_EQ(got.count(field::kMajorVersion & ~kNonArch), 0u);
	EXPECT_EQ(got.at(field::kMaxTdmrs & ~kNonArch), 64u);
	EXPECT_EQ(got.at(field::kTdvpsBaseSize & ~kNonArch), 20480u);
}

TEST_F(Md, RdAllErrors)
{
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x20008, kFieldIdNone), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(out_.r8, kFieldIdNone);
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 64 * kMiB, kFieldIdNone), status::kOperandAddrRangeError | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0xFFFFFFFFFFFFF000ull, kFieldIdNone),
		  status::kOperandInvalid | kOperandIdRdx);
	/* 0 is not the null id: the module only takes -1 as "from the start". */
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x20000, 0), status::kMetadataFieldIdIncorrect);
	/* A start id must carry the field's element size. */
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x20000, field::kMajorVersion & ~(3ull << kFieldElemSizeShift)),
		  status::kMetadataFieldIdIncorrect);
}

TEST(MetadataDump, SmallBufferOverflowsAndResumes)
{
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	Profile p = default_profile();
	GlobalMetadata md(p, mem.ranges());
	std::vector<u8> buf(128);
	std::map<u64, u64> all;
	u64 next = kFieldIdNone;
	int rounds = 0;
	for (;; rounds++) {
		ASSERT_LT(rounds, 100);
		auto r = md.dump(next, buf.data(), buf.size());
		unsigned seqs;
		auto got = parse_md_list(buf.data(), &seqs);
		all.insert(got.begin(), got.end());
		if (r.status == status::kSuccess)
			break;
		ASSERT_EQ(r.status, status::kMetadataListOverflow);
		next = r.next_id;
	}
	EXPECT_GT(rounds, 1);
	EXPECT_EQ(all.size(), md.fields().size());
}

TEST(MetadataCmrs, TwoRangesOnLargeRam)
{
	RamBuffer ram(3 * kGiB);
	GuestMemory mem(ram.data(), ram.size());
	GlobalMetadata md(default_profile(), mem.ranges());
	EXPECT_EQ(md.read(field::kNumCmrs).value, 2u);
	EXPECT_EQ(md.read(field::cmr_base(1)).value, 4 * kGiB);
	EXPECT_EQ(md.read(field::cmr_size(1)).value, kGiB);
	EXPECT_EQ(md.read(field::cmr_size(0)).value, 2 * kGiB);
}

} // namespace
} // namespace seam_emu::test
