/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The userspace path of TD guests' GetQuote (kvm-tdx/): what a userspace VMM reads from and
 * writes to /dev/kvm_tdx_quote. KVM's TDX code is not in the kernels this project runs, so the
 * exit that mainline KVM (6.16+) puts in struct kvm_run (exit_reason KVM_EXIT_TDX, the tdx member)
 * reaches the VMM as a record on this character device instead; its fields keep KVM's meaning.
 *
 * A request's life:
 *   1. The TD's TDG.VP.VMCALL<GetQuote> passed the kernel's checks; the kernel wrote
 *      status IN_FLIGHT into the TD's buffer header and queued an exit. The vCPU waits.
 *   2. read() returns the exit (struct kvm_tdx_quote_exit; poll() says POLLIN when one waits).
 *   3. The VMM answers it: write() of struct kvm_tdx_quote_reply with op RESUME and the TDVMCALL
 *      status for r10 (the exit's ret is preset to SUBFUNC_UNSUPPORTED, as in KVM). The vCPU
 *      resumes. With ret SUCCESS the request is in flight, owned by this open file.
 *   4. The VMM writes the quote, then out_len into the TD's shared buffer (KVM_TDX_QUOTE_MEM)
 *      and writes op DONE with the final status in ret (anything but IN_FLIGHT); the kernel
 *      writes that status into the header, last, then raises the TD's event-notify vector when
 *      the TD set one up (SetupEventNotifyInterrupt, offered on this path only). While a request
 *      is in flight its status is the kernel's alone: a KVM_TDX_QUOTE_MEM write that touches it
 *      fails with EPERM. (So a TD that reuses its buffer as soon as it sees the status never has
 *      its next request's IN_FLIGHT overwritten by the end of the last one.)
 * Guarantees, so that no request is lost and none hangs:
 *   - An exit read but not answered when its file is closed goes back to the queue for the next
 *     reader; when no file is open at all it ends with its preset ret (SUBFUNC_UNSUPPORTED),
 *     and when no file is open at the TDVMCALL it ends so at once.
 *   - A request in flight when its file is closed without DONE ends with status
 *     SERVICE_UNAVAILABLE written by the kernel (and the notify).
 *   - A reply naming an unknown, or an already finished, request fails with ENOENT and
 *     changes nothing; a reply of the wrong op for the request's state fails with EINVAL.
 */
#ifndef _UAPI_LINUX_KVM_TDX_QUOTE_H
#define _UAPI_LINUX_KVM_TDX_QUOTE_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KVM_TDX_QUOTE_DEVICE "kvm_tdx_quote"

/* As in <linux/kvm.h> (6.16+) and the GHCI. */
#define KVM_TDX_QUOTE_EXIT_TDX 40
#define KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE 0x10002ULL
#define KVM_TDX_QUOTE_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT 0x10004ULL
#define KVM_TDX_QUOTE_TDVMCALL_SUCCESS 0ULL
#define KVM_TDX_QUOTE_TDVMCALL_RETRY 1ULL
#define KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND 0x8000000000000000ULL
#define KVM_TDX_QUOTE_TDVMCALL_ALIGN_ERROR 0x8000000000000002ULL
#define KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED 0x8000000000000003ULL
#define KVM_TDX_QUOTE_STATUS_SUCCESS 0ULL
#define KVM_TDX_QUOTE_STATUS_IN_FLIGHT 0xFFFFFFFFFFFFFFFFULL
#define KVM_TDX_QUOTE_STATUS_ERROR 0x8000000000000000ULL
#define KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE 0x8000000000000001ULL

/* The TD's shared buffer starts with this header (GHCI), then data: the TDREPORT in, the quote out. */
struct kvm_tdx_quote_header {
	__u64 version; /* 1 */
	__u64 status;  /* KVM_TDX_QUOTE_STATUS_* */
	__u32 in_len;
	__u32 out_len;
};

/* read(): one exit per call; a buffer smaller than the record fails with EINVAL. */
struct kvm_tdx_quote_exit {
	__u64 id;          /* this request, unique for the module's life */
	__u32 td;          /* the TD's handle (for KVM_TDX_QUOTE_MEM) */
	__u32 exit_reason; /* KVM_TDX_QUOTE_EXIT_TDX */
	/* struct kvm_run's tdx member, get_quote variant: */
	__u64 flags;       /* 0 */
	__u64 nr;          /* KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE */
	__u64 ret;         /* preset KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED */
	__u64 gpa;         /* the buffer, shared bit stripped */
	__u64 size;        /* its size in bytes (page aligned, > 0) */
};

#define KVM_TDX_QUOTE_OP_RESUME 1 /* answer the exit: r10 = ret */
#define KVM_TDX_QUOTE_OP_DONE 2   /* the quote (or none) is in the buffer: ret is the status */

/* write(): one reply per call, exactly this size. */
struct kvm_tdx_quote_reply {
	__u64 id;
	__u32 op;
	__u32 pad; /* 0 */
	__u64 ret; /* OP_RESUME: the TDVMCALL status; OP_DONE: the header status (not IN_FLIGHT) */
};

/*
 * Copy between the VMM and the TD's shared memory (the mapping of guest memory a VMM has):
 * len bytes at gpa (shared bit stripped; the whole range must be shared) to or from addr.
 * 0, or -1 with errno: ENOENT (no such TD), EFAULT (a page not shared, or a bad addr),
 * EINVAL (len 0 or over 1 MiB, flags other than WRITE), EPERM (a write touching the status of a
 * request in flight: DONE carries it).
 */
struct kvm_tdx_quote_mem {
	__u32 td;
	__u32 flags;
	__u64 gpa;
	__u64 len;
	__u64 addr;
};
#define KVM_TDX_QUOTE_MEM_WRITE 1 /* to the TD; else from it */
#define KVM_TDX_QUOTE_MEM_MAX (1U << 20)

#define KVM_TDX_QUOTE_IOC_MAGIC 0xB7
#define KVM_TDX_QUOTE_MEM _IOW(KVM_TDX_QUOTE_IOC_MAGIC, 1, struct kvm_tdx_quote_mem)

#endif /* _UAPI_LINUX_KVM_TDX_QUOTE_H */
