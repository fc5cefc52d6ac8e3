// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator's mailbox: BAR2 of the ivshmem-plain PCI device QEMU exposes (1af4:1110), mapped
 * write-back because it is ordinary shared memory on the host side.
 */
#include <linux/io.h>
#include <linux/pci.h>

#include <kapi/kapi.h>
#include <tdx/emu/mailbox_ids.h>

#include "emu_pci.h"

static struct pci_dev *emu_pdev;
static void *emu_base;
static resource_size_t emu_len;

int kapi_emu_mailbox(void **base, kapi_size *size)
{
	struct pci_dev *pdev;
	int ret;

	if (emu_base) {
		*base = emu_base;
		*size = emu_len;
		return 0;
	}
	pdev = pci_get_device(TDX_EMU_IVSHMEM_VENDOR, TDX_EMU_IVSHMEM_DEVICE, NULL);
	if (!pdev)
		return -ENODEV;
	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto put;
	ret = pci_request_region(pdev, TDX_EMU_IVSHMEM_BAR, "tdx_host");
	if (ret)
		goto disable;
	emu_len = pci_resource_len(pdev, TDX_EMU_IVSHMEM_BAR);
	emu_base = memremap(pci_resource_start(pdev, TDX_EMU_IVSHMEM_BAR), emu_len, MEMREMAP_WB);
	if (!emu_base) {
		ret = -ENOMEM;
		goto release;
	}
	emu_pdev = pdev;
	*base = emu_base;
	*size = emu_len;
	return 0;
release:
	pci_release_region(pdev, TDX_EMU_IVSHMEM_BAR);
disable:
	pci_disable_device(pdev);
put:
	pci_dev_put(pdev);
	return ret;
}

void tdx_emu_mailbox_release(void)
{
	if (!emu_pdev)
		return;
	memunmap(emu_base);
	pci_release_region(emu_pdev, TDX_EMU_IVSHMEM_BAR);
	pci_disable_device(emu_pdev);
	pci_dev_put(emu_pdev);
	emu_pdev = NULL;
	emu_base = NULL;
	emu_len = 0;
}
