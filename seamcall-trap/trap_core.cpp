// SPDX-License-Identifier: GPL-2.0
/*
 * The SEAMCALL trap's mailbox client: tdx_host.ko's own emulator backend (EmuBackend, protocol v2,
 * arch-x86-virt-tdx/backend.cpp) compiled into this module as one translation unit of its own,
 * without the hardware backend. EmuBackend::call is made for this: interrupts off for the whole
 * use of this CPU's slot, a wait that never sleeps when called with interrupts off (may_sleep is
 * false inside call()), the local APIC looked at for pending interrupts, the lockup watchdogs
 * touched; its one log line (the first failure) is printed once for the backend's life.
 */
#include "../arch-x86-virt-tdx/seamcall.cpp"
#include "../arch-x86-virt-tdx/backend.cpp"

#include <kstd/lazy_init.h>
#include <tdx/abi/metadata.h>
#include <tdx/seamcall_trap.h>

#include "trap_core.h"

using namespace tdx;

namespace {

kstd::LazyInit<EmuBackend> g_emu;

} // namespace

int tdx_trap_emu_start(const kapi_emu_device *dev, kapi_u64 timeout_ns, unsigned int nr_cpus)
{
	EmuBackend &emu = g_emu.init(*dev, timeout_ns ? timeout_ns : EmuBackend::kWhileAlive);
	emu.hold_device();
	Status s = emu.probe(nr_cpus);
	if (s.is_error()) {
		g_emu.destroy();
		return s.to_kernel();
	}
	return 0;
}

void tdx_trap_emu_stop(void) { g_emu.destroy(); }

tdx_trap_outcome tdx_trap_emu_call(kapi_u64 rax, kapi_u64 *regs, kapi_u64 *status)
{
	static_assert(sizeof(RegBlock) == abi::kNumRegs * sizeof(kapi_u64));
	/*
	 * A TDX module answers a RAX with bits 62:24 set OPERAND_INVALID | RAX; only the emulator would
	 * take bit 62 for its own service request, which no hardware has.
	 */
	if (is_emu_service(rax)) {
		*status = abi::status::kOperandInvalid;
		return TDX_TRAP_COMPLETED;
	}
	RegBlock r = *reinterpret_cast<const RegBlock *>(regs);
	u64 s = g_emu->call(rax, r);
	*status = s;
	if (s == abi::kTdxSeamcallVmFailInvalid)
		return TDX_TRAP_VMFAILINVALID;
	if (s == kTdxSeamcallTimeout || s == kTdxSeamcallEmuGone)
		return TDX_TRAP_EMU_FAILED;
	*reinterpret_cast<RegBlock *>(regs) = r;
	return TDX_TRAP_COMPLETED;
}

kapi_u64 tdx_trap_emu_service(int live, kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8)
{
	if (!live)
		return abi::kTdxSeamcallVmFailInvalid;
	return g_emu->service(rax, rcx, rdx, r8);
}

int tdx_trap_emu_replaced(void) { return g_emu->emulator_replaced(); }

kapi_u64 tdx_trap_emu_last_service_ns(unsigned int cpu) { return g_emu->last_service_ns(cpu); }

void tdx_trap_bench_args(kapi_u64 *rax, kapi_u64 *field)
{
	*rax = leaves::kSysRd.rax();
	*field = abi::field::kMajorVersion;
}

void tdx_trap_emu_platform(struct tdx_seamcall_trap_platform *out)
{
	EmuBackend &emu = g_emu.get();
	u32 start = 0, nr = 0;
	(void)emu.tdx_keyids(start, nr); /* probe checked them: never an error here */
	out->tdx_keyid_start = start;
	out->nr_tdx_keyids = nr;
	out->cpu_signature = emu.cpu_signature();
	out->seamret_invalidates_vmcs = emu.seamret_invalidates_vmcs();
}
