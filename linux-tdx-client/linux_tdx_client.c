// SPDX-License-Identifier: GPL-2.0
/*
 * linux_tdx_client.ko (test only; a kernel with CONFIG_INTEL_TDX_HOST, i.e. the project's debug
 * kernel): drives Linux 6.12's own TDX host code (arch/x86/virt/vmx/tdx/tdx.c) through its exported
 * API the way its user (KVM) is meant to: with the CPU hotplug lock held for reading,
 * tdx_cpu_enable() on every online CPU with interrupts off (an IPI), then tdx_enable(), once, at
 * load. The SEAMCALLs they make raise #UD under QEMU; the test-only SEAMCALL trap
 * (tdx_seamcall_trap.ko text=kernel) serves them from the emulator. 6.12 expects VMX operation
 * (KVM's VMXON) before tdx_cpu_enable(); nothing here checks it, and under the trap it does not
 * matter. The kernel must have found a TDX platform at boot (X86_FEATURE_TDX_HOST_PLATFORM; under
 * QEMU the debug kernel's tdx_emulated_keyids= parameter), else both calls return -ENODEV.
 *
 * The result, in the kernel log ("linux_tdx_client: ...") and in debugfs
 * linux_tdx_client/result, one line:
 *   cpus=N cpu_enable_ok=N cpu_enable_failed=N cpu_enable_error=E tdx_enable=R
 * (E: the first tdx_cpu_enable() error, 0 if none; R: tdx_enable()'s return, not called when a
 * CPU failed: then R = E). The load succeeds either way, so that the result can be read; 6.12 has
 * no way to tear TDX down, so unloading leaves it as it is (a reload calls both again: they return
 * 0 without a SEAMCALL when TDX is up; tdx_enable() -EINVAL after a failure).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <asm/tdx.h>

static unsigned int nr_cpus;
static atomic_t nr_ok = ATOMIC_INIT(0);
static atomic_t nr_failed = ATOMIC_INIT(0);
static atomic_t first_error = ATOMIC_INIT(0);
static int enable_ret;
static struct dentry *dir;

/* On each online CPU, interrupts off (on_each_cpu()). */
static void cpu_enable(void *unused)
{
	int ret = tdx_cpu_enable();

	if (!ret) {
		atomic_inc(&nr_ok);
		return;
	}
	atomic_inc(&nr_failed);
	atomic_cmpxchg(&first_error, 0, ret);
	pr_err("tdx_cpu_enable() on CPU %d: %d\n", smp_processor_id(), ret);
}

static int result_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "cpus=%u cpu_enable_ok=%d cpu_enable_failed=%d cpu_enable_error=%d tdx_enable=%d\n",
		   nr_cpus, atomic_read(&nr_ok), atomic_read(&nr_failed),
		   atomic_read(&first_error), enable_ret);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(result);

static int __init linux_tdx_client_init(void)
{
	cpus_read_lock();
	nr_cpus = num_online_cpus();
	on_each_cpu(cpu_enable, NULL, 1);
	if (atomic_read(&nr_failed))
		enable_ret = atomic_read(&first_error);
	else
		enable_ret = tdx_enable();
	cpus_read_unlock();

	pr_info("tdx_cpu_enable() on %d of %u CPUs, tdx_enable() %s %d\n", atomic_read(&nr_ok), nr_cpus,
		atomic_read(&nr_failed) ? "not called:" : "returned", enable_ret);
	dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("result", 0444, dir, NULL, &result_fops);
	return 0;
}

static void __exit linux_tdx_client_exit(void)
{
	debugfs_remove_recursive(dir);
}

module_init(linux_tdx_client_init);
module_exit(linux_tdx_client_exit);
MODULE_DESCRIPTION("Test only: Linux's own TDX bring-up as a client of the emulator");
MODULE_LICENSE("GPL");
