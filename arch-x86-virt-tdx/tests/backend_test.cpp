// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator mailbox transport (protocol v2, include/tdx/emu/mailbox.h), against an in-memory
 * mailbox served by a fake emulator: a thread for plain round trips, or the fake clock's hook
 * (fake::Kernel::on_clock, run inside the waiting call's own clock reads) where the order of
 * events matters, so those tests do not depend on thread scheduling.
 */
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

#include <kapi/kapi.h>

#include "backend.h"
#include "bringup.h"
#include "fake_kapi.h"
#include "model_backend.h"

using namespace tdx;
using namespace tdx::emu;
namespace lf = tdx::abi::leaf;

namespace {

constexpr u64 kEpoch = 0x5EA5EA5EA5ull;
constexpr u64 kMs = 1000000;

class Mailbox {
public:
	explicit Mailbox(u32 slots) : mem_(mailbox_bytes(slots) / 8 + 1)
	{
		auto *h = hdr();
		h->protocol_version = kProtocolVersion;
		h->slot_count = slots;
		h->slot_offset = kSlotOffset;
		h->slot_size = kSlotSize;
		h->emu_state = kEmuRunning;
		h->tdx_keyid_start = 16;
		h->nr_tdx_keyids = 8;
		h->num_packages = 1;
		h->epoch = kEpoch;
		h->magic = kMailboxMagic;
	}
	~Mailbox() { stop(); }
	void *base() { return mem_.data(); }
	usize size() const { return mem_.size() * 8; }
	kapi_emu_device dev(void *regs = nullptr) { return {base(), size(), regs}; }
	MailboxHeader *hdr() { return reinterpret_cast<MailboxHeader *>(mem_.data()); }
	MailboxSlot *slot(u32 i)
	{
		return reinterpret_cast<MailboxSlot *>(reinterpret_cast<u8 *>(mem_.data()) + kSlotOffset + i * kSlotSize);
	}

	/* Header fields the emulator changes while the guest runs (packed: by offset, whole). */
	template <class T> void set(usize offset, T v)
	{
		__atomic_store_n(reinterpret_cast<T *>(reinterpret_cast<u8 *>(mem_.data()) + offset), v, __ATOMIC_RELEASE);
	}
	void set_epoch(u64 e) { set<u64>(offsetof(MailboxHeader, epoch), e); }
	void set_state(u32 s) { set<u32>(offsetof(MailboxHeader, emu_state), s); }
	void set_doorbell(u32 d) { set<u32>(offsetof(MailboxHeader, doorbell), d); }
	void beat() { set<u64>(offsetof(MailboxHeader, heartbeat), ++beats_); }

	u64 req_id(u32 i) { return __atomic_load_n(&slot(i)->req_id, __ATOMIC_ACQUIRE); }
	u64 done_id(u32 i) { return __atomic_load_n(&slot(i)->done_id, __ATOMIC_ACQUIRE); }
	bool pending(u32 i) { return req_id(i) != done_id(i); }

	/* Outputs, then done_id = id (release), as the emulator answers. */
	void answer(u32 i, u64 id, u64 status, const RegBlock &out)
	{
		MailboxSlot *s = slot(i);
		s->status = status;
		s->out_regs = out;
		s->service_ns = 42;
		__atomic_store_n(&s->done_id, id, __ATOMIC_RELEASE);
	}
	/* The default service: status = leaf number, rdx = rcx + 1, r8 = 1000 + rdx (a SYS.RD value). */
	void serve(u32 i)
	{
		MailboxSlot *s = slot(i);
		u64 id = req_id(i);
		RegBlock out{};
		out.rdx = s->regs.rcx + 1;
		out.r8 = 1000 + s->regs.rdx;
		answer(i, id, s->rax & 0xFFFF, out);
	}
	/* A thread that serves every slot's requests as they come. */
	void serve_in_thread()
	{
		server_ = std::thread([this] {
			while (!stop_.load())
				for (u32 i = 0; i < hdr()->slot_count; i++)
					if (pending(i))
						serve(i);
		});
	}
	void stop()
	{
		stop_ = true;
		if (server_.joinable())
			server_.join();
	}

private:
	std::vector<u64> mem_;
	std::thread server_;
	std::atomic<bool> stop_{false};
	u64 beats_ = 0;
};

class EmuTest : public ::testing::Test {
protected:
	void SetUp() override { fake::reset(); }
	void TearDown() override { fake::reset(); }
};

} // namespace

TEST_F(EmuTest, ProbeChecksTheHeader)
{
	Mailbox mb(2);
	EXPECT_TRUE(EmuBackend::present(mb.base(), mb.size()));
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_TRUE(b.probe(2).is_ok());
	}
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(3), error(err::kENODEV)); /* too few slots */
		EXPECT_TRUE(fake::kernel().log_contains("models 2 logical CPUs"));
	}
	kapi_emu_device small = mb.dev();
	small.size = 100;
	EXPECT_FALSE(EmuBackend::present(small.mailbox, small.size)); /* BAR too small */
	{
		EmuBackend b(small, kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
	}
	mb.hdr()->protocol_version = 1;
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
		EXPECT_TRUE(fake::kernel().log_contains("protocol 1 not supported"));
	}
	mb.hdr()->protocol_version = kProtocolVersion;
	mb.set_state(kEmuStopped);
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
		EXPECT_TRUE(fake::kernel().log_contains("not running"));
	}
	mb.set_state(kEmuRunning);
	mb.set_epoch(0);
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
	}
	mb.set_epoch(kEpoch);
	mb.set_doorbell(1); /* the emulator sleeps on a doorbell the guest cannot ring */
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
		EXPECT_TRUE(fake::kernel().log_contains("no registers"));
	}
	mb.set_doorbell(0);
	{
		/* Above the bound a wait with interrupts off could trip the lockup detectors. */
		EmuBackend b(mb.dev(), u64(TDX_SEAMCALL_TIMEOUT_MAX_MS + 1) * kMs);
		EXPECT_EQ(b.probe(2), error(err::kEINVAL));
	}
	mb.hdr()->magic = 0;
	EXPECT_FALSE(EmuBackend::present(mb.base(), mb.size()));
	{
		EmuBackend b(mb.dev(), kMs);
		EXPECT_EQ(b.probe(2), error(err::kENODEV));
		EXPECT_TRUE(fake::kernel().log_contains("no magic"));
	}
}

