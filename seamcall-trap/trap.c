// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_seamcall_trap.ko: the SEAMCALL instruction under QEMU, for tests only (the test build,
 * TDX_TEST_BUILD=1; never a module users install).
 *
 * QEMU has no SEAM: SEAMCALL (66 0F 01 CF) raises #UD. On 6.12 a kernel-mode #UD reaches
 * notify_die(DIE_TRAP, X86_TRAP_UD) before the exception-table fixup, with interrupts off and
 * inside an RCU read section. This module's die notifier takes a SEAMCALL from the text it was told
 * to serve (text=: module names, for their core text, and "kernel", for the core kernel's text),
 * makes it a call on this CPU's slot of seam-emu's mailbox (tdx_host.ko's own EmuBackend,
 * trap_core.cpp), writes the outputs into pt_regs, sets RFLAGS as SEAMCALL does and steps over the
 * instruction. What it declines (other bytes, other text, the debugfs "decline" knob) returns
 * NOTIFY_DONE, so the fixup runs as on a CPU without TDX.
 *
 * RFLAGS after SEAMCALL: a completion status (any, success or not) clears CF, PF, AF, ZF, SF, OF;
 * VMfailInvalid sets CF and clears the others, RAX and the other registers unchanged. IF, TF, AC
 * are never touched. The emulator's VMfailInvalid (no module, P-SEAMLDR busy) is CF=1; so is a
 * mailbox that failed (the emulator killed or stopped, or, with timeout_ms set, not answering in
 * time), which is what hardware without a TDX module answers; that one is logged, ratelimited. By
 * default (timeout_ms=0) a call waits for as long as the emulator's heartbeat goes on, as the
 * instruction always completes: a caller that frees what a failed call was given (Linux's own
 * code does) never has the emulator answer into freed pages later. Once the emulator
 * stopped or was replaced (a new epoch), the next load of tdx_host (its platform probe,
 * tdx_seamcall_trap_platform with new_load) sets the mailbox up again, as tdx_host's own mailbox
 * backend does at its next load.
 *
 * The test build's TD harness asks the emulator for what no SEAMCALL gives (a simulated TD's
 * TDREPORT: include/tdx/emu/service.h) through tdx_host; on the hw backend tdx_host passes such
 * a request to tdx_seamcall_trap_emu_service (a function call, never an instruction: a service RAX
 * arriving as a SEAMCALL is answered TDX_OPERAND_INVALID, as a TDX module would).
 *
 * debugfs tdx_seamcall_trap/: decline and gp ("N [SKIP]": after SKIP more served SEAMCALLs, the
 * next N are declined, or delivered as a #GP would be: the owning module's EX_TYPE_FAULT fixup
 * with trap number 13); self (write a RAX: a SEAMCALL from this module's own text, with its own
 * exception-table entry; read: its RAX after, as tdx_host's sequence returns it); bench (write N:
 * N pairs of TDH.SYS.RD, one through the trap, one straight through the mailbox; read: their
 * round trips, see bench_write); stats.
 */
#include <linux/atomic.h>
#include <linux/bitfield.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kdebug.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/extable.h>
#include <asm/extable_fixup_types.h>
#include <asm/pgtable.h>
#include <asm/ptrace.h>
#include <asm/trapnr.h>

#include <kapi/kapi.h>
#include <tdx/seamcall_trap.h>

#include "../arch-x86-virt-tdx/glue/emu_pci.h"
#include "trap_core.h"

#define TRAP_NAME "tdx_seamcall_trap"

static char *text = "tdx_host";
module_param(text, charp, 0444);
MODULE_PARM_DESC(text, "what the trap serves, comma-separated: a module name (its core text) or kernel (the core kernel's text)");

static unsigned int timeout_ms;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms,
		 "0 (default): a trapped SEAMCALL waits while the emulator lives, as the instruction completes; 1..10000: at most this many ms, then CF=1");

static const u8 seamcall_insn[] = { 0x66, 0x0f, 0x01, 0xcf };

