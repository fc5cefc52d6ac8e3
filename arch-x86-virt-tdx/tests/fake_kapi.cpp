// SPDX-License-Identifier: GPL-2.0
#include "fake_kapi.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <mutex>
#include <thread>

#include <kapi/kapi.h>

#include "phys_mem.h"

namespace fake {

Kernel g_kernel;
namespace {

bool alloc_should_fail()
{
	Kernel &k = g_kernel;
	if (k.fail_alloc_at > 0 && --k.fail_alloc_at == 0)
		return true;
	return false;
}
} // namespace

Kernel &kernel() { return g_kernel; }

namespace {
std::atomic<uint64_t> g_now{0}, g_clock_step{1000}, g_clock_reads{0};
} // namespace

void set_clock_step(uint64_t ns) { g_clock_step = ns; }
uint64_t clock_reads() { return g_clock_reads.load(); }
uint64_t now_ns() { return g_now.load(); }

void reset()
{
	/* Pages a test left with the "TDX module" on purpose go back here. */
	phys_reset();
	g_kernel = Kernel();
	g_clock_step = 1000;
}

bool Kernel::log_contains(const std::string &s) const
{
	for (const auto &l : log)
		if (l.find(s) != std::string::npos)
			return true;
	return false;
}

} // namespace fake

using fake::g_kernel;