struct KeyIdCase {
	u32 start, nr;
	bool ok;
	const char *log;
};

class EmuKeyIds : public EmuTest, public ::testing::WithParamInterface<KeyIdCase> {};

TEST_P(EmuKeyIds, ValidatedAtProbe)
{
	Mailbox mb(1);
	mb.hdr()->tdx_keyid_start = GetParam().start;
	mb.hdr()->nr_tdx_keyids = GetParam().nr;
	EmuBackend b(mb.dev(), kMs);
	Status s = b.probe(1);
	u32 start = 0, nr = 0;
	if (GetParam().ok) {
		ASSERT_TRUE(s.is_ok());
		ASSERT_TRUE(b.tdx_keyids(start, nr).is_ok());
		EXPECT_EQ(start, GetParam().start);
		EXPECT_EQ(nr, GetParam().nr);
	} else {
		EXPECT_EQ(s, error(err::kENODEV));
		EXPECT_TRUE(fake::kernel().log_contains(GetParam().log)) << GetParam().log;
		EXPECT_EQ(b.tdx_keyids(start, nr), error(err::kENODEV));
	}
}

INSTANTIATE_TEST_SUITE_P(
	Ranges, EmuKeyIds,
	::testing::Values(KeyIdCase{16, 8, true, ""}, KeyIdCase{1, 2, true, ""}, KeyIdCase{0xFFFE, 2, true, ""},
			  KeyIdCase{0, 8, false, "KeyID 0 is the host's"}, KeyIdCase{16, 1, false, "need a global one"},
			  KeyIdCase{16, 0, false, "need a global one"},
			  KeyIdCase{0xFFFF, 2, false, "exceed the KeyID space"},
			  KeyIdCase{0xFFFFFFFF, 2, false, "exceed the KeyID space"}, /* start + nr overflows u32 */
			  KeyIdCase{1, 0xFFFFFFFF, false, "exceed the KeyID space"}));

TEST_F(EmuTest, CallRoundTrip)
{
	Mailbox mb(2);
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(2).is_ok());
	/* Each slot's diagnostics are written once, at probe. */
	EXPECT_EQ(mb.slot(1)->cpu, 1u);
	EXPECT_EQ(mb.slot(1)->apic_id, 1u);
	mb.serve_in_thread();
	fake::kernel().current_cpu = 1;
	RegBlock r{};
	r.rcx = 7;
	r.rdx = 9;
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_EQ(r.rdx, 8u);
	EXPECT_EQ(r.r8, 1009u);
	EXPECT_EQ(r.rcx, 0u); /* the outputs are the emulator's out_regs, whole */
	EXPECT_EQ(b.last_service_ns(1), 42u);
	EXPECT_EQ(mb.req_id(1), 1u);
	EXPECT_EQ(mb.slot(1)->regs.rcx, 7u); /* the input half is never written by the emulator */
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(35), r), 35u);
	EXPECT_EQ(mb.req_id(1), 2u);
	EXPECT_EQ(mb.done_id(1), 2u);
	EXPECT_EQ(mb.req_id(0), 0u); /* CPU 1 only used its own slot */
	EXPECT_FALSE(b.dead());
	EXPECT_EQ(fake::kernel().irq_depth, 0); /* interrupts restored */
	EXPECT_TRUE(fake::kernel().doorbell_rings.empty());
}

TEST_F(EmuTest, NoEntropyLeavesTheInputsForTheRetry)
{
	Mailbox mb(1);
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	/* The emulator answers TDX_RND_NO_ENTROPY with other register values in its output half. */
	fake::kernel().on_clock = [&] {
		if (mb.pending(0)) {
			RegBlock junk{};
			junk.rcx = 0xBAD;
			mb.answer(0, mb.req_id(0), tdx::abi::status::kRndNoEntropy | 0x12, junk);
		}
	};
	RegBlock r{};
	r.rcx = 5;
	r.rdx = 6;
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), tdx::abi::status::kRndNoEntropy | 0x12);
	EXPECT_EQ(r.rcx, 5u); /* the inputs, as they were */
	EXPECT_EQ(r.rdx, 6u);
	fake::kernel().on_clock = nullptr;

	/* Through Seamcall: the retry re-issues the same inputs, and then gets the outputs. */
	mb.serve_in_thread();
	Seamcall sc(b);
	r = RegBlock{};
	r.rcx = 7;
	EXPECT_TRUE(sc.call(Leaf{34}, r).is(34));
	EXPECT_EQ(r.rdx, 8u);
}

