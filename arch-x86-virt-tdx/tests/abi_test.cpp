// SPDX-License-Identifier: GPL-2.0
/* Layouts and numbers the module, the emulator and the tools share (most are also static_asserts). */
#include <gtest/gtest.h>

#include <cstddef>

#include <tdx/abi/metadata.h>
#include <tdx/abi/seamcall.h>
#include <tdx/abi/status.h>
#include <tdx/abi/tdmr.h>
#include <tdx/emu/mailbox.h>

using namespace tdx::abi;

TEST(Abi, LeafEncoding)
{
	EXPECT_EQ(leaf_rax(leaf::kSysConfig, 1), 0x1002Du);
	EXPECT_EQ(leaf_rax(leaf::kSysUpdate, 1), 0x10035u);
	EXPECT_EQ(leaf_rax(leaf::kSysInit), 33u);
	EXPECT_EQ(kSeamldrInstall & kSeamldrLeafBit, kSeamldrLeafBit);
	EXPECT_EQ(leaf_rax(leaf::kQuoteInit) & kLeafReservedMask, 0u);
}

TEST(Abi, RegisterBlockOrder)
{
	EXPECT_EQ(offsetof(RegBlock, rcx), 0u);
	EXPECT_EQ(offsetof(RegBlock, rdx), 8u);
	EXPECT_EQ(offsetof(RegBlock, r15), 72u);
	EXPECT_EQ(offsetof(RegBlock, rbx), 80u);
	EXPECT_EQ(offsetof(RegBlock, rdi), 88u);
	EXPECT_EQ(offsetof(RegBlock, rsi), 96u);
}

TEST(Abi, StatusClasses)
{
	EXPECT_EQ((status::kSysBusy >> kStatusClassShift) & 0xFF, 0x02u);
	EXPECT_EQ((kTdxSeamcallVmFailInvalid >> kStatusClassShift) & 0xFF, kStatusSwErrorClass);
	EXPECT_TRUE(status::kOperandInvalid & kStatusNonRecoverableBit);
	EXPECT_FALSE(status::kKeyConfigured & kStatusErrorBit);
}

TEST(Abi, FieldIdDecoding)
{
	EXPECT_EQ(field_elem_bytes(field::kMinorVersion), 2u);
	EXPECT_EQ(field_elem_bytes(field::kTdxFeatures0), 8u);
	EXPECT_EQ(field_elem_bytes(field::kMemoryPoolRequiredPages), 4u);
	EXPECT_EQ(field_elem_bytes(field::kExtRequired), 1u);
	EXPECT_EQ(field::cmr_size(3), 0x9000000300000103u);
	EXPECT_EQ(field_base_id(field::kMajorVersion | (5ull << kFieldLastElemShift)), field::kMajorVersion);
	EXPECT_EQ(features0::kNoRbpMod, 1ull << 18);
	EXPECT_EQ(features0::kQuote, 1ull << 50);
}

TEST(Abi, TdmrInfoLayout)
{
	EXPECT_EQ(sizeof(TdmrInfo), 64u);
	EXPECT_EQ(offsetof(TdmrInfo, pamt_4k_size), 56u);
	EXPECT_EQ(tdmr_info_stride(16), 512u);
	EXPECT_EQ(page_level_shift(PageLevel::k2M), 21u);
	EXPECT_EQ(page_level_shift(PageLevel::k1G), 30u);
}

TEST(Abi, MailboxLayout)
{
	using namespace tdx::emu;
	EXPECT_EQ(kProtocolVersion, 2u);
	EXPECT_EQ(sizeof(MailboxHeader), 128u);
	EXPECT_EQ(offsetof(MailboxHeader, epoch), 64u);
	EXPECT_EQ(sizeof(MailboxSlot), kSlotSize);
	EXPECT_EQ(alignof(MailboxSlot), 64u);
	/* The guest's input half and the emulator's output half never share a cache line. */
	EXPECT_EQ(offsetof(MailboxSlot, regs), 16u);
	EXPECT_EQ(offsetof(MailboxSlot, done_id), 128u);
	EXPECT_EQ(offsetof(MailboxSlot, out_regs), 144u);
	EXPECT_EQ(offsetof(MailboxSlot, emu_waiting), 256u);
	EXPECT_EQ(mailbox_bytes(4), 4096u + 4 * 512);
	EXPECT_EQ(doorbell_value(3), 3u); /* peer 0, vector 3 */
	/* "TDXSEAM2" read as a little-endian u64 */
	EXPECT_EQ(kMailboxMagic, 0x324D414553584454ull);
}
