// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_tdx_quote.ko: TD guests' TDG.VP.VMCALL<GetQuote> and <SetupEventNotifyInterrupt> as KVM's
 * TDVMCALL handler runs them (ABI.md §9), for a KVM integration that supplies guest memory,
 * shared/private attributes and the TD's identity (include/tdx/kvm_tdx_quote.h).
 *
 * Two paths, chosen once per TD when it is created:
 *  - in-kernel: the quote is made synchronously by tdx_host.ko's quoting extension and written
 *    into the TD's shared buffer (getquote.cpp);
 *  - userspace: the request leaves as a KVM_EXIT_TDX-style record on /dev/kvm_tdx_quote for a
 *    VMM, which answers the exit, has the quote made by a quote generation service and writes
 *    it into the buffer (include/uapi/linux/kvm_tdx_quote.h says how, and what the kernel
 *    guarantees when the VMM goes away).
 */
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <tdx/host_api.h>
#include <tdx/kvm_tdx_quote.h>
#include <uapi/linux/kvm_tdx_quote.h>

#include "../core.h"

static bool in_kernel = true;
module_param(in_kernel, bool, 0644);
MODULE_PARM_DESC(in_kernel,
		 "Make TDs' quotes in the kernel when tdx_host's quoting is enabled (decided per TD at its creation); else through /dev/kvm_tdx_quote");

struct kvm_tdx_quote_td {
	struct kref ref;
	const struct kvm_tdx_quote_td_ops *ops;
	void *priv;
	u64 tdr_pa;
	unsigned int shared_bit;
	bool in_kernel;
	u32 handle;
	u8 notify_vector; /* 0: none set up */
	bool dead;        /* destroyed: no op is called any more */
	struct rw_semaphore ops_lock; /* read: a VMM's access in progress; write: destroy */
};

enum kq_req_state {
	KQ_QUEUED,    /* waiting for a reader */
	KQ_READ,      /* read by a VMM (owner), not answered */
	KQ_IN_FLIGHT, /* answered SUCCESS: the VMM owes the quote and DONE */
	KQ_ENDED,     /* answered otherwise, done, or abandoned */
};

struct kq_req {
	struct kref ref;
	u64 id;
	struct kvm_tdx_quote_td *td;
	u64 gpa, size;
	enum kq_req_state state;
	struct file *owner;
	struct list_head node; /* pending list, or the owner's list */
	u64 ret;
	struct completion resumed; /* the exit was answered (or ended) */
};

struct kq_file {
	struct list_head reqs; /* KQ_READ and KQ_IN_FLIGHT requests this file owns */
};

static DEFINE_MUTEX(kq_lock); /* everything below, and every request's state/owner/node */
static LIST_HEAD(kq_pending);
static DEFINE_IDR(kq_reqs);  /* live requests by id (ids are 1..INT_MAX, cyclic) */
static DEFINE_IDR(kq_tds);   /* TDs by handle */
static unsigned int kq_open_files;
static DECLARE_WAIT_QUEUE_HEAD(kq_readers);

static void td_release(struct kref *ref)
{
	kfree(container_of(ref, struct kvm_tdx_quote_td, ref));
}

static void req_release(struct kref *ref)
{
	struct kq_req *r = container_of(ref, struct kq_req, ref);

	kref_put(&r->td->ref, td_release);
	kfree(r);
}

/* ---- the core's accessors (core.h) ---- */

int kq_read(struct kvm_tdx_quote_td *td, u64 gpa, void *buf, u64 len)
{
	return td->ops->read(td->priv, gpa, buf, len);
}

int kq_write(struct kvm_tdx_quote_td *td, u64 gpa, const void *buf, u64 len)
{
	return td->ops->write(td->priv, gpa, buf, len);
}

int kq_range_shared(struct kvm_tdx_quote_td *td, u64 gpa, u64 len)
{
	return td->ops->range_shared(td->priv, gpa, len);
}

