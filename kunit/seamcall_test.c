// SPDX-License-Identifier: GPL-2.0
/*
 * SEAMCALL leaf/version encoding, the status -> errno mapping, and SEAMCALLs from interrupt
 * context on a CPU whose process context is making SEAMCALLs too (the mailbox slot they share).
 */
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>

#include <kapi/kunit_hooks.h>
#include <tdx/emu/mailbox_ids.h>

#include "tdx_kunit.h"

static void leaf_encoding(struct kunit *test)
{
	/* RAX: bits 15:0 leaf, 23:16 version (ABI.md section 1). */
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(33, 0), 33ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(45, 1), 0x1002DULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(53, 1), 0x10035ULL);
	KUNIT_EXPECT_EQ(test, tdx_kunit_leaf_rax(100, 0) >> 24, 0ULL);
}

static void status_to_errno(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0), 0);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF00FFFF0000ULL), -ENODEV);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF000000000DULL), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF0000000006ULL), -EACCES);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF00FFFE0000ULL), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000FF00FFFD0000ULL), -ENODEV);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0xC000010000000000ULL), -EIO);
	KUNIT_EXPECT_EQ(test, tdx_kunit_status_to_errno(0x8000020300000000ULL), -EIO);
}

static void status_names(struct kunit *test)
{
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x8000020200000000ULL), "TDX_SYS_BUSY");
	/* The operand id in the low 32 bits does not change the name. */
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0xC000010000000002ULL), "TDX_OPERAND_INVALID");
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x8000FF00FFFF0000ULL),
			   "TDX_SEAMCALL_VMFAILINVALID");
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x8000FF00FFFD0000ULL),
			   "TDX_SEAMCALL_EMULATOR_GONE");
	KUNIT_EXPECT_STREQ(test, tdx_kunit_status_name(0x1234000000000000ULL), "unknown");
}

/*
 * Two metadata fields with different values: process context reads one, the IPI handler the
 * other, so a call that got the other context's answer (or inputs) is seen.
 */
#define FIELD_MAJOR_VERSION	0x0800000100000004ULL
#define FIELD_BUILD_NUM		0x8800000100000002ULL
/*
 * The process-context thread makes at least IRQ_STRESS_CALLS calls and goes on until
 * IRQ_STRESS_OVERLAPS IPIs have come during one of its calls (how often they coincide depends
 * on how the host schedules the vCPUs), up to IRQ_STRESS_MAX_CALLS.
 */
#define IRQ_STRESS_CALLS	3000
#define IRQ_STRESS_OVERLAPS	50
#define IRQ_STRESS_MAX_CALLS	200000

struct irq_stress {
	unsigned int target; /* the CPU whose slot both contexts use */
	u64 proc_want, irq_want;
	atomic_t proc_calls, proc_bad, irq_calls, irq_bad;
	atomic_t in_proc_call;	   /* the process-context thread is inside tdx_kunit_sys_rd */
	atomic_t irq_during_proc;  /* IPIs that arrived while it was */
	atomic_t stop;
	struct completion proc_done;
};

/* Runs in the IPI (hard interrupt context) on the target CPU. */
static void irq_sys_rd(void *arg)
{
	struct irq_stress *st = arg;
	u64 v = 0;

	if (atomic_read(&st->in_proc_call))
		atomic_inc(&st->irq_during_proc);
	if (tdx_kunit_sys_rd(FIELD_BUILD_NUM, &v) || v != st->irq_want)
		atomic_inc(&st->irq_bad);
	atomic_inc(&st->irq_calls);
}

static void wait_to_be_stopped(void)
{
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
}

/* Bound to the target CPU: process-context SEAMCALLs, back to back. */
static int proc_thread(void *arg)
{
	struct irq_stress *st = arg;
	int i;

	for (i = 0; i < IRQ_STRESS_MAX_CALLS; i++) {
		u64 v = 0;

		if (i >= IRQ_STRESS_CALLS &&
		    atomic_read(&st->irq_during_proc) >= IRQ_STRESS_OVERLAPS)
			break;
		int ret;

		atomic_set(&st->in_proc_call, 1);
		ret = tdx_kunit_sys_rd(FIELD_MAJOR_VERSION, &v);
		atomic_set(&st->in_proc_call, 0);
		if (ret || v != st->proc_want)
			atomic_inc(&st->proc_bad);
		atomic_inc(&st->proc_calls);
		if (i % 64 == 0)
			cond_resched();
	}
	atomic_set(&st->stop, 1);
	complete(&st->proc_done);
	wait_to_be_stopped();
	return 0;
}

