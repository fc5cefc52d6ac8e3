/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TDX_EMU_PCI_H
#define TDX_EMU_PCI_H

/* Unmaps and releases the emulator's PCI device (module exit, or a failed load). */
void tdx_emu_mailbox_release(void);

#endif
