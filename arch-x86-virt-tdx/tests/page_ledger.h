/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test fixture over the core's page ledger (pages.h): each test from a fresh fake kernel, the
 * pages held, given to the TDX module and abandoned to it counted from the test's start.
 */
#pragma once

#include <gtest/gtest.h>

#include "fake_kapi.h"
#include "pages.h"

namespace fake {

class PageLedgerTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		reset();
		before_ = tdx::page_counts();
	}
	void TearDown() override { reset(); }

	kstd::u64 held() const { return tdx::page_counts().held - before_.held; }
	kstd::u64 given() const { return tdx::page_counts().given - before_.given; }
	kstd::u64 abandoned() const { return tdx::page_counts().abandoned - before_.abandoned; }

	tdx::PageCounts before_;
};

} // namespace fake
