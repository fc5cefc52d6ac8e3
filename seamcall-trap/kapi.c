// SPDX-License-Identifier: GPL-2.0
/* The kernel services EmuBackend uses (tdx_host.ko's kapi glue), logging as this module. */
#define KAPI_LOG_PREFIX "tdx_seamcall_trap: "
#include "../arch-x86-virt-tdx/glue/kapi.c"
