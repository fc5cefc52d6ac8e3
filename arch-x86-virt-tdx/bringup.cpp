// SPDX-License-Identifier: GPL-2.0
#include "bringup.h"

#include <kapi/kapi.h>

namespace tdx {

namespace st = abi::status;

namespace {

struct CpuCall {
	Seamcall *sc;
	Leaf leaf;
	TdxStatus status;
};

int seamcall_on_this_cpu(void *ctx)
{
	auto *c = static_cast<CpuCall *>(ctx);
	RegBlock r{};
	c->status = c->sc->call(c->leaf, r);
	return 0;
}

/* Runs a register-less leaf on one CPU and reports its status. */
Status call_on_cpu(Seamcall &sc, Leaf leaf, unsigned cpu, bool sleepable, TdxStatus &out)
{
	CpuCall c{&sc, leaf, TdxStatus()};
	int ret = sleepable ? kapi_run_on_cpu_sleepable(cpu, seamcall_on_this_cpu, &c)
			    : kapi_run_on_cpu(cpu, seamcall_on_this_cpu, &c);
	out = c.status;
	return Status::from_kernel(ret);
}

int add_ram_range(void *ctx, kapi_u64 start, kapi_u64 end)
{
	return memlist_add(*static_cast<MemList *>(ctx), start, end).to_kernel();
}

} // namespace

Status TdxModule::tdh_sys_init()
{
	RegBlock r{}; /* rcx: attributes, reserved as 0 */
	TdxStatus s = sc_.call(leaves::kSysInit, r);
	if (s.is(st::kSysInitNotPending)) {
		/*
		 * A previous owner (an earlier load, a kexec'd kernel) left the module initialized:
		 * SYS.DISABLE returns it to the state where SYS.INIT is allowed again.
		 */
		kapi_log(KAPI_LOG_WARN, "TDX module was already initialized; disabling it first\n");
		started_ = true;
		TRY(tdh_sys_disable());
		r = RegBlock{};
		s = sc_.call(leaves::kSysInit, r);
	}
	if (!s.is_success()) {
		log_seamcall_failure(leaves::kSysInit, s);
		return status_to_errno(s);
	}
	started_ = true;
	return Status::ok();
}

/* LP.INIT must run on every logical CPU before SYS.CONFIG can succeed. */
Status TdxModule::tdh_sys_lp_init_all()
{
	for (unsigned cpu = 0; cpu < kapi_nr_cpu_ids(); cpu++) {
		if (!kapi_cpu_online(cpu))
			continue;
		TdxStatus s;
		TRY(call_on_cpu(sc_, leaves::kSysLpInit, cpu, false, s));
		if (!s.is_success()) {
			kapi_log(KAPI_LOG_ERR, "LP.INIT on CPU %u failed\n", cpu);
			log_seamcall_failure(leaves::kSysLpInit, s);
			return status_to_errno(s);
		}
	}
	return Status::ok();
}

Status TdxModule::check_features() const
{
	/* Without NO_RBP_MOD the module may clobber RBP, which the kernel's unwinder relies on. */
	if (!(info_.features0 & abi::features0::kNoRbpMod)) {
		kapi_log(KAPI_LOG_ERR, "TDX module %u.%u.%02u lacks NO_RBP_MOD; not supported\n",
			 info_.major, info_.minor, info_.update);
		return error(err::kEOPNOTSUPP);
	}
	return Status::ok();
}

Status TdxModule::alloc_pamts()
{
	TdmrTable &t = *table_;
	for (usize i = 0; i < t.count; i++) {
		for (unsigned l = 0; l < abi::kNumPageLevels; l++) {
			PageRun run = PageRun::alloc(t.tdmrs[i].pamt_size[l]);
			if (!run) {
				kapi_log(KAPI_LOG_ERR, "no memory for a %llu KiB PAMT\n",
					 (unsigned long long)(t.tdmrs[i].pamt_size[l] >> 10));
				return error(err::kENOMEM);
			}
			t.tdmrs[i].pamt_base[l] = run.pa().value();
			t.pamt[i][l] = move(run);
		}
	}
	return Status::ok();
}

Status TdxModule::construct_tdmrs()
{
	table_ = Box<TdmrTable>(new (kAlloc) TdmrTable());
	if (!table_)
		return error(err::kENOMEM);
	TdmrTable &t = *table_;
	TRY(Status::from_kernel(kapi_for_each_system_ram(add_ram_range, &t.memlist)));
	if (t.memlist.empty())
		return error(err::kEINVAL);
	TRY(memlist_check_cmrs(t.memlist, info_.cmrs.cspan()));
	t.count = TRY(plan_tdmrs(t.memlist, info_, Span<TdmrDesc>(t.tdmrs, kMaxTdmrs)));
	TRY(alloc_pamts());
	Span<const TdmrDesc> all(t.tdmrs, t.count);
	for (usize i = 0; i < t.count; i++)
		TRY(fill_reserved_areas(t.tdmrs[i], t.memlist, all, info_.max_reserved_per_tdmr));
	return Status::ok();
}

Status TdxModule::tdh_sys_config()
{
	TdmrTable &t = *table_;
	u64 stride = abi::tdmr_info_stride(info_.max_reserved_per_tdmr);
	PageRun infos = PageRun::alloc(stride * t.count);
	PageRun pa_array = PageRun::alloc(t.count * sizeof(u64));
	if (!infos || !pa_array)
		return error(err::kENOMEM);

	auto *pas = static_cast<u64 *>(pa_array.va());
	for (usize i = 0; i < t.count; i++) {
		auto *info = reinterpret_cast<abi::TdmrInfo *>(static_cast<u8 *>(infos.va()) + i * stride);
		write_tdmr_info(t.tdmrs[i], info);
		pas[i] = (infos.pa() + i * stride).value();
	}

	u32 keyid_start = 0, nr_keyids = 0;
	TRY(sc_.backend().tdx_keyids(keyid_start, nr_keyids));
	if (nr_keyids < 2) {
		kapi_log(KAPI_LOG_ERR, "%u TDX KeyIDs: need a global one and one for TDs\n", nr_keyids);
		return error(err::kENODEV);
	}
	RegBlock r{};
	r.rcx = pa_array.pa().value();
	r.rdx = t.count;
	r.r8 = keyid_start; /* the global KeyID: the first TDX private KeyID */
	return sc_.call_errno(leaves::kSysConfig, r);
	/* The module copied the TDMR_INFOs: infos and pa_array free themselves here. */
}

/* The global KeyID is programmed once per package, by any CPU of it. */
Status TdxModule::tdh_sys_key_config_all()
{
	return for_each_package([this](unsigned cpu, unsigned pkg) -> Status {
		TdxStatus s;
		TRY(call_on_cpu(sc_, leaves::kSysKeyConfig, cpu, true, s));
		if (!s.is_success()) {
			kapi_log(KAPI_LOG_ERR, "KEY.CONFIG on package %u (CPU %u) failed\n", pkg, cpu);
			log_seamcall_failure(leaves::kSysKeyConfig, s);
			return status_to_errno(s);
		}
		return Status::ok();
	});
}

/*
 * TDMR.INIT initializes a TDMR's PAMT a chunk per call; rdx says how far it got (the module may
 * report it at a coarse granularity, so several calls can return the same value). A module that
 * never finishes is bounded by kMaxTdmrInitCalls rather than trusted.
 */
namespace {
constexpr u32 kMaxTdmrInitCalls = 1u << 20;
}

Status TdxModule::tdh_sys_tdmr_init_all()
{
	TdmrTable &t = *table_;
	for (usize i = 0; i < t.count; i++) {
		const TdmrDesc &d = t.tdmrs[i];
		u64 next = d.base;
		for (u32 calls = 0; next < d.end(); calls++) {
			if (calls == kMaxTdmrInitCalls) {
				kapi_log(KAPI_LOG_ERR, "TDMR.INIT of 0x%llx did not finish in %u calls\n",
					 (unsigned long long)d.base, kMaxTdmrInitCalls);
				return error(err::kEIO);
			}
			RegBlock r{};
			r.rcx = d.base;
			TRY(sc_.call_errno(leaves::kSysTdmrInit, r));
			if (r.rdx < next || r.rdx > d.end()) {
				kapi_log(KAPI_LOG_ERR, "TDMR.INIT of 0x%llx reported 0x%llx, outside the TDMR\n",
					 (unsigned long long)d.base, (unsigned long long)r.rdx);
				return error(err::kEIO);
			}
			next = r.rdx;
			if (kapi_may_sleep())
				kapi_cond_resched();
		}
	}
	return Status::ok();
}

Status TdxModule::tdh_sys_disable()
{
	RegBlock r{};
	TdxStatus s = sc_.call_resumable(leaves::kSysDisable, r, /*retry_busy=*/true);
	if (!s.is_success()) {
		log_seamcall_failure(leaves::kSysDisable, s);
		return status_to_errno(s);
	}
	started_ = false;
	return Status::ok();
}

Status TdxModule::read_metadata()
{
	TRY(read_sys_info(sc_, info_));
	return check_features();
}

Status TdxModule::run_step(Step step)
{
	switch (step) {
	case Step::kSysInit:
		return tdh_sys_init();
	case Step::kLpInitAll:
		return tdh_sys_lp_init_all();
	case Step::kReadMetadata:
		return read_metadata();
	case Step::kConstructTdmrs:
		return construct_tdmrs();
	case Step::kSysConfig:
		return tdh_sys_config();
	case Step::kKeyConfigAll:
		return tdh_sys_key_config_all();
	case Step::kTdmrInitAll:
		return tdh_sys_tdmr_init_all();
	case Step::kCount:
		break;
	}
	return error(err::kEINVAL);
}

void TdxModule::finish()
{
	ready_ = true;
	kapi_log(KAPI_LOG_INFO, "TDX module %u.%u.%02u (build %u, %u) initialized: %zu TDMRs, %llu KiB PAMT\n",
		 info_.major, info_.minor, info_.update, info_.build_num, info_.build_date,
		 (kstd::usize)table_->count, (unsigned long long)(pamt_bytes() >> 10));
}

Status TdxModule::bring_up()
{
	Status s;
	kapi_cpus_read_lock();
	for (u8 i = 0; i < u8(Step::kCount) && s.is_ok(); i++)
		s = run_step(Step(i));
	kapi_cpus_read_unlock();
	if (s.is_error()) {
		teardown();
		return s;
	}
	finish();
	return Status::ok();
}

u64 TdxModule::pamt_bytes() const
{
	u64 sum = 0;
	if (table_)
		for (usize i = 0; i < table_->count; i++)
			for (const PageRun &p : table_->pamt[i])
				sum += p.bytes();
	return sum;
}

void TdxModule::teardown()
{
	ready_ = false;
	bool module_released = true;
	if (started_)
		module_released = tdh_sys_disable().is_ok();
	if (!table_)
		return;
	/* The module wrote PAMTs with the global KeyID: flush before the kernel reuses them. */
	kapi_wbinvd_on_all_cpus();
	if (!module_released) {
		u64 lost = 0;
		for (usize i = 0; i < table_->count; i++)
			for (PageRun &p : table_->pamt[i])
				lost += p.abandon_to_module();
		kapi_log(KAPI_LOG_ERR, "TDX module could not be disabled: %llu KiB of PAMT stay with it\n",
			 (unsigned long long)(lost >> 10));
	}
	table_ = Box<TdmrTable>();
}

} // namespace tdx