extern "C" {

void kapi_log(int, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fake::kernel().log.emplace_back(buf);
}

void kapi_bug(const char *what)
{
	fprintf(stderr, "kapi_bug: %s\n", what);
	abort();
}

void *kapi_kzalloc(kapi_size size)
{
	if (fake::alloc_should_fail())
		return nullptr;
	fake::kernel().live_allocs++;
	fake::kernel().total_allocs++;
	return calloc(1, size);
}

void kapi_kfree(const void *p)
{
	if (!p)
		return;
	fake::kernel().live_allocs--;
	free(const_cast<void *>(p));
}

void *kapi_alloc_contig_pages(kapi_u64 nr_pages)
{
	fake::Kernel &k = fake::kernel();
	if (k.max_contig_pages && nr_pages > k.max_contig_pages) {
		k.contig_refused++;
		return nullptr;
	}
	if (fake::alloc_should_fail())
		return nullptr;
	/* From the fake physical memory (phys_mem.h), which the TDX module model reads too. */
	void *p = fake::phys_alloc(nr_pages);
	if (!p)
		return nullptr;
	k.live_allocs++;
	k.total_allocs++;
	return p;
}

void kapi_free_contig_pages(void *va, kapi_u64 nr_pages)
{
	if (!fake::phys_free(va, nr_pages))
		kapi_bug("freeing pages that were not allocated, or with another count");
	fake::kernel().live_allocs--;
}

kapi_u64 kapi_virt_to_phys(const void *va)
{
	kapi_u64 pa = fake::phys_addr_of(va);
	if (pa == ~0ull) /* as the kernel warns for a vmalloc address */
		kapi_log(KAPI_LOG_WARN, "kapi_virt_to_phys: %p is not in the direct map\n", va);
	return pa;
}

void kapi_wbinvd_on_all_cpus(void)
{
	fake::kernel().wbinvd_calls++;
	if (fake::kernel().on_wbinvd)
		fake::kernel().on_wbinvd();
}

int kapi_for_each_system_ram(kapi_ram_range_fn fn, void *ctx)
{
	if (g_kernel.ram_walk_error)
		return g_kernel.ram_walk_error;
	for (auto [s, e] : g_kernel.ram) {
		int r = fn(ctx, s, e);
		if (r)
			return r;
	}
	return 0;
}

unsigned kapi_nr_cpu_ids(void) { return g_kernel.nr_cpus; }
int kapi_cpu_online(unsigned cpu)
{
	return cpu < g_kernel.nr_cpus && !(cpu < g_kernel.offline.size() && g_kernel.offline[cpu]);
}
unsigned kapi_cpu_package(unsigned cpu) { return cpu / g_kernel.cpus_per_package; }
unsigned kapi_cpu_apic_id(unsigned cpu) { return cpu; }
/* The CPU a thread of kapi_stop_machine_cpuslocked() plays (-1: not one of them). */
static thread_local int t_stop_machine_cpu = -1;
unsigned kapi_this_cpu(void) { return t_stop_machine_cpu >= 0 ? unsigned(t_stop_machine_cpu) : g_kernel.current_cpu; }
void kapi_preempt_disable(void) {}
void kapi_preempt_enable(void) {}
int kapi_may_sleep(void) { return 1; }
void kapi_cond_resched(void) {}
void kapi_cpus_read_lock(void) { g_kernel.cpus_lock_depth++; }
void kapi_cpus_read_unlock(void) { g_kernel.cpus_lock_depth--; }

int kapi_run_on_cpu(unsigned cpu, kapi_cpu_fn fn, void *ctx)
{
	if (!kapi_cpu_online(cpu))
		return -6; /* -ENXIO, as smp_call_function_single answers */
	unsigned saved = g_kernel.current_cpu;
	g_kernel.current_cpu = cpu;
	int r = fn(ctx);
	g_kernel.current_cpu = saved;
	return r;
}

int kapi_run_on_cpu_sleepable(unsigned cpu, kapi_cpu_fn fn, void *ctx)
{
	return kapi_run_on_cpu(cpu, fn, ctx);
}

/* stop_machine: a thread per online CPU, all running fn at once, joined; the first non-zero return. */
int kapi_stop_machine(kapi_cpu_fn fn, void *ctx)
{
	if (g_kernel.cpus_lock_depth > 0)
		kapi_bug("stop_machine with the CPU hotplug lock held (it takes it itself)");
	std::vector<std::thread> cpus;
	std::vector<int> rets(g_kernel.nr_cpus, 0);
	for (unsigned cpu = 0; cpu < g_kernel.nr_cpus; cpu++) {
		if (!kapi_cpu_online(cpu))
			continue;
		cpus.emplace_back([=, &rets] {
			t_stop_machine_cpu = int(cpu);
			rets[cpu] = fn(ctx);
		});
	}
	for (auto &t : cpus)
		t.join();
	for (int r : rets)
		if (r)
			return r;
	return 0;
}

unsigned kapi_num_online_cpus(void)
{
	unsigned n = 0;
	for (unsigned cpu = 0; cpu < g_kernel.nr_cpus; cpu++)
		n += kapi_cpu_online(cpu) ? 1 : 0;
	return n;
}

/* The fake kernel has no vmalloc: a test's payload lives in its physical memory (phys_mem.h). */
kapi_u64 kapi_vmalloc_to_pfn(const void *base, kapi_u64 offset)
{
	return kapi_virt_to_phys(static_cast<const char *>(base) + offset) >> 12;
}

int kapi_sha384(const void *data, kapi_size len, unsigned char out[48])
{
	unsigned int n = 0;
	return EVP_Digest(data, len, out, &n, EVP_sha384(), nullptr) == 1 && n == 48 ? 0 : -5;
}

int kapi_rsa_pkcs1_sha384_verify(const unsigned char *modulus, kapi_size modulus_len, unsigned int exponent,
				 const unsigned char *sig, const unsigned char digest[48])
{
	BIGNUM *n = BN_bin2bn(modulus, int(modulus_len), nullptr);
	BIGNUM *e = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
	EVP_PKEY *pkey = nullptr;
	OSSL_PARAM *params = nullptr;
	int ret = -22;
	if (n && e && bld && kctx && BN_set_word(e, exponent) && OSSL_PARAM_BLD_push_BN(bld, "n", n) &&
	    OSSL_PARAM_BLD_push_BN(bld, "e", e) && (params = OSSL_PARAM_BLD_to_param(bld)) &&
	    EVP_PKEY_fromdata_init(kctx) == 1 && EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
		EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new(pkey, nullptr);
		if (vctx && EVP_PKEY_verify_init(vctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha384()) == 1)
			ret = EVP_PKEY_verify(vctx, sig, modulus_len, digest, 48) == 1 ? 0 : -129; /* -EKEYREJECTED */
		EVP_PKEY_CTX_free(vctx);
	}
	EVP_PKEY_free(pkey);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(kctx);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	BN_free(n);
	return ret;
}

unsigned int kapi_cpuid_1_eax(void) { return g_kernel.cpuid_1_eax; }
int kapi_hw_seamret_invalidates_vmcs(void) { return 0; }
unsigned int kapi_hw_cpu_signature(void) { return g_kernel.cpuid_1_eax; }

kapi_u64 kapi_ktime_ns(void)
{
	(g_kernel.irq_depth ? g_kernel.clock_reads_irqs_off : g_kernel.clock_reads_irqs_on)++;
	fake::g_clock_reads++;
	kapi_u64 now = fake::g_now += fake::g_clock_step;
	if (g_kernel.on_clock)
		g_kernel.on_clock();
	return now;
}

kapi_irqflags kapi_local_irq_save(void) { return kapi_irqflags(g_kernel.irq_depth++); }
void kapi_local_irq_restore(kapi_irqflags flags)
{
	if (--g_kernel.irq_depth != int(flags))
		kapi_bug("interrupts restored out of order");
}
void kapi_touch_watchdogs(void) { __atomic_fetch_add(&g_kernel.watchdog_touches, 1, __ATOMIC_RELAXED); }
void kapi_cpu_relax(void) { std::this_thread::yield(); }
int kapi_irq_pending(void)
{
	__atomic_fetch_add(&g_kernel.irq_reads, 1, __ATOMIC_RELAXED);
	return __atomic_load_n(&g_kernel.irq_pending, __ATOMIC_RELAXED);
}
kapi_u32 kapi_lapic_timer_count(void)
{
	g_kernel.timer_reads++;
	uint64_t now = fake::g_now;
	return g_kernel.timer_at > now ? kapi_u32((g_kernel.timer_at - now) / g_kernel.timer_ns_per_count) : 0;
}
kapi_u32 kapi_lapic_timer_initial(void)
{
	g_kernel.timer_reads++;
	return g_kernel.timer_at ? 1 : 0;
}
kapi_u32 kapi_timer_irqs(void) { return __atomic_load_n(&g_kernel.timer_irqs, __ATOMIC_RELAXED); }
int kapi_irqflags_on(kapi_irqflags flags) { return flags == 0; }
/* One CPU inside the P-SEAMLDR at a time, as the glue's raw spinlock makes it. */
static std::mutex g_seamldr_lock;
kapi_irqflags kapi_seamldr_lock(void)
{
	g_seamldr_lock.lock();
	return 0;
}
void kapi_seamldr_unlock(kapi_irqflags) { g_seamldr_lock.unlock(); }

kapi_u64 kapi_seamcall_hw(kapi_u64, kapi_u64 *) { return 0x8000FF00FFFF0000ull; }
int kapi_hw_seam_available(void) { return 0; }
int kapi_hw_tdx_keyids(unsigned *, unsigned *) { return -19; }
int kapi_emu_get(struct kapi_emu_device *dev)
{
	if (!g_kernel.mailbox || g_kernel.emu_in_use)
		return -19;
	*dev = {g_kernel.mailbox, g_kernel.mailbox_size, g_kernel.emu_regs};
	g_kernel.emu_in_use = true;
	return 0;
}
void kapi_emu_put(void)
{
	if (!g_kernel.emu_in_use)
		kapi_bug("emulator device put without a get");
	g_kernel.emu_in_use = false;
}
void kapi_emu_ring_doorbell(void *regs, unsigned value)
{
	if (regs != g_kernel.emu_regs)
		kapi_bug("doorbell rung on unknown registers");
	g_kernel.doorbell_rings.push_back({value, g_kernel.irq_depth});
}

} // extern "C"

