// SPDX-License-Identifier: GPL-2.0
/* Global metadata field ids: element sizes and decoding of what TDH.SYS.RD returns. */
#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define MAJOR_VERSION	0x0800000100000004ULL
#define BUILD_DATE	0x8800000200000001ULL
#define TDX_FEATURES0	0x0A00000300000008ULL
#define NO_DOWNGRADE	0x8900000000000002ULL

static void element_sizes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tdx_kunit_field_elem_bytes(NO_DOWNGRADE), 1U);
	KUNIT_EXPECT_EQ(test, tdx_kunit_field_elem_bytes(MAJOR_VERSION), 2U);
	KUNIT_EXPECT_EQ(test, tdx_kunit_field_elem_bytes(BUILD_DATE), 4U);
	KUNIT_EXPECT_EQ(test, tdx_kunit_field_elem_bytes(TDX_FEATURES0), 8U);
}

static void decode_truncates_to_field_size(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tdx_kunit_metadata_decode(MAJOR_VERSION, 0xABCD0001ULL), 0x0001ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_metadata_decode(BUILD_DATE, 0xFFFFFFFF01352A2DULL),
			0x01352A2DULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_metadata_decode(NO_DOWNGRADE, 0x101ULL), 0x01ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_metadata_decode(TDX_FEATURES0, ~0ULL), ~0ULL);
}

static struct kunit_case tdx_metadata_cases[] = {
	KUNIT_CASE(element_sizes),
	KUNIT_CASE(decode_truncates_to_field_size),
	{}
};

struct kunit_suite tdx_metadata_suite = {
	.name = "tdx_metadata",
	.test_cases = tdx_metadata_cases,
};