/* The flags SEAMCALL defines: all clear on a completion, CF alone on VMfailInvalid. */
#define SEAMCALL_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF | \
			X86_EFLAGS_OF)

/* The modules text= names; mod is set from MODULE_STATE_COMING to MODULE_STATE_GOING. */
#define TRAP_MAX_MODULES 8
static struct {
	char name[MODULE_NAME_LEN];
	struct module *mod;
} served[TRAP_MAX_MODULES];
static unsigned int nr_served;
static bool serve_kernel;

/* A backend is up: readers (the notifier, the platform export) check it inside RCU. */
static bool trap_live;
static DEFINE_MUTEX(trap_lock);

struct trap_knob {
	atomic_t skip, count;
};
static struct trap_knob knob_decline, knob_gp;

static struct {
	atomic_long_t served, vmfailinvalid, emu_failed, declined_text, declined_knob, gp;
} stats;

static struct dentry *trap_debugfs;
static DEFINE_MUTEX(self_lock);
static u64 self_result;

/* The instruction of bench_seamcall.S, which the trap serves whatever text= says. */
static unsigned long bench_ip;

/* Core kernel text: the kernel image's mapping, executable (rodata, data and freed init are NX). */
static bool kernel_text(unsigned long ip)
{
	unsigned int level;
	pte_t *pte;

	if (ip < __START_KERNEL_map || ip >= MODULES_VADDR)
		return false;
	pte = lookup_address(ip, &level);
	return pte && pte_present(*pte) && !(pte_flags(*pte) & _PAGE_NX);
}

/* Whether ip is text the trap serves; *owner is the module when it is a module's. */
static bool served_text(unsigned long ip, struct module **owner)
{
	unsigned int i;

	if (ip == bench_ip) {
		*owner = THIS_MODULE;
		return true;
	}
	for (i = 0; i < nr_served; i++) {
		struct module *mod = READ_ONCE(served[i].mod);

		if (mod && within_module_mem_type(ip, mod, MOD_TEXT)) {
			*owner = mod;
			return true;
		}
	}
	*owner = NULL;
	return serve_kernel && kernel_text(ip);
}

/* The instruction address of an exception-table entry (stored relative to the field). */
static unsigned long ex_insn_addr(const struct exception_table_entry *e)
{
	return (unsigned long)&e->insn + e->insn;
}

/* This served SEAMCALL is one the knob takes: after its skip count, while its count lasts. */
static bool knob_take(struct trap_knob *k)
{
	if (atomic_read(&k->count) <= 0)
		return false;
	if (atomic_dec_if_positive(&k->skip) >= 0)
		return false;
	return atomic_dec_if_positive(&k->count) >= 0;
}

/*
 * The instruction's #GP, delivered as the kernel's #GP handler does for kernel code: the owning
 * module's exception-table entry for the address, applied as an EX_TYPE_FAULT fixup (RAX = the
 * trap number, RIP = the fixup). Only module text: the kernel's own table is not exported.
 */
static int deliver_gp(struct pt_regs *regs, struct module *owner)
{
	const struct exception_table_entry *e = NULL;
	unsigned int i;

	for (i = 0; owner && i < owner->num_exentries; i++) {
		if (ex_insn_addr(&owner->extable[i]) == regs->ip) {
			e = &owner->extable[i];
			break;
		}
	}
	if (!e || FIELD_GET(EX_DATA_TYPE_MASK, e->data) != EX_TYPE_FAULT) {
		pr_warn_ratelimited(TRAP_NAME ": no EX_TYPE_FAULT entry for the SEAMCALL at %pS: #GP not delivered, #UD goes on\n",
				    (void *)regs->ip);
		return NOTIFY_DONE;
	}
	regs->ax = X86_TRAP_GP;
	if (e->data & EX_FLAG_CLEAR_AX)
		regs->ax = 0;
	if (e->data & EX_FLAG_CLEAR_DX)
		regs->dx = 0;
	regs->ip = (unsigned long)&e->fixup + e->fixup;
	atomic_long_inc(&stats.gp);
	return NOTIFY_STOP;
}

