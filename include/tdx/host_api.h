/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tdx_host.ko exports to other kernel modules (KVM's TDX code; the test build's TD harness),
 * in the symbol namespace TDX_HOST: the quoting interface of the quoting series, and thin wrappers
 * over the TD-management SEAMCALLs in the manner of Linux's own tdh_* exports.
 *
 * C header (kernel modules include it after <linux/types.h>). The wrappers return the TDX
 * completion status (ABI.md §2) as Linux's tdh_* do: 0 on success, the module's status, or one of
 * the software statuses (class 0xFF) when the call could not be made (no TDX module up:
 * TDX_SEAMCALL_VMFAILINVALID). They retry TDX_RND_NO_ENTROPY and TDX_OPERAND_BUSY / TDX_SYS_BUSY
 * as the foundation's Seamcall does; nothing else.
 */
#ifndef TDX_HOST_API_H
#define TDX_HOST_API_H

#include <linux/version.h>

/* From 6.13 the namespace of EXPORT_SYMBOL_NS* / MODULE_IMPORT_NS is a string literal. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDX_NS_HOST "TDX_HOST"
#else
#define TDX_NS_HOST TDX_HOST
#endif
#define TDX_IMPORT_HOST() MODULE_IMPORT_NS(TDX_NS_HOST)

/* ---- quoting (ABI.md §8) ---- */

/* True when the quoting extension is configured, initialized and has not failed. */
bool tdx_host_quote_enabled(void);
/* MAX_QUOTE_SIZE as read after TDH.QUOTE.INIT; 0 when quoting is not enabled. */
u32 tdx_host_max_quote_size(void);
/*
 * A quote for the TD whose TDR page is at tdr_pa, over a TDREPORT of report_len (1024) bytes.
 * Serialized (one quote buffer); may sleep. On success *quote is a kvmalloc'ed copy of *quote_len
 * bytes the caller kvfree()s. -ENODEV when quoting is not enabled; -EINVAL for a bad length, or
 * when the module refuses the TD (not a TD, or not in a state to be quoted) or the TDREPORT (not
 * genuine, or another TD's), quoting staying enabled; -EPROTO for a zero or oversized quote
 * length and -EIO for any other failure (the TDX status logged), both of which disable quoting.
 */
int tdx_host_generate_quote(u64 tdr_pa, const void *tdreport, u32 report_len, void **quote, u32 *quote_len);

/* ---- TD management (ABI.md §1 leaf table) ---- */

/* A free TDX private KeyID for a TD (never the global one), or -ENOSPC / -ENODEV. */
int tdx_host_guest_keyid_alloc(void);
void tdx_host_guest_keyid_free(unsigned int keyid);

u64 tdx_host_mng_create(u64 tdr_pa, u16 hkid);
u64 tdx_host_mng_addcx(u64 tdr_pa, u64 tdcs_pa);
/* TDH.MNG.KEY.CONFIG on one CPU of every package (KEY_CONFIGURED counts as done there). */
u64 tdx_host_mng_key_config_all(u64 tdr_pa);
u64 tdx_host_mng_init(u64 tdr_pa, u64 td_params_pa);
u64 tdx_host_mr_extend(u64 tdr_pa, u64 gpa);
u64 tdx_host_mr_finalize(u64 tdr_pa);
u64 tdx_host_mng_key_freeid(u64 tdr_pa);
/* TDH.PHYMEM.CACHE.WB on one CPU of every package, resumed until done. */
u64 tdx_host_phymem_cache_wb_all(void);
u64 tdx_host_phymem_page_reclaim(u64 pa);

/*
 * Test build only (absent from the module users install): an emulator service request
 * (include/tdx/emu/service.h) through the emulator backend, or on the hw backend through the
 * SEAMCALL trap (include/tdx/seamcall_trap.h); TDX_SEAMCALL_VMFAILINVALID when neither carries it.
 */
u64 tdx_host_test_emu_service(u64 rax, u64 rcx, u64 rdx, u64 r8);
/*
 * Test build only: hold tdx_host's state lock (0, or -ENODEV when TDX's core is not loaded,
 * not held), and release it from the same task. Tests park an operation that takes the
 * lock (a runtime update's prepare) where it sleeps, so they can act on it meanwhile.
 */
int tdx_host_test_hold_state(void);
void tdx_host_test_release_state(void);
/*
 * Test build only: hold tdx_host's quote lock, as a quote request in flight does (a runtime
 * update's install then waits in "transferring", where a cancel is refused); release it from the
 * same task.
 */
void tdx_host_test_hold_quote(void);
void tdx_host_test_release_quote(void);
/*
 * Test build only (make bench): where the time of the last runtime update window went, in ns:
 * phase i is the window's step i (arch-x86-virt-tdx/update.h UpdateStep: "start", the stop_machine
 * call until the lead CPU was in; each step until every CPU acked it; "done", the last step until
 * the last CPU was released), total_ns their sum. 0, or -ENOENT before the first window.
 */
#define TDX_HOST_TEST_UPDATE_PHASES 9
struct tdx_host_test_update_timing {
	unsigned int windows, nr_cpus; /* windows run since load, CPUs in the last */
	int ok;                        /* it ran every step */
	u64 total_ns;
	u64 phase_ns[TDX_HOST_TEST_UPDATE_PHASES];
	const char *phase_name[TDX_HOST_TEST_UPDATE_PHASES];
};
int tdx_host_test_update_timing(struct tdx_host_test_update_timing *out);
/* Test build only (make bench): an empty stop_machine timed as the update window's is; 0 or -errno. */
int tdx_host_test_empty_stop_machine(u64 *ns);

#endif /* TDX_HOST_API_H */
