/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C ABI between the freestanding C++ core and the C kernel glue. The glue implements every
 * kapi_* function (C files in the glue/ folders); host tests implement them with a fake. The core implements the
 * tdx_core_* entry points the glue calls. No kernel header is included here, so both C and C++
 * can include this file, and the C++ core never sees <linux/...>.
 */
#ifndef TDX_KAPI_H
#define TDX_KAPI_H

#ifdef __cplusplus
#define KAPI_EXTERN extern "C"
#define KAPI_NORETURN [[noreturn]]
#else
#define KAPI_EXTERN
#define KAPI_NORETURN __attribute__((__noreturn__))
#endif

typedef unsigned long long kapi_u64;
typedef unsigned int kapi_u32;
typedef unsigned long kapi_size;

/* ---- diagnostics ---- */
enum kapi_log_level { KAPI_LOG_ERR = 3, KAPI_LOG_WARN = 4, KAPI_LOG_INFO = 6, KAPI_LOG_DEBUG = 7 };
KAPI_EXTERN void kapi_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A broken invariant of the core itself: BUG() in the kernel, abort() on the host. */
KAPI_EXTERN KAPI_NORETURN void kapi_bug(const char *what);

/* ---- memory ---- */
/*
 * Zeroed memory that is only virtually contiguous (kvzalloc): for the core's own objects. Never
 * hand it to the TDX module by physical address.
 */
KAPI_EXTERN void *kapi_kzalloc(kapi_size size);
KAPI_EXTERN void kapi_kfree(const void *p);
/*
 * nr_pages zeroed, physically contiguous pages in the direct map, for memory the TDX module is
 * given by physical address: exactly nr_pages from the page allocator (up to 2^MAX_PAGE_ORDER
 * pages), else a free range of a zone taken with alloc_contig_range (kernels with
 * CONFIG_CONTIG_ALLOC). Returns the kernel virtual address or NULL; free with the same count.
 */
KAPI_EXTERN void *kapi_alloc_contig_pages(kapi_u64 nr_pages);
KAPI_EXTERN void kapi_free_contig_pages(void *va, kapi_u64 nr_pages);
/*
 * Memory handed to a caller outside the core, which frees it with kvfree() (kvmalloc, not
 * zeroed): a quote. kapi_kvfree() frees it when the core keeps it after all.
 */
KAPI_EXTERN void *kapi_kvmalloc(kapi_size size);
KAPI_EXTERN void kapi_kvfree(const void *p);
/* Physical address of direct-map memory; a vmalloc address is a bug (warns, returns ~0). */
KAPI_EXTERN kapi_u64 kapi_virt_to_phys(const void *va);
/* Write back and invalidate caches on every CPU (before memory the TDX module used is reused). */
KAPI_EXTERN void kapi_wbinvd_on_all_cpus(void);

/*
 * System RAM ranges, ascending, [start, end) in bytes. The callback returns 0 to go on or -errno
 * to stop; the walk returns 0 when it saw every range (none is not an error), else the callback's
 * -errno as it was (-EINVAL included).
 */
typedef int (*kapi_ram_range_fn)(void *ctx, kapi_u64 start, kapi_u64 end);
KAPI_EXTERN int kapi_for_each_system_ram(kapi_ram_range_fn fn, void *ctx);

/* ---- CPUs ---- */
KAPI_EXTERN unsigned int kapi_nr_cpu_ids(void);
KAPI_EXTERN int kapi_cpu_online(unsigned int cpu);
KAPI_EXTERN int kapi_cpu_present(unsigned int cpu);
KAPI_EXTERN unsigned int kapi_cpu_package(unsigned int cpu);
KAPI_EXTERN unsigned int kapi_cpu_apic_id(unsigned int cpu);
/* Only valid with preemption off. */
KAPI_EXTERN unsigned int kapi_this_cpu(void);
KAPI_EXTERN void kapi_preempt_disable(void);
KAPI_EXTERN void kapi_preempt_enable(void);
/* Whether the caller may sleep (not atomic, interrupts on). */
KAPI_EXTERN int kapi_may_sleep(void);
KAPI_EXTERN void kapi_cond_resched(void);
/* cond_resched() where the caller may sleep: for long loops that may also run in atomic context. */
static inline void kapi_cond_resched_if_may_sleep(void)
{
	if (kapi_may_sleep())
		kapi_cond_resched();
}
/* Hold off CPU hotplug while the online set matters (bring-up, teardown). */
KAPI_EXTERN void kapi_cpus_read_lock(void);
KAPI_EXTERN void kapi_cpus_read_unlock(void);
/* Run fn(ctx) on cpu with interrupts off and wait; returns fn's value or -errno. */
typedef int (*kapi_cpu_fn)(void *ctx);
KAPI_EXTERN int kapi_run_on_cpu(unsigned int cpu, kapi_cpu_fn fn, void *ctx);
/* Run fn(ctx) on cpu in a sleepable context (a kworker bound to cpu) and wait. */
KAPI_EXTERN int kapi_run_on_cpu_sleepable(unsigned int cpu, kapi_cpu_fn fn, void *ctx);