/* Where pt_regs keeps the 13 registers of ABI.md §1, in ABI order. */
static const size_t abi_regs[13] = {
	offsetof(struct pt_regs, cx),  offsetof(struct pt_regs, dx),  offsetof(struct pt_regs, r8),
	offsetof(struct pt_regs, r9),  offsetof(struct pt_regs, r10), offsetof(struct pt_regs, r11),
	offsetof(struct pt_regs, r12), offsetof(struct pt_regs, r13), offsetof(struct pt_regs, r14),
	offsetof(struct pt_regs, r15), offsetof(struct pt_regs, bx),  offsetof(struct pt_regs, di),
	offsetof(struct pt_regs, si),
};

static unsigned long *abi_reg(struct pt_regs *regs, unsigned int i)
{
	return (unsigned long *)((u8 *)regs + abi_regs[i]);
}

/* The SEAMCALL as the CPU would run it, through the emulator: outputs and RFLAGS into regs. */
static void emulate_seamcall(struct pt_regs *regs)
{
	enum tdx_trap_outcome o = TDX_TRAP_EMU_FAILED;
	u64 r[ARRAY_SIZE(abi_regs)];
	u64 status = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(abi_regs); i++)
		r[i] = *abi_reg(regs, i);
	if (READ_ONCE(trap_live))
		o = tdx_trap_emu_call(regs->ax, r, &status);
	regs->flags &= ~SEAMCALL_FLAGS;
	switch (o) {
	case TDX_TRAP_COMPLETED:
		regs->ax = status;
		for (i = 0; i < ARRAY_SIZE(abi_regs); i++)
			*abi_reg(regs, i) = r[i];
		atomic_long_inc(&stats.served);
		return;
	case TDX_TRAP_VMFAILINVALID:
		atomic_long_inc(&stats.vmfailinvalid);
		break;
	case TDX_TRAP_EMU_FAILED:
		atomic_long_inc(&stats.emu_failed);
		pr_err_ratelimited(TRAP_NAME ": SEAMCALL 0x%lx on CPU %u: no answer from the emulator; CF=1 (VMfailInvalid), as without a TDX module\n",
				   regs->ax, smp_processor_id());
		break;
	}
	regs->flags |= X86_EFLAGS_CF;
}

static int trap_die(struct notifier_block *nb, unsigned long val, void *data)
{
	struct die_args *args = data;
	struct pt_regs *regs = args->regs;
	struct module *owner;
	u8 insn[sizeof(seamcall_insn)];

	if (val != DIE_TRAP || args->trapnr != X86_TRAP_UD || user_mode(regs))
		return NOTIFY_DONE;
	if (copy_from_kernel_nofault(insn, (void *)regs->ip, sizeof(insn)) ||
	    memcmp(insn, seamcall_insn, sizeof(insn)))
		return NOTIFY_DONE;
	if (!served_text(regs->ip, &owner)) {
		atomic_long_inc(&stats.declined_text);
		return NOTIFY_DONE;
	}
	if (knob_take(&knob_decline)) {
		atomic_long_inc(&stats.declined_knob);
		return NOTIFY_DONE;
	}
	if (knob_take(&knob_gp))
		return deliver_gp(regs, owner);
	emulate_seamcall(regs);
	regs->ip += sizeof(seamcall_insn);
	return NOTIFY_STOP;
}

static struct notifier_block trap_die_nb = {
	.notifier_call = trap_die,
};

