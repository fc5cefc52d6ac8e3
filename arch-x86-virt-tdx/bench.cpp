// SPDX-License-Identifier: GPL-2.0
/* make bench: the mailbox transport's cost next to the emulator's own service time. */
#include <kapi/kapi.h>
#include <kstd/new.h>
#include <kstd/utility.h>
#include <tdx/abi/metadata.h>

#include "backend.h"
#include "core.h"

namespace tdx {
namespace {

struct BenchCtx {
	EmuBackend *emu;
	u32 calls;
	u64 *rt;
	u64 *svc;
	Status status;
};

u64 percentile(u64 *sorted, u32 n, u32 pct)
{
	return sorted[min<u64>(n - 1, u64(n) * pct / 100)];
}

int bench_on_cpu(void *arg)
{
	auto *c = static_cast<BenchCtx *>(arg);
	Seamcall sc(*c->emu);
	for (u32 i = 0; i < c->calls; i++) {
		RegBlock r{};
		r.rdx = abi::field::kMajorVersion;
		kapi_preempt_disable(); /* the slot read below must be this CPU's */
		u64 t0 = kapi_ktime_ns();
		TdxStatus s = sc.call(leaves::kSysRd, r);
		u64 t1 = kapi_ktime_ns();
		c->svc[i] = c->emu->last_service_ns(kapi_this_cpu());
		kapi_preempt_enable();
		if (!s.is_success()) {
			c->status = status_to_errno(s);
			return 0;
		}
		c->rt[i] = t1 - t0;
		if (i % 256 == 0)
			kapi_cond_resched();
	}
	return 0;
}

} // namespace

Status bench_sys_rd(u32 calls, tdx_bench_result &out)
{
	if (calls == 0 || calls > (1u << 20))
		return error(err::kEINVAL);
	HostLock lock; /* the backend stays while the benchmark uses it */
	EmuBackend *emu = host().emu_locked();
	if (!emu)
		return error(err::kEOPNOTSUPP);
	auto *rt = static_cast<u64 *>(kapi_kzalloc(calls * sizeof(u64)));
	auto *svc = static_cast<u64 *>(kapi_kzalloc(calls * sizeof(u64)));
	BenchCtx c{emu, calls, rt, svc, Status::ok()};
	if (!rt || !svc)
		c.status = error(err::kENOMEM);
	else
		c.status = Status::from_kernel(kapi_run_on_cpu_sleepable(0, bench_on_cpu, &c));
	if (c.status.is_ok()) {
		heap_sort(rt, calls);
		heap_sort(svc, calls);
		out = {calls, percentile(rt, calls, 50), percentile(rt, calls, 99),
		       percentile(svc, calls, 50), percentile(svc, calls, 99)};
	}
	kapi_kfree(rt);
	kapi_kfree(svc);
	return c.status;
}

} // namespace tdx

extern "C" int tdx_core_bench_sys_rd(unsigned int calls, struct tdx_bench_result *out)
{
	return tdx::bench_sys_rd(calls, *out).to_kernel();
}
