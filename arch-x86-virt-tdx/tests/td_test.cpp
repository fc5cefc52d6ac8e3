// SPDX-License-Identifier: GPL-2.0
/*
 * TD management (td.h): the guest KeyID allocator, the gate, and the wrappers over the
 * TD-management SEAMCALLs against the emulator's model of the TDX module, from before bring-up to
 * a TD's whole life (create, keys on every package, TDCS, init, extend, finalize, free, reclaim),
 * with the retried statuses injected; and the test build's service path on the emulator backend.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include <kapi/kapi.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

#include "backend.h"
#include "bringup.h"
#include "fake_kapi.h"
#include "model_backend.h"
#include "td.h"

using namespace tdx;
namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;

namespace {

constexpr u64 kNoCall = tdx::abi::kTdxSeamcallVmFailInvalid;

/* The KeyIDs a GuestKeyIds hands out until it has none left. */
std::vector<u32> drain(GuestKeyIds &k)
{
	std::vector<u32> out;
	for (;;) {
		Result<u32> r = k.alloc();
		if (r.is_error()) {
			EXPECT_EQ(r.status(), error(err::kENOSPC));
			return out;
		}
		out.push_back(r.value());
	}
}

std::vector<u32> range_but(u32 start, u32 nr, u32 global)
{
	std::vector<u32> v;
	for (u32 k = start; k < start + nr; k++)
		if (k != global)
			v.push_back(k);
	return v;
}

} // namespace

/* ---- guest KeyIDs ---- */

TEST(GuestKeyIds, HandsOutTheRangeLowestFirstButTheGlobalKeyId)
{
	auto k = std::make_unique<GuestKeyIds>();
	k->reset(32, 32, 32);
	EXPECT_EQ(drain(*k), range_but(32, 32, 32)); /* 33..63, in order */
	EXPECT_FALSE(k->allocated(32));

	/* A global KeyID inside the range, a range across 64-bit words. */
	k->reset(60, 70, 100);
	EXPECT_EQ(drain(*k), range_but(60, 70, 100));
	k->reset(1, 0xFFFF, 1);
	EXPECT_EQ(drain(*k).size(), 0xFFFFu - 1);
}

TEST(GuestKeyIds, FreedKeyIdsComeBackLowestFirst)
{
	auto k = std::make_unique<GuestKeyIds>();
	k->reset(16, 8, 16);
	ASSERT_EQ(drain(*k).size(), 7u);
	EXPECT_TRUE(k->free(20));
	EXPECT_TRUE(k->free(18));
	EXPECT_FALSE(k->allocated(18));
	EXPECT_EQ(k->alloc().value(), 18u);
	EXPECT_EQ(k->alloc().value(), 20u);
	EXPECT_EQ(k->alloc().status(), error(err::kENOSPC));
}

TEST(GuestKeyIds, FreeOfAKeyIdNotAllocatedChangesNothing)
{
	auto k = std::make_unique<GuestKeyIds>();
	k->reset(16, 8, 16);
	EXPECT_FALSE(k->free(17)); /* free already */
	EXPECT_FALSE(k->free(16)); /* the global KeyID */
	EXPECT_FALSE(k->free(15)); /* below the range */
	EXPECT_FALSE(k->free(24)); /* past it */
	EXPECT_EQ(k->alloc().value(), 17u);
	EXPECT_TRUE(k->free(17));
	EXPECT_FALSE(k->free(17)); /* twice */
	EXPECT_EQ(drain(*k), range_but(16, 8, 16));
}