/*
 * CPU hotplug (glue/host.c): fn(cpu) runs on each CPU that comes online from now on, until
 * kapi_cpuhp_remove(); a non-zero return refuses the CPU. One registration at a time.
 */
typedef int (*kapi_cpuhp_fn)(unsigned int cpu);
KAPI_EXTERN int kapi_cpuhp_add(kapi_cpuhp_fn online);
KAPI_EXTERN void kapi_cpuhp_remove(void);

/* The lock of the core's one owner of the TDX module state (glue/host.c; a sleeping mutex). */
KAPI_EXTERN void kapi_state_lock(void);
KAPI_EXTERN void kapi_state_unlock(void);
/*
 * The quote lock (glue/kapi.c; a sleeping mutex): serializes quote requests over the one quote
 * buffer. Taken inside the state lock, never the other way round (arch-x86-virt-tdx/quote.h).
 */
KAPI_EXTERN void kapi_quote_lock(void);
KAPI_EXTERN void kapi_quote_unlock(void);

/* ---- time ---- */
KAPI_EXTERN kapi_u64 kapi_ktime_ns(void);

/* ---- SEAMCALL backends ---- */
/*
 * The real instruction (arch-x86-virt-tdx/glue/seamcall_hw.S). regs points to 13 u64 in ABI
 * order, updated with the outputs. Faults (#GP, #UD) and VMfailInvalid come back as the
 * software-defined statuses.
 */
KAPI_EXTERN kapi_u64 kapi_seamcall_hw(kapi_u64 rax, kapi_u64 *regs);
/* Whether this CPU can execute SEAMCALL at all (TDX reported, VMX operation on). */
KAPI_EXTERN int kapi_hw_seam_available(void);
/* IA32_VMX_BASIC bit 60 clear: SEAMRET invalidates the current VMCS (no P-SEAMLDR calls). */
KAPI_EXTERN int kapi_hw_seamret_invalidates_vmcs(void);
/* CPUID.1.EAX, the signature a runtime update's image must list. */
KAPI_EXTERN unsigned int kapi_hw_cpu_signature(void);
/* IA32_MKTME_KEYID_PARTITIONING on real hardware: TDX KeyIDs are [start, start + nr). */
KAPI_EXTERN int kapi_hw_tdx_keyids(unsigned int *start, unsigned int *nr);
/*
 * The emulator's ivshmem device (arch-x86-virt-tdx/glue/emu_pci.c, a pci_driver): the mailbox
 * (BAR2, mapped write-back, shared with the emulator) and the device registers (BAR0, iomapped;
 * NULL when the device has none).
 */
struct kapi_emu_device {
	void *mailbox;
	kapi_size size;
	void *regs;
};
/*
 * 0 and the device when the driver has bound one, else -ENODEV. The device is then in use until
 * kapi_emu_put(): removing it first tears the core down (tdx_core_exit).
 */
KAPI_EXTERN int kapi_emu_get(struct kapi_emu_device *dev);
KAPI_EXTERN void kapi_emu_put(void);
/* Writes value to the Doorbell register of the device's registers (regs from kapi_emu_get). */
KAPI_EXTERN void kapi_emu_ring_doorbell(void *regs, unsigned int value);

/* ---- interrupts and watchdogs (a SEAMCALL through the emulator spins with interrupts off) ---- */
typedef unsigned long kapi_irqflags;
KAPI_EXTERN kapi_irqflags kapi_local_irq_save(void);
KAPI_EXTERN void kapi_local_irq_restore(kapi_irqflags flags);
/* Tells the soft- and hard-lockup detectors that this CPU, spinning with interrupts off, is fine. */
KAPI_EXTERN void kapi_touch_watchdogs(void);
/* A spin-wait's pause (cpu_relax). */
KAPI_EXTERN void kapi_cpu_relax(void);
/* Whether an interrupt is pending at this CPU's local APIC (any IRR bit), interrupts off or not. */
KAPI_EXTERN int kapi_irq_pending(void);
/*
 * This CPU's local APIC timer: its current count (0 once it ran out, and always when it is not
 * armed or counts TSC deadlines instead) and its initial count (0 when not armed).
 */