static int trap_module_event(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;
	unsigned int i;

	if (state != MODULE_STATE_COMING && state != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	for (i = 0; i < nr_served; i++)
		if (!strcmp(served[i].name, mod->name))
			WRITE_ONCE(served[i].mod, state == MODULE_STATE_COMING ? mod : NULL);
	return NOTIFY_DONE;
}

static struct notifier_block trap_module_nb = {
	.notifier_call = trap_module_event,
};

static int parse_text(void)
{
	char *list, *p, *name;

	list = kstrdup(text, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	p = list;
	while ((name = strsep(&p, ","))) {
		if (!*name)
			continue;
		if (!strcmp(name, "kernel")) {
			serve_kernel = true;
			continue;
		}
		if (nr_served == TRAP_MAX_MODULES || strscpy(served[nr_served].name, name, MODULE_NAME_LEN) < 0) {
			pr_err(TRAP_NAME ": text=%s: at most %u module names of fewer than %u characters\n", text,
			       TRAP_MAX_MODULES, (unsigned int)MODULE_NAME_LEN);
			kfree(list);
			return -EINVAL;
		}
		nr_served++;
	}
	kfree(list);
	if (!nr_served && !serve_kernel) {
		pr_err(TRAP_NAME ": text=%s names nothing to serve\n", text);
		return -EINVAL;
	}
	return 0;
}

/* Sets up a backend on the emulator's device (its handshake) and serves through it. */
static int trap_start_locked(void)
{
	struct kapi_emu_device dev;
	int ret;

	lockdep_assert_held(&trap_lock);
	if (kapi_emu_get(&dev))
		return -ENXIO;
	/* On failure the backend is gone and has given the device back. */
	ret = tdx_trap_emu_start(&dev, (u64)timeout_ms * NSEC_PER_MSEC, nr_cpu_ids);
	if (ret) {
		pr_err(TRAP_NAME ": no usable emulator mailbox (%d): is seam-emu running?\n", ret);
		return ret;
	}
	WRITE_ONCE(trap_live, true);
	return 0;
}

/* No more calls reach the backend (RCU: the notifier's calls in flight end first), then it goes. */
static void trap_stop_locked(void)
{
	lockdep_assert_held(&trap_lock);
	if (trap_live) {
		WRITE_ONCE(trap_live, false);
		synchronize_rcu();
		tdx_trap_emu_stop();
	}
}

static void trap_stop(void)
{
	mutex_lock(&trap_lock);
	trap_stop_locked();
	mutex_unlock(&trap_lock);
}

/*
 * A client's new load (tdx_host's hw backend probing the platform): when the emulator the backend
 * was set up with has stopped or was replaced (run.sh --respawn-emu: a new epoch), or an earlier
 * try left no backend, set up a new one on the current emulator, as the mailbox backend's next
 * load does. A backend that failed for another reason (timeout, heartbeat) on an emulator still in
 * place stays failed. Between two loads no client call is in flight; calls from other served text
 * end first (trap_stop_locked's RCU grace period) and answer CF=1 meanwhile.
 */
static void trap_renew(void)
{
	mutex_lock(&trap_lock);
	if (trap_live && !tdx_trap_emu_replaced()) {
		mutex_unlock(&trap_lock);
		return;
	}
	if (trap_live)
		pr_warn(TRAP_NAME ": the emulator stopped or another one took the mailbox over: setting the mailbox up again for this load\n");
	trap_stop_locked();
	/* No device (unbound, or held by tdx_host's own driver): nothing to serve, as before. */
	if (!trap_start_locked())
		pr_info(TRAP_NAME ": serving SEAMCALL through the current emulator's mailbox\n");
	mutex_unlock(&trap_lock);
}

int tdx_seamcall_trap_platform(struct tdx_seamcall_trap_platform *out, int new_load)
{
	int ret = -ENODEV;

	if (new_load)
		trap_renew();
	rcu_read_lock();
	if (READ_ONCE(trap_live)) {
		tdx_trap_emu_platform(out);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(tdx_seamcall_trap_platform);

unsigned long long tdx_seamcall_trap_emu_service(unsigned long long rax, unsigned long long rcx,
						 unsigned long long rdx, unsigned long long r8)
{
	unsigned long long status;

	rcu_read_lock(); /* the backend stays (trap_stop) */
	status = tdx_trap_emu_service(READ_ONCE(trap_live), rax, rcx, rdx, r8);
	rcu_read_unlock();
	return status;
}
EXPORT_SYMBOL_GPL(tdx_seamcall_trap_emu_service);

void tdx_trap_device_removed(void)
{
	pr_warn(TRAP_NAME ": the emulator's device is going away: SEAMCALLs answer CF=1 from now on\n");
	trap_stop();
}

/* ---- debugfs ---- */

static ssize_t knob_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct trap_knob *k = file_inode(f)->i_private;
	unsigned int n, skip = 0;
	char buf[32];

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%u %u", &n, &skip) < 1 || n > INT_MAX || skip > INT_MAX)
		return -EINVAL;
	atomic_set(&k->count, 0);
	atomic_set(&k->skip, skip);
	atomic_set(&k->count, n);
	return len;
}

static ssize_t knob_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct trap_knob *k = file_inode(f)->i_private;
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "%d %d\n", atomic_read(&k->count), atomic_read(&k->skip));

	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations knob_fops = {
	.owner = THIS_MODULE,
	.write = knob_write,
	.read = knob_read,
	.llseek = default_llseek,
};

/* A SEAMCALL from this module's text with the RAX written; reading gives the RAX it ended with. */
static int self_set(void *data, u64 rax)
{
	u64 regs[13] = {};

	mutex_lock(&self_lock);
	self_result = tdx_trap_self_seamcall(rax, regs);
	mutex_unlock(&self_lock);
	return 0;
}

static int self_get(void *data, u64 *val)
{
	mutex_lock(&self_lock);
	*val = self_result;
	mutex_unlock(&self_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(self_fops, self_get, self_set, "0x%016llx\n");

/*
 * bench: write N (1..BENCH_MAX) for N pairs of the TDH.SYS.RD tdx_host's bench_sys_rd times (the
 * major version), on CPU 0 as that one runs, each pair with preemption off: one issued as the
 * SEAMCALL instruction of bench_seamcall.S (its #UD served by this trap), one straight through the
 * trap's EmuBackend (the mailbox backend's call, no #UD), in turn first, each timed with ktime; the
 * emulator's service time of each call read from its slot. Both must complete with TDX_SUCCESS and
 * the same 13 output registers (-EIO and a log line otherwise: TDX not brought up, a declined or
 * #GP-delivered trap, a trap that writes the outputs wrong); -ENODEV when the trap has stopped
 * serving. Read: "ok bench n=N cpu=0 major=M trap_p50_ns= trap_p99_ns= mailbox_p50_ns=
 * mailbox_p99_ns= svc_p50_ns= svc_p99_ns=" of the last run that succeeded (-ENODATA before one,
 * and after one that failed). Information for make bench, never a pass/fail timing.
 */
#define BENCH_MAX (1u << 20)
#define BENCH_CPU 0
#define NR_ABI_REGS ARRAY_SIZE(abi_regs)
#define ABI_RDX 1 /* indexes in abi_regs */
#define ABI_R8 2
static DEFINE_MUTEX(bench_lock);
static char bench_result[256];

struct bench_run {
	u32 n;
	u64 *trap_ns, *mbox_ns, *svc_ns; /* n, n, 2n */
	u64 major;
	int err;
};

/* One TDH.SYS.RD, trapped or through the mailbox: its status, outputs in regs, its time in *ns. */
static u64 bench_call(bool trapped, u64 *regs, u64 *ns)
{
	u64 rax, t0, status;

	memset(regs, 0, NR_ABI_REGS * sizeof(u64));
	tdx_trap_bench_args(&rax, &regs[ABI_RDX]);
	t0 = ktime_get_ns();
	if (trapped)
		status = tdx_trap_bench_seamcall(rax, regs);
	else
		tdx_trap_emu_call(rax, regs, &status); /* a failed call's status is never TDX_SUCCESS */
	*ns = ktime_get_ns() - t0;
	return status;
}

/* Pair i: both calls on this CPU (preemption off), the trapped one first in even pairs. */
static int bench_pair(struct bench_run *b, u32 i)
{
	u64 out[2][NR_ABI_REGS], status[2];
	unsigned int k;
	int ret = 0;

	preempt_disable();
	rcu_read_lock(); /* the backend stays (trap_stop) */
	if (!READ_ONCE(trap_live)) {
		ret = -ENODEV;
		goto out;
	}
	for (k = 0; k < 2; k++) {
		bool trapped = (i + k) % 2 == 0;

		status[trapped] = bench_call(trapped, out[trapped], trapped ? &b->trap_ns[i] : &b->mbox_ns[i]);
		b->svc_ns[2 * i + k] = tdx_trap_emu_last_service_ns(smp_processor_id());
	}
out:
	rcu_read_unlock();
	preempt_enable();
	if (ret)
		return ret;
	if (status[0] || status[1]) {
		pr_warn(TRAP_NAME ": bench: TDH.SYS.RD answered 0x%llx through the trap, 0x%llx through the mailbox\n",
			status[1], status[0]);
		return -EIO;
	}
	if (memcmp(out[0], out[1], sizeof(out[0]))) {
		pr_warn(TRAP_NAME ": bench: TDH.SYS.RD's outputs through the trap differ from the mailbox's (R8 0x%llx, 0x%llx)\n",
			out[1][ABI_R8], out[0][ABI_R8]);
		return -EIO;
	}
	b->major = out[0][ABI_R8];
	return 0;
}

static int bench_on_cpu(void *arg)
{
	struct bench_run *b = arg;
	u32 i;

	for (i = 0; i < b->n && !b->err; i++) {
		b->err = bench_pair(b, i);
		if (i % 256 == 255)
			cond_resched();
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The median and the 99th percentile of v[0..n), sorted in place (the index bench.cpp takes). */
static void percentiles(u64 *v, u32 n, u64 *p50, u64 *p99)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	*p50 = v[min_t(u64, n - 1, (u64)n * 50 / 100)];
	*p99 = v[min_t(u64, n - 1, (u64)n * 99 / 100)];
}

static ssize_t bench_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct bench_run b = {};
	u64 *buf, t50, t99, m50, m99, s50, s99;
	int ret;

	ret = kstrtou32_from_user(ubuf, len, 0, &b.n);
	if (ret)
		return ret;
	if (!b.n || b.n > BENCH_MAX)
		return -EINVAL;
	buf = kvcalloc(4 * (size_t)b.n, sizeof(u64), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	b.trap_ns = buf;
	b.mbox_ns = buf + b.n;
	b.svc_ns = buf + 2 * b.n;
	mutex_lock(&bench_lock);
	bench_result[0] = '\0';
	ret = smp_call_on_cpu(BENCH_CPU, bench_on_cpu, &b, false);
	if (!ret)
		ret = b.err;
	if (!ret) {
		percentiles(b.trap_ns, b.n, &t50, &t99);
		percentiles(b.mbox_ns, b.n, &m50, &m99);
		percentiles(b.svc_ns, 2 * b.n, &s50, &s99);
		scnprintf(bench_result, sizeof(bench_result),
			  "ok bench n=%u cpu=%u major=%llu trap_p50_ns=%llu trap_p99_ns=%llu mailbox_p50_ns=%llu mailbox_p99_ns=%llu svc_p50_ns=%llu svc_p99_ns=%llu\n",
			  b.n, BENCH_CPU, b.major, t50, t99, m50, m99, s50, s99);
	}
	mutex_unlock(&bench_lock);
	kvfree(buf);
	return ret ? ret : len;
}

static ssize_t bench_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	ssize_t ret = -ENODATA;

	mutex_lock(&bench_lock);
	if (bench_result[0])
		ret = simple_read_from_buffer(ubuf, len, ppos, bench_result, strlen(bench_result));
	mutex_unlock(&bench_lock);
	return ret;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.write = bench_write,
	.read = bench_read,
	.llseek = default_llseek,
};

/* The instruction of bench_seamcall.S: its exception-table entry, the first at or after its start. */
static int bench_find_ip(void)
{
	unsigned long start = (unsigned long)tdx_trap_bench_seamcall, ip = ULONG_MAX;
	unsigned int i;

	for (i = 0; i < THIS_MODULE->num_exentries; i++) {
		unsigned long insn = ex_insn_addr(&THIS_MODULE->extable[i]);

		if (insn >= start && insn < ip)
			ip = insn;
	}
	if (ip == ULONG_MAX || memcmp((void *)ip, seamcall_insn, sizeof(seamcall_insn))) {
		pr_err(TRAP_NAME ": no SEAMCALL at the exception-table entry of %pS\n", (void *)start);
		return -ENOEXEC;
	}
	bench_ip = ip;
	return 0;
}

static int stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "served=%ld vmfailinvalid=%ld emu_failed=%ld declined_text=%ld declined_knob=%ld gp=%ld\n",
		   atomic_long_read(&stats.served), atomic_long_read(&stats.vmfailinvalid),
		   atomic_long_read(&stats.emu_failed), atomic_long_read(&stats.declined_text),
		   atomic_long_read(&stats.declined_knob), atomic_long_read(&stats.gp));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static void trap_debugfs_create(void)
{
	trap_debugfs = debugfs_create_dir(TRAP_NAME, NULL);
	debugfs_create_file("decline", 0600, trap_debugfs, &knob_decline, &knob_fops);
	debugfs_create_file("gp", 0600, trap_debugfs, &knob_gp, &knob_fops);
	debugfs_create_file_unsafe("self", 0600, trap_debugfs, NULL, &self_fops);
	debugfs_create_file("bench", 0600, trap_debugfs, NULL, &bench_fops);
	debugfs_create_file("stats", 0400, trap_debugfs, NULL, &stats_fops);
}

/* ---- load and unload ---- */

static int __init trap_init(void)
{
	int ret;

	if (timeout_ms > TDX_SEAMCALL_TIMEOUT_MAX_MS) {
		pr_err(TRAP_NAME ": timeout_ms=%u: must be 0 (while the emulator lives) or 1..%u (a call waits with interrupts off)\n",
		       timeout_ms, TDX_SEAMCALL_TIMEOUT_MAX_MS);
		return -EINVAL;
	}
	ret = parse_text();
	if (!ret)
		ret = bench_find_ip();
	if (ret)
		return ret;
	/* The notifier below sees modules loaded from now on; this one is already here. */
	trap_module_event(NULL, MODULE_STATE_COMING, THIS_MODULE);
	ret = register_module_notifier(&trap_module_nb);
	if (ret)
		return ret;
	ret = tdx_emu_driver_register();
	if (ret)
		goto unregister_modules;
	mutex_lock(&trap_lock);
	ret = trap_start_locked();
	mutex_unlock(&trap_lock);
	if (ret == -ENXIO) {
		pr_err(TRAP_NAME ": no emulator: no ivshmem device 1af4:1110 bound to %s (absent, or held by tdx_host's driver)\n",
		       "tdx_seamcall_trap_emu");
		ret = -ENODEV;
	}
	if (ret)
		goto unregister_driver;
	ret = register_die_notifier(&trap_die_nb);
	if (ret)
		goto stop;
	trap_debugfs_create();
	pr_info(TRAP_NAME ": serving SEAMCALL from %s through the emulator's mailbox (test only)\n", text);
	return 0;
stop:
	trap_stop();
unregister_driver:
	tdx_emu_driver_unregister();
unregister_modules:
	unregister_module_notifier(&trap_module_nb);
	return ret;
}

static void __exit trap_exit(void)
{
	debugfs_remove_recursive(trap_debugfs);
	unregister_die_notifier(&trap_die_nb);
	trap_stop();
	tdx_emu_driver_unregister();
	unregister_module_notifier(&trap_module_nb);
}

module_init(trap_init);
module_exit(trap_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test only: SEAMCALL's #UD under QEMU served by seam-emu's mailbox");
MODULE_INFO(tdx_test_build, "y");
