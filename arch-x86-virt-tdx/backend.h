/* SPDX-License-Identifier: GPL-2.0 */
/* The two SEAMCALL transports: the real instruction and the emulator's ivshmem mailbox. */
#pragma once

#include <kapi/kapi.h>
#include <tdx/emu/mailbox.h>

#include "seamcall.h"

namespace tdx {

/* SEAMCALL on real hardware (glue/seamcall_hw.S). */
class HwBackend final : public SeamcallBackend {
public:
	/* -ENODEV unless the CPU reports TDX and VMX operation is on. */
	static Status probe();
	u64 call(u64 rax, RegBlock &regs) override;
	Status tdx_keyids(u32 &start, u32 &nr) override;
	const char *name() const override { return "hw"; }
	u32 cpu_signature() override;
	bool seamret_invalidates_vmcs() override;
};

/*
 * The emulator's mailbox, protocol v2 (include/tdx/emu/mailbox.h: its header comment is the
 * contract). Each CPU owns the slot of its number and uses it with interrupts off for the whole
 * call, so an IPI's SEAMCALL can never start on a slot a process-context call is using. A call
 * carries an id and accepts only the answer that echoes it. The wait spins with a timeout and
 * watches the emulator (state, epoch, heartbeat); any failure marks the backend dead: every later
 * call fails at once, and the pages of the failed call are the TDX module's for good (dead()).
 */
class EmuBackend final : public SeamcallBackend {
public:
	/* Whether a mailbox is published there (the magic): seamcall=auto then uses the emulator. */
	static bool present(const void *base, usize size);

	/*
	 * timeout_ns kWhileAlive: a call waits for as long as the emulator lives (heartbeat, state,
	 * epoch), as the SEAMCALL instruction always completes; the SEAMCALL trap's default, whose
	 * callers free what a failed call was given. Otherwise 1 ns .. TDX_SEAMCALL_TIMEOUT_MAX_MS.
	 */
	static constexpr u64 kWhileAlive = ~u64(0);
	EmuBackend(const kapi_emu_device &dev, u64 timeout_ns);
	~EmuBackend();
	EmuBackend(const EmuBackend &) = delete;
	EmuBackend &operator=(const EmuBackend &) = delete;

	/*
	 * The handshake: checks the header (magic, protocol, a slot for each of nr_cpus CPUs, a
	 * running emulator with an epoch, a usable doorbell, the KeyIDs), records the epoch, writes
	 * each slot's CPU and APIC id once, and drains a slot whose last request (an earlier load's)
	 * was never answered: waits, bounded by the timeout, for that answer, else refuses the
	 * mailbox (-EBUSY).
	 */
	Status probe(u32 nr_cpus);
	/* From now on the backend owns the device: its destructor calls kapi_emu_put(). */
	void hold_device() { holds_device_ = true; }

	u64 call(u64 rax, RegBlock &regs) override;
	/*
	 * An emulator service request (include/tdx/emu/service.h) for the test build's TD harness
	 * (kunit_hooks.cpp); nothing else calls it. Only a service RAX goes through: anything else
	 * answers TDX_SEAMCALL_VMFAILINVALID without a call.
	 */
	u64 service(u64 rax, RegBlock &regs);
	/* The same with a service's inputs (include/tdx/emu/service.h: rcx, rdx, r8); the status. */
	u64 service(u64 rax, u64 rcx, u64 rdx, u64 r8)
	{
		RegBlock r{};
		r.rcx = rcx;
		r.rdx = rdx;
		r.r8 = r8;
		return service(rax, r);
	}
	Status tdx_keyids(u32 &start, u32 &nr) override;
	const char *name() const override { return "emu"; }
	bool dead() const override { return __atomic_load_n(&dead_status_, __ATOMIC_ACQUIRE) != 0; }
	/* The emulated platform's, from the mailbox header (the guest CPU's when it gives none). */
	u32 cpu_signature() override;
	bool seamret_invalidates_vmcs() override { return platform_flags_ & emu::kPlatformSeamretInvalidatesVmcs; }

	/*
	 * The emulator this backend was set up with has stopped or another one took the mailbox over
	 * (a new epoch): only a new backend (a new probe) can use it. The SEAMCALL trap asks, to set
	 * one up at its client's next load.
	 */
	bool emulator_replaced() const { return emulator_gone() != Failure::kNone; }

	/* The emulator's monotonic count of calls of a leaf (mailbox header page). */
	u64 leaf_calls(u16 leaf) const;
	/* Service time the emulator reported for this CPU's last call. */
	u64 last_service_ns(u32 cpu) const;

private:
	enum class Failure : u8 { kNone, kTimeout, kHeartbeat, kStopped, kEpoch };

	static const char *failure_name(Failure f);
	emu::MailboxSlot *slot(u32 cpu) const;
	Failure emulator_gone() const;
	Failure wait_for(emu::MailboxSlot *s, u64 id, bool may_sleep);
	/* Rings cpu's doorbell vector when the emulator has a doorbell connection (else nothing). */
	void ring_doorbell(u32 cpu) const;
	u64 fail(Failure f, u64 rax, u32 cpu);
	Status drain(u32 cpu);
	/*
	 * The local APIC timer, foreseen (backend.cpp, kTimerLeadNs): its rate measured once, with
	 * interrupts off; when it does not count down (TSC deadline, not armed), or without memory
	 * for the per-CPU hints, its interrupt is looked for like any other.
	 */
	void foresee_timer();
	struct TimerHint {
		u64 at;   /* when the CPU's timer count runs out (kapi_ktime_ns); 0 = not known */
		u32 irqs; /* the CPU's count of timer interrupts then: another means it fired */
	};
	/* Until this CPU's timer count runs out: ns, 0 once it ran out, kNoTimer when not armed. */
	static constexpr u64 kNoTimer = ~u64(0);
	u64 timer_ns_left() const;
	/* Whether a call on cpu, interrupts on, should wait for its timer's interrupt first (t). */
	bool timer_due(u32 cpu, TimerHint &t);
	static void await_timer(const TimerHint &t);

	emu::MailboxHeader *hdr_;
	usize size_;
	void *regs_;
	u64 timeout_ns_;
	u64 epoch_ = 0;
	u32 nr_slots_ = 0;
	u32 keyid_start_ = 0, nr_keyids_ = 0;
	u32 cpu_signature_ = 0, platform_flags_ = 0;
	u64 dead_status_ = 0; /* the status every call returns once the backend is dead */
	bool holds_device_ = false;
	u64 timer_q32_ = 0;             /* ns per timer count, 32.32 fixed point */
	TimerHint *timers_ = nullptr;   /* per CPU; nullptr: the timer is not foreseen */
};

} // namespace tdx
