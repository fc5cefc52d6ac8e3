/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TDX_EMU_PCI_H
#define TDX_EMU_PCI_H

/*
 * The pci_driver of the emulator's ivshmem device (emu_pci.c): registered by module init before
 * the core starts (the device is probed then), unregistered at module exit after the core is
 * torn down.
 */
int tdx_emu_driver_register(void);
void tdx_emu_driver_unregister(void);

#endif
