// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime update's decisions (update.h): the preflight refusals, each on its own and in their
 * order, and the rendezvous of the update window with real threads as CPUs: every step runs where
 * it should and in order, and a failure on any CPU at any step stops every CPU at that step.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "update.h"

using namespace tdx;

namespace {

/* A sigstruct and facts that pass every check: the refusal tests break one thing each. */
struct Case {
	tdx::abi::Sigstruct s{};
	UpdateFacts f{};

	Case()
	{
		s.header_type = tdx::abi::kSigstructHeaderType;
		s.header_length = tdx::abi::kSigstructHeaderLength;
		s.header_version = tdx::abi::kSigstructHeaderVersion;
		s.module_vendor = tdx::abi::kSigstructVendorIntel;
		s.size = tdx::abi::kSigstructSizeDwords;
		s.key_size = tdx::abi::kSigstructKeySizeDwords;
		s.modulus_size = tdx::abi::kSigstructModulusSizeDwords;
		s.exponent_size = tdx::abi::kSigstructExponentSizeDwords;
		s.exponent = tdx::abi::kSigstructExponent;
		s.major_svn = 1;
		s.minor_svn = 5;
		s.module_hv = 3;
		s.min_update_hv = 1;
		s.cpuid_table_size = 2;
		s.cpuid_table[0] = 0x606A0;
		s.cpuid_table[1] = 0x806F0;
		std::memset(s.seamhash, 0xAB, sizeof(s.seamhash));

		f.signature_ok = true;
		f.seamldr.seam_ready = 1;
		f.seamldr.num_remaining_updates = 3;
		f.seamldr.seam_info.valid = 1;
		f.seamldr.seam_info.tee_tcb_svn[tdx::abi::kTeeTcbSvnMajor] = 1;
		f.seamldr.seam_info.tee_tcb_svn[tdx::abi::kTeeTcbSvnMinor] = 4;
		std::memset(f.seamldr.seam_info.mrsignerseam, 0x5C, sizeof(f.seamldr.seam_info.mrsignerseam));
		std::memset(f.signer_id, 0x5C, sizeof(f.signer_id));
		std::memset(f.module_hash, 0xAB, sizeof(f.module_hash));
		f.module_hv = 2;
		f.cpu_signature = 0x806F8; /* stepping 8: the table holds it masked */
	}
	UpdateRefusal check() const { return preflight(s, f); }
};

TEST(UpdatePreflight, AValidImageIsNotRefused)
{
	EXPECT_EQ(Case().check(), UpdateRefusal::kNone);
}

TEST(UpdatePreflight, EachRefusal)
{
	struct Breaker {
		UpdateRefusal want;
		void (*breakit)(Case &);
	};
	const Breaker breakers[] = {
		{UpdateRefusal::kNoModule, [](Case &c) { c.f.seamldr.seam_ready = 0; }},
		{UpdateRefusal::kNoModule, [](Case &c) { c.f.seamldr.seam_info.valid = 0; }},
		{UpdateRefusal::kNoUpdatesLeft, [](Case &c) { c.f.seamldr.num_remaining_updates = 0; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.header_type = 5; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.module_vendor = 0x8087; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.module_type = 1; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.exponent = 3; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.attributes = 1; }},
		{UpdateRefusal::kBadSigstruct, [](Case &c) { c.s.cpuid_table_size = 256; }},
		{UpdateRefusal::kBadSignature, [](Case &c) { c.f.signature_ok = false; }},
		{UpdateRefusal::kUntrustedSigner, [](Case &c) { c.f.signer_id[47] ^= 1; }},
		{UpdateRefusal::kMajorSvnChange, [](Case &c) { c.s.major_svn = 2; }},
		{UpdateRefusal::kMajorSvnChange, [](Case &c) { c.s.major_svn = 0; }},
		{UpdateRefusal::kSvnDowngrade, [](Case &c) { c.s.minor_svn = 3; }},
		{UpdateRefusal::kUnsupportedCpu, [](Case &c) { c.f.cpu_signature = 0x906A0; }},
		{UpdateRefusal::kUnsupportedCpu, [](Case &c) { c.s.cpuid_table_size = 0; }},
		{UpdateRefusal::kDebugImage, [](Case &c) { c.s.module_type = tdx::abi::kSigstructModuleTypeDebug; }},
		{UpdateRefusal::kIncompatibleHandoff, [](Case &c) { c.f.module_hv = 4; }},
		{UpdateRefusal::kIncompatibleHandoff, [](Case &c) { c.f.module_hv = 0; }},
		{UpdateRefusal::kIncompatibleHandoff, [](Case &c) { c.s.no_downgrade = 1; }},
		{UpdateRefusal::kBadHash, [](Case &c) { c.f.module_hash[0] ^= 0x80; }},
	};
	for (const Breaker &b : breakers) {
		Case c;
		b.breakit(c);
		EXPECT_EQ(c.check(), b.want) << update_refusal_code(b.want);
	}
}

TEST(UpdatePreflight, AZeroMrSignerSeamIsIntels)
{
	Case c;
	std::memset(c.f.seamldr.seam_info.mrsignerseam, 0, sizeof(c.f.seamldr.seam_info.mrsignerseam));
	EXPECT_EQ(c.check(), UpdateRefusal::kUntrustedSigner);
	std::memcpy(c.f.signer_id, tdx::abi::kIntelSignerModulusSha384, sizeof(c.f.signer_id));
	EXPECT_EQ(c.check(), UpdateRefusal::kNone);
}

TEST(UpdatePreflight, EdgesThatAreAccepted)
{
	Case same_svn;
	same_svn.s.minor_svn = 4; /* equal is not a downgrade */
	EXPECT_EQ(same_svn.check(), UpdateRefusal::kNone);
	Case bounds;
	bounds.f.module_hv = 1; /* min_update_hv itself */
	EXPECT_EQ(bounds.check(), UpdateRefusal::kNone);
	bounds.f.module_hv = 3; /* module_hv itself */
	EXPECT_EQ(bounds.check(), UpdateRefusal::kNone);
	bounds.s.no_downgrade = 1; /* then only module_hv */
	EXPECT_EQ(bounds.check(), UpdateRefusal::kNone);
	Case debug_on_debug;
	debug_on_debug.s.module_type = tdx::abi::kSigstructModuleTypeDebug;
	debug_on_debug.f.seamldr.seam_debug = 1;
	EXPECT_EQ(debug_on_debug.check(), UpdateRefusal::kNone);
}

TEST(UpdatePreflight, TheFirstRefusalInOrderIsReported)
{
	Case c;
	c.f.seamldr.num_remaining_updates = 0;
	c.f.module_hash[0] ^= 1;
	c.s.minor_svn = 0;
	EXPECT_EQ(c.check(), UpdateRefusal::kNoUpdatesLeft);
	c.f.seamldr.num_remaining_updates = 1;
	EXPECT_EQ(c.check(), UpdateRefusal::kSvnDowngrade);
}

TEST(UpdatePreflight, CodesAreDistinct)
{
	std::vector<std::string> seen;
	for (u8 r = u8(UpdateRefusal::kNone); r <= u8(UpdateRefusal::kBadHash); r++) {
		const std::string code = update_refusal_code(UpdateRefusal(r));
		EXPECT_NE(code, "unknown");
		for (const std::string &s : seen)
			EXPECT_NE(s, code);
		seen.push_back(code);
	}
}

/* A window walked by nr threads; fail_step/fail_cpu make one CPU fail one step. */
struct Window {
	struct Ran {
		UpdateStep step;
		u32 cpu;
	};
	std::mutex mu;
	std::vector<Ran> ran;
	UpdateRendezvous r;