TEST(GuestKeyIds, ParallelAllocationsNeverShareAKeyId)
{
	auto k = std::make_unique<GuestKeyIds>();
	k->reset(32, 1000, 32);
	/* Four threads at once, each running fn(its index). */
	auto in_parallel = [](auto fn) {
		std::vector<std::thread> threads;
		for (unsigned i = 0; i < 4; i++)
			threads.emplace_back(fn, i);
		for (auto &t : threads)
			t.join();
	};
	auto sorted = [](const std::vector<std::vector<u32>> &parts) {
		std::vector<u32> all;
		for (const auto &p : parts)
			all.insert(all.end(), p.begin(), p.end());
		std::sort(all.begin(), all.end());
		return all;
	};
	std::vector<std::vector<u32>> got(4);
	in_parallel([&](unsigned i) { got[i] = drain(*k); });
	EXPECT_EQ(sorted(got), range_but(32, 1000, 32)); /* each KeyID once, none lost */

	/* Each thread gives back a third of its KeyIDs while the others do, then all take again. */
	std::vector<std::vector<u32>> freed(4), again(4);
	in_parallel([&](unsigned i) {
		for (u32 id : got[i])
			if (id % 3 == 0) {
				EXPECT_TRUE(k->free(id));
				freed[i].push_back(id);
			}
	});
	in_parallel([&](unsigned i) { again[i] = drain(*k); });
	EXPECT_EQ(sorted(again), sorted(freed));
	EXPECT_FALSE(sorted(freed).empty());
}

/* ---- the gate ---- */

TEST(UseGate, RefusesWhileClosedAndCloseWaitsForTheCallersInside)
{
	UseGate g;
	EXPECT_FALSE(g.enter());
	g.open();
	ASSERT_TRUE(g.enter());
	EXPECT_EQ(g.users(), 1u);
	std::atomic<bool> left{false};
	std::thread inside([&] {
		while (g.is_open()) /* until close() began */
			std::this_thread::yield();
		EXPECT_FALSE(g.enter()); /* closed: nobody new gets in */
		left = true;
		g.leave();
	});
	g.close();
	EXPECT_TRUE(left.load()); /* close() returned only after the caller inside left */
	EXPECT_EQ(g.users(), 0u);
	inside.join();
	{
		GateUse u(g);
		EXPECT_FALSE(u);
	}
	g.open();
	{
		GateUse u(g);
		EXPECT_TRUE(u);
		EXPECT_EQ(g.users(), 1u);
	}
	EXPECT_EQ(g.users(), 0u);
}

/* ---- before bring-up ---- */

class TdDown : public ::testing::Test {
protected:
	void SetUp() override { fake::reset(); }
	void TearDown() override { fake::reset(); }
};

TEST_F(TdDown, EveryWrapperAnswersVmFailInvalidWithoutACall)
{
	auto td = std::make_unique<TdManager>(); /* never started: no transport to call */
	EXPECT_FALSE(td->up());
	EXPECT_EQ(td->mng_create(0x100000, 33).raw(), kNoCall);
	EXPECT_EQ(td->mng_addcx(0x100000, 0x101000).raw(), kNoCall);
	EXPECT_EQ(td->mng_key_config_all(0x100000).raw(), kNoCall);
	EXPECT_EQ(td->mng_init(0x100000, 0x102000).raw(), kNoCall);
	EXPECT_EQ(td->mr_extend(0x100000, 0).raw(), kNoCall);
	EXPECT_EQ(td->mr_finalize(0x100000).raw(), kNoCall);
	EXPECT_EQ(td->mng_key_freeid(0x100000).raw(), kNoCall);
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), kNoCall);
	EXPECT_EQ(td->phymem_page_reclaim(0x100000).raw(), kNoCall);
	EXPECT_EQ(td->guest_keyid_alloc().status(), error(err::kENODEV));
	td->guest_keyid_free(33); /* every KeyID went with TDX: nothing to warn about */
	EXPECT_TRUE(fake::kernel().log.empty());
}

TEST_F(TdDown, TheCEntryPointsAnswerTheSame)
{
	EXPECT_EQ(tdx_core_guest_keyid_alloc(), -19);
	tdx_core_guest_keyid_free(33);
	EXPECT_EQ(tdx_core_mng_create(0x100000, 33), kNoCall);
	EXPECT_EQ(tdx_core_mng_addcx(0x100000, 0x101000), kNoCall);
	EXPECT_EQ(tdx_core_mng_key_config_all(0x100000), kNoCall);
	EXPECT_EQ(tdx_core_mng_init(0x100000, 0x102000), kNoCall);
	EXPECT_EQ(tdx_core_mr_extend(0x100000, 0), kNoCall);
	EXPECT_EQ(tdx_core_mr_finalize(0x100000), kNoCall);
	EXPECT_EQ(tdx_core_mng_key_freeid(0x100000), kNoCall);
	EXPECT_EQ(tdx_core_phymem_cache_wb_all(), kNoCall);
	EXPECT_EQ(tdx_core_phymem_page_reclaim(0x100000), kNoCall);
	EXPECT_TRUE(fake::kernel().log.empty());
}