/* Bound to another CPU: IPIs to the target, each making a SEAMCALL there. */
static int ipi_thread(void *arg)
{
	struct irq_stress *st = arg;

	while (!atomic_read(&st->stop)) {
		smp_call_function_single(st->target, irq_sys_rd, st, 1);
		cond_resched();
	}
	wait_to_be_stopped();
	return 0;
}

/*
 * A SEAMCALL from an IPI on a CPU that is in the middle of a process-context SEAMCALL: both use
 * that CPU's mailbox slot. The backend keeps interrupts off for the whole use of the slot, so the
 * IPI runs between calls and each context gets its own answer. Without that, the IPI's call
 * overwrites the slot mid-call: one context reads the other's value, or waits for an id that
 * never comes and times out (TDX dead).
 */
static void irq_seamcall_on_a_busy_cpu(struct kunit *test)
{
	struct irq_stress *st;
	struct task_struct *proc, *ipi;
	unsigned int sender;
	unsigned long left;
	int ret;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	sender = cpumask_first(cpu_online_mask);
	st->target = cpumask_next(sender, cpu_online_mask);
	init_completion(&st->proc_done);

	if (tdx_kunit_hold())
		kunit_skip(test, "tdx_host is not using the emulator");
	/* The lock is held from here to tdx_kunit_release(): no assertion in between. */
	ret = tdx_kunit_sys_rd(FIELD_MAJOR_VERSION, &st->proc_want);
	if (!ret)
		ret = tdx_kunit_sys_rd(FIELD_BUILD_NUM, &st->irq_want);
	proc = ipi = NULL;
	if (!ret && st->proc_want != st->irq_want) {
		proc = kthread_create(proc_thread, st, "tdx_kunit_proc");
		ipi = kthread_create(ipi_thread, st, "tdx_kunit_ipi");
	}
	if (!IS_ERR_OR_NULL(proc) && !IS_ERR_OR_NULL(ipi)) {
		kthread_bind(proc, st->target);
		kthread_bind(ipi, sender);
		wake_up_process(proc);
		wake_up_process(ipi);
		left = wait_for_completion_timeout(&st->proc_done, 120 * HZ);
		atomic_set(&st->stop, 1);
		kthread_stop(proc);
		kthread_stop(ipi);
	} else {
		left = 0;
		if (!IS_ERR_OR_NULL(proc))
			kthread_stop(proc);
		if (!IS_ERR_OR_NULL(ipi))
			kthread_stop(ipi);
	}
	tdx_kunit_release();

	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_NE_MSG(test, st->proc_want, st->irq_want, "the two fields must differ");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, proc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ipi);
	KUNIT_EXPECT_GT_MSG(test, left, 0UL, "the process-context calls did not finish in 120 s");
	KUNIT_EXPECT_GE(test, atomic_read(&st->proc_calls), IRQ_STRESS_CALLS);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->proc_bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&st->irq_bad), 0);
	/* The stress did what it is for: IPIs came while process-context calls were under way. */
	KUNIT_EXPECT_GT(test, atomic_read(&st->irq_calls), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&st->irq_during_proc), 0);
	kunit_info(test, "CPU %u: %d process-context calls, %d from IPIs (%d during a process-context call)\n",
		   st->target, atomic_read(&st->proc_calls), atomic_read(&st->irq_calls),
		   atomic_read(&st->irq_during_proc));
}

static struct kunit_case tdx_seamcall_cases[] = {
	KUNIT_CASE(leaf_encoding),
	KUNIT_CASE(status_to_errno),
	KUNIT_CASE(status_names),
	KUNIT_CASE(irq_seamcall_on_a_busy_cpu),
	{}
};

struct kunit_suite tdx_seamcall_suite = {
	.name = "tdx_seamcall",
	.test_cases = tdx_seamcall_cases,
};
