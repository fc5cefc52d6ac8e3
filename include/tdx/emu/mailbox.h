/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest <-> seam-emu mailbox (project-defined protocol, version 2).
 *
 * The mailbox is the shared memory behind an ivshmem PCI device (vendor 0x1af4, device 0x1110):
 * BAR2 is the memory, BAR0 the device registers (its Doorbell register wakes the emulator).
 * seam-emu is the device's ivshmem server: it hands QEMU the mailbox file and, as peer
 * kDoorbellPeer, one eventfd per slot (vector i wakes the emulator thread of slot i).
 *
 * Page 0 holds a MailboxHeader written by the emulator; from kSlotOffset on there is one
 * MailboxSlot per logical CPU, indexed by the guest's CPU number.
 *
 * A call, seen from the guest CPU that owns slot i (interrupts off for the whole call, so an IPI
 * can never start a second call on the same slot):
 *   1. check the header: emu_state == kEmuRunning and epoch == the epoch seen at probe;
 *   2. id = req_id + 1; write rax, regs, cpu, apic_id;
 *   3. store-release req_id = id; full fence; if header.doorbell and slot.emu_waiting, write
 *      (kDoorbellPeer << 16 | i) to the Doorbell register;
 *   4. spin until load-acquire done_id == id (or a timeout, or the emulator stopped: see below);
 *   5. read status, out_regs.
 * The emulator's thread for slot i loads req_id (acquire); when it differs from done_id it copies
 * the inputs, serves the call, writes status, out_regs and service_ns, then store-releases
 * done_id = the req_id it served. Only the guest writes the input half, only the emulator the
 * output half: an answer that comes after the guest gave up can never overwrite the inputs of a
 * later call, and carries an id the guest no longer waits for.
 *
 * Sleeping: before blocking on its eventfd the emulator thread stores emu_waiting = 1, issues a
 * full fence and re-checks req_id (the guest does the mirror image in step 3), so a request is
 * never left unseen; after waking it stores emu_waiting = 0. Without a doorbell connection
 * (header.doorbell == 0) the emulator polls and the guest never rings.
 *
 * Liveness: the emulator bumps heartbeat every kHeartbeatPeriodMs from a thread of its own (a slow
 * call does not stop it). emu_state == kEmuStopped (orderly exit) or a changed epoch (a new
 * emulator) fails a call at once; a heartbeat that has not moved for kHeartbeatStaleMs means the
 * emulator was killed.
 *
 * After a timeout the guest treats the backend as dead for the rest of its life (every later call
 * fails at once) and never hands the pages of the timed-out call back to the kernel. A new load
 * is a new handshake: it probes the header again and drains (waits for done_id == req_id) or
 * refuses a slot whose last request was never answered.
 *
 * Host interrupts: a real TDX module polls, in its long interruptible flows, for an interrupt
 * pending at the host CPU and answers TDX_INTERRUPTED_RESUMABLE at once (the host takes the
 * interrupt, then re-issues the call). The guest models that: while it waits in step 4 and sees an
 * interrupt pending at its local APIC (IRR), it store-releases irq_req = id and, with a doorbell
 * connection, rings the slot's vector (once per call); the emulator's interruptible waits
 * (TDH.QUOTE.GET's wait for its signature) block on that vector too and end when the slot's
 * irq_req equals its req_id. A stale irq_req never matches a later call's id, and a guest that
 * never writes it (0) never interrupts anything. The local APIC timer's interrupt is foreseen
 * rather than looked for (arch-x86-virt-tdx/backend.cpp, kTimerLeadNs): a waiting call marks
 * itself shortly before the timer's count runs out, and a call due to start then waits for that
 * interrupt with interrupts on first; to the emulator it is the same irq_req.
 *
 * The header also carries the platform facts that real hardware reports through MSRs
 * (the TDX KeyID partitioning), since the emulated guest has no such MSRs.
 */
#pragma once

#include "../abi/seamcall.h"
#include "mailbox_ids.h"

namespace tdx::emu {

using namespace tdx::abi;

inline constexpr u64 kMailboxMagic = 0x324D414553584454ull; /* "TDXSEAM2" little-endian */
inline constexpr u32 kProtocolVersion = 2;
inline constexpr u64 kSlotOffset = 4096;
inline constexpr u64 kSlotSize = 512;
inline constexpr u16 kIvshmemVendor = 0x1af4;
inline constexpr u16 kIvshmemDevice = 0x1110;
inline constexpr unsigned kIvshmemBar = 2;
inline constexpr unsigned kIvshmemRegBar = TDX_EMU_IVSHMEM_REG_BAR;
inline constexpr u32 kIvshmemDoorbellReg = TDX_EMU_IVSHMEM_DOORBELL; /* offset in BAR0 */
/* The emulator's ivshmem peer id; QEMU (the guest) gets kGuestPeer. */
inline constexpr u32 kDoorbellPeer = 0;
inline constexpr u32 kGuestPeer = 1;
inline constexpr u32 kHeartbeatPeriodMs = 250;
inline constexpr u32 kHeartbeatStaleMs = 2000;
static_assert(kIvshmemVendor == TDX_EMU_IVSHMEM_VENDOR && kIvshmemDevice == TDX_EMU_IVSHMEM_DEVICE &&
	      kIvshmemBar == TDX_EMU_IVSHMEM_BAR);

/* The value the guest writes to the Doorbell register to wake the thread of `slot`. */
constexpr u32 doorbell_value(u32 slot) { return (kDoorbellPeer << 16) | (slot & 0xFFFF); }

enum EmuState : u32 {
	kEmuStarting = 0,
	kEmuRunning = 1,
	kEmuStopped = 2, /* orderly exit; a killed emulator leaves kEmuRunning with a stale heartbeat */
};

struct MailboxHeader {
	u64 magic;            /* kMailboxMagic once the emulator is ready (written last) */
	u32 protocol_version; /* kProtocolVersion */
	u32 slot_count;       /* number of slots = logical CPUs the emulator models */
	u64 slot_offset;      /* kSlotOffset */
	u64 slot_size;        /* kSlotSize */
	u64 heartbeat;        /* incremented every kHeartbeatPeriodMs while the emulator runs */
	u32 emu_state;        /* EmuState */
	u32 doorbell;         /* 1: the emulator sleeps on the Doorbell (ring when emu_waiting); 0: it polls */
	/* Emulated IA32_MKTME_KEYID_PARTITIONING: TDX private KeyIDs are [tdx_keyid_start, +nr). */
	u32 tdx_keyid_start;
	u32 nr_tdx_keyids;
	u32 num_packages; /* packages the emulator models; LP i is in package i / (slot_count / num_packages) */
	/*
	 * The emulated platform's CPUID.1.EAX, what a runtime update's image must list in its
	 * sigstruct (0: the guest CPU's own). On hardware the kernel reads CPUID.
	 */
	u32 cpu_signature;
	u64 epoch; /* non-zero, different for every emulator start; written before magic */
	u32 platform_flags; /* kPlatform* bits: what the kernel would read from MSRs on hardware */
	u32 reserved1;
	u64 reserved2[6];
} __attribute__((packed));
/* The CPU has the SEAMRET-invalidates-VMCS erratum (IA32_VMX_BASIC bit 60 clear on hardware). */
inline constexpr u32 kPlatformSeamretInvalidatesVmcs = 1u << 0;
static_assert(sizeof(MailboxHeader) == 128);
static_assert(__builtin_offsetof(MailboxHeader, heartbeat) == 32);
static_assert(__builtin_offsetof(MailboxHeader, emu_state) == 40);
static_assert(__builtin_offsetof(MailboxHeader, doorbell) == 44);
static_assert(__builtin_offsetof(MailboxHeader, tdx_keyid_start) == 48);
static_assert(__builtin_offsetof(MailboxHeader, cpu_signature) == 60);
static_assert(__builtin_offsetof(MailboxHeader, epoch) == 64);
static_assert(__builtin_offsetof(MailboxHeader, platform_flags) == 72);

struct alignas(64) MailboxSlot {
	/* Input half: written by the guest only. */
	u64 req_id;    /* the call's identity: previous req_id + 1, store-release last */
	u64 rax;       /* leaf (ABI.md §1 encoding) */
	RegBlock regs; /* input registers, ABI order */
	u32 cpu;       /* CPU number, equal to the slot index (diagnostics) */
	u32 apic_id;   /* x2APIC id of the calling CPU (diagnostics) */
	/* Output half: written by the emulator only. */
	u64 done_id;       /* req_id of the call the outputs answer, store-release last */
	u64 status;        /* completion status (RAX out); CF=1 (VMfailInvalid) is carried as
			    * TDX_SEAMCALL_VMFAILINVALID (0x8000FF00FFFF0000), the value the hw
			    * backend makes of it, with out_regs left as they were */
	RegBlock out_regs; /* output registers, ABI order */
	u64 service_ns;    /* time the emulator spent on the call once it had the inputs */
	/* Emulator thread state. */
	u32 emu_waiting; /* 1 while the slot's emulator thread sleeps on its doorbell vector */
	u32 pad;
	/* Written by the guest during a call: the req_id of the call it waits for when it saw an
	 * interrupt pending at its CPU (see "Host interrupts" above). */
	u64 irq_req;
	u8 reserved[512 - 272];
};
static_assert(sizeof(MailboxSlot) == kSlotSize);
static_assert(__builtin_offsetof(MailboxSlot, rax) == 8);
static_assert(__builtin_offsetof(MailboxSlot, regs) == 16);
static_assert(__builtin_offsetof(MailboxSlot, cpu) == 120);
static_assert(__builtin_offsetof(MailboxSlot, done_id) == 128);
static_assert(__builtin_offsetof(MailboxSlot, status) == 136);
static_assert(__builtin_offsetof(MailboxSlot, out_regs) == 144);
static_assert(__builtin_offsetof(MailboxSlot, service_ns) == 248);
static_assert(__builtin_offsetof(MailboxSlot, emu_waiting) == 256);
static_assert(__builtin_offsetof(MailboxSlot, irq_req) == 264);

/*
 * Per-leaf call counters the emulator keeps in the header page (u64 each, indexed by leaf number
 * below leaf::kMax; P-SEAMLDR calls are not counted). Monotonic for the emulator's lifetime (the
 * control socket's reset-counters does not touch them), so in-guest tests such as the KUnit
 * bring-up suite can see each step's SEAMCALLs as deltas.
 */
inline constexpr u64 kLeafCallsOffset = 512;
static_assert(kLeafCallsOffset >= sizeof(MailboxHeader));
static_assert(kLeafCallsOffset + leaf::kMax * sizeof(u64) <= kSlotOffset);

/* Bytes of shared memory needed for n slots (ivshmem wants a power of two; callers round up). */
constexpr u64 mailbox_bytes(u32 slots) { return kSlotOffset + u64(slots) * kSlotSize; }

} // namespace tdx::emu