namespace {

/* A transport that failed: every call would answer at once with its own status. */
class DeadBackend final : public SeamcallBackend {
public:
	u64 call(u64, RegBlock &) override
	{
		calls++;
		return kTdxSeamcallTimeout;
	}
	Status tdx_keyids(u32 &start, u32 &nr) override
	{
		start = 16;
		nr = 8;
		return Status::ok();
	}
	const char *name() const override { return "dead"; }
	bool dead() const override { return true; }
	int calls = 0;
};

} // namespace

TEST_F(TdDown, ADeadTransportGetsNoCall)
{
	DeadBackend dead;
	Seamcall sc(dead);
	auto td = std::make_unique<TdManager>();
	td->start(sc, 16, 8, 16);
	EXPECT_EQ(td->mng_create(0x100000, 17).raw(), kNoCall);
	EXPECT_EQ(td->mng_key_config_all(0x100000).raw(), kNoCall);
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), kNoCall);
	EXPECT_EQ(dead.calls, 0);
	td->stop();
}

/* ---- a TD's life through the wrappers, against the model ---- */

namespace {

/* A page of fake physical memory for the TDX module (a TD page, TD_PARAMS). */
PageRun page()
{
	PageRun p = PageRun::alloc(kPageSize);
	EXPECT_TRUE(p);
	return p;
}

u64 pa(const PageRun &p) { return p.pa().value(); }

} // namespace

class TdLife : public ::testing::Test {
protected:
	void SetUp() override
	{
		fake::reset();
		/* Two packages of two CPUs: KEY.CONFIG and CACHE.WB go to CPUs 0 and 2. */
		fake::kernel().nr_cpus = 4;
		fake::kernel().cpus_per_package = 2;
		emu = std::make_unique<fake::ModelBackend>();
		sc = std::make_unique<Seamcall>(*emu);
		module = std::make_unique<TdxModule>(*sc);
		ASSERT_TRUE(module->bring_up().is_ok());
		const TdxModule::KeyIds &k = module->keyids();
		td = std::make_unique<TdManager>();
		td->start(*sc, k.start, k.nr, k.global);
		emu->calls.clear();
	}
	void TearDown() override
	{
		if (td)
			td->stop();
		module.reset();
		sc.reset();
		emu.reset();
		fake::reset();
	}

	/* The CPUs a leaf ran on, in order. */
	std::vector<unsigned> cpus_of(u16 leaf) const
	{
		std::vector<unsigned> v;
		for (const auto &c : emu->calls)
			if (c.leaf == leaf)
				v.push_back(c.cpu);
		return v;
	}
	u64 model_bytes(seam_emu::PageOwner owner)
	{
		return emu->inspect([owner](const seam_emu::Module &m) { return m.pages().bytes(owner); });
	}
	unsigned tdcs_pages()
	{
		Result<u64> bytes = sys_rd(*sc, tdx::abi::field::kTdcsBaseSize);
		EXPECT_TRUE(bytes.is_ok());
		return unsigned(div_round_up(bytes.value(), kPageSize));
	}

	std::unique_ptr<fake::ModelBackend> emu;
	std::unique_ptr<Seamcall> sc;
	std::unique_ptr<TdxModule> module;
	std::unique_ptr<TdManager> td;
};

TEST_F(TdLife, KeyIdsAreTheTdxRangeButTheGlobalOne)
{
	const TdxModule::KeyIds &k = module->keyids();
	u16 global = emu->inspect([](const seam_emu::Module &m) { return m.global_keyid(); });
	EXPECT_EQ(k.global, global); /* the one SYS.CONFIG gave the module */
	u32 start = 0, nr = 0;
	ASSERT_TRUE(emu->tdx_keyids(start, nr).is_ok());
	EXPECT_EQ(k.start, start);
	EXPECT_EQ(k.nr, nr);
	std::vector<u32> got;
	for (;;) {
		Result<u32> r = td->guest_keyid_alloc();
		if (r.is_error()) {
			EXPECT_EQ(r.status(), error(err::kENOSPC));
			break;
		}
		got.push_back(r.value());
	}
	EXPECT_EQ(got, range_but(start, nr, global));
	td->guest_keyid_free(got[3]);
	EXPECT_EQ(td->guest_keyid_alloc().value(), got[3]);
	td->guest_keyid_free(global);
	EXPECT_TRUE(fake::kernel().log_contains("guest KeyID 32 freed but not allocated"));

	/* TDX goes down and comes back: every KeyID is free again. */
	td->stop();
	EXPECT_EQ(td->guest_keyid_alloc().status(), error(err::kENODEV));
	td->start(*sc, k.start, k.nr, k.global);
	EXPECT_EQ(td->guest_keyid_alloc().value(), got[0]);
}

