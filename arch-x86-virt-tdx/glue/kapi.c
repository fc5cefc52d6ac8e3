// SPDX-License-Identifier: GPL-2.0
/* kapi: the kernel services the C++ core uses (see include/kapi/kapi.h). */
#include <crypto/hash.h>
#include <crypto/sig.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/ioport.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nmi.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/stop_machine.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>
#include <asm/apic.h>
#include <asm/hardirq.h>
#include <asm/smp.h>

#include <kapi/compat.h>
#include <kapi/kapi.h>

/* The core's errno constants (include/kstd/errno.h) restate the kernel's. */
static_assert(EIO == 5 && ENXIO == 6 && E2BIG == 7 && ENOMEM == 12 && EACCES == 13);
static_assert(EBUSY == 16 && ENODEV == 19 && EINVAL == 22 && ENOSPC == 28 && ERANGE == 34);
static_assert(EPROTO == 71 && EOPNOTSUPP == 95 && ETIMEDOUT == 110);

/* The SEAMCALL trap (seamcall-trap/kapi.c) builds this file with its own module name. */
#ifndef KAPI_LOG_PREFIX
#define KAPI_LOG_PREFIX "tdx_host: "
#endif

void kapi_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	switch (level) {
	case KAPI_LOG_ERR:
		pr_err(KAPI_LOG_PREFIX "%pV", &vaf);
		break;
	case KAPI_LOG_WARN:
		pr_warn(KAPI_LOG_PREFIX "%pV", &vaf);
		break;
	case KAPI_LOG_INFO:
		pr_info(KAPI_LOG_PREFIX "%pV", &vaf);
		break;
	default:
		pr_debug(KAPI_LOG_PREFIX "%pV", &vaf);
		break;
	}
	va_end(args);
}

void kapi_bug(const char *what)
{
	pr_emerg(KAPI_LOG_PREFIX "core invariant broken: %s\n", what);
	BUG();
}

/* A trap for a call through an unset pure virtual slot (the C++ ABI names it). */
void __cxa_pure_virtual(void);
void __cxa_pure_virtual(void)
{
	kapi_bug("pure virtual function called");
}

void *kapi_kzalloc(kapi_size size)
{
	return kvzalloc(size, GFP_KERNEL);
}

void kapi_kfree(const void *p)
{
	kvfree(p);
}

void *kapi_kvmalloc(kapi_size size)
{
	return kvmalloc(size, GFP_KERNEL);
}

void kapi_kvfree(const void *p)
{
	kvfree(p);
}

/* Serializes quote requests (the one quote buffer); nests inside the state lock. */
static DEFINE_MUTEX(tdx_quote_lock);

void kapi_quote_lock(void)
{
	mutex_lock(&tdx_quote_lock);
}

void kapi_quote_unlock(void)
{
	mutex_unlock(&tdx_quote_lock);
}

/* kapi_alloc_contig_pages, kapi_free_contig_pages, kapi_virt_to_phys: glue/pages.c */

void kapi_wbinvd_on_all_cpus(void)
{
	wbinvd_on_all_cpus();
}

struct ram_walk {
	kapi_ram_range_fn fn;
	void *ctx;
	int err; /* the callback's own error: walk_iomem_res_desc's -EINVAL also means "no range" */
};

static int ram_walk_one(struct resource *res, void *arg)
{
	struct ram_walk *w = arg;

	w->err = w->fn(w->ctx, res->start, res->end + 1);
	return w->err;
}

int kapi_for_each_system_ram(kapi_ram_range_fn fn, void *ctx)
{
	struct ram_walk w = { .fn = fn, .ctx = ctx };
	int ret;

	ret = walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
				  0, U64_MAX, &w, ram_walk_one);
	if (w.err)
		return w.err;
	/* Without a callback error the walk either saw every range (0) or found none (-EINVAL). */
	return ret == -EINVAL ? 0 : ret;
}

unsigned int kapi_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

int kapi_cpu_online(unsigned int cpu)
{
	return cpu_online(cpu);
}

unsigned int kapi_cpu_package(unsigned int cpu)
{
	return topology_logical_package_id(cpu);
}

unsigned int kapi_cpu_apic_id(unsigned int cpu)
{
	return per_cpu(x86_cpu_to_apicid, cpu);
}

unsigned int kapi_this_cpu(void)
{
	return smp_processor_id();
}

void kapi_preempt_disable(void)
{
	preempt_disable();
}

void kapi_preempt_enable(void)
{
	preempt_enable();
}

int kapi_may_sleep(void)
{
	return preemptible();
}

void kapi_cond_resched(void)
{
	cond_resched();
}

void kapi_cpus_read_lock(void)
{
	cpus_read_lock();
}

void kapi_cpus_read_unlock(void)
{
	cpus_read_unlock();
}

struct cpu_call {
	kapi_cpu_fn fn;
	void *ctx;
	int ret;
};

static void cpu_call_irqs_off(void *arg)
{
	struct cpu_call *c = arg;

	c->ret = c->fn(c->ctx);
}

int kapi_run_on_cpu(unsigned int cpu, kapi_cpu_fn fn, void *ctx)
{
	struct cpu_call c = { .fn = fn, .ctx = ctx };
	int ret;

	ret = smp_call_function_single(cpu, cpu_call_irqs_off, &c, 1);
	return ret ? ret : c.ret;
}

static int cpu_call_sleepable(void *arg)
{
	struct cpu_call *c = arg;

	return c->fn(c->ctx);
}

int kapi_run_on_cpu_sleepable(unsigned int cpu, kapi_cpu_fn fn, void *ctx)
{
	struct cpu_call c = { .fn = fn, .ctx = ctx };

	return smp_call_on_cpu(cpu, cpu_call_sleepable, &c, false);
}

