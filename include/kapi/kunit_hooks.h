/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tdx_host.ko exports (namespace TDX_HOST_KUNIT, only on kernels with CONFIG_KUNIT) for the
 * KUnit suites in kunit/: C entry points into the C++ core. Each returns a plain value or errno,
 * so no C++ object is alive when a KUnit assertion fails.
 */
#ifndef TDX_KAPI_KUNIT_HOOKS_H
#define TDX_KAPI_KUNIT_HOOKS_H

#include "kapi.h"

#define TDX_KUNIT_MAX_RSVD 16

struct tdx_kunit_range {
	kapi_u64 start, end;
};

struct tdx_kunit_tdmr {
	kapi_u64 base, size;
	kapi_u64 pamt_base[3], pamt_size[3]; /* indexed 4K, 2M, 1G */
	unsigned int nr_rsvd;
	struct {
		kapi_u64 offset, size;
	} rsvd[TDX_KUNIT_MAX_RSVD];
};

struct tdx_kunit_limits {
	unsigned int max_tdmrs, max_rsvd, pamt_entry_size;
};

/* SEAMCALL layer. */
KAPI_EXTERN kapi_u64 tdx_kunit_leaf_rax(unsigned int number, unsigned int version);
KAPI_EXTERN int tdx_kunit_status_to_errno(kapi_u64 status);
KAPI_EXTERN const char *tdx_kunit_status_name(kapi_u64 status);

/* Metadata. */
KAPI_EXTERN unsigned int tdx_kunit_field_elem_bytes(kapi_u64 field_id);
KAPI_EXTERN kapi_u64 tdx_kunit_metadata_decode(kapi_u64 field_id, kapi_u64 raw);

/*
 * TDMR/PAMT construction from a synthetic RAM map: covers it with TDMRs, places each TDMR's PAMTs
 * at pamt_base[3 * i + level] when pamt_base is given (else above every TDMR, reserving nothing),
 * and fills the reserved areas. Returns the TDMR count or -errno. cmrs (may equal ram) must cover
 * the RAM.
 */
KAPI_EXTERN int tdx_kunit_build_tdmrs(const struct tdx_kunit_range *ram, unsigned int nr_ram,
				      const struct tdx_kunit_range *cmrs, unsigned int nr_cmrs,
				      const struct tdx_kunit_limits *lim, const kapi_u64 *pamt_base,
				      struct tdx_kunit_tdmr *out, unsigned int max_out);

/* Bring-up, against the emulator tdx_host.ko is using. */
KAPI_EXTERN int tdx_kunit_emu_active(void);
/* The emulator's own count of calls of a leaf (shared page, monotonic). */
KAPI_EXTERN kapi_u64 tdx_kunit_emu_leaf_calls(unsigned int leaf);
/* Tears TDX down and prepares a fresh, not yet started bring-up. */
KAPI_EXTERN int tdx_kunit_restart(void);
KAPI_EXTERN unsigned int tdx_kunit_nr_steps(void);
/* Runs bring-up step i (0 = SYS.INIT ... last = quoting); the last one also marks TDX ready. */
KAPI_EXTERN int tdx_kunit_run_step(unsigned int step);
KAPI_EXTERN unsigned int tdx_kunit_nr_tdmrs(void);
KAPI_EXTERN unsigned int tdx_kunit_nr_packages(void);
/* Leaves TDX up (a full bring-up when it is not): every suite's cleanup. */
KAPI_EXTERN int tdx_kunit_ensure_up(void);

/* Extensions (arch-x86-virt-tdx/ext.h): add-on selection, HPA_LIST_INFO and the pool's lists. */
KAPI_EXTERN kapi_u64 tdx_kunit_select_addons(kapi_u64 features0);
/* RAX of the TDH.SYS.CONFIG that enables addons (v1 with a bitmap, v0 without). */
KAPI_EXTERN kapi_u64 tdx_kunit_sys_config_rax(kapi_u64 addons);
KAPI_EXTERN kapi_u64 tdx_kunit_hpa_list_info(kapi_u64 list_pa, unsigned int first, unsigned int last);
KAPI_EXTERN kapi_u64 tdx_kunit_hpa_list_nr_batches(kapi_u64 nr_pages);
/* List i of a pool of nr_pages: its first page and number of entries; -ERANGE past the last. */
KAPI_EXTERN int tdx_kunit_hpa_list_batch(kapi_u64 nr_pages, kapi_u64 i, kapi_u64 *first_page,
					 unsigned int *nr);

