// SPDX-License-Identifier: GPL-2.0
#include <kapi/kapi.h>

#include "backend.h"

namespace tdx {

using emu::MailboxHeader;
using emu::MailboxSlot;

namespace {
inline void cpu_relax() { asm volatile("pause" ::: "memory"); }
/* Check the clock only every so many spins: reading it costs far more than a pause. */
constexpr u32 kSpinsPerClockCheck = 256;
constexpr u32 kBusySpins = 1024;
} // namespace

Status EmuBackend::probe(void *base, usize size, u32 nr_cpus)
{
	if (size < emu::kSlotOffset)
		return error(err::kENODEV);
	auto *h = static_cast<MailboxHeader *>(base);
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != emu::kMailboxMagic) {
		kapi_log(KAPI_LOG_ERR, "emulator mailbox has no magic: is seam-emu running?\n");
		return error(err::kENODEV);
	}
	if (h->protocol_version != emu::kProtocolVersion || h->slot_offset != emu::kSlotOffset ||
	    h->slot_size != emu::kSlotSize) {
		kapi_log(KAPI_LOG_ERR, "emulator mailbox protocol %u not supported (want %u)\n",
			 h->protocol_version, emu::kProtocolVersion);
		return error(err::kENODEV);
	}
	if (h->slot_count < nr_cpus || emu::mailbox_bytes(h->slot_count) > size) {
		kapi_log(KAPI_LOG_ERR, "emulator models %u logical CPUs, this guest has %u\n",
			 h->slot_count, nr_cpus);
		return error(err::kENODEV);
	}
	return Status::ok();
}

EmuBackend::EmuBackend(void *base, u64 timeout_ns)
	: hdr_(static_cast<MailboxHeader *>(base)), timeout_ns_(timeout_ns)
{
}

MailboxSlot *EmuBackend::slot(u32 cpu) const
{
	auto *bytes = reinterpret_cast<u8 *>(hdr_);
	return reinterpret_cast<MailboxSlot *>(bytes + emu::kSlotOffset + u64(cpu) * emu::kSlotSize);
}

u64 EmuBackend::call(u64 rax, RegBlock &regs)
{
	if (dead())
		return kTdxSeamcallTimeout;

	kapi_preempt_disable();
	u32 cpu = kapi_this_cpu();
	if (cpu >= hdr_->slot_count) {
		kapi_preempt_enable();
		return abi::kTdxSeamcallVmFailInvalid;
	}
	MailboxSlot *s = slot(cpu);
	s->rax = rax;
	s->regs = regs;
	s->cpu = cpu;
	s->apic_id = kapi_cpu_apic_id(cpu);
	u32 seq = s->req_seq + 1;
	__atomic_store_n(&s->req_seq, seq, __ATOMIC_RELEASE);

	/*
	 * The emulator usually answers within a few hundred loads: spin on plain loads first (under
	 * TCG a PAUSE leaves the translated code, which costs more than the whole call), then relax.
	 * The clock is read only every kSpinsPerClockCheck spins, from the first check on.
	 */
	u64 start = 0;
	for (u32 spins = 1; __atomic_load_n(&s->done_seq, __ATOMIC_ACQUIRE) != seq; spins++) {
		if (spins > kBusySpins)
			cpu_relax();
		if (spins % kSpinsPerClockCheck)
			continue;
		u64 now = kapi_ktime_ns();
		if (!start)
			start = now;
		else if (now - start > timeout_ns_) {
			__atomic_store_n(&dead_, true, __ATOMIC_RELEASE);
			kapi_preempt_enable();
			kapi_log(KAPI_LOG_ERR,
				 "SEAMCALL 0x%llx on CPU %u: emulator did not answer in %llu ms; TDX is unusable\n",
				 (unsigned long long)rax, cpu,
				 (unsigned long long)(timeout_ns_ / 1000000));
			return kTdxSeamcallTimeout;
		}
	}
	u64 status = s->rax;
	regs = s->regs;
	kapi_preempt_enable();
	return status;
}

u64 EmuBackend::last_service_ns(u32 cpu) const
{
	return cpu < hdr_->slot_count ? __atomic_load_n(&slot(cpu)->service_ns, __ATOMIC_ACQUIRE) : 0;
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
	start = hdr_->tdx_keyid_start;
	nr = hdr_->nr_tdx_keyids;
	return nr ? Status::ok() : error(err::kENODEV);
}

Status HwBackend::probe()
{
	return kapi_hw_seam_available() ? Status::ok() : error(err::kENODEV);
}

u64 HwBackend::call(u64 rax, RegBlock &regs)
{
	static_assert(sizeof(RegBlock) == abi::kNumRegs * sizeof(kapi_u64));
	return kapi_seamcall_hw(rax, reinterpret_cast<kapi_u64 *>(&regs));
}

Status HwBackend::tdx_keyids(u32 &start, u32 &nr)
{
	unsigned s = 0, n = 0;
	Status st = Status::from_kernel(kapi_hw_tdx_keyids(&s, &n));
	start = s;
	nr = n;
	return st;
}

} // namespace tdx