	void run(u32 nr, UpdateStep fail_step = UpdateStep::kDone, u32 fail_cpu = 0)
	{
		r.start(nr);
		std::vector<std::thread> cpus;
		for (u32 cpu = 0; cpu < nr; cpu++) {
			cpus.emplace_back([=, this] {
				r.walk(cpu, [&](UpdateStep s, u64 *status) {
					const bool lead = cpu == 0;
					if (!lead && !update_step_on_every_cpu(s))
						return 0;
					{
						std::lock_guard<std::mutex> g(mu);
						ran.push_back({s, cpu});
					}
					if (s == fail_step && cpu == fail_cpu) {
						*status = 0xC000050600000000ull;
						return -5;
					}
					return 0;
				});
			});
		}
		for (auto &t : cpus)
			t.join();
	}
	/* Which CPUs ran step s. */
	std::vector<u32> cpus_of(UpdateStep s) const
	{
		std::vector<u32> v;
		for (const Ran &x : ran)
			if (x.step == s)
				v.push_back(x.cpu);
		std::sort(v.begin(), v.end());
		return v;
	}
};

TEST(UpdateRendezvous, EveryStepRunsWhereItShouldInOrder)
{
	for (u32 nr : {1u, 2u, 4u, 8u}) {
		Window w;
		w.run(nr);
		EXPECT_FALSE(w.r.failed());
		std::vector<u32> all;
		for (u32 c = 0; c < nr; c++)
			all.push_back(c);
		for (u8 i = u8(UpdateStep::kShutdown); i < u8(UpdateStep::kDone); i++) {
			const UpdateStep s = UpdateStep(i);
			EXPECT_EQ(w.cpus_of(s), update_step_on_every_cpu(s) ? all : std::vector<u32>{0})
				<< update_step_name(s) << " with " << nr << " CPUs";
		}
		/* No CPU began a step before every CPU had finished the one before it. */
		for (size_t i = 1; i < w.ran.size(); i++)
			EXPECT_LE(u8(w.ran[i - 1].step), u8(w.ran[i].step)) << "at " << i;
		EXPECT_EQ(w.r.step(), UpdateStep::kDone);
	}
}

TEST(UpdateRendezvous, AFailureStopsEveryCpuAtThatStep)
{
	for (u8 i = u8(UpdateStep::kShutdown); i < u8(UpdateStep::kDone); i++) {
		const UpdateStep s = UpdateStep(i);
		/* On the lead CPU, and (for every-CPU steps) on another one. */
		for (u32 fail_cpu : {0u, 3u}) {
			if (fail_cpu && !update_step_on_every_cpu(s))
				continue;
			Window w;
			w.run(4, s, fail_cpu);
			ASSERT_TRUE(w.r.failed()) << update_step_name(s);
			EXPECT_EQ(w.r.failure().step, s);
			EXPECT_EQ(w.r.failure().cpu, fail_cpu);
			EXPECT_EQ(w.r.failure().err, -5);
			EXPECT_EQ(w.r.failure().status, 0xC000050600000000ull);
			for (const auto &x : w.ran)
				EXPECT_LE(u8(x.step), u8(s)) << "a CPU went on to " << update_step_name(x.step);
			EXPECT_NE(w.r.step(), UpdateStep::kDone);
		}
	}
}

TEST(UpdateRendezvous, StartResetsAnEarlierFailure)
{
	Window w;
	w.run(2, UpdateStep::kInstall, 1);
	ASSERT_TRUE(w.r.failed());
	w.ran.clear();
	w.run(2);
	EXPECT_FALSE(w.r.failed());
	EXPECT_EQ(w.r.failure().step, UpdateStep::kStart);
	EXPECT_EQ(w.r.step(), UpdateStep::kDone);
}

/* The window's timing (make bench): the fake clock moves at every read, so every phase has time. */
u64 phase_sum(const UpdateTiming &t)
{
	u64 sum = 0;
	for (u64 ns : t.phase_ns)
		sum += ns;
	return sum;
}

TEST(UpdateTiming, EveryStepEndsInOrderAndThePhasesAddUp)
{
	for (u32 nr : {1u, 2u, 4u}) {
		Window w;
		const u64 called = kapi_ktime_ns();
		const u64 entered = kapi_ktime_ns();
		w.run(nr);
		const u64 returned = kapi_ktime_ns();
		u64 prev = entered;
		for (u8 i = u8(UpdateStep::kShutdown); i < u8(UpdateStep::kDone); i++) {
			EXPECT_GT(w.r.ended_ns(UpdateStep(i)), prev) << update_step_name(UpdateStep(i));
			prev = w.r.ended_ns(UpdateStep(i));
		}
		const UpdateTiming t = window_timing(w.r, called, entered, returned);
		EXPECT_TRUE(t.ok);
		EXPECT_EQ(t.total_ns, returned - called);
		EXPECT_EQ(phase_sum(t), t.total_ns);
		for (u8 i = 0; i <= u8(UpdateStep::kDone); i++)
			EXPECT_GT(t.phase_ns[i], 0u) << update_step_name(UpdateStep(i)) << " with " << nr << " CPUs";
	}
}

TEST(UpdateTiming, AFailedStepEndsTheTimeline)
{
	Window w;
	const u64 called = kapi_ktime_ns();
	w.run(4, UpdateStep::kLpInit, 2);
	const u64 returned = kapi_ktime_ns();
	EXPECT_NE(w.r.ended_ns(UpdateStep::kLpInit), 0u);
	const UpdateTiming t = window_timing(w.r, called, called + 1, returned);
	EXPECT_FALSE(t.ok);
	EXPECT_GT(t.phase_ns[u8(UpdateStep::kLpInit)], 0u);
	for (u8 i = u8(UpdateStep::kSysUpdate); i < u8(UpdateStep::kDone); i++)
		EXPECT_EQ(t.phase_ns[i], 0u) << update_step_name(UpdateStep(i));
	EXPECT_EQ(phase_sum(t), t.total_ns);
	/* A fresh start forgets the earlier ends. */
	w.r.start(4);
	EXPECT_EQ(w.r.ended_ns(UpdateStep::kShutdown), 0u);
}

TEST(UpdateTiming, ClockReadsOutOfOrderNeverMakeAPhaseNegative)
{
	Window w;
	const u64 called = kapi_ktime_ns();
	w.run(2);
	const u64 late = kapi_ktime_ns();
	/* The lead's entry read after every step's end, the return before the last end. */
	const UpdateTiming a = window_timing(w.r, called, late, late + 5);
	EXPECT_EQ(a.phase_ns[u8(UpdateStep::kStart)], late - called);
	for (u8 i = u8(UpdateStep::kShutdown); i < u8(UpdateStep::kDone); i++)
		EXPECT_EQ(a.phase_ns[i], 0u) << update_step_name(UpdateStep(i));
	EXPECT_EQ(a.phase_ns[u8(UpdateStep::kDone)], 5u);
	EXPECT_EQ(phase_sum(a), a.total_ns);
	const u64 early = w.r.ended_ns(UpdateStep::kShutdown);
	const UpdateTiming b = window_timing(w.r, called, called + 1, early);
	EXPECT_EQ(b.phase_ns[u8(UpdateStep::kDone)], 0u);
	EXPECT_EQ(phase_sum(b), b.total_ns);
}

} // namespace
