/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm_tdx_quote.ko's in-kernel interface (namespace KVM_TDX_QUOTE): GetQuote and
 * SetupEventNotifyInterrupt handling as KVM's TDVMCALL handler runs it, for a KVM integration
 * that supplies the TD's guest memory, its shared/private attributes and its identity.
 * In this project the test build's TD harness (td-harness/) is that integration; nothing in
 * kvm-tdx/ knows whether it is a test.
 *
 * C header (kernel modules include it after <linux/types.h>).
 */
#ifndef TDX_KVM_TDX_QUOTE_H
#define TDX_KVM_TDX_QUOTE_H

#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDX_NS_KVM_QUOTE "KVM_TDX_QUOTE"
#else
#define TDX_NS_KVM_QUOTE KVM_TDX_QUOTE
#endif
#define TDX_IMPORT_KVM_QUOTE() MODULE_IMPORT_NS(TDX_NS_KVM_QUOTE)

/*
 * What the integration provides for one TD. GPAs here have the shared bit stripped. Each call
 * may sleep; none is made after kvm_tdx_quote_td_destroy() returns.
 */
struct kvm_tdx_quote_td_ops {
	/* Copy len bytes of the TD's memory at gpa out / in: 0, or -EFAULT when any byte is not
	 * backed. Used only on ranges range_shared() accepted. */
	int (*read)(void *priv, u64 gpa, void *buf, u64 len);
	int (*write)(void *priv, u64 gpa, const void *buf, u64 len);
	/* True when every page of [gpa, gpa + len) is mapped shared (len > 0, no wrap). */
	bool (*range_shared)(void *priv, u64 gpa, u64 len);
	/* Raise vector (32..255) on the TD, as a posted interrupt would. */
	void (*inject)(void *priv, u8 vector);
};

struct kvm_tdx_quote_td;

/*
 * A TD, from its creation (KVM_TDX_INIT_VM) on: tdr_pa its TDR page, shared_bit the GPA bit
 * that marks shared memory (GPAW - 1: 47 or 51). Whether its quotes are made in the kernel is
 * decided here, once: in-kernel when the module parameter in_kernel allows it and tdx_host's
 * quoting is enabled now; else through userspace (/dev/kvm_tdx_quote). NULL with *err set
 * (-EINVAL for a bad shared_bit or ops, -ENOMEM).
 */
struct kvm_tdx_quote_td *kvm_tdx_quote_td_create(const struct kvm_tdx_quote_td_ops *ops, void *priv,
						 u64 tdr_pa, unsigned int shared_bit, int *err);
/*
 * The TD is going away (no vCPU of it is inside kvm_tdx_quote_tdvmcall any more, as KVM frees
 * vCPUs before the VM): its requests in flight are forgotten (their buffers die with the TD), and
 * no op is called once this returns; it waits for a VMM's access in progress.
 */
void kvm_tdx_quote_td_destroy(struct kvm_tdx_quote_td *td);
/* True when the TD's quotes are made in the kernel (decided at creation). */
bool kvm_tdx_quote_td_in_kernel(const struct kvm_tdx_quote_td *td);
/* The TD's handle in /dev/kvm_tdx_quote records. */
u32 kvm_tdx_quote_td_handle(const struct kvm_tdx_quote_td *td);

/*
 * TDG.VP.VMCALL with r11 = subfn (GetQuote or SetupEventNotifyInterrupt), r12, r13, from the
 * TD's vCPU (process context; may sleep: the in-kernel quote is synchronous, the userspace path
 * waits for the VMM's answer to the exit). Returns r10, the TDVMCALL status (ABI.md §9). Any
 * other subfn: SUBFUNC_UNSUPPORTED.
 */
u64 kvm_tdx_quote_tdvmcall(struct kvm_tdx_quote_td *td, u64 subfn, u64 r12, u64 r13);

#endif /* TDX_KVM_TDX_QUOTE_H */