TEST_F(EmuTest, InterruptsAreOffForTheWholeUseOfTheSlot)
{
	Mailbox mb(1);
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	/* Answer at the third clock read of the wait, checking interrupts are off meanwhile. */
	int reads = 0, reads_irqs_on = 0;
	fake::kernel().on_clock = [&] {
		reads_irqs_on += fake::kernel().irq_depth == 0;
		if (++reads == 3)
			mb.serve(0);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_EQ(reads, 3);
	EXPECT_EQ(reads_irqs_on, 0);
	EXPECT_EQ(fake::kernel().irq_depth, 0);
}

TEST_F(EmuTest, AnswerWithAnotherIdIsIgnored)
{
	Mailbox mb(1);
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	mb.serve_in_thread();
	RegBlock r{};
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u); /* id 1 answered */
	mb.stop();

	/*
	 * Call id 2: answers with other ids come first, and the guest spins past each through a
	 * clock read: the late answer of an older call (id 1 again, outputs rewritten), then one
	 * with an id past this call's; only then the answer for id 2.
	 */
	int reads = 0;
	fake::kernel().on_clock = [&] {
		RegBlock stale{};
		stale.rdx = 0xBAD;
		reads++;
		if (reads == 1)
			mb.answer(0, 1, 0xBADBADull, stale);
		else if (reads == 2)
			mb.answer(0, 3, 0xBADBADull, stale);
		else if (reads == 4)
			mb.serve(0);
	};
	r = RegBlock{};
	r.rcx = 1;
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(33), r), 33u);
	EXPECT_EQ(r.rdx, 2u);
	EXPECT_EQ(reads, 4);
	EXPECT_FALSE(b.dead());
}

TEST_F(EmuTest, TimeoutKillsTheBackendForGood)
{
	Mailbox mb(1); /* nobody answers */
	EmuBackend b(mb.dev(), 2 * kMs); /* 2 ms of fake clock */
	ASSERT_TRUE(b.probe(1).is_ok());
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(lf::kSysInit), r), kTdxSeamcallTimeout);
	EXPECT_TRUE(b.dead());
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.INIT on CPU 0: the emulator did not answer in 2 ms"));
	EXPECT_EQ(fake::kernel().irq_depth, 0);
	/* A late answer changes nothing: later calls fail at once, without touching the mailbox. */
	mb.serve(0);
	u64 req = mb.req_id(0);
	u64 reads = fake::clock_reads();
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(lf::kSysRd), r), kTdxSeamcallTimeout);
	EXPECT_EQ(mb.req_id(0), req);
	EXPECT_EQ(fake::clock_reads(), reads);
	EXPECT_EQ(status_to_errno(TdxStatus(kTdxSeamcallTimeout)), error(err::kETIMEDOUT));
}

TEST_F(EmuTest, LongWaitTouchesTheWatchdogs)
{
	Mailbox mb(1);
	fake::set_clock_step(kMs); /* 1 ms per clock read */
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	/* A live heartbeat, and the answer after 900 ms. */
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads % 100 == 0)
			mb.beat();
		if (reads == 900)
			mb.serve(0);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_GE(fake::kernel().watchdog_touches, 8); /* every 100 ms */
}

TEST_F(EmuTest, EpochChangeFailsAtOnce)
{
	Mailbox mb(1);
	mb.serve_in_thread();
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	RegBlock r{};
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	mb.set_epoch(kEpoch + 1); /* another emulator took over */
	u64 req = mb.req_id(0);
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallEmuGone);
	EXPECT_EQ(mb.req_id(0), req); /* nothing was sent to the new emulator */
	EXPECT_TRUE(b.dead());
	EXPECT_TRUE(fake::kernel().log_contains("epoch changed"));
	mb.set_epoch(kEpoch);
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallEmuGone); /* dead for good */
	EXPECT_EQ(status_to_errno(TdxStatus(kTdxSeamcallEmuGone)), error(err::kENODEV));
}

TEST_F(EmuTest, EpochChangeDuringACallFailsItAtOnce)
{
	Mailbox mb(1);
	fake::set_clock_step(kMs);
	EmuBackend b(mb.dev(), 10000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads == 2)
			mb.set_epoch(kEpoch + 1);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallEmuGone);
	EXPECT_LE(reads, 3); /* at the next clock check, not after the 10 s timeout */
}

TEST_F(EmuTest, StoppedEmulatorFailsAtOnce)
{
	Mailbox mb(1);
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	mb.set_state(kEmuStopped);
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallEmuGone);
	EXPECT_EQ(mb.req_id(0), 0u);
	EXPECT_TRUE(b.dead());
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.RD on CPU 0: the emulator has stopped"));
}

TEST_F(EmuTest, EmulatorStoppingDuringACallFailsItAtOnce)
{
	Mailbox mb(1);
	fake::set_clock_step(kMs);
	EmuBackend b(mb.dev(), 10000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads == 2)
			mb.set_state(kEmuStopped);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallEmuGone);
	EXPECT_LE(reads, 3);
}

TEST_F(EmuTest, StaleHeartbeatFailsTheCallEarly)
{
	Mailbox mb(1); /* killed: no answer, no heartbeat */
	fake::set_clock_step(kMs);
	EmuBackend b(mb.dev(), 10000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	u64 reads = fake::clock_reads();
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(lf::kSysLpInit), r), kTdxSeamcallTimeout);
	u64 waited_ms = fake::clock_reads() - reads;
	EXPECT_GT(waited_ms, u64(kHeartbeatStaleMs));
	EXPECT_LT(waited_ms, u64(kHeartbeatStaleMs) + 10); /* not the 10 s timeout */
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.LP.INIT on CPU 0: the emulator did not answer and its heartbeat stopped"));
	EXPECT_TRUE(b.dead());
}

