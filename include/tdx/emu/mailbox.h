/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest <-> seam-emu mailbox (project-defined protocol, version 1).
 *
 * The mailbox is the shared memory behind an ivshmem-plain PCI device (vendor 0x1af4, device
 * 0x1110, BAR2). Page 0 holds a MailboxHeader written by the emulator; from kSlotOffset on there
 * is one MailboxSlot per logical CPU, indexed by the guest's CPU number.
 *
 * A call, seen from the guest CPU that owns slot i (preemption off, interrupts may be off):
 *   1. write rax (leaf) and regs, apic_id and cpu;
 *   2. store-release req_seq = previous req_seq + 1;
 *   3. spin (cpu_relax) until load-acquire done_seq == req_seq, or until the timeout;
 *   4. read rax (completion status) and regs.
 * The emulator polls req_seq != done_seq (load-acquire), serves the call, writes rax, regs and
 * service_ns, then store-releases done_seq = req_seq. Only the guest writes req_seq; only the
 * emulator writes done_seq. A guest that timed out never reuses the slot without a fresh handshake
 * (it marks TDX unusable).
 *
 * The header also carries the platform facts that real hardware reports through MSRs
 * (the TDX KeyID partitioning), since the emulated guest has no such MSRs.
 */
#pragma once

#include "../abi/seamcall.h"
#include "mailbox_ids.h"

namespace tdx::emu {

using namespace tdx::abi;

inline constexpr u64 kMailboxMagic = 0x314D414553584454ull; /* "TDXSEAM1" little-endian */
inline constexpr u32 kProtocolVersion = 1;
inline constexpr u64 kSlotOffset = 4096;
inline constexpr u64 kSlotSize = 256;
inline constexpr u16 kIvshmemVendor = 0x1af4;
inline constexpr u16 kIvshmemDevice = 0x1110;
inline constexpr unsigned kIvshmemBar = 2;
static_assert(kIvshmemVendor == TDX_EMU_IVSHMEM_VENDOR && kIvshmemDevice == TDX_EMU_IVSHMEM_DEVICE &&
	      kIvshmemBar == TDX_EMU_IVSHMEM_BAR);

enum EmuState : u32 {
	kEmuStarting = 0,
	kEmuRunning = 1,
	kEmuStopped = 2, /* orderly exit; a killed emulator leaves kEmuRunning with a stale heartbeat */
};

struct MailboxHeader {
	u64 magic;            /* kMailboxMagic once the emulator is ready */
	u32 protocol_version; /* kProtocolVersion */
	u32 slot_count;       /* number of slots = logical CPUs the emulator models */
	u64 slot_offset;      /* kSlotOffset */
	u64 slot_size;        /* kSlotSize */
	u64 heartbeat;        /* incremented by the emulator at least every 100 ms while it runs */
	u32 emu_state;        /* EmuState */
	u32 reserved0;
	/* Emulated IA32_MKTME_KEYID_PARTITIONING: TDX private KeyIDs are [tdx_keyid_start, +nr). */
	u32 tdx_keyid_start;
	u32 nr_tdx_keyids;
	u32 num_packages; /* packages the emulator models; LP i is in package i / (slot_count / num_packages) */
	u32 reserved1;
} __attribute__((packed));
static_assert(sizeof(MailboxHeader) == 64);
static_assert(__builtin_offsetof(MailboxHeader, heartbeat) == 32);
static_assert(__builtin_offsetof(MailboxHeader, tdx_keyid_start) == 48);

struct alignas(64) MailboxSlot {
	u32 req_seq;  /* guest -> emulator, store-release */
	u32 done_seq; /* emulator -> guest, store-release */
	u32 apic_id;  /* guest: x2APIC id of the calling CPU (diagnostics) */
	u32 cpu;      /* guest: CPU number, equal to the slot index */
	u64 rax;      /* in: leaf (ABI.md §1 encoding); out: completion status */
	RegBlock regs;  /* in/out, ABI order */
	u64 service_ns; /* emulator: time it spent serving this call */
	u8 reserved[256 - 24 - sizeof(RegBlock) - 8];
};
static_assert(sizeof(MailboxSlot) == kSlotSize);
static_assert(__builtin_offsetof(MailboxSlot, rax) == 16);
static_assert(__builtin_offsetof(MailboxSlot, regs) == 24);
static_assert(__builtin_offsetof(MailboxSlot, service_ns) == 24 + 13 * 8);

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
