// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator's ivshmem device for the SEAMCALL trap: tdx_host.ko's pci_driver
 * (arch-x86-virt-tdx/glue/emu_pci.c) under a driver name of its own. Removing the device while the
 * trap holds it stops the trap's backend (trap.c) where tdx_host would tear TDX down.
 */
#define TDX_EMU_DRV_NAME "tdx_seamcall_trap_emu"
#define tdx_core_exit tdx_trap_device_removed
#include "../arch-x86-virt-tdx/glue/emu_pci.c"