/*
 * A pool of nr_pages allocated in kernel memory (never given to the TDX module) and its lists
 * written into a list page, one after another, as bring-up writes them; then everything is freed.
 */
struct tdx_kunit_pool_report {
	kapi_u64 nr_lists;
	kapi_u64 entries;      /* page addresses written, over all lists */
	kapi_u64 first_info;   /* HPA_LIST_INFO of the first list */
	kapi_u64 last_info;    /* and of the last */
	kapi_u64 bad_entries;  /* not page aligned, or not the next page of the list's run */
	kapi_u64 pages_held;   /* the page ledger's count while the pool was allocated (pool + list) */
	kapi_u64 held_after;   /* and once it was freed, relative to before (0) */
};
KAPI_EXTERN int tdx_kunit_pool_lists(kapi_u64 nr_pages, struct tdx_kunit_pool_report *out);
/* Pages of the extension memory pool the running TDX module owns (0 without extensions). */
KAPI_EXTERN kapi_u64 tdx_kunit_ext_pool_pages(void);

/* Quoting (arch-x86-virt-tdx/quote.h): the quote buffer's size and HPA linked list. */
KAPI_EXTERN kapi_u64 tdx_kunit_quote_list_nr_nodes(kapi_u64 nr_data_pages);
/*
 * Entry `entry` (0..511) of node `node` of the list for nr_data data pages, data page i at
 * data_base + 4096 i and node j at node_base + 4096 j.
 */
KAPI_EXTERN kapi_u64 tdx_kunit_quote_list_entry(kapi_u64 nr_data, kapi_u64 node, unsigned int entry,
						kapi_u64 data_base, kapi_u64 node_base);
/* The largest MAX_QUOTE_SIZE tdx_host allocates a buffer for. */
KAPI_EXTERN kapi_u64 tdx_kunit_quote_size_cap(void);
/* 0 and the data pages of the buffer for MAX_QUOTE_SIZE, or -E2BIG above the cap. */
KAPI_EXTERN int tdx_kunit_quote_buffer_pages(kapi_u64 max_quote_size, kapi_u64 *pages);

/*
 * A quote buffer of nr_data pages allocated in kernel memory (never given to the TDX module), its
 * list walked from the head node as the module walks it; then everything is freed.
 */
struct tdx_kunit_quote_buffer_report {
	kapi_u64 nr_nodes;     /* nodes the walk visited */
	kapi_u64 data_pages;   /* data page addresses the walk found before ~0 */
	kapi_u64 out_of_order; /* not the buffer's data page of that index */
	kapi_u64 not_ones;     /* entries after the last data page (and the last link) that are not ~0 */
	kapi_u64 pages_held;   /* the page ledger's count while the buffer was allocated */
	kapi_u64 held_after;   /* and once it was freed, relative to before (0) */
};
KAPI_EXTERN int tdx_kunit_quote_buffer(kapi_u64 nr_data, struct tdx_kunit_quote_buffer_report *out);

/* Quoting of the running TDX module. */
struct tdx_kunit_quote_state {
	int enabled;
	unsigned int max_quote_size;
	kapi_u64 data_pages, nr_nodes; /* of its buffer */
};
KAPI_EXTERN int tdx_kunit_quote_state(struct tdx_kunit_quote_state *out);

/* Runtime update images (arch-x86-virt-tdx/update_image.h): header checks and seamldr_params. */
struct tdx_kunit_image_layout {
	unsigned int format;       /* 0x100 or 0x200 */
	unsigned int module_pages;
	kapi_u64 size;             /* of the whole blob */
	kapi_u64 sigstruct_offset; /* byte offsets into the blob */
	kapi_u64 module_offset;
};
/* Why an image was refused: its code ("truncated", "bad-version", ...) and message. */
struct tdx_kunit_image_refusal {
	const char *code, *message;
};
/*
 * The kernel's checks of a fw_upload payload of size bytes: 0 and its layout, or -EINVAL and why
 * (why may be NULL).
 */
KAPI_EXTERN int tdx_kunit_validate_image(const void *blob, kapi_u64 size, struct tdx_kunit_image_layout *out,
					 struct tdx_kunit_image_refusal *why);
/* The page frame holding byte `offset` of a blob (ctx: the caller's; vmalloc_to_pfn(ctx + offset)). */
typedef kapi_u64 (*tdx_kunit_pfn_of_fn)(const void *ctx, kapi_u64 offset);
/*
 * SEAMLDR.INSTALL's seamldr_params for the blob a layout describes, into params (a 4 KiB page),
 * each page's frame from pfn_of: 0, or -EINVAL and why (why may be NULL) with params all zero.
 */
