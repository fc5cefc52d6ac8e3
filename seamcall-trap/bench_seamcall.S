/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kapi_u64 tdx_trap_bench_seamcall(kapi_u64 rax, kapi_u64 regs[13]): tdx_host.ko's SEAMCALL
 * (arch-x86-virt-tdx/glue/seamcall_hw.S) once more in this module's text, with its own
 * exception-table entry, for the debugfs "bench" knob. Unlike the "self" copy, the trap always
 * serves this one's instruction (trap.c finds it through that entry).
 */
#define kapi_seamcall_hw tdx_trap_bench_seamcall
#include "../arch-x86-virt-tdx/glue/seamcall_hw.S"
