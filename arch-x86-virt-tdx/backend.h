/* SPDX-License-Identifier: GPL-2.0 */
/* The two SEAMCALL transports: the real instruction and the emulator's ivshmem mailbox. */
#pragma once

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
};

/*
 * The emulator's mailbox (include/tdx/emu/mailbox.h). Each CPU owns the slot of its number and
 * fills it with preemption off; the wait spins with a timeout, so it works with interrupts off
 * and never hangs: a timeout marks the backend dead, and every later call fails at once.
 */
class EmuBackend final : public SeamcallBackend {
public:
	/* Checks the header the emulator wrote (magic, protocol, slots for every possible CPU). */
	static Status probe(void *base, usize size, u32 nr_cpus);
	EmuBackend(void *base, u64 timeout_ns);

	u64 call(u64 rax, RegBlock &regs) override;
	Status tdx_keyids(u32 &start, u32 &nr) override;
	const char *name() const override { return "emu"; }
	bool dead() const { return __atomic_load_n(&dead_, __ATOMIC_ACQUIRE); }
	/* The emulator's monotonic count of calls of a leaf (mailbox header page). */
	u64 leaf_calls(u16 leaf) const;
	/* Service time the emulator reported for this CPU's last call. */
	u64 last_service_ns(u32 cpu) const;

private:
	emu::MailboxSlot *slot(u32 cpu) const;
	emu::MailboxHeader *hdr_;
	u64 timeout_ns_;
	bool dead_ = false;
};

} // namespace tdx
