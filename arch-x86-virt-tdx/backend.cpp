// SPDX-License-Identifier: GPL-2.0
#include <kapi/kapi.h>
#include <tdx/emu/service.h>

#include "backend.h"

namespace tdx {

using emu::MailboxHeader;
using emu::MailboxSlot;

namespace {
/* Check the clock only every so many spins: reading it costs far more than a load. */
constexpr u32 kSpinsPerClockCheck = 256;
/*
 * A call that has waited this long looks for an interrupt pending at its CPU (mailbox.h), and
 * looks again at most this often: each look reads the local APIC's eight IRR registers, which
 * under QEMU's TCG takes QEMU's big lock eight times. Looking every 20 us kept the lock so busy
 * that QEMU's main loop fired the guest's timers late (make bench, quoting boot: RT p99 while
 * quoting 548-718 us, quotes kept 81-88%; every 100 us: 419 us, 95%).
 */
constexpr u64 kIrqCheckAfterNs = 10'000;
constexpr u64 kIrqCheckEveryNs = 100'000;
/*
 * The local APIC timer's interrupt, the one a real-time thread on the CPU waits for, is foreseen
 * rather than looked for. At its first look a call reads the timer's count once and marks itself
 * this long before the count runs out, so that the emulator has answered RESUMABLE by then; the
 * call after it, or after any call that ended less than kTimerHintNs before that lead, if it
 * would start in the lead or after the count ran out while its interrupt is still on its way
 * (QEMU fires it late), first waits for that interrupt with interrupts on, for at most
 * kTimerLateNs past the count's end, and lets the thread it woke run. Marking each such call
 * instead (a RESUMABLE answer per call until the interrupt came: doorbells and APIC reads that
 * take QEMU's big lock) made the timer later still: RT p99 while quoting 978 us, against 484 us
 * waiting (make bench, quoting boot).
 */
constexpr u64 kTimerLeadNs = 50'000;
constexpr u64 kTimerLateNs = 300'000;
/* A call that ends this long before the lead leaves the timer to the next call (timer_due). */
constexpr u64 kTimerHintNs = 100'000;
/*
 * The timer's rate, measured at probe: two windows this long, each timed to within
 * 1/kTimerAgree and agreeing within as much, at most kTimerTries times (the timer fires within a
 * window now and then, and a loaded host holds the vCPU in a reading).
 */
constexpr u64 kTimerWindowNs = 1'000'000;
constexpr u64 kTimerAgree = 100;
constexpr int kTimerTries = 16;
constexpr u64 kNsPerMs = 1000000;
constexpr u64 kHeartbeatStaleNs = u64(emu::kHeartbeatStaleMs) * kNsPerMs;
/* How often a long wait with interrupts off tells the lockup detectors it is fine. */
constexpr u64 kTouchWatchdogsNs = 100 * kNsPerMs;

/* The header is packed: its fields are reached by offset and loaded whole. */
template <class T, int Order> T header_load(const MailboxHeader *h, usize offset)
{
	return __atomic_load_n(reinterpret_cast<const T *>(reinterpret_cast<const u8 *>(h) + offset), Order);
}
#define TDX_HDR_FIELD(T, name, field, order)                                                          \
	T name(const MailboxHeader *h)                                                                  \
	{                                                                                               \
		return header_load<T, order>(h, __builtin_offsetof(MailboxHeader, field));            \
	}
TDX_HDR_FIELD(u64, hdr_magic, magic, __ATOMIC_ACQUIRE)
TDX_HDR_FIELD(u64, hdr_epoch, epoch, __ATOMIC_RELAXED)
TDX_HDR_FIELD(u64, hdr_heartbeat, heartbeat, __ATOMIC_RELAXED)
TDX_HDR_FIELD(u32, hdr_state, emu_state, __ATOMIC_RELAXED)
TDX_HDR_FIELD(u32, hdr_doorbell, doorbell, __ATOMIC_RELAXED)
#undef TDX_HDR_FIELD

/* An emulator service request (include/tdx/emu/service.h), never a SEAMCALL. */
bool is_emu_service(u64 rax) { return (rax & ~emu::kEmuServiceMask) == emu::kEmuServiceBit; }

} // namespace

const char *EmuBackend::failure_name(Failure f)
{
	switch (f) {
	case Failure::kNone:
		break;
	case Failure::kTimeout:
		return "timeout";
	case Failure::kHeartbeat:
		return "heartbeat stopped";
	case Failure::kStopped:
		return "emulator stopped";
	case Failure::kEpoch:
		return "epoch changed";
	}
	return "none";
}

bool EmuBackend::present(const void *base, usize size)
{
	return base && size >= sizeof(MailboxHeader) &&
	       hdr_magic(static_cast<const MailboxHeader *>(base)) == emu::kMailboxMagic;
}

EmuBackend::EmuBackend(const kapi_emu_device &dev, u64 timeout_ns)
	: hdr_(static_cast<MailboxHeader *>(dev.mailbox)), size_(dev.size), regs_(dev.regs), timeout_ns_(timeout_ns)
{
}

EmuBackend::~EmuBackend()
{
	kapi_kfree(timers_);
	if (holds_device_)
		kapi_emu_put();
}

MailboxSlot *EmuBackend::slot(u32 cpu) const
{
	auto *bytes = reinterpret_cast<u8 *>(hdr_);
	return reinterpret_cast<MailboxSlot *>(bytes + emu::kSlotOffset + u64(cpu) * emu::kSlotSize);
}

Status EmuBackend::probe(u32 nr_cpus)
{
	if (!present(hdr_, size_)) {
		kapi_log(KAPI_LOG_ERR, "emulator mailbox has no magic: is seam-emu running?\n");
		return error(err::kENODEV);
	}
	const MailboxHeader *h = hdr_;
	if (h->protocol_version != emu::kProtocolVersion || h->slot_offset != emu::kSlotOffset ||
	    h->slot_size != emu::kSlotSize) {
		kapi_log(KAPI_LOG_ERR, "emulator mailbox protocol %u not supported (want %u)\n",
			 h->protocol_version, emu::kProtocolVersion);
		return error(err::kENODEV);
	}
	if (h->slot_count < nr_cpus || emu::mailbox_bytes(h->slot_count) > size_) {
		kapi_log(KAPI_LOG_ERR, "emulator models %u logical CPUs, this guest has %u\n", h->slot_count,
			 nr_cpus);
		return error(err::kENODEV);
	}
	if (hdr_state(h) != emu::kEmuRunning || hdr_epoch(h) == 0) {
		kapi_log(KAPI_LOG_ERR, "emulator is not running (state %u, epoch %llu)\n", hdr_state(h),
			 (unsigned long long)hdr_epoch(h));
		return error(err::kENODEV);
	}
	if (hdr_doorbell(h) && !regs_) {
		kapi_log(KAPI_LOG_ERR, "emulator sleeps on the doorbell, but its device has no registers\n");
		return error(err::kENODEV);
	}
	if (timeout_ns_ == 0 || (timeout_ns_ > u64(TDX_SEAMCALL_TIMEOUT_MAX_MS) * kNsPerMs && timeout_ns_ != kWhileAlive)) {
		kapi_log(KAPI_LOG_ERR, "SEAMCALL timeout of %llu ms outside 1..%u ms\n",
			 (unsigned long long)(timeout_ns_ / kNsPerMs), TDX_SEAMCALL_TIMEOUT_MAX_MS);
		return error(err::kEINVAL);
	}
	TRY(check_tdx_keyids(h->tdx_keyid_start, h->nr_tdx_keyids));
	keyid_start_ = h->tdx_keyid_start;
	nr_keyids_ = h->nr_tdx_keyids;
	cpu_signature_ = __atomic_load_n(&h->cpu_signature, __ATOMIC_RELAXED);
	platform_flags_ = __atomic_load_n(&h->platform_flags, __ATOMIC_RELAXED);
	epoch_ = hdr_epoch(h);
	nr_slots_ = nr_cpus;
	/* No hints while draining: a slot drained from another CPU must not take this CPU's timer. */
	kapi_kfree(timers_);
	timers_ = nullptr;
	timer_q32_ = 0;

	for (u32 cpu = 0; cpu < nr_cpus; cpu++) {
		MailboxSlot *s = slot(cpu);
		/* Diagnostics the emulator reads with each call: constant, so written once here. */
		s->cpu = cpu;
		s->apic_id = kapi_cpu_apic_id(cpu);
		Status st = drain(cpu);
		if (st.is_error()) {
			nr_slots_ = 0;
			return st;
		}
	}
	foresee_timer();
	return Status::ok();
}

namespace {
/* A reading of the local APIC timer's count between two clock reads, interrupts off. */
struct TimerReading {
	u64 a, b; /* kapi_ktime_ns before and after */
	u32 count, irqs;
	static TimerReading take()
	{
		kapi_irqflags flags = kapi_local_irq_save();
		/* A first read of the APIC page can be slow (under TCG: its TLB entry, QEMU's big
		 * lock); the timed one comes after it. */
		(void)kapi_lapic_timer_count();
		TimerReading r;
		r.a = kapi_ktime_ns();
		r.count = kapi_lapic_timer_count();
		r.b = kapi_ktime_ns();
		r.irqs = kapi_timer_irqs();
		kapi_local_irq_restore(flags);
		return r;
	}
};

/*
 * ns per count of the local APIC timer over one window of kTimerWindowNs, 32.32 fixed point; 0
 * when the timer did not count down across it on one arming (not armed, ran out, fired and was
 * armed again), or when the two readings took more than 2/kTimerAgree of it (the host held the
 * vCPU in one): each is taken at its middle, so off by at most 1/kTimerAgree. Interrupts are on
 * between the two readings.
 */
u64 timer_window_q32()
{
	const TimerReading r0 = TimerReading::take();
	if (!r0.count)
		return 0;
	while (kapi_ktime_ns() - r0.a < kTimerWindowNs)
		;
	const TimerReading r1 = TimerReading::take();
	const u64 span = (r1.a + r1.b) / 2 - (r0.a + r0.b) / 2;
	if (r1.irqs != r0.irqs || r1.count == 0 || r1.count >= r0.count ||
	    (r0.b - r0.a + r1.b - r1.a) * kTimerAgree > 2 * span)
		return 0;
	return (span << 32) / (r0.count - r1.count);
}
} // namespace

void EmuBackend::foresee_timer()
{
	/* Two windows that agree: one that spanned a re-arming at the same count cannot pass twice. */
	for (int i = 0; i < kTimerTries && !timer_q32_; i++) {
		u64 q1 = timer_window_q32(), q2 = q1 ? timer_window_q32() : 0;
		u64 diff = q1 > q2 ? q1 - q2 : q2 - q1;
		if (q1 && q2 && diff * kTimerAgree <= q1)
			timer_q32_ = (q1 + q2) / 2;
	}
	if (!timer_q32_) {
		kapi_log(KAPI_LOG_INFO, "emulator calls: the local APIC timer does not count down here (TSC deadline, or not armed), or its count could not be timed; its interrupt is looked for like any other\n");
		return;
	}
	timers_ = static_cast<TimerHint *>(kapi_kzalloc(nr_slots_ * sizeof(TimerHint)));
	if (!timers_) {
		timer_q32_ = 0;
		kapi_log(KAPI_LOG_INFO, "emulator calls: no memory to foresee the local APIC timer; its interrupt is looked for like any other\n");
		return;
	}
	kapi_log(KAPI_LOG_INFO, "emulator calls: the local APIC timer counts %llu ps per tick; calls make way %llu us before it runs out\n",
		 (unsigned long long)((timer_q32_ * 1000) >> 32), (unsigned long long)(kTimerLeadNs / 1000));
}

u64 EmuBackend::timer_ns_left() const
{
	if (u32 count = kapi_lapic_timer_count())
		return u64((unsigned __int128)count * timer_q32_ >> 32);
	return kapi_lapic_timer_initial() ? 0 : kNoTimer;
}

/*
 * A request an earlier load left unanswered (it timed out) may still be in the emulator's hands.
 * Its answer can never be taken for a new call's (the ids differ), but the TDX module's state must
 * settle before this load decides how to bring it up: wait for that answer, bounded by the
 * timeout, or refuse the mailbox.
 */
Status EmuBackend::drain(u32 cpu)
{
	MailboxSlot *s = slot(cpu);
	u64 req = __atomic_load_n(&s->req_id, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->done_id, __ATOMIC_ACQUIRE) == req)
		return Status::ok();
	kapi_log(KAPI_LOG_WARN, "emulator mailbox slot %u: request %llu of an earlier load unanswered; waiting for it\n",
		 cpu, (unsigned long long)req);
	Failure f = wait_for(s, req, kapi_may_sleep());
	if (f == Failure::kNone)
		return Status::ok();
	kapi_log(KAPI_LOG_ERR,
		 "emulator mailbox slot %u: request %llu of an earlier load was never answered (%s); load again later or restart seam-emu\n",
		 cpu, (unsigned long long)req, failure_name(f));
	return error(err::kEBUSY);
}