TEST_F(TdLife, ATdFromCreateToReclaim)
{
	Result<u32> keyid = td->guest_keyid_alloc();
	ASSERT_TRUE(keyid.is_ok());
	PageRun tdr = page(), params = page(), other = page();
	const unsigned n = tdcs_pages();
	EXPECT_EQ(n, 4u); /* the default profile's TDCS_BASE_SIZE, 16 KiB */
	std::vector<PageRun> tdcs;
	for (unsigned i = 0; i <= n; i++)
		tdcs.push_back(page());

	ASSERT_EQ(td->mng_create(pa(tdr), u16(keyid.value())).raw(), st::kSuccess);
	/* The module's own answers come back as they are: a KeyID taken, keys not configured yet. */
	EXPECT_EQ(td->mng_create(pa(other), u16(keyid.value())).raw(), st::kHkidNotFree);
	EXPECT_EQ(td->mng_addcx(pa(tdr), pa(tdcs[0])).raw(), st::kTdKeysNotConfigured);

	ASSERT_EQ(td->mng_key_config_all(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kMngKeyConfig), (std::vector<unsigned>{0, 2})); /* one CPU per package */

	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ(td->mng_addcx(pa(tdr), pa(tdcs[i])).raw(), st::kSuccess) << i;
	EXPECT_EQ(td->mng_addcx(pa(tdr), pa(tdcs[n])).raw(), st::kTdcxNumIncorrect);

	auto *p = static_cast<u8 *>(params.va());
	EXPECT_EQ(td->mng_init(pa(tdr), pa(params)).raw(), st::kOperandInvalid | tdx::abi::kOperandIdMaxVcpus);
	const u16 max_vcpus = 1;
	const u64 xfam = 0x3; /* x87, SSE */
	memcpy(p + tdx::abi::td_params::kMaxVcpus, &max_vcpus, sizeof(max_vcpus));
	memcpy(p + tdx::abi::td_params::kXfam, &xfam, sizeof(xfam));
	ASSERT_EQ(td->mng_init(pa(tdr), pa(params)).raw(), st::kSuccess);

	EXPECT_EQ(td->mr_extend(pa(tdr), 0x0).raw(), st::kSuccess);
	EXPECT_EQ(td->mr_extend(pa(tdr), 0x100).raw(), st::kSuccess);
	EXPECT_EQ(td->mr_extend(pa(tdr), 0x101).raw(), st::kOperandInvalid | tdx::abi::kOperandIdRcx); /* rcx: the GPA */
	ASSERT_EQ(td->mr_finalize(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(td->mr_extend(pa(tdr), 0x200).raw() & tdx::abi::kStatusCodeMask, st::kOpStateIncorrect);

	/* Teardown: the TD's pages come back only once its HKID is freed, TDCS pages before the TDR. */
	EXPECT_EQ(td->phymem_page_reclaim(pa(tdcs[0])).raw(), st::kLifecycleStateIncorrect);
	ASSERT_EQ(td->mng_key_freeid(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kPhymemCacheWb), (std::vector<unsigned>{0, 2}));
	EXPECT_EQ(td->phymem_page_reclaim(pa(tdr)).raw(), st::kTdAssociatedPagesExist);
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(td->phymem_page_reclaim(pa(tdcs[i])).raw(), st::kSuccess) << i;
	EXPECT_EQ(td->phymem_page_reclaim(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(td->phymem_page_reclaim(pa(tdr)).raw(), st::kPageMetadataIncorrect | tdx::abi::kOperandIdRcx);
	EXPECT_EQ(model_bytes(seam_emu::PageOwner::kTdr), 0u);
	EXPECT_EQ(model_bytes(seam_emu::PageOwner::kTdcs), 0u);

	td->guest_keyid_free(keyid.value());
	EXPECT_EQ(td->guest_keyid_alloc().value(), keyid.value()); /* the lowest free again */
}

TEST_F(TdLife, BusyIsRetriedABoundedNumberOfTimes)
{
	PageRun tdr = page();
	/* Another CPU held the KOT for three calls: the fourth gets through. */
	emu->fail(lf::kMngCreate, 1, st::kOperandBusy | tdx::abi::kOperandIdKot, 3);
	EXPECT_EQ(td->mng_create(pa(tdr), 33).raw(), st::kSuccess);
	EXPECT_EQ(emu->count(lf::kMngCreate), 4);
	/* TDX_RND_NO_ENTROPY is Seamcall's to retry, busy ours: both on one call. */
	emu->calls.clear();
	emu->fail(lf::kMngKeyConfig, 1, st::kRndNoEntropy, 2);
	EXPECT_EQ(td->mng_key_config_all(pa(tdr)).raw(), st::kSuccess);
	emu->calls.clear();
	emu->fail(lf::kMngKeyFreeid, 1, st::kSysBusy, 1);
	EXPECT_EQ(td->mng_key_freeid(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(emu->count(lf::kMngKeyFreeid), 2);
	/* Busy for good: the status after kTdBusyRetries retries, as it came. */
	emu->calls.clear();
	emu->fail(lf::kPhymemPageReclaim, 1, st::kOperandBusy | tdx::abi::kOperandIdTdr, fake::ModelBackend::kAlways);
	EXPECT_EQ(td->phymem_page_reclaim(pa(tdr)).raw(), st::kOperandBusy | tdx::abi::kOperandIdTdr);
	EXPECT_EQ(emu->count(lf::kPhymemPageReclaim), int(kTdBusyRetries) + 1);
	/* Nothing else is retried. */
	emu->calls.clear();
	emu->fail(lf::kMngInit, 1, st::kOperandInvalid | tdx::abi::kOperandIdRdx, 1);
	EXPECT_EQ(td->mng_init(pa(tdr), 0).raw(), st::kOperandInvalid | tdx::abi::kOperandIdRdx);
	EXPECT_EQ(emu->count(lf::kMngInit), 1);
}

TEST_F(TdLife, KeyConfigOnEachPackage)
{
	PageRun tdr = page();
	ASSERT_EQ(td->mng_create(pa(tdr), 33).raw(), st::kSuccess);
	/* A package configured already (TDX_KEY_CONFIGURED) counts as done. */
	emu->fail(lf::kMngKeyConfig, 1, st::kKeyConfigured, 1);
	EXPECT_EQ(td->mng_key_config_all(pa(tdr)).raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kMngKeyConfig), (std::vector<unsigned>{0, 2}));
	/* A failure on the second package is the answer, logged with the package. */
	PageRun tdr2 = page();
	ASSERT_EQ(td->mng_create(pa(tdr2), 34).raw(), st::kSuccess);
	emu->calls.clear();
	emu->fail(lf::kMngKeyConfig, 2, st::kOperandInvalid | tdx::abi::kOperandIdRcx, 1);
	EXPECT_EQ(td->mng_key_config_all(pa(tdr2)).raw(), st::kOperandInvalid | tdx::abi::kOperandIdRcx);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.MNG.KEY.CONFIG on package 1 (CPU 2) failed"));
	/*
	 * Again, with CPU 0 offline: package 0 (configured by the first attempt, so KEY_CONFIGURED)
	 * on its next online CPU, then package 1.
	 */
	fake::kernel().offline = {true, false, false, false};
	fake::kernel().current_cpu = 1;
	emu->calls.clear();
	EXPECT_EQ(td->mng_key_config_all(pa(tdr2)).raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kMngKeyConfig), (std::vector<unsigned>{1, 2}));
	fake::kernel().offline.clear();
}

TEST_F(TdLife, CacheWbResumesWhileInterrupted)
{
	/* Interrupted twice on package 0: resumed with rcx = 1, which the model (no session) refuses. */
	emu->fail(lf::kPhymemCacheWb, 1, st::kInterruptedResumable, 2);
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), st::kWbcacheResumeError);
	EXPECT_EQ(cpus_of(lf::kPhymemCacheWb), (std::vector<unsigned>{0, 0, 0}));
	/* Started fresh: nothing to flush on either package is done. */
	emu->calls.clear();
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kPhymemCacheWb), (std::vector<unsigned>{0, 2}));
	/* A package whose lock another CPU holds is retried like any busy call. */
	emu->calls.clear();
	emu->fail(lf::kPhymemCacheWb, 2, st::kOperandBusy | tdx::abi::kOperandIdWbcache, 2);
	EXPECT_EQ(td->phymem_cache_wb_all().raw(), st::kSuccess);
	EXPECT_EQ(cpus_of(lf::kPhymemCacheWb), (std::vector<unsigned>{0, 2, 2, 2}));
}