TEST_F(EmuTest, LiveHeartbeatKeepsASlowCallAlive)
{
	Mailbox mb(1);
	fake::set_clock_step(kMs);
	EmuBackend b(mb.dev(), 10000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads % kHeartbeatPeriodMs == 0)
			mb.beat();
		if (reads == 6000) /* a 6 s call, longer than the heartbeat's staleness */
			mb.serve(0);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_FALSE(b.dead());
}

TEST_F(EmuTest, WhileAliveACallWaitsAsLongAsTheHeartbeatGoesOn)
{
	Mailbox mb(1);
	fake::set_clock_step(kMs);
	EmuBackend b(mb.dev(), EmuBackend::kWhileAlive);
	ASSERT_TRUE(b.probe(1).is_ok());
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads % kHeartbeatPeriodMs == 0)
			mb.beat();
		if (reads == 30000) /* 30 s: three times the longest timeout a load may set */
			mb.serve(0);
	};
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_FALSE(b.dead());
	/* The heartbeat stops: the call fails once it is stale, as with a timeout. */
	fake::kernel().on_clock = nullptr;
	const u64 before = fake::clock_reads();
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(lf::kSysLpInit), r), kTdxSeamcallTimeout);
	EXPECT_GT(fake::clock_reads() - before, u64(kHeartbeatStaleMs));
	EXPECT_LT(fake::clock_reads() - before, u64(kHeartbeatStaleMs) + 10);
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.LP.INIT on CPU 0: the emulator did not answer and its heartbeat stopped"));
	EXPECT_TRUE(b.dead());
	/* Any other timeout above the largest is refused, as is none. */
	EXPECT_TRUE(EmuBackend(mb.dev(), (u64(TDX_SEAMCALL_TIMEOUT_MAX_MS) + 1) * kMs).probe(1).is_error());
	EXPECT_TRUE(EmuBackend(mb.dev(), 0).probe(1).is_error());
}

TEST_F(EmuTest, AnInterruptPendingIsToldOncePerCallAfterTenMicroseconds)
{
	Mailbox mb(1);
	fake::set_clock_step(1000); /* 1 us per clock read */
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	const auto irq_req = [&] { return __atomic_load_n(&mb.slot(0)->irq_req, __ATOMIC_RELAXED); };
	RegBlock r{};
	/* An interrupt waits: the call marks itself (irq_req = its id), and an emulator that polls
	 * for it answers then (here: at once; a call never marked would be answered after 1 s). */
	fake::kernel().irq_pending = true;
	int reads = 0, reads_at_mark = 0;
	fake::kernel().on_clock = [&] {
		++reads;
		if (!reads_at_mark && irq_req() == mb.req_id(0))
			reads_at_mark = reads;
		if (reads_at_mark || reads == 1000000)
			mb.serve(0);
	};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_EQ(irq_req(), 1u);
	EXPECT_GE(reads_at_mark, 10) << "not before the call waited 10 us";
	EXPECT_LT(reads_at_mark, 20);
	/* A call answered after `after` clock reads, with or without an interrupt pending. */
	const auto call_answered_after = [&](bool irq, int after) {
		fake::kernel().irq_pending = irq;
		reads = 0;
		fake::kernel().on_clock = [&, after] {
			if (++reads == after)
				mb.serve(0);
		};
		EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	};
	/* No interrupt: a long call leaves irq_req as it was (the last call's id, never this one's),
	 * and looks at the APIC at 10 us and then every 100 us (10, 110, 210 in a 300 us call), not
	 * at every clock read. */
	fake::kernel().irq_reads = 0;
	call_answered_after(false, 300);
	EXPECT_EQ(irq_req(), 1u);
	EXPECT_GE(fake::kernel().irq_reads, 3);
	EXPECT_LE(fake::kernel().irq_reads, 4);
	/* An interrupt, but a call answered within 10 us: no mark. */
	call_answered_after(true, 5);
	EXPECT_EQ(irq_req(), 1u);
	EXPECT_FALSE(b.dead());
	EXPECT_TRUE(fake::kernel().doorbell_rings.empty()) << "no doorbell connection: never rung";
}

/*
 * The local APIC timer foreseen (backend.cpp, kTimerLeadNs): the fake timer counts down once
 * every 16 ns and runs out at fake-clock ns timer_at; each clock read is 1 us.
 */
class TimerTest : public EmuTest {
protected:
	static constexpr u64 kUs = 1000;
	Mailbox mb{1};
	const u64 *irq_req = &mb.slot(0)->irq_req;
	bool marked() { return __atomic_load_n(irq_req, __ATOMIC_ACQUIRE) == mb.req_id(0); }
	/* The emulator's interruptible wait: answers once the call is marked, else never. */
	void serve_when_marked(u64 *marked_at = nullptr)
	{
		fake::kernel().on_clock = [this, marked_at] {
			if (mb.pending(0) && marked()) {
				if (marked_at)
					*marked_at = fake::now_ns();
				mb.serve(0);
			}
		};
	}
	/* Probes b (the timer counting), then makes a call that waits until it is marked, 50 us
	 * before the timer runs out 1 ms later; returns when the timer runs out. */
	u64 probe_and_make_way(EmuBackend &b)
	{
		fake::kernel().timer_at = fake::now_ns() + 100 * kMs;
		EXPECT_TRUE(b.probe(1).is_ok());
		const u64 timer = fake::now_ns() + kMs;
		fake::kernel().timer_at = timer;
		serve_when_marked();
		RegBlock r{};
		EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
		EXPECT_GE(fake::now_ns(), timer - 50 * kUs);
		return timer;
	}
};