EmuBackend::Failure EmuBackend::emulator_gone() const
{
	if (hdr_epoch(hdr_) != epoch_)
		return Failure::kEpoch;
	if (hdr_state(hdr_) != emu::kEmuRunning)
		return Failure::kStopped;
	return Failure::kNone;
}

/*
 * Spins until the slot's done_id is id, on plain loads only. No PAUSE: under QEMU's TCG a PAUSE
 * leaves the translated code, and the vCPU thread takes QEMU's big lock on every such exit; a
 * wait of hundreds of microseconds then starves QEMU's main loop of that lock, and with it the
 * timers it fires into the guest (the interrupt this wait looks for would arrive only after the
 * call). The emulator's slot threads run at real-time priority: the spin has nothing to give
 * back. The clock, the emulator's state and its heartbeat are read only every
 * kSpinsPerClockCheck spins.
 */
EmuBackend::Failure EmuBackend::wait_for(MailboxSlot *s, u64 id, bool may_sleep)
{
	u64 start = 0, touched = 0, beat = 0, beat_at = 0, irq_look_at = 0, timer_mark_at = ~u64(0);
	bool irq_told = false, timer_read = !timers_;
	TimerHint timer{};
	u64 last = 0;
	for (u32 spins = 1; __atomic_load_n(&s->done_id, __ATOMIC_ACQUIRE) != id; spins++) {
		if (spins % kSpinsPerClockCheck)
			continue;
		u64 now = kapi_ktime_ns();
		u64 hb = hdr_heartbeat(hdr_);
		if (!start) {
			start = touched = beat_at = now;
			irq_look_at = now + kIrqCheckAfterNs;
			beat = hb;
			continue;
		}
		if (Failure f = emulator_gone(); f != Failure::kNone)
			return f;
		if (now - start > timeout_ns_)
			return Failure::kTimeout;
		if (hb != beat) {
			beat = hb;
			beat_at = now;
		} else if (now - beat_at > kHeartbeatStaleNs) {
			return Failure::kHeartbeat;
		}
		/*
		 * An interrupt waits at this CPU, or its timer is about to run out: an interruptible leaf
		 * may answer RESUMABLE now. The ring wakes an emulator thread blocked in such a wait
		 * (mailbox.h, "Host interrupts").
		 */
		if (now >= irq_look_at && !timer_read) {
			timer_read = true;
			if (u64 left = timer_ns_left(); left != kNoTimer) {
				timer = {now + left, kapi_timer_irqs()};
				timer_mark_at = now + (left > kTimerLeadNs ? left - kTimerLeadNs : 0);
			}
		}
		if (!irq_told && (now >= timer_mark_at || (now >= irq_look_at && kapi_irq_pending()))) {
			__atomic_store_n(&s->irq_req, id, __ATOMIC_RELEASE);
			ring_doorbell(s->cpu);
			irq_told = true;
		}
		if (now >= irq_look_at)
			irq_look_at = now + kIrqCheckEveryNs;
		if (now - touched > kTouchWatchdogsNs) {
			kapi_touch_watchdogs();
			touched = now;
			if (may_sleep)
				kapi_cond_resched();
		}
		last = now;
	}
	/*
	 * The timer runs out soon after this call: the next call on this CPU waits for it first
	 * (timer_due). Only then: until the interrupt comes, calls read the clock for it.
	 */
	if (timer.at && last + kTimerLeadNs + kTimerHintNs >= timer.at)
		timers_[s->cpu] = timer;
	return Failure::kNone;
}