int kq_generate_quote(struct kvm_tdx_quote_td *td, u64 report_gpa, u32 in_len, void **quote, u32 *quote_len)
{
	void *report;
	int ret;

	/* in_len + header fits one page (checked); the TDX module checks the length it wants. */
	report = kmalloc(in_len ? in_len : 1, GFP_KERNEL);
	if (!report)
		return -ENOMEM;
	ret = kq_read(td, report_gpa, report, in_len);
	if (!ret)
		ret = tdx_host_generate_quote(td->tdr_pa, report, in_len, quote, quote_len);
	kfree(report);
	return ret;
}

void kq_free_quote(void *quote)
{
	kvfree(quote);
}

/* ---- TDs ---- */

struct kvm_tdx_quote_td *kvm_tdx_quote_td_create(const struct kvm_tdx_quote_td_ops *ops, void *priv,
						 u64 tdr_pa, unsigned int shared_bit, int *err)
{
	struct kvm_tdx_quote_td *td;
	int id;

	if (!ops || !ops->read || !ops->write || !ops->range_shared || !ops->inject ||
	    (shared_bit != 47 && shared_bit != 51)) {
		*err = -EINVAL;
		return NULL;
	}
	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td) {
		*err = -ENOMEM;
		return NULL;
	}
	kref_init(&td->ref);
	init_rwsem(&td->ops_lock);
	td->ops = ops;
	td->priv = priv;
	td->tdr_pa = tdr_pa;
	td->shared_bit = shared_bit;
	td->in_kernel = READ_ONCE(in_kernel) && tdx_host_quote_enabled();
	mutex_lock(&kq_lock);
	id = idr_alloc_cyclic(&kq_tds, td, 1, INT_MAX, GFP_KERNEL);
	if (id >= 0)
		td->handle = id;
	mutex_unlock(&kq_lock);
	if (id < 0) {
		kfree(td);
		*err = id;
		return NULL;
	}
	*err = 0;
	return td;
}
EXPORT_SYMBOL_NS_GPL(kvm_tdx_quote_td_create, TDX_NS_KVM_QUOTE);

bool kvm_tdx_quote_td_in_kernel(const struct kvm_tdx_quote_td *td)
{
	return td->in_kernel;
}
EXPORT_SYMBOL_NS_GPL(kvm_tdx_quote_td_in_kernel, TDX_NS_KVM_QUOTE);

u32 kvm_tdx_quote_td_handle(const struct kvm_tdx_quote_td *td)
{
	return td->handle;
}
EXPORT_SYMBOL_NS_GPL(kvm_tdx_quote_td_handle, TDX_NS_KVM_QUOTE);

/* Takes r off every list and out of the id table; kq_lock held. */
static void req_unlink(struct kq_req *r)
{
	if (r->state == KQ_ENDED)
		return;
	list_del_init(&r->node);
	idr_remove(&kq_reqs, r->id);
	r->state = KQ_ENDED;
	r->owner = NULL;
}

void kvm_tdx_quote_td_destroy(struct kvm_tdx_quote_td *td)
{
	struct kq_req *r;
	int id;

	mutex_lock(&kq_lock);
	td->dead = true;
	idr_remove(&kq_tds, td->handle);
	/* Exits not answered end with their preset ret; requests in flight are forgotten. */
	idr_for_each_entry(&kq_reqs, r, id) {
		if (r->td != td)
			continue;
		req_unlink(r);
		complete(&r->resumed);
		kref_put(&r->ref, req_release); /* the id table's reference */
	}
	mutex_unlock(&kq_lock);
	/* Wait for a VMM's access in progress; none starts once dead is set. */
	down_write(&td->ops_lock);
	up_write(&td->ops_lock);
	kref_put(&td->ref, td_release);
}
EXPORT_SYMBOL_NS_GPL(kvm_tdx_quote_td_destroy, TDX_NS_KVM_QUOTE);

/* ---- the userspace path ---- */

/*
 * Ends a request in flight, unless the TD is gone: writes the status the VMM said DONE with (status
 * non-NULL), or SERVICE_UNAVAILABLE for one it abandoned (its file closed), then raises the TD's
 * notify vector. r is already off the id table: the TD may reuse its buffer for a new request as
 * soon as it sees the status, and nothing here touches the buffer after that write.
 */