KAPI_EXTERN kapi_u32 kapi_lapic_timer_count(void);
KAPI_EXTERN kapi_u32 kapi_lapic_timer_initial(void);
/* How many local APIC timer interrupts this CPU has taken (wraps). */
KAPI_EXTERN kapi_u32 kapi_timer_irqs(void);
/* Whether interrupts were on where kapi_local_irq_save returned flags. */
KAPI_EXTERN int kapi_irqflags_on(kapi_irqflags flags);
/*
 * The P-SEAMLDR lock (glue/kapi.c; a raw spinlock taken with interrupts off): only one CPU may be
 * inside the P-SEAMLDR at a time, and INSTALL runs on every CPU inside stop_machine.
 */
KAPI_EXTERN kapi_irqflags kapi_seamldr_lock(void);
KAPI_EXTERN void kapi_seamldr_unlock(kapi_irqflags flags);

/* ---- runtime update ---- */
/*
 * fn(ctx) on every online CPU at once with interrupts off (stop_machine, which holds the CPU
 * hotplug lock itself: the caller must not). Returns the first non-zero fn return, or 0.
 */
KAPI_EXTERN int kapi_stop_machine(kapi_cpu_fn fn, void *ctx);
KAPI_EXTERN unsigned int kapi_num_online_cpus(void);
/* The page frame of byte offset of the vmalloc'ed buffer at base (vmalloc_to_pfn). */
KAPI_EXTERN kapi_u64 kapi_vmalloc_to_pfn(const void *base, kapi_u64 offset);
/* SHA-384 of len bytes (the kernel's crypto API, "sha384"): 0, or -errno with out untouched. */
KAPI_EXTERN int kapi_sha384(const void *data, kapi_size len, unsigned char out[48]);
/*
 * RSA PKCS#1 v1.5 with SHA-384 (the kernel's crypto API): whether sig (big-endian, as long as the
 * modulus) signs digest (48 bytes, the SHA-384 of the message) under the public key (modulus
 * big-endian, exponent). 0 verified, -EKEYREJECTED not, other -errno when it could not check.
 */
KAPI_EXTERN int kapi_rsa_pkcs1_sha384_verify(const unsigned char *modulus, kapi_size modulus_len,
					     unsigned int exponent, const unsigned char *sig,
					     const unsigned char digest[48]);
/* CPUID.1.EAX of this CPU (family, model, stepping). */
KAPI_EXTERN unsigned int kapi_cpuid_1_eax(void);

/* ---- the core's entry points (implemented in C++) ---- */
enum tdx_seamcall_mode { TDX_SEAMCALL_AUTO = 0, TDX_SEAMCALL_HW = 1, TDX_SEAMCALL_EMU = 2 };

struct tdx_core_params {
	int seamcall_mode;               /* enum tdx_seamcall_mode */
	unsigned int seamcall_timeout_ms; /* emulator backend: how long a call may take */
};
/*
 * The largest seamcall_timeout_ms: a call waits with interrupts off, so the wait must stay well
 * below the soft-lockup (20 s) and RCU-stall (21 s) reports (the hard-lockup detector is touched).
 */
#define TDX_SEAMCALL_TIMEOUT_MAX_MS 10000

struct tdx_module_version {
	unsigned int major, minor, update;
	unsigned int build_num, build_date;
};

/* Brings the TDX module up; 0 or -errno with everything undone. */
KAPI_EXTERN int tdx_core_init(const struct tdx_core_params *params);
/* Tears the TDX module down (SYS.DISABLE, cache flush, free). */
KAPI_EXTERN void tdx_core_exit(void);
/* 0 and the running module's version, or -ENXIO when no module is up. */
KAPI_EXTERN int tdx_core_version(struct tdx_module_version *out);
/*
 * Logs the page ledger: "N pages still held, M abandoned to the TDX module" (held must be 0
 * once the core is down; abandoned pages are the ones the TDX module may still use).
 */
KAPI_EXTERN void tdx_core_report_pages(void);

/* Benchmark: SEAMCALL round trip through the emulator's mailbox vs the emulator's service time. */
struct tdx_bench_result {
	kapi_u64 calls;
	kapi_u64 rt_median_ns, rt_p99_ns;   /* measured by the guest around each call */
	kapi_u64 svc_median_ns, svc_p99_ns; /* reported by the emulator for the same calls */
};
/* Issues `calls` TDH.SYS.RD on one CPU; -EOPNOTSUPP unless the emulator backend is in use. */
KAPI_EXTERN int tdx_core_bench_sys_rd(unsigned int calls, struct tdx_bench_result *out);