void EmuBackend::ring_doorbell(u32 cpu) const
{
	if (regs_ && hdr_doorbell(hdr_))
		kapi_emu_ring_doorbell(regs_, emu::doorbell_value(cpu));
}

bool EmuBackend::timer_due(u32 cpu, TimerHint &t)
{
	if (!timers_ || cpu >= nr_slots_ || !timers_[cpu].at)
		return false;
	t = timers_[cpu];
	if (kapi_timer_irqs() != t.irqs) { /* it fired since */
		timers_[cpu].at = 0;
		return false;
	}
	u64 now = kapi_ktime_ns();
	return now + kTimerLeadNs >= t.at && now < t.at + kTimerLateNs;
}

/* Spins with interrupts on (no PAUSE, as wait_for) until the timer's interrupt came, or at most
 * kTimerLateNs past its count's end. A move to another CPU ends it too (another count). */
void EmuBackend::await_timer(const TimerHint &t)
{
	for (u32 spins = 1; kapi_timer_irqs() == t.irqs; spins++)
		if (spins % kSpinsPerClockCheck == 0 && kapi_ktime_ns() >= t.at + kTimerLateNs)
			break;
}

u64 EmuBackend::call(u64 rax, RegBlock &regs)
{
	if (u64 dead = __atomic_load_n(&dead_status_, __ATOMIC_ACQUIRE))
		return dead;

	/* Interrupts off for the whole use of the slot: no IPI can start a call on it meanwhile. */
	kapi_irqflags flags = kapi_local_irq_save();
	u32 cpu = kapi_this_cpu();
	/* The CPU's timer runs out within the lead, or ran out: its interrupt first (foresee_timer). */
	if (TimerHint t; timer_due(cpu, t) && kapi_irqflags_on(flags)) {
		kapi_local_irq_restore(flags);
		await_timer(t);
		kapi_cond_resched_if_may_sleep();
		flags = kapi_local_irq_save();
		cpu = kapi_this_cpu();
	}
	if (cpu >= nr_slots_) {
		kapi_local_irq_restore(flags);
		return abi::kTdxSeamcallVmFailInvalid;
	}
	Failure f = emulator_gone();
	if (f != Failure::kNone) {
		kapi_local_irq_restore(flags);
		return fail(f, rax, cpu);
	}
	MailboxSlot *s = slot(cpu);
	u64 id = s->req_id + 1; /* only this CPU writes its slot's input half */
	s->rax = rax;
	s->regs = regs;
	__atomic_store_n(&s->req_id, id, __ATOMIC_RELEASE);
	/* The mirror image of the emulator's "emu_waiting = 1; fence; re-check req_id". */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->emu_waiting, __ATOMIC_RELAXED))
		ring_doorbell(cpu);

	f = wait_for(s, id, false);
	if (f != Failure::kNone) {
		kapi_local_irq_restore(flags);
		return fail(f, rax, cpu);
	}
	u64 status = s->status;
	if (!TdxStatus(status).is(abi::status::kRndNoEntropy)) /* else the inputs stay, for the retry */
		regs = s->out_regs;
	kapi_local_irq_restore(flags);
	return status;
}

