/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SEAMCALL trap's mailbox client (trap_core.cpp): tdx_host.ko's emulator backend
 * (EmuBackend) behind a C interface for trap.c. Not thread-safe against itself: start and stop
 * are serialized by trap.c, which also keeps calls out while it stops (RCU).
 */
#ifndef TDX_TRAP_CORE_H
#define TDX_TRAP_CORE_H

#include <kapi/kapi.h>

struct tdx_seamcall_trap_platform;

/*
 * The emulator backend over dev, after its handshake (EmuBackend::probe); 0 or -errno. timeout_ns
 * 0: a call waits for as long as the emulator lives (EmuBackend::kWhileAlive).
 */
KAPI_EXTERN int tdx_trap_emu_start(const struct kapi_emu_device *dev, kapi_u64 timeout_ns, unsigned int nr_cpus);
/* Destroys the backend (releases the device); nothing when there is none. */
KAPI_EXTERN void tdx_trap_emu_stop(void);

enum tdx_trap_outcome {
	TDX_TRAP_COMPLETED,      /* the TDX module answered: *status and regs are its outputs */
	TDX_TRAP_VMFAILINVALID,  /* the emulator answered CF=1 (no module, P-SEAMLDR busy); regs as they were */
	TDX_TRAP_EMU_FAILED,     /* the mailbox failed (timeout, emulator killed, stopped or replaced) */
};
/*
 * One SEAMCALL on this CPU's mailbox slot, interrupts off, never sleeping: rax and regs (13 u64,
 * ABI order: rcx rdx r8-r15 rbx rdi rsi) in; *status and, for TDX_TRAP_COMPLETED, regs out.
 */
KAPI_EXTERN enum tdx_trap_outcome tdx_trap_emu_call(kapi_u64 rax, kapi_u64 *regs, kapi_u64 *status);
/*
 * An emulator service request (include/tdx/emu/service.h) through EmuBackend::service, for the
 * test build of tdx_host on the hw backend (its TD harness): TDX_SEAMCALL_VMFAILINVALID when not
 * live (no backend) or rax is not a service request. Interrupts off, never sleeping.
 */
KAPI_EXTERN kapi_u64 tdx_trap_emu_service(int live, kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8);
/* The emulator the backend was set up with stopped, or another one took the mailbox over. */
KAPI_EXTERN int tdx_trap_emu_replaced(void);
/* The service time the emulator reported in cpu's slot for its last call. */
KAPI_EXTERN kapi_u64 tdx_trap_emu_last_service_ns(unsigned int cpu);
/* The call the bench knob times: TDH.SYS.RD (RAX) of the major version (RDX), as tdx_host's bench_sys_rd. */
KAPI_EXTERN void tdx_trap_bench_args(kapi_u64 *rax, kapi_u64 *field);
/* The emulated platform's facts from the mailbox header. */
KAPI_EXTERN void tdx_trap_emu_platform(struct tdx_seamcall_trap_platform *out);

/* trap.c: the emulator's device is being removed while the trap holds it (emu_pci.c's remove). */
KAPI_EXTERN void tdx_trap_device_removed(void);
/* self_seamcall.S, bench_seamcall.S: tdx_host's SEAMCALL sequence in this module's text (see there). */
KAPI_EXTERN kapi_u64 tdx_trap_self_seamcall(kapi_u64 rax, kapi_u64 *regs);
KAPI_EXTERN kapi_u64 tdx_trap_bench_seamcall(kapi_u64 rax, kapi_u64 *regs);

#endif
