/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C ABI between kvm-tdx's C++ core (getquote.cpp: the request checks in ABI.md §9's order,
 * the in-kernel path's write order) and its C glue (glue/: the TD object, the userspace exit
 * queue and /dev/kvm_tdx_quote). C header, included by both; no kernel header.
 *
 * "td" is the glue's struct kvm_tdx_quote_td, opaque to the core. GPAs have the shared bit
 * stripped.
 */
#ifndef KVM_TDX_CORE_H
#define KVM_TDX_CORE_H

#ifdef __cplusplus
#include "kstd/types.h"
using kstd::u32;
using kstd::u64;
extern "C" {
#endif

struct kvm_tdx_quote_td;

/* A GetQuote request that passed every check: its buffer and the header the TD wrote. */
struct kq_request {
	u64 gpa;  /* shared bit stripped, page aligned */
	u64 size; /* page aligned, > 0 */
	u32 in_len;
	u32 out_len;
};

/* ---- implemented by the glue ---- */
int kq_read(struct kvm_tdx_quote_td *td, u64 gpa, void *buf, u64 len);
int kq_write(struct kvm_tdx_quote_td *td, u64 gpa, const void *buf, u64 len);
int kq_range_shared(struct kvm_tdx_quote_td *td, u64 gpa, u64 len); /* 1 when all shared */
/*
 * A quote over the in_len bytes at report_gpa (the TD's TDREPORT) for this TD: 0 with *quote
 * (freed with kq_free_quote) and *quote_len, or a negative errno (quoting unavailable, the report
 * refused, ...).
 */
int kq_generate_quote(struct kvm_tdx_quote_td *td, u64 report_gpa, u32 in_len, void **quote, u32 *quote_len);
void kq_free_quote(void *quote);

/* ---- implemented by the core ---- */
/*
 * The checks of TDG.VP.VMCALL<GetQuote>(r12 = gpa, r13 = size) in ABI.md §9's order, for a TD
 * whose shared bit is bit shared_bit. Returns 1 with *req filled when the request may go on;
 * else 0 with *ret the TDVMCALL status to answer (a header check that fails has written status
 * ERROR into the header first).
 */
int kq_check_get_quote(struct kvm_tdx_quote_td *td, unsigned int shared_bit, u64 r12, u64 r13,
		       struct kq_request *req, u64 *ret);
/*
 * The in-kernel path for a checked request: the quote, then out_len, then status written into
 * the buffer. Returns the TDVMCALL status: SUCCESS only when the status written is SUCCESS.
 */
u64 kq_in_kernel_quote(struct kvm_tdx_quote_td *td, const struct kq_request *req);
/* SetupEventNotifyInterrupt's vector check: SUCCESS for 32..255, else INVALID_OPERAND. */
u64 kq_check_notify_vector(u64 vector);
/* Writes status (the header's u64) at the buffer at gpa; 0 or the access's errno. */
int kq_write_status(struct kvm_tdx_quote_td *td, u64 gpa, u64 status);
/*
 * A userspace request ends without a status from the VMM: the header's status, when it still
 * reads IN_FLIGHT, becomes SERVICE_UNAVAILABLE. 1 when it was rewritten.
 */
int kq_end_in_flight(struct kvm_tdx_quote_td *td, u64 gpa);

#ifdef __cplusplus
}
#endif

#endif /* KVM_TDX_CORE_H */