kapi_u64 kapi_ktime_ns(void)
{
	return ktime_get_ns();
}

kapi_irqflags kapi_local_irq_save(void)
{
	unsigned long flags;

	local_irq_save(flags);
	return flags;
}

void kapi_local_irq_restore(kapi_irqflags flags)
{
	local_irq_restore(flags);
}

void kapi_touch_watchdogs(void)
{
	touch_nmi_watchdog(); /* the hard-lockup detector, and the soft-lockup one with it */
}

void kapi_cpu_relax(void)
{
	cpu_relax();
}

/* A local APIC register: its x2APIC MSR (0x800 + offset / 16), or the xAPIC page. */
static u32 lapic_read(u32 reg)
{
	if (x2apic_mode) {
		u64 v;

		rdmsrl(APIC_BASE_MSR + (reg >> 4), v);
		return (u32)v;
	}
	return native_apic_mem_read(reg);
}

int kapi_irq_pending(void)
{
	unsigned int i;

	/* The eight 32-bit IRR registers, 16 bytes apart. */
	for (i = 0; i < 8; i++)
		if (lapic_read(APIC_IRR + i * 0x10))
			return 1;
	return 0;
}

kapi_u32 kapi_lapic_timer_count(void)
{
	return lapic_read(APIC_TMCCT);
}

kapi_u32 kapi_lapic_timer_initial(void)
{
	return lapic_read(APIC_TMICT);
}

kapi_u32 kapi_timer_irqs(void)
{
	return this_cpu_read(irq_stat.apic_timer_irqs);
}

int kapi_irqflags_on(kapi_irqflags flags)
{
	return !arch_irqs_disabled_flags(flags);
}

/* Raw: taken with interrupts off inside stop_machine, where a PREEMPT_RT spinlock would sleep. */
static DEFINE_RAW_SPINLOCK(seamldr_lock);

kapi_irqflags kapi_seamldr_lock(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&seamldr_lock, flags);
	return flags;
}

void kapi_seamldr_unlock(kapi_irqflags flags)
{
	raw_spin_unlock_irqrestore(&seamldr_lock, flags);
}

/* ---- runtime update ---- */

int kapi_stop_machine(kapi_cpu_fn fn, void *ctx)
{
	/* stop_machine_cpuslocked() is not exported to modules; stop_machine() takes the lock. */
	return stop_machine(fn, ctx, cpu_online_mask);
}

unsigned int kapi_num_online_cpus(void)
{
	return num_online_cpus();
}

kapi_u64 kapi_vmalloc_to_pfn(const void *base, kapi_u64 offset)
{
	const void *p = (const u8 *)base + offset;

	/* fw_upload's payload is vmalloc'ed; a kmalloc'ed one (tests) is in the direct map. */
	return is_vmalloc_addr(p) ? vmalloc_to_pfn(p) : PHYS_PFN(virt_to_phys((void *)p));
}

int kapi_sha384(const void *data, kapi_size len, unsigned char out[48])
{
	struct crypto_shash *tfm = crypto_alloc_shash("sha384", 0, 0);
	int ret;

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	ret = crypto_shash_tfm_digest(tfm, data, len, out);
	crypto_free_shash(tfm);
	return ret;
}

/* DER length of n content bytes (n < 65536). */
static u8 *der_len(u8 *p, size_t n)
{
	if (n < 0x80) {
		*p++ = n;
	} else if (n < 0x100) {
		*p++ = 0x81;
		*p++ = n;
	} else {
		*p++ = 0x82;
		*p++ = n >> 8;
		*p++ = n & 0xff;
	}
	return p;
}

/* DER INTEGER of an unsigned big-endian number (a leading zero when its top bit is set). */
static u8 *der_uint(u8 *p, const u8 *be, size_t n)
{
	bool pad;

	while (n > 1 && !*be) {
		be++;
		n--;
	}
	pad = *be & 0x80;
	*p++ = 0x02;
	p = der_len(p, n + pad);
	if (pad)
		*p++ = 0;
	memcpy(p, be, n);
	return p + n;
}

int kapi_rsa_pkcs1_sha384_verify(const unsigned char *modulus, kapi_size modulus_len, unsigned int exponent,
				 const unsigned char *sig, const unsigned char digest[48])
{
	u8 e_be[4] = { exponent >> 24, exponent >> 16, exponent >> 8, exponent };
	struct crypto_sig *tfm;
	u8 *key, *p, *body;
	size_t body_len;
	int ret;

	if (modulus_len > 1024)
		return -EINVAL;
	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, as rsa's set_pub_key reads it. */
	key = kmalloc(modulus_len + 32, GFP_KERNEL);
	if (!key)
		return -ENOMEM;
	body = key + 8;
	p = der_uint(body, modulus, modulus_len);
	p = der_uint(p, e_be, sizeof(e_be));
	body_len = p - body;
	p = key;
	*p++ = 0x30;
	p = der_len(p, body_len);
	memmove(p, body, body_len);
	p += body_len;

	tfm = crypto_alloc_sig(TDX_RSA_PKCS1_SHA384, 0, 0);
	if (IS_ERR(tfm)) {
		ret = PTR_ERR(tfm);
		goto out_key;
	}
	ret = crypto_sig_set_pubkey(tfm, key, p - key);
	if (!ret) {
		ret = crypto_sig_verify(tfm, sig, modulus_len, digest, 48);
		/* A wrong signature decrypts to bad padding (-EINVAL, -EBADMSG) or another digest. */
		if (ret == -EINVAL || ret == -EBADMSG)
			ret = -EKEYREJECTED;
	}
	crypto_free_sig(tfm);
out_key:
	kfree(key);
	return ret;
}

unsigned int kapi_cpuid_1_eax(void)
{
	return cpuid_eax(1);
}