/* ---- the test build's service path ---- */

namespace {

/*
 * One mailbox slot served from the fake clock (the waiting call reads it), echoing rax in r9;
 * while `answer` is false, requests stay unanswered.
 */
struct ServiceMailbox {
	bool answer = true;
	std::vector<u64> mem = std::vector<u64>(emu::mailbox_bytes(1) / 8 + 1);
	emu::MailboxHeader *hdr() { return reinterpret_cast<emu::MailboxHeader *>(mem.data()); }
	emu::MailboxSlot *slot()
	{
		return reinterpret_cast<emu::MailboxSlot *>(reinterpret_cast<u8 *>(mem.data()) + emu::kSlotOffset);
	}
	ServiceMailbox()
	{
		emu::MailboxHeader *h = hdr();
		h->protocol_version = emu::kProtocolVersion;
		h->slot_count = 1;
		h->slot_offset = emu::kSlotOffset;
		h->slot_size = emu::kSlotSize;
		h->emu_state = emu::kEmuRunning;
		h->tdx_keyid_start = 16;
		h->nr_tdx_keyids = 8;
		h->epoch = 7;
		h->magic = emu::kMailboxMagic;
		fake::kernel().on_clock = [this] {
			emu::MailboxSlot *s = slot();
			if (!answer || s->done_id == s->req_id)
				return;
			s->out_regs = s->regs;
			s->out_regs.r9 = s->rax;
			s->status = st::kSuccess;
			__atomic_store_n(&s->done_id, s->req_id, __ATOMIC_RELEASE);
		};
	}
};

} // namespace