static void req_finish(struct kq_req *r, const u64 *status)
{
	struct kvm_tdx_quote_td *td = r->td;

	down_read(&td->ops_lock);
	if (!READ_ONCE(td->dead)) {
		if (status) {
			if (kq_write_status(td, r->gpa, *status))
				pr_info_ratelimited("kvm_tdx_quote: request %llu of TD %u: its buffer is no longer shared, status not written\n",
						    r->id, td->handle);
		} else if (kq_end_in_flight(td, r->gpa)) {
			pr_info_ratelimited("kvm_tdx_quote: request %llu of TD %u ended without a status from the VMM\n",
					    r->id, td->handle);
		}
		if (td->notify_vector)
			td->ops->inject(td->priv, td->notify_vector);
	}
	up_read(&td->ops_lock);
}

static u64 get_quote_userspace(struct kvm_tdx_quote_td *td, const struct kq_request *q)
{
	struct kq_req *r;
	u64 ret = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	int id, killed;

	/* IN_FLIGHT before the exit is visible: a fast VMM's final status must not be overwritten. */
	if (kq_write_status(td, q->gpa, KVM_TDX_QUOTE_STATUS_IN_FLIGHT))
		return KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		goto no_vmm;
	kref_init(&r->ref); /* the vCPU's */
	kref_get(&td->ref);
	r->td = td;
	r->gpa = q->gpa;
	r->size = q->size;
	r->ret = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	init_completion(&r->resumed);
	INIT_LIST_HEAD(&r->node);
	mutex_lock(&kq_lock);
	if (!kq_open_files) {
		mutex_unlock(&kq_lock);
		kref_put(&r->ref, req_release);
		goto no_vmm;
	}
	id = idr_alloc_cyclic(&kq_reqs, r, 1, INT_MAX, GFP_KERNEL);
	if (id < 0) {
		mutex_unlock(&kq_lock);
		kref_put(&r->ref, req_release);
		goto no_vmm;
	}
	r->id = id;
	kref_get(&r->ref); /* the id table's */
	r->state = KQ_QUEUED;
	list_add_tail(&r->node, &kq_pending);
	mutex_unlock(&kq_lock);
	wake_up_interruptible(&kq_readers);

	killed = wait_for_completion_killable(&r->resumed);
	mutex_lock(&kq_lock);
	/* The vCPU's task is dying: the request ends unless the VMM already took it on. */
	if (killed && (r->state == KQ_QUEUED || r->state == KQ_READ)) {
		req_unlink(r);
		kref_put(&r->ref, req_release); /* the id table's; the vCPU's is still held */
	}
	ret = r->state == KQ_IN_FLIGHT ? KVM_TDX_QUOTE_TDVMCALL_SUCCESS : r->ret;
	mutex_unlock(&kq_lock);
	kref_put(&r->ref, req_release);
	if (ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS)
		return ret;
	/* Over without a quote in flight: never leave the TD polling IN_FLIGHT. */
	if (!READ_ONCE(td->dead))
		kq_end_in_flight(td, q->gpa);
	return ret;

no_vmm:
	kq_end_in_flight(td, q->gpa);
	return ret;
}

u64 kvm_tdx_quote_tdvmcall(struct kvm_tdx_quote_td *td, u64 subfn, u64 r12, u64 r13)
{
	struct kq_request q;
	u64 ret;

	if (subfn == KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE) {
		if (!kq_check_get_quote(td, td->shared_bit, r12, r13, &q, &ret))
			return ret;
		return td->in_kernel ? kq_in_kernel_quote(td, &q) : get_quote_userspace(td, &q);
	}
	if (subfn == KVM_TDX_QUOTE_TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT && !td->in_kernel) {
		ret = kq_check_notify_vector(r12);
		if (ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS)
			WRITE_ONCE(td->notify_vector, (u8)r12);
		return ret;
	}
	return KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
}
EXPORT_SYMBOL_NS_GPL(kvm_tdx_quote_tdvmcall, TDX_NS_KVM_QUOTE);

/* ---- /dev/kvm_tdx_quote ---- */

static int kq_open(struct inode *inode, struct file *f)
{
	struct kq_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL);

	if (!kf)
		return -ENOMEM;
	INIT_LIST_HEAD(&kf->reqs);
	f->private_data = kf;
	mutex_lock(&kq_lock);
	kq_open_files++;
	mutex_unlock(&kq_lock);
	return stream_open(inode, f);
}