TEST_F(TimerTest, ProbeMeasuresTheRateAndACallMakesWayFiftyMicrosecondsBeforeTheTimer)
{
	fake::kernel().timer_at = fake::now_ns() + 100 * kMs;
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	EXPECT_TRUE(fake::kernel().log_contains("the local APIC timer counts 16000 ps per tick; calls make way 50 us before it runs out"));
	EXPECT_EQ(fake::kernel().live_allocs, 1) << "the per-CPU hints";
	/* A call that waits reads the timer once, at its first look (10 us), and is marked 50 us
	 * before the count runs out (a clock check comes every 1 us here). */
	const u64 timer = fake::now_ns() + 2 * kMs;
	fake::kernel().timer_at = timer;
	fake::kernel().timer_reads = 0;
	u64 marked_at = 0;
	serve_when_marked(&marked_at);
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_GE(marked_at, timer - 50 * kUs);
	EXPECT_LT(marked_at, timer - 48 * kUs);
	EXPECT_EQ(fake::kernel().timer_reads, 1);
	/* A call with interrupts off (an IPI's, stop_machine's) starts at once, 48 us before: it is
	 * marked at its first look, and reads the timer then. */
	u64 published_at = 0;
	fake::kernel().on_clock = [&] {
		if (!published_at && mb.pending(0))
			published_at = fake::now_ns();
		if (mb.pending(0) && marked())
			mb.serve(0);
	};
	kapi_irqflags off = kapi_local_irq_save();
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	kapi_local_irq_restore(off);
	EXPECT_LT(published_at, timer - 40 * kUs);
	EXPECT_EQ(fake::kernel().timer_reads, 2);
	EXPECT_TRUE(fake::kernel().doorbell_rings.empty()) << "no doorbell connection";
}

TEST_F(TimerTest, WithTheTimerDueACallFirstWaitsForItsInterruptWithInterruptsOn)
{
	EmuBackend b(mb.dev(), 1000 * kMs);
	const u64 timer = probe_and_make_way(b);
	RegBlock r{};
	/* The next call, interrupts on: nothing is published until the interrupt was taken (QEMU
	 * fires it 80 us late here); then the call goes out, the next count read at its first look. */
	u64 fired_at = 0, published_at = 0;
	int depth_while_waiting = -1;
	fake::kernel().on_clock = [&] {
		const u64 now = fake::now_ns();
		if (!fired_at && now >= timer + 80 * kUs) {
			depth_while_waiting = fake::kernel().irq_depth;
			fired_at = now;
			fake::kernel().timer_irqs++;
			fake::kernel().timer_at = now + kMs; /* the handler arms the next event */
		}
		if (!published_at && mb.pending(0))
			published_at = now;
		if (mb.pending(0))
			mb.serve(0);
	};
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(35), r), 35u);
	ASSERT_NE(fired_at, 0u);
	EXPECT_GE(published_at, fired_at);
	EXPECT_EQ(depth_while_waiting, 0) << "interrupts on while waiting";
	/* That interrupt was taken: the hint is stale, calls go out at once. */
	published_at = 0;
	const u64 before = fake::now_ns();
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(36), r), 36u);
	EXPECT_LT(published_at, before + 3 * kUs);
}

TEST_F(TimerTest, OnlyACallThatEndsShortlyBeforeTheTimerHoldsTheNextOne)
{
	fake::kernel().timer_at = fake::now_ns() + 100 * kMs;
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	RegBlock r{};
	/* A call answered after `after` us, unmarked (it reads the timer at 10 us). */
	const auto call_answered_after = [&](int after) {
		int reads = 0;
		fake::kernel().on_clock = [&, after] {
			if (++reads == after)
				mb.serve(0);
		};
		ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
		EXPECT_FALSE(marked());
		fake::kernel().on_clock = nullptr;
	};
	/* When the call after it is published (its first clock read sees it pending). */
	const auto published_after_a_call_at = [&](u64 at) {
		while (fake::now_ns() < at)
			kapi_ktime_ns();
		u64 published_at = 0;
		fake::kernel().on_clock = [&] {
			if (!published_at && mb.pending(0))
				published_at = fake::now_ns();
			if (mb.pending(0))
				mb.serve(0);
			fake::kernel().timer_irqs += fake::now_ns() >= fake::kernel().timer_at; /* fires on time */
		};
		EXPECT_EQ(b.call(tdx::abi::leaf_rax(35), r), 35u);
		fake::kernel().on_clock = nullptr;
		return published_at;
	};
	/* Ending 1 ms before the timer: no hold; a call 30 us before it goes out at once. */
	u64 timer = fake::now_ns() + kMs + 30 * kUs;
	fake::kernel().timer_at = timer;
	call_answered_after(30);
	EXPECT_LT(published_after_a_call_at(timer - 30 * kUs), timer - 25 * kUs);
	/* Ending 140 us before it (within the 50 us lead + 100 us): the call 30 us before it waits
	 * for its interrupt. */
	timer = fake::now_ns() + 170 * kUs;
	fake::kernel().timer_at = timer;
	call_answered_after(30);
	EXPECT_GE(published_after_a_call_at(timer - 30 * kUs), timer);
}

