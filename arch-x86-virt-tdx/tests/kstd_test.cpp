// SPDX-License-Identifier: GPL-2.0
#include <gtest/gtest.h>

#include <kstd/addr.h>
#include <kstd/bits.h>
#include <kstd/guard.h>
#include <kstd/lazy_init.h>
#include <kstd/span.h>
#include <kstd/status.h>

#include "fake_kapi.h"

using namespace kstd;

namespace {

Result<int> half(int v)
{
	if (v % 2)
		return error(err::kEINVAL);
	return v / 2;
}

Result<int> quarter(int v)
{
	int h = TRY(half(v));
	return TRY(half(h));
}

Status check_even(int v)
{
	TRY(half(v));
	return Status::ok();
}

struct Counted {
	static inline int alive = 0;
	int v;
	explicit Counted(int x) : v(x) { alive++; }
	Counted(Counted &&o) : v(o.v) { alive++; }
	~Counted() { alive--; }
};

struct FakeLock {
	int locked = 0;
	void lock() { locked++; }
	void unlock() { locked--; }
};

} // namespace

TEST(Kstd, StatusCarriesErrno)
{
	EXPECT_TRUE(Status::ok().is_ok());
	Status s = error(err::kETIMEDOUT);
	EXPECT_TRUE(s.is_error());
	EXPECT_EQ(s.to_kernel(), -110);
	EXPECT_EQ(s.errno_value(), 110);
	EXPECT_EQ(Status::from_kernel(-12), error(err::kENOMEM));
	EXPECT_TRUE(Status::from_kernel(5).is_ok());
}

TEST(Kstd, TryPropagatesFirstError)
{
	Result<int> ok = quarter(8);
	ASSERT_TRUE(ok.is_ok());
	EXPECT_EQ(ok.value(), 2);
	Result<int> bad = quarter(6); /* 6/2 = 3 is odd: the second TRY fails */
	EXPECT_EQ(bad.status(), error(err::kEINVAL));
	EXPECT_TRUE(check_even(4).is_ok());
	EXPECT_EQ(check_even(5), error(err::kEINVAL));
}

TEST(Kstd, ResultOfOkStatusIsAnError)
{
	/* A Result built from a success Status has no value: it must not read as ok. */
	Result<int> r = Status::ok();
	EXPECT_TRUE(r.is_error());
}

TEST(Kstd, ResultDestroysItsValue)
{
	{
		Result<Counted> r = Counted(3);
		EXPECT_EQ(Counted::alive, 1);
		Result<Counted> moved = move(r);
		EXPECT_EQ(moved.value().v, 3);
	}
	EXPECT_EQ(Counted::alive, 0);
}

TEST(Kstd, SpanSubspanClamps)
{
	int a[5] = {1, 2, 3, 4, 5};
	Span<int> s(a);
	EXPECT_EQ(s.size(), 5u);
	EXPECT_EQ(s.subspan(3, 10).size(), 2u);
	EXPECT_EQ(s.subspan(6, 1).size(), 0u);
	EXPECT_EQ(s.subspan(1, 2)[1], 3);
}

TEST(KstdDeath, SpanIndexOutOfRangeTraps)
{
	int a[2] = {};
	Span<int> s(a);
	EXPECT_DEATH((void)s[2], "out of range");
}

TEST(Kstd, ArrayIsBounded)
{
	Array<int, 2> a;
	EXPECT_TRUE(a.push_back(1));
	EXPECT_TRUE(a.push_back(2));
	EXPECT_FALSE(a.push_back(3));
	EXPECT_EQ(a.size(), 2u);
	a.truncate(1);
	EXPECT_EQ(a[0], 1);
	EXPECT_EQ(a.size(), 1u);
}

TEST(Kstd, LazyInitConstructsOnlyWhenAsked)
{
	LazyInit<Counted> l;
	EXPECT_FALSE(l.alive());
	EXPECT_EQ(Counted::alive, 0);
	l.init(7);
	EXPECT_EQ(l->v, 7);
	EXPECT_EQ(Counted::alive, 1);
	l.destroy();
	l.destroy();
	EXPECT_EQ(Counted::alive, 0);
}

TEST(KstdDeath, LazyInitTwiceTraps)
{
	LazyInit<Counted> l;
	l.init(1);
	EXPECT_DEATH(l.init(2), "initialized twice");
	l.destroy();
}

TEST(Kstd, GuardUnlocksAtScopeEnd)
{
	FakeLock m;
	{
		Guard<FakeLock> g(m);
		EXPECT_EQ(m.locked, 1);
	}
	EXPECT_EQ(m.locked, 0);
}

TEST(Kstd, FallibleNewYieldsNullWithoutConstructing)
{
	fake::reset();
	fake::kernel().fail_alloc_at = 1;
	Counted *p = new (kAlloc) Counted(1);
	EXPECT_EQ(p, nullptr);
	EXPECT_EQ(Counted::alive, 0);
	Box<Counted> b(new (kAlloc) Counted(2));
	ASSERT_TRUE(b);
	EXPECT_EQ(fake::kernel().live_allocs, 1);
	b = Box<Counted>();
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_EQ(Counted::alive, 0);
}

TEST(Kstd, BitHelpers)
{
	EXPECT_EQ(genmask(23, 16), 0xFF0000u);
	EXPECT_EQ(field_get(0x10035, 15, 0), 0x35u);
	EXPECT_EQ(align_up(0x1001, 0x1000), 0x2000u);
	EXPECT_EQ(align_down(0x1fff, 0x1000), 0x1000u);
	EXPECT_TRUE(is_pow2(4096));
	EXPECT_FALSE(is_pow2(0));
	u64 out;
	EXPECT_TRUE(add_overflows(~0ull, 1, &out));
	EXPECT_FALSE(add_overflows(1, 1, &out));
	EXPECT_EQ(page_order(8192), 1u);
}

TEST(Kstd, PhysAddrArithmetic)
{
	PhysAddr a(0x12345);
	EXPECT_EQ(a.align_down(kPageSize), PhysAddr(0x12000));
	EXPECT_EQ(a.align_up(kPageSize), PhysAddr(0x13000));
	EXPECT_EQ(a.pfn(), Pfn(0x12));
	EXPECT_EQ((a + 0x10) - a, 0x10u);
	EXPECT_TRUE(PhysAddr(1) < PhysAddr(2));
}
