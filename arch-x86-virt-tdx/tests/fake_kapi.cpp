// SPDX-License-Identifier: GPL-2.0
#include "fake_kapi.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include <kapi/kapi.h>

namespace fake {

Kernel g_kernel;
std::map<const void *, size_t> g_pages; /* live page runs, for leak checks */
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

void reset()
{
	/* Pages a test left with the "TDX module" on purpose go back here. */
	for (auto &[p, bytes] : g_pages)
		free(const_cast<void *>(p));
	g_pages.clear();
	g_kernel = Kernel();
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

void *kapi_alloc_pages(unsigned order)
{
	if (fake::alloc_should_fail())
		return nullptr;
	size_t bytes = size_t(4096) << order;
	void *p = aligned_alloc(4096, bytes);
	memset(p, 0, bytes);
	fake::g_pages[p] = bytes;
	fake::kernel().live_allocs++;
	fake::kernel().total_allocs++;
	return p;
}

void kapi_free_pages(void *va, unsigned)
{
	if (!fake::g_pages.erase(va))
		kapi_bug("freeing pages that were not allocated");
	fake::kernel().live_allocs--;
	free(va);
}

kapi_u64 kapi_virt_to_phys(const void *va) { return reinterpret_cast<uintptr_t>(va); }

void kapi_wbinvd_on_all_cpus(void) { fake::kernel().wbinvd_calls++; }

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
unsigned kapi_this_cpu(void) { return g_kernel.current_cpu; }
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

static kapi_u64 g_now;
kapi_u64 kapi_ktime_ns(void) { return g_now += 1000; }

kapi_u64 kapi_seamcall_hw(kapi_u64, kapi_u64 *) { return 0x8000FF00FFFF0000ull; }
int kapi_hw_seam_available(void) { return 0; }
int kapi_hw_tdx_keyids(unsigned *, unsigned *) { return -19; }
int kapi_emu_mailbox(void **base, kapi_size *size)
{
	if (!g_kernel.mailbox)
		return -19;
	*base = g_kernel.mailbox;
	*size = g_kernel.mailbox_size;
	return 0;
}

} // extern "C"
