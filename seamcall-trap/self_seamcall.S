/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kapi_u64 tdx_trap_self_seamcall(kapi_u64 rax, kapi_u64 regs[13]): tdx_host.ko's SEAMCALL
 * (arch-x86-virt-tdx/glue/seamcall_hw.S) in this module's own text, with its own exception-table
 * entry: the debugfs "self" knob issues it to show a SEAMCALL from text the trap does not serve
 * ending in that fixup (TDX_SW_ERROR | 6), not in an oops.
 */
#define kapi_seamcall_hw tdx_trap_self_seamcall
#include "../arch-x86-virt-tdx/glue/seamcall_hw.S"