/*
 * Quoting (ABI.md §8; arch-x86-virt-tdx/quote.h): whether the quoting extension is enabled
 * (configured, initialized and not failed since), its MAX_QUOTE_SIZE (0 when not enabled), and a
 * quote for the TD whose TDR is at tdr_pa over its TDREPORT (report_len 1024). May sleep. On
 * success *quote is a kvmalloc'ed copy of *quote_len bytes the caller kvfree()s. -ENODEV when
 * quoting is not enabled; -EINVAL for a bad length or a TD / TDREPORT the module refuses;
 * -EPROTO for a zero or oversized quote length and -EIO for any other failure of the module
 * (both disable quoting, TDX stays up); -ENOMEM.
 */
KAPI_EXTERN int tdx_core_quote_enabled(void);
KAPI_EXTERN unsigned int tdx_core_max_quote_size(void);
KAPI_EXTERN int tdx_core_generate_quote(kapi_u64 tdr_pa, const void *report, unsigned int report_len,
					void **quote, unsigned int *quote_len);

/*
 * TD management (arch-x86-virt-tdx/td.h), behind the exports of include/tdx/host_api.h: the
 * wrappers return the TDX completion status (0, the module's, or TDX_SEAMCALL_VMFAILINVALID when
 * TDX is not up or its transport is dead), retrying TDX_RND_NO_ENTROPY and TDX_OPERAND_BUSY /
 * TDX_SYS_BUSY a bounded number of times. Callable from several CPUs at once and from atomic
 * context, except the two *_all calls: they run the leaf on the first online CPU of each package
 * (smp_call_function_single) and take no CPU hotplug lock, so a caller that needs the set of
 * packages to hold still holds cpus_read_lock() across them (as KVM does around KEY.CONFIG).
 * The KeyID allocator returns the lowest free guest KeyID (never the global one), -ENOSPC when
 * none is free, -ENODEV when TDX is not up; freeing one not allocated warns and is ignored.
 */
KAPI_EXTERN int tdx_core_guest_keyid_alloc(void);
KAPI_EXTERN void tdx_core_guest_keyid_free(unsigned int keyid);
KAPI_EXTERN kapi_u64 tdx_core_mng_create(kapi_u64 tdr_pa, unsigned short hkid);
KAPI_EXTERN kapi_u64 tdx_core_mng_addcx(kapi_u64 tdr_pa, kapi_u64 tdcs_pa);
KAPI_EXTERN kapi_u64 tdx_core_mng_key_config_all(kapi_u64 tdr_pa);
KAPI_EXTERN kapi_u64 tdx_core_mng_init(kapi_u64 tdr_pa, kapi_u64 td_params_pa);
KAPI_EXTERN kapi_u64 tdx_core_mr_extend(kapi_u64 tdr_pa, kapi_u64 gpa);
KAPI_EXTERN kapi_u64 tdx_core_mr_finalize(kapi_u64 tdr_pa);
KAPI_EXTERN kapi_u64 tdx_core_mng_key_freeid(kapi_u64 tdr_pa);
KAPI_EXTERN kapi_u64 tdx_core_phymem_cache_wb_all(void);
KAPI_EXTERN kapi_u64 tdx_core_phymem_page_reclaim(kapi_u64 pa);

/*
 * Runtime update (arch-x86-virt-tdx/update.h): offered on this platform (a module initialized with
 * TD_PRESERVING, no SEAMRET erratum); the P-SEAMLDR's version and remaining updates from a fresh
 * SEAMLDR.INFO (-ENXIO when not offered); and the update with the image fw_upload received
 * (vmalloc'ed; prepare checks it, install runs the window): 0; -EINVAL image refused before anything stopped (reason logged, the module runs
 * on); -EBUSY a TD build in progress (nothing changed); -EIO the update failed (logged; when past
 * SYS.SHUTDOWN no TDX module is left); -ENXIO / -EOPNOTSUPP no module / no update here; -ENOMEM.
 * Sleeps; serialized with everything else on the state lock.
 */
struct tdx_seamldr_version {
	unsigned int major, minor, update;
	unsigned int num_remaining_updates;
};
KAPI_EXTERN int tdx_core_update_supported(void);
/* Why runtime update is not offered (a static string for the log), or NULL when it is. */
KAPI_EXTERN const char *tdx_core_update_unsupported(void);
KAPI_EXTERN int tdx_core_seamldr_version(struct tdx_seamldr_version *out);
/* The update in two parts: the checks before anything stops, then the window (or an abort). */
KAPI_EXTERN int tdx_core_update_prepare(const void *image, kapi_size size);
KAPI_EXTERN int tdx_core_update_install(void);
KAPI_EXTERN void tdx_core_update_abort(void);

#endif /* TDX_KAPI_H */