KAPI_EXTERN int tdx_kunit_build_seamldr_params(const struct tdx_kunit_image_layout *layout,
					       tdx_kunit_pfn_of_fn pfn_of, const void *ctx, void *params,
					       struct tdx_kunit_image_refusal *why);

/*
 * The update window's rendezvous (arch-x86-virt-tdx/update.h) under the real stop_machine, with
 * steps that make no SEAMCALL: each step records which CPUs ran it; CPU fail_cpu fails step
 * fail_step (fail_step 0: none). Out: whether it failed and the failure it kept, and per step
 * the CPUs (bits 0..63) that ran it. 0, or -errno when it could not run.
 */
#define TDX_KUNIT_UPDATE_STEPS 9 /* UpdateStep kStart .. kDone */
struct tdx_kunit_rendezvous_run {
	unsigned int fail_step, fail_cpu;
	int failed;
	unsigned int failure_step, failure_cpu;
	int failure_err;
	unsigned int nr_cpus, lead_cpu;
	kapi_u64 ran[TDX_KUNIT_UPDATE_STEPS];
	unsigned int final_step;
};
KAPI_EXTERN int tdx_kunit_rendezvous(struct tdx_kunit_rendezvous_run *run);
/* Whether every CPU runs step s (else the lead CPU alone). */
KAPI_EXTERN int tdx_kunit_update_step_on_every_cpu(unsigned int step);

/*
 * make bench (through the test build's exports, for the TD harness): where the time of the last
 * update window went (arch-x86-virt-tdx/update.h UpdateTiming; phase i is UpdateStep i, named),
 * 0 or -ENOENT before the first window; and an empty stop_machine timed as the window's is
 * (the CPUs counted, then the clock read around kapi_stop_machine), its ns.
 */
struct tdx_kunit_update_timing {
	unsigned int windows, nr_cpus;
	int ok;
	kapi_u64 total_ns;
	kapi_u64 phase_ns[TDX_KUNIT_UPDATE_STEPS];
	const char *phase_name[TDX_KUNIT_UPDATE_STEPS];
};
KAPI_EXTERN int tdx_kunit_update_timing(struct tdx_kunit_update_timing *out);
KAPI_EXTERN int tdx_kunit_empty_stop_machine(kapi_u64 *ns);

/*
 * The SEAMCALL path from any context (IPI handlers included): tdx_kunit_hold() takes the state
 * lock (so the backend stays) and returns 0 when the emulator backend is in use, else -ENODEV
 * with the lock released; tdx_kunit_release() drops it, from the same task. In between, any
 * context may call tdx_kunit_sys_rd(): TDH.SYS.RD of one field on the calling CPU, 0 and the
 * value or -errno.
 */
KAPI_EXTERN int tdx_kunit_hold(void);
KAPI_EXTERN void tdx_kunit_release(void);
/* The state lock on either backend: 0 while a core is loaded, else -ENODEV, not held. */
KAPI_EXTERN int tdx_kunit_hold_state(void);
/*
 * The quote lock alone, as a quote request in flight holds it (a runtime update's install waits
 * for it before it stops the CPUs); released from the same task.
 */
KAPI_EXTERN void tdx_kunit_hold_quote(void);
KAPI_EXTERN void tdx_kunit_release_quote(void);
KAPI_EXTERN int tdx_kunit_sys_rd(kapi_u64 field_id, kapi_u64 *value);

/*
 * An emulator service request (include/tdx/emu/service.h: rax, rcx, rdx, r8) under the state
 * lock: through the emulator backend, or on the hw backend through the SEAMCALL trap's mailbox
 * (kapi_hw_trap_emu_service); TDX_SEAMCALL_VMFAILINVALID when no core is loaded, on the hw
 * backend without the trap, or when rax is not a service request. Behind the test build's
 * tdx_host_test_emu_service export (glue/kunit_exports.c), for the TD harness.
 */
KAPI_EXTERN kapi_u64 tdx_kunit_emu_service(kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8);
/*
 * glue/hw.c, test build: the request passed to the SEAMCALL trap (tdx_seamcall_trap_emu_service,
 * by symbol_get), 0 and its *status; -ENODEV when the trap is not loaded.
 */
KAPI_EXTERN int kapi_hw_trap_emu_service(kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8, kapi_u64 *status);

#endif
