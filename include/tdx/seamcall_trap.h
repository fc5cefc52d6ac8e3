/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tdx_seamcall_trap.ko (seamcall-trap/, test build only): what the SEAMCALL trap tells the test
 * build of tdx_host.ko about the emulated platform it serves, in place of what hardware reports
 * through CPUID and MSRs, and the emulator's service requests it carries for that build
 * (arch-x86-virt-tdx/glue/hw.c asks through symbol_get(), so tdx_host.ko has no dependency on the
 * trap). Exported with EXPORT_SYMBOL_GPL, no namespace (symbol_get only finds GPL exports).
 */
#ifndef TDX_SEAMCALL_TRAP_H
#define TDX_SEAMCALL_TRAP_H

struct tdx_seamcall_trap_platform {
	/* Emulated IA32_MKTME_KEYID_PARTITIONING: TDX private KeyIDs are [tdx_keyid_start, +nr). */
	unsigned int tdx_keyid_start;
	unsigned int nr_tdx_keyids;
	/* The emulated platform's CPUID.1.EAX (the guest CPU's own when the emulator gives none). */
	unsigned int cpu_signature;
	/* The emulated CPU has the SEAMRET-invalidates-VMCS erratum (IA32_VMX_BASIC bit 60 clear). */
	int seamret_invalidates_vmcs;
};

/*
 * 0 and the platform facts while the trap serves SEAMCALLs through a live emulator (which stands
 * for "the CPU reports TDX and VMX operation is on"); -ENODEV when it does not. new_load: a
 * client's load is probing the platform (process context, may sleep; no call of that client in
 * flight): if the emulator stopped or was replaced since the trap set its mailbox up, or no
 * mailbox is set up, the trap sets one up first on the emulator now there.
 */
int tdx_seamcall_trap_platform(struct tdx_seamcall_trap_platform *out, int new_load);

/*
 * Test build only, emulator only: an emulator service request (include/tdx/emu/service.h: rax,
 * rcx, rdx, r8) through the trap's mailbox, for tdx_host's test build on the hw backend (its TD
 * harness); the status, or TDX_SEAMCALL_VMFAILINVALID when rax is not a service request or the
 * trap has no mailbox. Never sleeps. No hardware has such a request.
 */
unsigned long long tdx_seamcall_trap_emu_service(unsigned long long rax, unsigned long long rcx,
						 unsigned long long rdx, unsigned long long r8);

#endif
