// SPDX-License-Identifier: GPL-2.0
/* The real-hardware side of SEAMCALL: whether the CPU can do it, and the KeyID partitioning. */
#include <linux/errno.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include <kapi/kapi.h>

#define MSR_IA32_MKTME_KEYID_PARTITIONING_ 0x00000087

int kapi_hw_seam_available(void)
{
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
	u32 nr_mktme, nr_tdx;

	if (rdmsr_safe(MSR_IA32_MKTME_KEYID_PARTITIONING_, &nr_mktme, &nr_tdx))
		return -ENODEV;
	/* KeyID 0 is TME; MKTME KeyIDs follow; TDX private KeyIDs come last. */
	*start = nr_mktme + 1;
	*nr = nr_tdx;
	return nr_tdx ? 0 : -ENODEV;
}

int kapi_hw_seamret_invalidates_vmcs(void)
{
	u64 basic;

	/* IA32_VMX_BASIC bit 60 set: SEAMRET keeps the current VMCS; clear (or unreadable): the erratum. */
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return 1;
	return !(basic & BIT_ULL(60));
}
