/* SPDX-License-Identifier: GPL-2.0 */
/* The emulator's PCI identity, for C glue (mailbox.h restates them for C++ and checks they agree). */
#ifndef TDX_EMU_MAILBOX_IDS_H
#define TDX_EMU_MAILBOX_IDS_H

#define TDX_EMU_IVSHMEM_VENDOR 0x1af4
#define TDX_EMU_IVSHMEM_DEVICE 0x1110
#define TDX_EMU_IVSHMEM_BAR 2     /* the shared memory */
#define TDX_EMU_IVSHMEM_REG_BAR 0 /* the device registers */
#define TDX_EMU_IVSHMEM_DOORBELL 12 /* Doorbell register offset in BAR0 (ivshmem spec) */

#endif
