// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_host: module init/exit, the SEAMCALL backend parameters, and the tdx_host device with its
 * sysfs attributes at /sys/devices/faux/tdx_host/.
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/mutex.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <kapi/compat.h>
#if TDX_HAVE_FAUX_BUS
#include <linux/device/faux.h>
#endif

#include <kapi/kapi.h>

#include "../../arch-x86-virt-tdx/glue/emu_pci.h"
#include "update.h"

static char *seamcall = "auto";
module_param(seamcall, charp, 0444);
MODULE_PARM_DESC(seamcall, "SEAMCALL backend: auto (emulator if present, else hardware), hw, emu");

static unsigned int seamcall_timeout_ms = 5000;
module_param(seamcall_timeout_ms, uint, 0444);
MODULE_PARM_DESC(seamcall_timeout_ms,
		 "emulator backend: ms a SEAMCALL may take before TDX is marked unusable (1..10000)");

/* The emulator's pci_driver is registered (not with seamcall=hw). */
static bool emu_driver_registered;

static ssize_t version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tdx_module_version v;
	int ret = tdx_core_version(&v);

	if (ret)
		return ret;
	return sysfs_emit(buf, "%u.%u.%02u\n", v.major, v.minor, v.update);
}
static DEVICE_ATTR_RO(version);

static struct attribute *tdx_host_attrs[] = {
	&dev_attr_version.attr,
	NULL,
};

static const struct attribute_group tdx_host_group = {
	.attrs = tdx_host_attrs,
};

static const struct attribute_group *tdx_host_groups[] = {
	&tdx_host_group,
	&tdx_update_group,
	NULL,
};

#if TDX_HAVE_FAUX_BUS
/* The kernel has the faux bus: use it, as upstream's tdx_host does. */
static struct faux_device *tdx_host_fdev;

static int tdx_host_device_create(void)
{
	tdx_host_fdev = faux_device_create_with_groups("tdx_host", NULL, NULL, tdx_host_groups);
	return tdx_host_fdev ? 0 : -ENODEV;
}

static void tdx_host_device_destroy(void)
{
	faux_device_destroy(tdx_host_fdev);
	tdx_host_fdev = NULL;
}

static struct device *tdx_host_device(void)
{
	return &tdx_host_fdev->dev;
}
#else
/*
 * No faux bus (it arrived in 6.14): a root device named "faux" gives the same path,
 * /sys/devices/faux/tdx_host, and on such kernels nothing else owns /sys/devices/faux.
 */
static struct device *faux_root;
static struct device *tdx_host_dev;

static void tdx_host_dev_release(struct device *dev)
{
	kfree(dev);
}

static int tdx_host_device_create(void)
{
	struct device *dev;
	int ret;

	faux_root = root_device_register("faux");
	if (IS_ERR(faux_root)) {
		ret = PTR_ERR(faux_root);
		faux_root = NULL;
		return ret;
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev) {
		ret = -ENOMEM;
		goto unregister_root;
	}
	device_initialize(dev);
	dev->parent = faux_root;
	dev->groups = tdx_host_groups;
	dev->release = tdx_host_dev_release;
	ret = dev_set_name(dev, "tdx_host");
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		goto unregister_root;
	}
	tdx_host_dev = dev;
	return 0;
unregister_root:
	root_device_unregister(faux_root);
	faux_root = NULL;
	return ret;
}

static void tdx_host_device_destroy(void)
{
	device_unregister(tdx_host_dev);
	tdx_host_dev = NULL;
	root_device_unregister(faux_root);
	faux_root = NULL;
}

static struct device *tdx_host_device(void)
{
	return tdx_host_dev;
}
#endif

/*
 * debugfs tdx_host/bench_sys_rd: write N to time N TDH.SYS.RD round trips through the emulator's
 * mailbox; read the last result ("calls rt_median_ns rt_p99_ns svc_median_ns svc_p99_ns").
 */