u64 EmuBackend::service(u64 rax, RegBlock &regs)
{
	if (!is_emu_service(rax))
		return abi::kTdxSeamcallVmFailInvalid;
	return call(rax, regs);
}

/* Marks the backend dead (the first failure wins and is the one logged); interrupts are on. */
u64 EmuBackend::fail(Failure f, u64 rax, u32 cpu)
{
	u64 status = f == Failure::kTimeout || f == Failure::kHeartbeat ? kTdxSeamcallTimeout : kTdxSeamcallEmuGone;
	u64 expected = 0;
	if (!__atomic_compare_exchange_n(&dead_status_, &expected, status, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return expected;
	const char *leaf = is_emu_service(rax) ? "emulator service request" : leaf_name(Leaf::seamldr(rax));
	unsigned long long ms = timeout_ns_ / kNsPerMs;
	switch (f) {
	case Failure::kTimeout:
		kapi_log(KAPI_LOG_ERR, "%s on CPU %u: the emulator did not answer in %llu ms; TDX is unusable\n",
			 leaf, cpu, ms);
		break;
	case Failure::kHeartbeat:
		kapi_log(KAPI_LOG_ERR,
			 "%s on CPU %u: the emulator did not answer and its heartbeat stopped for %u ms (killed?); TDX is unusable\n",
			 leaf, cpu, emu::kHeartbeatStaleMs);
		break;
	case Failure::kStopped:
		kapi_log(KAPI_LOG_ERR, "%s on CPU %u: the emulator has stopped; TDX is unusable\n", leaf, cpu);
		break;
	case Failure::kEpoch:
		kapi_log(KAPI_LOG_ERR,
			 "%s on CPU %u: another emulator took over the mailbox (epoch changed); TDX is unusable until the next load\n",
			 leaf, cpu);
		break;
	case Failure::kNone:
		break;
	}
	return status;
}

u64 EmuBackend::last_service_ns(u32 cpu) const
{
	return cpu < nr_slots_ ? __atomic_load_n(&slot(cpu)->service_ns, __ATOMIC_ACQUIRE) : 0;
}

u64 EmuBackend::leaf_calls(u16 leaf) const
{
	if (leaf >= abi::leaf::kMax)
		return 0;
	auto *calls = reinterpret_cast<const u64 *>(reinterpret_cast<const u8 *>(hdr_) + emu::kLeafCallsOffset);
	return __atomic_load_n(&calls[leaf], __ATOMIC_ACQUIRE);
}

Status EmuBackend::tdx_keyids(u32 &start, u32 &nr)
{
	start = keyid_start_;
	nr = nr_keyids_;
	return nr ? Status::ok() : error(err::kENODEV);
}

u32 EmuBackend::cpu_signature()
{
	return cpu_signature_ ? cpu_signature_ : kapi_cpuid_1_eax();
}

#ifndef TDX_EMU_BACKEND_ONLY /* the SEAMCALL trap (seamcall-trap/) builds the emulator backend alone */
Status HwBackend::probe()
{
	return kapi_hw_seam_available() ? Status::ok() : error(err::kENODEV);
}

u64 HwBackend::call(u64 rax, RegBlock &regs)
{
	static_assert(sizeof(RegBlock) == abi::kNumRegs * sizeof(kapi_u64));
	RegBlock out = regs; /* the instruction writes every register: keep the inputs for a retry */
	u64 status = kapi_seamcall_hw(rax, reinterpret_cast<kapi_u64 *>(&out));
	if (!TdxStatus(status).is(abi::status::kRndNoEntropy))
		regs = out;
	return status;
}

Status HwBackend::tdx_keyids(u32 &start, u32 &nr)
{
	unsigned s = 0, n = 0;
	TRY(Status::from_kernel(kapi_hw_tdx_keyids(&s, &n)));
	TRY(check_tdx_keyids(s, n));
	start = s;
	nr = n;
	return Status::ok();
}

u32 HwBackend::cpu_signature() { return kapi_hw_cpu_signature(); }

bool HwBackend::seamret_invalidates_vmcs() { return kapi_hw_seamret_invalidates_vmcs(); }
#endif

} // namespace tdx
