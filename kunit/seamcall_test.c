// SPDX-License-Identifier: GPL-2.0
/* SEAMCALL leaf/version encoding and the status -> errno mapping. */
#include <linux/errno.h>
#include <linux/string.h>

#include <kapi/kunit_hooks.h>
#include <tdx/emu/mailbox_ids.h>

#include "tdx_kunit.h"

static void leaf_encoding(struct kunit *test)
{
	/* RAX: bits 15:0 leaf, 23:16 version (ABI.md section 1). */
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(33, 0), 33ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(45, 1), 0x1002DULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(53, 1), 0x10035ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(100, 0) >> 24, 0ULL);
}

static void status_to_errno(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0), 0);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF00FFFF0000ULL), -ENODEV);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF000000000DULL), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF0000000006ULL), -EACCES);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF00FFFE0000ULL), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0xC000010000000000ULL), -EIO);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000020300000000ULL), -EIO);
}

static void status_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x8000020200000000ULL), "TDX_SYS_BUSY");
	/* The operand id in the low 32 bits does not change the name. */
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0xC000010000000002ULL), "TDX_OPERAND_INVALID");
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x8000FF00FFFF0000ULL),
			   "TDX_SEAMCALL_VMFAILINVALID");
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x1234000000000000ULL), "unknown");
}

static struct kunit_case tdx_seamcall_cases[] = {
	KUNIT_CASE(leaf_encoding),
	KUNIT_CASE(status_to_errno),
	KUNIT_CASE(status_names),
	{}
};

struct kunit_suite tdx_seamcall_suite = {
	.name = "tdx_seamcall",
	.test_cases = tdx_seamcall_cases,
};