static struct dentry *tdx_host_debugfs;
static DEFINE_MUTEX(bench_lock);
static struct tdx_bench_result bench_last;

static ssize_t bench_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct tdx_bench_result r;
	unsigned int calls;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &calls);
	if (ret)
		return ret;
	mutex_lock(&bench_lock);
	ret = tdx_core_bench_sys_rd(calls, &r);
	if (!ret)
		bench_last = r;
	mutex_unlock(&bench_lock);
	return ret ? ret : len;
}

static ssize_t bench_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[160];
	int n;

	mutex_lock(&bench_lock);
	n = scnprintf(buf, sizeof(buf),
		      "calls=%llu rt_median_ns=%llu rt_p99_ns=%llu svc_median_ns=%llu svc_p99_ns=%llu\n",
		      bench_last.calls, bench_last.rt_median_ns, bench_last.rt_p99_ns,
		      bench_last.svc_median_ns, bench_last.svc_p99_ns);
	mutex_unlock(&bench_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.write = bench_write,
	.read = bench_read,
	.llseek = default_llseek,
};

static void tdx_host_debugfs_create(void)
{
	tdx_host_debugfs = debugfs_create_dir("tdx_host", NULL);
	debugfs_create_file("bench_sys_rd", 0600, tdx_host_debugfs, NULL, &bench_fops);
}

static int parse_seamcall_mode(const char *s)
{
	if (sysfs_streq(s, "auto"))
		return TDX_SEAMCALL_AUTO;
	if (sysfs_streq(s, "hw"))
		return TDX_SEAMCALL_HW;
	if (sysfs_streq(s, "emu"))
		return TDX_SEAMCALL_EMU;
	return -EINVAL;
}

static int __init tdx_host_init(void)
{
	struct tdx_core_params p = { .seamcall_timeout_ms = seamcall_timeout_ms };
	int ret;

	p.seamcall_mode = parse_seamcall_mode(seamcall);
	if (p.seamcall_mode < 0) {
		pr_err("tdx_host: seamcall=%s: expected auto, hw or emu\n", seamcall);
		return -EINVAL;
	}
	/* A call waits with interrupts off: the bound keeps that wait clear of the lockup reports. */
	if (!seamcall_timeout_ms || seamcall_timeout_ms > TDX_SEAMCALL_TIMEOUT_MAX_MS) {
		pr_err("tdx_host: seamcall_timeout_ms=%u: must be 1..%u (a call waits with interrupts off)\n",
		       seamcall_timeout_ms, TDX_SEAMCALL_TIMEOUT_MAX_MS);
		return -EINVAL;
	}
	/* The emulator's device is bound (probed) before the core looks for it. */
	if (p.seamcall_mode != TDX_SEAMCALL_HW) {
		ret = tdx_emu_driver_register();
		if (ret)
			return ret;
		emu_driver_registered = true;
	}
	ret = tdx_core_init(&p);
	if (ret)
		goto unregister;
	ret = tdx_host_device_create();
	if (ret)
		goto exit_core;
	ret = tdx_update_register(tdx_host_device());
	if (ret)
		goto destroy_device;
	tdx_host_debugfs_create();
	return 0;
destroy_device:
	tdx_host_device_destroy();
exit_core:
	tdx_core_exit();
unregister:
	if (emu_driver_registered)
		tdx_emu_driver_unregister();
	tdx_core_report_pages();
	return ret;
}

static void __exit tdx_host_exit(void)
{
	debugfs_remove(tdx_host_debugfs);
	tdx_update_unregister();
	tdx_host_device_destroy();
	tdx_core_exit();
	if (emu_driver_registered)
		tdx_emu_driver_unregister();
	tdx_core_report_pages(); /* "0 pages still held" on a clean unload */
}

module_init(tdx_host_init);
module_exit(tdx_host_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Intel TDX host: module bring-up, extensions, quoting and runtime update");