static int kq_release(struct inode *inode, struct file *f)
{
	struct kq_file *kf = f->private_data;
	struct kq_req *r, *tmp;
	LIST_HEAD(finish);

	mutex_lock(&kq_lock);
	kq_open_files--;
	list_for_each_entry_safe(r, tmp, &kf->reqs, node) {
		if (r->state == KQ_READ) {
			/* Not answered: back to the queue for the next VMM. */
			r->owner = NULL;
			r->state = KQ_QUEUED;
			list_move(&r->node, &kq_pending);
		} else {
			/* In flight: the kernel ends it (below, outside the lock). */
			req_unlink(r);
			list_add_tail(&r->node, &finish);
		}
	}
	if (!kq_open_files) {
		/* Nobody left to answer: the exits end with their preset ret. */
		list_for_each_entry_safe(r, tmp, &kq_pending, node) {
			req_unlink(r);
			complete(&r->resumed);
			kref_put(&r->ref, req_release);
		}
	}
	mutex_unlock(&kq_lock);
	if (!list_empty(&kq_pending))
		wake_up_interruptible(&kq_readers);
	list_for_each_entry_safe(r, tmp, &finish, node) {
		list_del_init(&r->node);
		req_finish(r, NULL);
		kref_put(&r->ref, req_release);
	}
	kfree(kf);
	return 0;
}

/* Lockless (a wait condition runs with the task not running): the reader re-checks under kq_lock. */
static bool kq_have_pending(void)
{
	return !list_empty(&kq_pending);
}

static ssize_t kq_read_exit(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct kq_file *kf = f->private_data;
	struct kvm_tdx_quote_exit e = {};
	struct kq_req *r;
	int ret;

	if (len < sizeof(e))
		return -EINVAL;
	for (;;) {
		mutex_lock(&kq_lock);
		r = list_first_entry_or_null(&kq_pending, struct kq_req, node);
		if (r)
			break;
		mutex_unlock(&kq_lock);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(kq_readers, kq_have_pending());
		if (ret)
			return ret;
	}
	e.id = r->id;
	e.td = r->td->handle;
	e.exit_reason = KVM_TDX_QUOTE_EXIT_TDX;
	e.nr = KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE;
	e.ret = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	e.gpa = r->gpa;
	e.size = r->size;
	/* The record is copied under the lock: a request is handed out whole or stays queued. */
	if (copy_to_user(ubuf, &e, sizeof(e))) {
		mutex_unlock(&kq_lock);
		return -EFAULT;
	}
	r->state = KQ_READ;
	r->owner = f;
	list_move_tail(&r->node, &kf->reqs);
	mutex_unlock(&kq_lock);
	return sizeof(e);
}

static ssize_t kq_write_reply(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct kvm_tdx_quote_reply rep;
	struct kq_req *r;

	if (len != sizeof(rep))
		return -EINVAL;
	if (copy_from_user(&rep, ubuf, sizeof(rep)))
		return -EFAULT;
	if (rep.pad || (rep.op != KVM_TDX_QUOTE_OP_RESUME && rep.op != KVM_TDX_QUOTE_OP_DONE) ||
	    rep.id == 0 || rep.id > INT_MAX)
		return -EINVAL;
	mutex_lock(&kq_lock);
	r = idr_find(&kq_reqs, rep.id);
	if (!r || r->owner != f) {
		mutex_unlock(&kq_lock);
		return -ENOENT;
	}
	if (rep.op == KVM_TDX_QUOTE_OP_RESUME) {
		if (r->state != KQ_READ) {
			mutex_unlock(&kq_lock);
			return -EINVAL;
		}
		r->ret = rep.ret;
		if (rep.ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS) {
			r->state = KQ_IN_FLIGHT;
			complete(&r->resumed);
			mutex_unlock(&kq_lock);
			return len;
		}
		req_unlink(r);
		complete(&r->resumed);
		mutex_unlock(&kq_lock);
		kref_put(&r->ref, req_release);
		return len;
	}
	/* DONE: rep.ret is the final status, which only the kernel writes while a request is in flight. */
	if (r->state != KQ_IN_FLIGHT || rep.ret == KVM_TDX_QUOTE_STATUS_IN_FLIGHT) {
		mutex_unlock(&kq_lock);
		return -EINVAL;
	}
	req_unlink(r);
	mutex_unlock(&kq_lock);
	req_finish(r, &rep.ret);
	kref_put(&r->ref, req_release);
	return len;
}