TEST_F(TimerTest, AnInterruptThatNeverComesIsAwaitedThreeHundredMicrosecondsAtMost)
{
	EmuBackend b(mb.dev(), 1000 * kMs);
	const u64 timer = probe_and_make_way(b);
	RegBlock r{};
	/* No interrupt: the next call goes out 300 us past the count's end; the count ran out (0)
	 * while the timer is armed, so its first look marks it at once. */
	u64 published_at = 0, marked_at = 0;
	fake::kernel().on_clock = [&] {
		if (!published_at && mb.pending(0))
			published_at = fake::now_ns();
		if (mb.pending(0) && marked()) {
			marked_at = fake::now_ns();
			mb.serve(0);
		}
	};
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(35), r), 35u);
	EXPECT_GE(published_at, timer + 300 * kUs);
	EXPECT_LT(published_at, timer + 303 * kUs);
	EXPECT_GE(marked_at, published_at + 10 * kUs);
	EXPECT_LT(marked_at, published_at + 13 * kUs);
	/* Disarmed (count and initial count 0): a long call is never marked for it. */
	fake::kernel().timer_at = 0;
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads == 3000 || (mb.pending(0) && marked()))
			mb.serve(0);
	};
	const u64 before = fake::now_ns();
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(36), r), 36u);
	EXPECT_GE(fake::now_ns(), before + 2900 * kUs) << "answered unmarked, after 3 ms";
	EXPECT_FALSE(marked());
}

TEST_F(TimerTest, ATimerThatDoesNotCountOrNoMemoryLeavesItToTheLooks)
{
	/* A timer that runs out 200 us into a 1 ms call: the call is answered unmarked, and the
	 * timer is never read. */
	const auto timer_left_alone = [this](EmuBackend &b) {
		fake::kernel().timer_at = fake::now_ns() + 200 * 1000;
		fake::kernel().timer_reads = 0;
		int reads = 0;
		fake::kernel().on_clock = [&] {
			if (++reads == 1000 || (mb.pending(0) && marked()))
				mb.serve(0);
		};
		RegBlock r{};
		ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
		EXPECT_FALSE(marked());
		EXPECT_EQ(fake::kernel().timer_reads, 0);
		fake::kernel().on_clock = nullptr;
	};
	/* Not counting at probe (TSC deadline, or not armed): said. */
	{
		EmuBackend b(mb.dev(), 1000 * kMs);
		ASSERT_TRUE(b.probe(1).is_ok());
		EXPECT_TRUE(fake::kernel().log_contains("the local APIC timer does not count down here"));
		EXPECT_EQ(fake::kernel().live_allocs, 0);
		timer_left_alone(b);
	}
	/* Counting, but no memory for the hints: said, and probe still succeeds. */
	fake::kernel().timer_at = fake::now_ns() + 100 * kMs;
	fake::kernel().fail_alloc_at = 1;
	EmuBackend b(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	EXPECT_TRUE(fake::kernel().log_contains("no memory to foresee the local APIC timer"));
	timer_left_alone(b);
}

TEST_F(EmuTest, DoorbellRungOnlyWhenTheEmulatorSleeps)
{
	Mailbox mb(2);
	int regs_token;
	fake::kernel().emu_regs = &regs_token;
	EmuBackend b(mb.dev(&regs_token), 1000 * kMs);
	ASSERT_TRUE(b.probe(2).is_ok());
	fake::kernel().current_cpu = 1;
	fake::kernel().on_clock = [&] {
		if (mb.pending(1))
			mb.serve(1);
	};
	RegBlock r{};
	/* No doorbell connection: never rung, even with the thread asleep. */
	mb.slot(1)->emu_waiting = 1;
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_TRUE(fake::kernel().doorbell_rings.empty());
	/* Doorbell connected, thread awake (spinning): not rung. */
	mb.set_doorbell(1);
	mb.slot(1)->emu_waiting = 0;
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_TRUE(fake::kernel().doorbell_rings.empty());
	/* Doorbell connected, thread asleep: rung once, for this CPU's vector, interrupts off. */
	mb.slot(1)->emu_waiting = 1;
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	ASSERT_EQ(fake::kernel().doorbell_rings.size(), 1u);
	EXPECT_EQ(fake::kernel().doorbell_rings[0].value, doorbell_value(1));
	EXPECT_EQ(fake::kernel().doorbell_rings[0].value, (kDoorbellPeer << 16) | 1u);
	EXPECT_GT(fake::kernel().doorbell_rings[0].irq_depth, 0);
	/* Thread awake but busy in a long call, an interrupt pending: the mark rings it once more
	 * (it may be blocked in an interruptible wait); answered only once marked. */
	mb.slot(1)->emu_waiting = 0;
	fake::kernel().irq_pending = true;
	fake::kernel().on_clock = [&] {
		if (__atomic_load_n(&mb.slot(1)->irq_req, __ATOMIC_ACQUIRE) == mb.req_id(1) && mb.pending(1))
			mb.serve(1);
	};
	ASSERT_EQ(b.call(tdx::abi::leaf_rax(100), r), 100u);
	ASSERT_EQ(fake::kernel().doorbell_rings.size(), 2u);
	EXPECT_EQ(fake::kernel().doorbell_rings[1].value, doorbell_value(1));
	EXPECT_GT(fake::kernel().doorbell_rings[1].irq_depth, 0);
}

TEST_F(EmuTest, ProbeDrainsARequestAnEarlierLoadLeftUnanswered)
{
	Mailbox mb(2);
	{
		EmuBackend first(mb.dev(), 2 * kMs);
		ASSERT_TRUE(first.probe(2).is_ok());
		RegBlock r{};
		ASSERT_EQ(first.call(tdx::abi::leaf_rax(lf::kSysRdAll), r), kTdxSeamcallTimeout);
	}
	ASSERT_TRUE(mb.pending(0));
	/* The late answer comes while the next load's probe waits for it. */
	int reads = 0;
	fake::kernel().on_clock = [&] {
		if (++reads == 5 && mb.pending(0)) {
			RegBlock late{};
			late.rdx = 0x1A7E;
			mb.answer(0, mb.req_id(0), 0x1A7Eull, late);
		}
	};
	EmuBackend second(mb.dev(), 1000 * kMs);
	ASSERT_TRUE(second.probe(2).is_ok());
	EXPECT_TRUE(fake::kernel().log_contains("slot 0: request 1 of an earlier load unanswered"));
	EXPECT_FALSE(mb.pending(0));
	/* The next call is id 2 and gets its own answer. */
	fake::kernel().on_clock = [&] {
		if (mb.pending(0))
			mb.serve(0);
	};
	RegBlock r{};
	r.rcx = 4;
	EXPECT_EQ(second.call(tdx::abi::leaf_rax(lf::kSysInit), r), u64(lf::kSysInit));
	EXPECT_EQ(r.rdx, 5u);
	EXPECT_EQ(mb.req_id(0), 2u);
}

TEST_F(EmuTest, ProbeRefusesASlotThatStaysUnanswered)
{
	Mailbox mb(2);
	mb.slot(1)->req_id = 5;
	mb.slot(1)->done_id = 4;
	fake::kernel().on_clock = [&] { mb.beat(); }; /* alive, but that call never finishes */
	EmuBackend b(mb.dev(), 3 * kMs);
	EXPECT_EQ(b.probe(2), error(err::kEBUSY));
	EXPECT_TRUE(fake::kernel().log_contains("slot 1: request 5 of an earlier load was never answered"));
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), tdx::abi::kTdxSeamcallVmFailInvalid); /* not usable */
}

