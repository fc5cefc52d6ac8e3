// SPDX-License-Identifier: GPL-2.0
/*
 * The real-hardware side of SEAMCALL: whether the CPU can do it, the KeyID partitioning, the CPU
 * signature and the SEAMRET erratum. The instruction itself is seamcall_hw.S.
 *
 * Test build only (TDX_KUNIT_HOOKS): when the SEAMCALL trap (seamcall-trap/, a test module that
 * turns the instruction's #UD under QEMU into a call to the emulator) is loaded and serving, these
 * platform facts come from it instead, since the emulated guest has no TDX CPUID bit and no TDX
 * MSRs; a load's probe (kapi_hw_seam_available) also lets the trap set its mailbox up again after
 * the emulator was replaced. Nothing from the instruction on is substituted. The TD harness's
 * emulator service requests (emulator only, never an instruction) go to the trap as a function
 * call on this backend (kapi_hw_trap_emu_service).
 */
#include <linux/errno.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include <kapi/kapi.h>
#include <tdx/seamcall_trap.h>

#ifdef TDX_KUNIT_HOOKS
#include <linux/module.h>
#include <kapi/kunit_hooks.h>

/*
 * The trap's platform facts while it serves (symbol_get: no dependency on the trap module);
 * new_load: this is a load's probe (see tdx_seamcall_trap_platform).
 */
static bool trap_platform(struct tdx_seamcall_trap_platform *p, int new_load)
{
	int (*get)(struct tdx_seamcall_trap_platform *, int) = symbol_get(tdx_seamcall_trap_platform);
	int ret;

	if (!get)
		return false;
	ret = get(p, new_load);
	symbol_put(tdx_seamcall_trap_platform);
	return ret == 0;
}

int kapi_hw_trap_emu_service(kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8, kapi_u64 *status)
{
	unsigned long long (*svc)(unsigned long long, unsigned long long, unsigned long long, unsigned long long) =
		symbol_get(tdx_seamcall_trap_emu_service);

	if (!svc)
		return -ENODEV;
	*status = svc(rax, rcx, rdx, r8);
	symbol_put(tdx_seamcall_trap_emu_service);
	return 0;
}
#else
/* The module users install: only the hardware's own report. */
static bool trap_platform(struct tdx_seamcall_trap_platform *p, int new_load)
{
	return false;
}
#endif

#define MSR_IA32_MKTME_KEYID_PARTITIONING_ 0x00000087

int kapi_hw_seam_available(void)
{
	struct tdx_seamcall_trap_platform trap;

	if (trap_platform(&trap, 1))
		return 1;
	/*
	 * SEAMCALL needs a BIOS that enabled TDX (the kernel then sets TDX_HOST_PLATFORM) and VMX
	 * root operation on this CPU, which KVM establishes (CR4.VMXE is set while it is on).
	 */
	if (!boot_cpu_has(X86_FEATURE_TDX_HOST_PLATFORM))
		return 0;
	return !!(cr4_read_shadow() & X86_CR4_VMXE);
}

int kapi_hw_tdx_keyids(unsigned int *start, unsigned int *nr)
{
	struct tdx_seamcall_trap_platform trap;
	u32 nr_mktme, nr_tdx;

	if (trap_platform(&trap, 0)) {
		*start = trap.tdx_keyid_start;
		*nr = trap.nr_tdx_keyids;
		return trap.nr_tdx_keyids ? 0 : -ENODEV;
	}
	if (rdmsr_safe(MSR_IA32_MKTME_KEYID_PARTITIONING_, &nr_mktme, &nr_tdx))
		return -ENODEV;
	/* KeyID 0 is TME; MKTME KeyIDs follow; TDX private KeyIDs come last. */
	*start = nr_mktme + 1;
	*nr = nr_tdx;
	return nr_tdx ? 0 : -ENODEV;
}

unsigned int kapi_hw_cpu_signature(void)
{
	struct tdx_seamcall_trap_platform trap;

	if (trap_platform(&trap, 0))
		return trap.cpu_signature;
	return kapi_cpuid_1_eax();
}

int kapi_hw_seamret_invalidates_vmcs(void)
{
	struct tdx_seamcall_trap_platform trap;
	u64 basic;

	if (trap_platform(&trap, 0))
		return trap.seamret_invalidates_vmcs;
	/* IA32_VMX_BASIC bit 60 set: SEAMRET keeps the current VMCS; clear (or unreadable): the erratum. */
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return 1;
	return !(basic & BIT_ULL(60));
}