/* The state owner's lock and CPU hotplug (glue/host.c in the module). */
namespace fake {
int g_state_lock_depth;
kapi_cpuhp_fn g_cpuhp_online;
} // namespace fake

extern "C" {
int kapi_cpu_present(unsigned cpu) { return cpu < g_kernel.nr_cpus; }
void kapi_state_lock(void)
{
	if (fake::g_state_lock_depth++)
		kapi_bug("state lock taken twice (it is not recursive)");
}
void kapi_state_unlock(void)
{
	if (fake::g_state_lock_depth-- != 1)
		kapi_bug("state lock released while not held");
}
int kapi_cpuhp_add(kapi_cpuhp_fn online)
{
	if (fake::g_cpuhp_online)
		return -16; /* -EBUSY */
	fake::g_cpuhp_online = online;
	return 0;
}
void kapi_cpuhp_remove(void) { fake::g_cpuhp_online = nullptr; }
} // extern "C"

/* The quote lock, and memory handed outside the core (kvmalloc) (glue/kapi.c in the module). */
namespace fake {
int g_quote_lock_depth;
} // namespace fake

extern "C" {
void kapi_quote_lock(void)
{
	if (fake::g_quote_lock_depth++)
		kapi_bug("quote lock taken twice (it is not recursive)");
}
void kapi_quote_unlock(void)
{
	if (fake::g_quote_lock_depth-- != 1)
		kapi_bug("quote lock released while not held");
}
void *kapi_kvmalloc(kapi_size size)
{
	if (fake::alloc_should_fail())
		return nullptr;
	fake::kernel().live_allocs++;
	fake::kernel().total_allocs++;
	return malloc(size ? size : 1);
}
void kapi_kvfree(const void *p) { kapi_kfree(p); }
} // extern "C"