TEST_F(TdDown, EmuServiceSendsOnlyServiceRequests)
{
	ServiceMailbox mb;
	EmuBackend b({mb.mem.data(), mb.mem.size() * 8, nullptr}, 1000000ull /* 1 ms */);
	ASSERT_TRUE(b.probe(1).is_ok());
	RegBlock r{};
	r.rcx = 0x1000;
	EXPECT_EQ(b.service(tdx::abi::leaf_rax(lf::kMngCreate), r), kNoCall);
	EXPECT_EQ(b.service(emu::kEmuServiceBit | tdx::abi::kSeamldrLeafBit | 1, r), kNoCall);
	EXPECT_EQ(b.service(emu::kEmuServiceBit | 0x10000, r), kNoCall);
	EXPECT_EQ(mb.slot()->req_id, 0u); /* none reached the mailbox */
	const u64 rax = emu::service_rax(emu::kServiceTdReport);
	EXPECT_EQ(b.service(rax, r), st::kSuccess);
	EXPECT_EQ(mb.slot()->req_id, 1u);
	EXPECT_EQ(r.r9, rax); /* as sent */
	EXPECT_EQ(r.rcx, 0x1000u);

	/* One that times out is named as what it was, not as the leaf its low bits look like. */
	mb.answer = false;
	EXPECT_EQ(b.service(rax, r), kTdxSeamcallTimeout);
	EXPECT_TRUE(fake::kernel().log_contains("emulator service request on CPU 0: the emulator did not answer"));
	EXPECT_EQ(b.service(rax, r), kTdxSeamcallTimeout); /* dead from then on */
	EXPECT_EQ(mb.slot()->req_id, 2u);
}