static __poll_t kq_poll(struct file *f, poll_table *wait)
{
	poll_wait(f, &kq_readers, wait);
	return kq_have_pending() ? EPOLLIN | EPOLLRDNORM : 0;
}

/* A write to [gpa, gpa + len) would touch the status of one of td's requests in flight; kq_lock held. */
static bool kq_hits_status_in_flight(struct kvm_tdx_quote_td *td, u64 gpa, u64 len)
{
	const u64 off = offsetof(struct kvm_tdx_quote_header, status);
	struct kq_req *r;
	int id;

	idr_for_each_entry(&kq_reqs, r, id)
		if (r->td == td && r->state == KQ_IN_FLIGHT && gpa < r->gpa + off + sizeof(u64) &&
		    r->gpa + off < gpa + len)
			return true;
	return false;
}

static long kq_mem(struct kvm_tdx_quote_mem __user *uarg)
{
	struct kvm_tdx_quote_mem m;
	struct kvm_tdx_quote_td *td;
	void *buf;
	long ret;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (m.flags & ~KVM_TDX_QUOTE_MEM_WRITE || !m.len || m.len > KVM_TDX_QUOTE_MEM_MAX)
		return -EINVAL;
	if (m.gpa + m.len < m.gpa)
		return -EFAULT;
	mutex_lock(&kq_lock);
	td = idr_find(&kq_tds, m.td);
	if (td && (m.flags & KVM_TDX_QUOTE_MEM_WRITE) && kq_hits_status_in_flight(td, m.gpa, m.len)) {
		mutex_unlock(&kq_lock);
		return -EPERM;
	}
	if (td)
		kref_get(&td->ref);
	mutex_unlock(&kq_lock);
	if (!td)
		return -ENOENT;
	buf = kvmalloc(m.len, GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto put;
	}
	down_read(&td->ops_lock);
	if (td->dead) {
		ret = -ENOENT;
	} else if (!kq_range_shared(td, m.gpa, m.len)) {
		ret = -EFAULT;
	} else if (m.flags & KVM_TDX_QUOTE_MEM_WRITE) {
		ret = copy_from_user(buf, u64_to_user_ptr(m.addr), m.len) ? -EFAULT :
		      kq_write(td, m.gpa, buf, m.len);
	} else {
		ret = kq_read(td, m.gpa, buf, m.len);
		if (!ret && copy_to_user(u64_to_user_ptr(m.addr), buf, m.len))
			ret = -EFAULT;
	}
	up_read(&td->ops_lock);
	kvfree(buf);
put:
	kref_put(&td->ref, td_release);
	return ret;
}

static long kq_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	if (cmd == KVM_TDX_QUOTE_MEM)
		return kq_mem((struct kvm_tdx_quote_mem __user *)arg);
	return -ENOTTY;
}

static const struct file_operations kq_fops = {
	.owner = THIS_MODULE,
	.open = kq_open,
	.release = kq_release,
	.read = kq_read_exit,
	.write = kq_write_reply,
	.poll = kq_poll,
	.unlocked_ioctl = kq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice kq_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KVM_TDX_QUOTE_DEVICE,
	.fops = &kq_fops,
	.mode = 0600,
};

static int __init kvm_tdx_quote_init(void)
{
	return misc_register(&kq_dev);
}

static void __exit kvm_tdx_quote_exit(void)
{
	/* TDs hold a reference on this module through their integration's import: none is left. */
	misc_deregister(&kq_dev);
	idr_destroy(&kq_reqs);
	idr_destroy(&kq_tds);
}

module_init(kvm_tdx_quote_init);
module_exit(kvm_tdx_quote_exit);
MODULE_DESCRIPTION("TD guests' GetQuote: in-kernel quotes and the userspace exit path");
MODULE_LICENSE("GPL");
TDX_IMPORT_HOST();
