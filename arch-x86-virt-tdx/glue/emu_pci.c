// SPDX-License-Identifier: GPL-2.0
/*
 * The emulator's ivshmem PCI device (1af4:1110: QEMU's ivshmem-doorbell, or ivshmem-plain), bound
 * through a pci_driver. BAR2 is the mailbox shared with seam-emu, mapped write-back because it is
 * ordinary memory on the host side; BAR0 holds the device registers, whose Doorbell register wakes
 * the emulator's thread for a slot.
 *
 * The driver has no MODULE_DEVICE_TABLE on purpose: 1af4:1110 is a generic shared-memory device,
 * and its presence must not load tdx_host (which brings TDX up). One device is bound at a time.
 *
 * Removal: the core takes the device with kapi_emu_get() and gives it back with kapi_emu_put().
 * A device unbound or removed in between tears the core down first (tdx_core_exit(): SYS.DISABLE
 * through the still mapped mailbox, cache flush, free), so the mapping never goes away under a
 * SEAMCALL; tdx_host then stays loaded with TDX down until it is unloaded.
 */
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/pci.h>

#include <kapi/kapi.h>
#include <tdx/emu/mailbox_ids.h>

#include "emu_pci.h"

/* The SEAMCALL trap (seamcall-trap/emu_pci.c) builds this driver under a name of its own. */
#ifndef TDX_EMU_DRV_NAME
#define TDX_EMU_DRV_NAME "tdx_host_emu"
#endif

static DEFINE_MUTEX(tdx_emu_lock);
static struct {
	struct pci_dev *pdev;
	void *mailbox;
	resource_size_t size;
	void __iomem *regs;
	bool in_use;   /* between kapi_emu_get() and kapi_emu_put() */
	bool removing; /* remove() began: no new user */
} tdx_emu;

int kapi_emu_get(struct kapi_emu_device *dev)
{
	int ret = -ENODEV;

	mutex_lock(&tdx_emu_lock);
	if (tdx_emu.pdev && !tdx_emu.removing && !tdx_emu.in_use) {
		dev->mailbox = tdx_emu.mailbox;
		dev->size = tdx_emu.size;
		dev->regs = (void __force *)tdx_emu.regs;
		tdx_emu.in_use = true;
		ret = 0;
	}
	mutex_unlock(&tdx_emu_lock);
	return ret;
}

void kapi_emu_put(void)
{
	mutex_lock(&tdx_emu_lock);
	tdx_emu.in_use = false;
	mutex_unlock(&tdx_emu_lock);
}

void kapi_emu_ring_doorbell(void *regs, unsigned int value)
{
	iowrite32(value, (void __iomem __force *)regs + TDX_EMU_IVSHMEM_DOORBELL);
}

static int tdx_emu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t start, len;
	void __iomem *regs = NULL;
	void *mailbox;
	int ret;

	mutex_lock(&tdx_emu_lock);
	ret = tdx_emu.pdev ? -EBUSY : 0;
	mutex_unlock(&tdx_emu_lock);
	if (ret) {
		dev_info(&pdev->dev, "another emulator device is bound already\n");
		return ret;
	}
	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, TDX_EMU_DRV_NAME);
	if (ret)
		goto disable;
	start = pci_resource_start(pdev, TDX_EMU_IVSHMEM_BAR);
	len = pci_resource_len(pdev, TDX_EMU_IVSHMEM_BAR);
	if (!len || !(pci_resource_flags(pdev, TDX_EMU_IVSHMEM_BAR) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "no shared memory in BAR%d\n", TDX_EMU_IVSHMEM_BAR);
		ret = -ENODEV;
		goto release;
	}
	mailbox = memremap(start, len, MEMREMAP_WB);
	if (!mailbox) {
		ret = -ENOMEM;
		goto release;
	}
	if (pci_resource_len(pdev, TDX_EMU_IVSHMEM_REG_BAR) >= TDX_EMU_IVSHMEM_DOORBELL + 4)
		regs = pci_iomap(pdev, TDX_EMU_IVSHMEM_REG_BAR, 0);
	mutex_lock(&tdx_emu_lock);
	tdx_emu.pdev = pdev;
	tdx_emu.mailbox = mailbox;
	tdx_emu.size = len;
	tdx_emu.regs = regs;
	tdx_emu.in_use = false;
	tdx_emu.removing = false;
	mutex_unlock(&tdx_emu_lock);
	dev_info(&pdev->dev, "seam-emu mailbox: %llu KiB%s\n", (unsigned long long)len >> 10,
		 regs ? ", doorbell registers" : ", no registers");
	return 0;
release:
	pci_release_regions(pdev);
disable:
	pci_disable_device(pdev);
	return ret;
}

static void tdx_emu_remove(struct pci_dev *pdev)
{
	bool in_use;

	mutex_lock(&tdx_emu_lock);
	tdx_emu.removing = true;
	in_use = tdx_emu.in_use;
	mutex_unlock(&tdx_emu_lock);
	if (in_use) {
		dev_warn(&pdev->dev, "removed while TDX uses it: tearing TDX down first\n");
		tdx_core_exit();
	}
	mutex_lock(&tdx_emu_lock);
	WARN_ON(tdx_emu.in_use);
	if (tdx_emu.regs)
		pci_iounmap(pdev, tdx_emu.regs);
	memunmap(tdx_emu.mailbox);
	memset(&tdx_emu, 0, sizeof(tdx_emu));
	mutex_unlock(&tdx_emu_lock);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id tdx_emu_ids[] = {
	{ PCI_DEVICE(TDX_EMU_IVSHMEM_VENDOR, TDX_EMU_IVSHMEM_DEVICE) },
	{}
};

static struct pci_driver tdx_emu_driver = {
	.name = TDX_EMU_DRV_NAME,
	.id_table = tdx_emu_ids,
	.probe = tdx_emu_probe,
	.remove = tdx_emu_remove,
};

int tdx_emu_driver_register(void)
{
	return pci_register_driver(&tdx_emu_driver);
}

void tdx_emu_driver_unregister(void)
{
	pci_unregister_driver(&tdx_emu_driver);
}