TEST_F(EmuTest, CpuWithoutASlotIsVmFailInvalid)
{
	Mailbox mb(1);
	EmuBackend b(mb.dev(), kMs);
	ASSERT_TRUE(b.probe(1).is_ok());
	fake::kernel().current_cpu = 3;
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), tdx::abi::kTdxSeamcallVmFailInvalid);
	EXPECT_EQ(fake::kernel().irq_depth, 0);
}

TEST(HwBackend, RefusesWithoutTdxCpu)
{
	fake::reset();
	/* The fake CPU reports no TDX: the hw backend must not be chosen. */
	EXPECT_EQ(HwBackend::probe(), error(err::kENODEV));
	HwBackend b;
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(33), r), tdx::abi::kTdxSeamcallVmFailInvalid);
	u32 start, nr;
	EXPECT_EQ(b.tdx_keyids(start, nr), error(err::kENODEV));
}

/* Backend choice at load time (core.cpp): what each seamcall= mode does without TDX hardware. */
TEST(CoreInit, ChoosesTheBackend)
{
	fake::reset();
	tdx_core_params p{TDX_SEAMCALL_AUTO, 100};
	/* No emulator, no TDX CPU: nothing to bring up. */
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_TRUE(fake::kernel().log_contains("no TDX"));
	p.seamcall_mode = TDX_SEAMCALL_EMU;
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_TRUE(fake::kernel().log_contains("seamcall=emu but no usable emulator"));
	/* An emulator mailbox with no magic is not used by auto either. */
	Mailbox mb(2);
	mb.hdr()->magic = 0;
	fake::kernel().mailbox = mb.base();
	fake::kernel().mailbox_size = mb.size();
	p.seamcall_mode = TDX_SEAMCALL_AUTO;
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_FALSE(fake::kernel().emu_in_use); /* the device was given back */
	/* seamcall=hw ignores a working emulator, without taking its device. */
	mb.hdr()->magic = kMailboxMagic;
	p.seamcall_mode = TDX_SEAMCALL_HW;
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_FALSE(fake::kernel().emu_in_use);
	/* seamcall=emu with a mailbox it refuses (bad KeyIDs) fails with the reason. */
	mb.hdr()->tdx_keyid_start = 0;
	p.seamcall_mode = TDX_SEAMCALL_EMU;
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_TRUE(fake::kernel().log_contains("KeyID 0"));
	EXPECT_FALSE(fake::kernel().emu_in_use);
	tdx_module_version v;
	EXPECT_EQ(tdx_core_version(&v), -6); /* -ENXIO: no module */
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST(CoreInit, AutoPicksAWorkingEmulatorAndTimesOutCleanly)
{
	fake::reset();
	Mailbox mb(2); /* present but nobody answers: bring-up times out */
	fake::kernel().mailbox = mb.base();
	fake::kernel().mailbox_size = mb.size();
	tdx_core_params p{TDX_SEAMCALL_AUTO, 1};
	EXPECT_EQ(tdx_core_init(&p), -110);
	EXPECT_TRUE(fake::kernel().log_contains("SEAMCALL backend: emu"));
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.INIT failed: TDX_SEAMCALL_TIMEOUT"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	EXPECT_FALSE(fake::kernel().emu_in_use);
	tdx_module_version v;
	EXPECT_EQ(tdx_core_version(&v), -6);
	/* The next load is a new handshake: it waits for the unanswered SYS.INIT, then refuses. */
	EXPECT_EQ(tdx_core_init(&p), -16);
	EXPECT_TRUE(fake::kernel().log_contains("never answered"));
	EXPECT_FALSE(fake::kernel().emu_in_use);
	/* Once the late answer came, a load works again (as far as this silent emulator allows). */
	mb.serve(0);
	EXPECT_EQ(tdx_core_init(&p), -110);
	tdx_core_exit();
}

TEST(CoreInit, TimeoutBoundIsEnforced)
{
	fake::reset();
	Mailbox mb(2);
	fake::kernel().mailbox = mb.base();
	fake::kernel().mailbox_size = mb.size();
	tdx_core_params p{TDX_SEAMCALL_EMU, TDX_SEAMCALL_TIMEOUT_MAX_MS + 1};
	EXPECT_EQ(tdx_core_init(&p), -22);
	EXPECT_TRUE(fake::kernel().log_contains("outside 1..10000 ms"));
	EXPECT_FALSE(fake::kernel().emu_in_use);
}

/*
 * Bring-up over a transport that dies: a backend that forwards to the TDX module model until the
 * nth call of a leaf, which times out; from then on it is dead, as EmuBackend is.
 */
namespace {

class DyingBackend final : public SeamcallBackend {
public:
	DyingBackend(fake::ModelBackend &m, u16 leaf, int nth) : m_(m), leaf_(leaf), left_(nth) {}
	u64 call(u64 rax, RegBlock &regs) override
	{
		if (dead_)
			return kTdxSeamcallTimeout;
		if ((rax & 0xFFFF) == leaf_ && --left_ == 0) {
			dead_ = true;
			return kTdxSeamcallTimeout;
		}
		return m_.call(rax, regs);
	}
	Status tdx_keyids(u32 &start, u32 &nr) override { return m_.tdx_keyids(start, nr); }
	const char *name() const override { return "dying"; }
	bool dead() const override { return dead_; }

private:
	fake::ModelBackend &m_;
	u16 leaf_;
	int left_;
	bool dead_ = false;
};

/* Which pages a bring-up whose transport dies at a leaf must leave to the TDX module. */
enum class Lost { kRdAllPage, kConfigPagesAndPamts, kPamts };

struct DeathCase {
	u16 leaf;
	Lost lost;
	const char *log;
};

class TransportDeath : public EmuTest, public ::testing::WithParamInterface<DeathCase> {};

} // namespace

TEST_P(TransportDeath, PagesOfTheFailedCallStayWithTheModule)
{
	/* The sizes a clean bring-up uses: PAMT pages and the TDMR count. */
	u64 pamt_pages = 0, tdmrs = 0;
	{
		fake::ModelBackend clean;
		Seamcall sc(clean);
		TdxModule mod(sc);
		ASSERT_TRUE(mod.bring_up().is_ok());
		pamt_pages = mod.pamt_bytes() / kstd::kPageSize;
		tdmrs = mod.nr_tdmrs();
	}
	u64 config_pages = div_round_up(tdx::abi::tdmr_info_stride(16) * tdmrs, kstd::kPageSize) +
			   div_round_up(tdmrs * sizeof(u64), kstd::kPageSize);
	u64 want = GetParam().lost == Lost::kRdAllPage ? 1
		   : GetParam().lost == Lost::kPamts   ? pamt_pages
						       : pamt_pages + config_pages;

	fake::ModelBackend m;
	DyingBackend dying(m, GetParam().leaf, 1);
	Seamcall sc(dying);
	PageCounts before = page_counts();
	{
		TdxModule mod(sc);
		EXPECT_EQ(mod.bring_up(), error(err::kETIMEDOUT));
	}
	PageCounts after = page_counts();
	EXPECT_EQ(after.held, before.held); /* everything else was freed */
	EXPECT_EQ(after.abandoned - before.abandoned, want);
	EXPECT_TRUE(fake::kernel().log_contains(GetParam().log)) << GetParam().log;
	/* A dead transport is not asked to disable the module. */
	EXPECT_EQ(m.count(lf::kSysDisable), 0);
}

INSTANTIATE_TEST_SUITE_P(
	AtEachPageLeaf, TransportDeath,
	::testing::Values(DeathCase{lf::kSysRdAll, Lost::kRdAllPage, "TDH.SYS.RDALL did not complete: its 4 KiB page stays"},
			  DeathCase{lf::kSysConfig, Lost::kConfigPagesAndPamts, "TDH.SYS.CONFIG did not complete"},
			  DeathCase{lf::kSysKeyConfig, Lost::kPamts, "KiB of PAMT stay with it"},
			  DeathCase{lf::kSysTdmrInit, Lost::kPamts, "KiB of PAMT stay with it"}));

TEST_F(EmuTest, TdmrInitWithCoarseProgressFinishes)
{
	/* As the TDX module 1.5 does: 4 MiB per call, rdx rounded down to 1 GiB (256 calls per GiB). */
	fake::ModelBackend m;
	m.profile.work_budget.tdmr_init_bytes = 4ull << 20;
	Seamcall sc(m);
	TdxModule mod(sc);
	ASSERT_TRUE(mod.bring_up().is_ok());
	EXPECT_EQ(m.count(lf::kSysTdmrInit), 2 * 256);
}

TEST_F(EmuTest, TdmrInitWithoutProgressIsGivenUpSoon)
{
	/* 64 KiB a call: rdx stays at the TDMR base for 16384 calls. */
	fake::ModelBackend m;
	m.profile.work_budget.tdmr_init_bytes = 64 << 10;
	Seamcall sc(m);
	{
		TdxModule mod(sc);
		EXPECT_EQ(mod.bring_up(), error(err::kEIO));
	}
	EXPECT_EQ(m.count(lf::kSysTdmrInit), 1024); /* not 2^20 */
	EXPECT_TRUE(fake::kernel().log_contains("TDH.SYS.TDMR.INIT of TDMR 0 [0x0, 0x"));
	EXPECT_TRUE(fake::kernel().log_contains(") did not finish: no progress past 0x0 in 1024 calls"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}
