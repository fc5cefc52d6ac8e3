// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

namespace seam_emu::test {
namespace {

TEST(GuestMemory, SmallRamIsFlat)
{
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	ASSERT_EQ(mem.ranges().size(), 1u);
	EXPECT_EQ(mem.ranges()[0].base, 0u);
	EXPECT_EQ(mem.ranges()[0].size, 64 * kMiB);
	EXPECT_EQ(mem.ptr(0x1234, 8), ram.data() + 0x1234);
	EXPECT_EQ(mem.ptr(64 * kMiB - 8, 8), ram.data() + 64 * kMiB - 8);
	EXPECT_EQ(mem.ptr(64 * kMiB - 8, 9), nullptr);
	EXPECT_EQ(mem.ptr(64 * kMiB, 1), nullptr);
	EXPECT_EQ(mem.ptr(~0ull - 3, 8), nullptr);
}

TEST(GuestMemory, JustBelowThresholdStaysLow)
{
	RamBuffer ram(GuestMemory::kQ35HighRamThreshold - kMiB);
	GuestMemory mem(ram.data(), ram.size());
	ASSERT_EQ(mem.ranges().size(), 1u);
	EXPECT_EQ(mem.ranges()[0].size, ram.size());
}

TEST(GuestMemory, LargeRamSplitsAt2GAnd4G)
{
	const u64 size = 3 * kGiB; /* >= 0xB0000000: 2 GiB low, 1 GiB at 4 GiB */
	RamBuffer ram(size);
	GuestMemory mem(ram.data(), ram.size());
	ASSERT_EQ(mem.ranges().size(), 2u);
	EXPECT_EQ(mem.ranges()[0].base, 0u);
	EXPECT_EQ(mem.ranges()[0].size, 2 * kGiB);
	EXPECT_EQ(mem.ranges()[1].base, 4 * kGiB);
	EXPECT_EQ(mem.ranges()[1].size, kGiB);
	EXPECT_EQ(mem.ptr(4 * kGiB, 8), ram.data() + 2 * kGiB);
	EXPECT_EQ(mem.ptr(5 * kGiB - 8, 8), ram.data() + 3 * kGiB - 8);
	EXPECT_EQ(mem.ptr(3 * kGiB, 8), nullptr);          /* the PCI hole */
	EXPECT_EQ(mem.ptr(2 * kGiB - 8, 16), nullptr);     /* crosses into the hole */
	EXPECT_EQ(mem.ptr(5 * kGiB, 8), nullptr);          /* above RAM */
	u64 v = 0x1122334455667788;
	ASSERT_TRUE(mem.write(4 * kGiB + 16, &v, 8));
	u64 w = 0;
	std::memcpy(&w, ram.data() + 2 * kGiB + 16, 8);
	EXPECT_EQ(w, v);
}

TEST(GuestMemory, RamWellAbove4G)
{
	RamBuffer ram(8 * kGiB); /* q35: [0, 2G) and [4G, 10G) */
	GuestMemory mem(ram.data(), ram.size());
	ASSERT_EQ(mem.ranges().size(), 2u);
	EXPECT_EQ(mem.ranges()[1].base, 4 * kGiB);
	EXPECT_EQ(mem.ranges()[1].end(), 10 * kGiB);
	EXPECT_EQ(mem.ptr(9 * kGiB, 4096), ram.data() + 7 * kGiB);
	EXPECT_EQ(mem.ptr(10 * kGiB - 4096, 4096), ram.data() + 8 * kGiB - 4096);
	EXPECT_EQ(mem.ptr(10 * kGiB - 4096, 4097), nullptr);
	EXPECT_TRUE(check_pa(mem, 6 * kGiB, 4096, 24 * kMiB, kOperandIdRcx).ok());
	EXPECT_EQ(check_pa(mem, 10 * kGiB, 4096, 4096, kOperandIdRcx).status,
		  status::kOperandAddrRangeError | kOperandIdRcx);
}

TEST(GuestMemory, CheckPa)
{
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	EXPECT_TRUE(check_pa(mem, 0x2000, 4096, 4096, kOperandIdRdx).ok());
	EXPECT_EQ(check_pa(mem, 0x2008, 4096, 4096, kOperandIdRdx).status, status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(check_pa(mem, 64 * kMiB, 4096, 4096, kOperandIdRdx).status,
		  status::kOperandAddrRangeError | kOperandIdRdx);
	EXPECT_EQ(check_pa(mem, 64 * kMiB - 4096, 4096, 8192, kOperandIdRcx).status,
		  status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(check_pa(mem, 0xFFFFFFFFFFFFF000ull, 4096, 4096, kOperandIdRdx).status,
		  status::kOperandInvalid | kOperandIdRdx); /* beyond the maximum PA */
	EXPECT_EQ(check_pa(mem, 0x1000, 4096, ~0ull, kOperandIdR8).status,
		  status::kOperandAddrRangeError | kOperandIdR8); /* wraps */
}

} // namespace
} // namespace seam_emu::test
