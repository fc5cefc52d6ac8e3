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

/*
 * LP.INIT must run on every logical CPU the TDX module counts (all of the platform's) before
 * SYS.CONFIG can succeed: a CPU that is offline now cannot get it, so say which one.
 */
Status TdxModule::tdh_sys_lp_init_all()
{
	for (unsigned cpu = 0; cpu < kapi_nr_cpu_ids(); cpu++) {
		if (kapi_cpu_present(cpu) && !kapi_cpu_online(cpu)) {
			kapi_log(KAPI_LOG_ERR,
				 "CPU %u is offline: TDH.SYS.LP.INIT must run on every logical CPU; bring it online and load again\n",
				 cpu);
			return error(err::kEINVAL);
		}
	}
	for (unsigned cpu = 0; cpu < kapi_nr_cpu_ids(); cpu++) {
		if (!kapi_cpu_online(cpu))
			continue;
		TdxStatus s;
		TRY(call_on_cpu(sc_, leaves::kSysLpInit, cpu, false, s));
		if (!s.is_success()) {
			kapi_log(KAPI_LOG_ERR, "TDH.SYS.LP.INIT on CPU %u failed\n", cpu);
			log_seamcall_failure(leaves::kSysLpInit, s);
			return status_to_errno(s);
		}
		set_lp_initialized(cpu);
	}
	return Status::ok();
}

Status TdxModule::cpu_online(unsigned cpu)
{
	if (!ready_ || lp_initialized(cpu))
		return Status::ok();
	RegBlock r{};
	TdxStatus s = sc_.call(leaves::kSysLpInit, r);
	if (!s.is_success()) {
		kapi_log(KAPI_LOG_ERR, "LP.INIT on CPU %u coming online failed\n", cpu);
		log_seamcall_failure(leaves::kSysLpInit, s);
		return status_to_errno(s);
	}
	set_lp_initialized(cpu);
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

namespace {

constexpr PamtShape kPamtShapes[] = {PamtShape::kOneBlock, PamtShape::kPerTdmr, PamtShape::kPerLevel};

/* PAMT slots (TDMR i, level l) = i * kNumPageLevels + l that one run of the shape holds. */
usize slots_per_run(PamtShape shape, usize nr_tdmrs)
{
	switch (shape) {
	case PamtShape::kOneBlock:
		return nr_tdmrs * abi::kNumPageLevels;
	case PamtShape::kPerTdmr:
		return abi::kNumPageLevels;
	case PamtShape::kPerLevel:
		break;
	}
	return 1;
}

/* "up to N GiB" for a log line; the unlimited span names the largest TDMR instead. */
unsigned long long span_gib(const MemList &list, u64 max_span)
{
	return (unsigned long long)(largest_tdmr(list, max_span) / kGiB);
}

/*
 * The next span to try after max_span: the largest power of two GiB below its largest TDMR, or 0
 * when that is 1 GiB already. Each step makes the largest TDMR smaller, so the search ends.
 */
u64 smaller_span(const MemList &list, u64 max_span)
{
	u64 largest = largest_tdmr(list, max_span);
	u64 span = kGiB;
	while (span * 2 < largest)
		span *= 2;
	return span < largest ? span : 0;
}

} // namespace

/* Allocates every PAMT of the planned TDMRs in runs of the shape; -ENOMEM when a run is not there. */
Status TdxModule::alloc_pamts(PamtShape shape)
{
	TdmrTable &t = *table_;
	usize nr_slots = t.count * abi::kNumPageLevels;
	usize per_run = slots_per_run(shape, t.count);
	for (usize first = 0; first < nr_slots; first += per_run) {
		usize last = min(first + per_run, nr_slots);
		u64 bytes = 0;
		for (usize k = first; k < last; k++)
			bytes += t.tdmrs[k / abi::kNumPageLevels].pamt_size[k % abi::kNumPageLevels];
		PageRun run = PageRun::alloc(bytes);
		if (!run) {
			kapi_log(KAPI_LOG_DEBUG, "no %llu KiB of contiguous memory for PAMTs\n",
				 (unsigned long long)(bytes >> 10));
			return error(err::kENOMEM);
		}
		PhysAddr pa = run.pa();
		for (usize k = first; k < last; k++) {
			TdmrDesc &d = t.tdmrs[k / abi::kNumPageLevels];
			d.pamt_base[k % abi::kNumPageLevels] = pa.value();
			pa = pa + d.pamt_size[k % abi::kNumPageLevels];
		}
		t.pamt[t.nr_pamt++] = move(run);
	}
	return Status::ok();
}

void TdxModule::free_pamts()
{
	TdmrTable &t = *table_;
	for (usize i = 0; i < t.nr_pamt; i++)
		t.pamt[i].reset();
	t.nr_pamt = 0;
	for (usize i = 0; i < t.count; i++)
		for (u64 &base : t.tdmrs[i].pamt_base)
			base = 0;
}

/*
 * One TDMR layout (TDMRs of at most max_span bytes) with its PAMTs and reserved areas. -ENOMEM:
 * no shape of PAMT runs could be allocated; -E2BIG: a TDMR needs more reserved areas than the
 * module has (a smaller shape would only need more). Either way nothing stays allocated.
 */
Status TdxModule::try_tdmr_layout(u64 max_span)
{
	TdmrTable &t = *table_;
	t.count = TRY(plan_tdmrs(t.memlist, info_, Span<TdmrDesc>(t.tdmrs, kMaxTdmrs), max_span));
	for (PamtShape shape : kPamtShapes) {
		if (alloc_pamts(shape).is_error()) {
			free_pamts();
			continue;
		}
		Span<const TdmrDesc> all(t.tdmrs, t.count);
		for (usize i = 0; i < t.count; i++) {
			Status s = fill_reserved_areas(t.tdmrs[i], t.memlist, all, info_.max_reserved_per_tdmr);
			if (s.is_error()) {
				free_pamts();
				return s;
			}
		}
		return Status::ok();
	}
	u64 largest = 0;
	for (usize i = 0; i < t.count; i++)
		largest = max(largest, t.tdmrs[i].pamt_size[unsigned(abi::PageLevel::k4K)]);
	kapi_log(KAPI_LOG_WARN, "no physically contiguous memory for the PAMTs of %zu TDMRs of up to %llu GiB (the largest %llu KiB)\n",
		 (kstd::usize)t.count, span_gib(t.memlist, max_span), (unsigned long long)(largest >> 10));
	return error(err::kENOMEM);
}

/*
 * Covers System RAM with as few TDMRs as its layout allows, as Linux does (TDMRs from the 1 GiB
 * boundary below each RAM range to the one above it, ranges that share a boundary sharing a TDMR).
 * Their PAMTs can be large (4 MiB per GiB); when they cannot be allocated, or a TDMR runs out of
 * reserved areas, the TDMRs are cut smaller (halving down to 1 GiB) while the module's MAX_TDMRS
 * allows it.
 */
Status TdxModule::construct_tdmrs()
{
	table_ = Box<TdmrTable>(new (kAlloc) TdmrTable());
	if (!table_)
		return error(err::kENOMEM);
	TdmrTable &t = *table_;
	TRY(Status::from_kernel(kapi_for_each_system_ram(add_ram_range, &t.memlist)));
	if (t.memlist.empty()) {
		kapi_log(KAPI_LOG_ERR, "no System RAM found\n");
		return error(err::kEINVAL);
	}
	TRY(memlist_check_cmrs(t.memlist, info_.cmrs.cspan()));

	usize limit = min<usize>(info_.max_tdmrs, kMaxTdmrs);
	u64 span = kTdmrSpanUnlimited;
	for (;;) {
		Status s = try_tdmr_layout(span);
		if (s.is_ok() || (s != error(err::kENOMEM) && s != error(err::kE2BIG)))
			return s;
		u64 next = smaller_span(t.memlist, span);
		if (!next) {
			kapi_log(KAPI_LOG_ERR, "cannot cover memory: not even TDMRs of 1 GiB work (%s)\n",
				 s == error(err::kENOMEM) ? "no memory for their PAMTs" : "too many reserved areas");
			return s;
		}
		usize need = count_tdmrs(t.memlist, next);
		if (need > limit) {
			kapi_log(KAPI_LOG_ERR,
				 "cannot cover memory: TDMRs of up to %llu GiB failed (%s), and with TDMRs of at most %llu GiB memory needs %zu TDMRs, %s supports %zu\n",
				 span_gib(t.memlist, span),
				 s == error(err::kENOMEM) ? "no memory for their PAMTs" : "too many reserved areas",
				 (unsigned long long)(next / kGiB), (kstd::usize)need,
				 need > info_.max_tdmrs ? "the TDX module" : "tdx_host",
				 (kstd::usize)(need > info_.max_tdmrs ? info_.max_tdmrs : kMaxTdmrs));
			return s;
		}
		kapi_log(KAPI_LOG_WARN, "trying %zu TDMRs of at most %llu GiB\n", (kstd::usize)need,
			 (unsigned long long)(next / kGiB));
		span = next;
	}
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
	TRY(check_tdx_keyids(keyid_start, nr_keyids));
	u64 addons = select_addons(info_.features0);
	RegBlock r{};
	r.rcx = pa_array.pa().value();
	r.rdx = t.count;
	r.r8 = keyid_start; /* the global KeyID: the first TDX private KeyID */
	r.r9 = addons;      /* v1 only; 0 (and v0) when the module reports no add-on we use */
	r.r11 = 0;          /* no untrusted wall-clock time (TDX Connect drafts): always 0 */
	Status s = sc_.call_errno(sys_config_leaf(addons), r);
	if (s.is_ok()) {
		addons_ = addons;
		keyids_ = {keyid_start, nr_keyids, keyid_start};
		if (addons) {
			char names[64];
			kapi_log(KAPI_LOG_INFO, "TDX module add-on features enabled: %s\n",
				 addon_names(addons, names, sizeof(names)));
		}
	}
	if (s.is_error() && sc_.dead()) {
		/* The emulator may still read them: they are the TDX module's for good. */
		u64 lost = infos.abandon_to_module() + pa_array.abandon_to_module();
		kapi_log(KAPI_LOG_ERR, "TDH.SYS.CONFIG did not complete: %llu KiB of TDMR_INFO stay with the TDX module\n",
			 (unsigned long long)(lost >> 10));
	}
	return s;
	/* The module copied the TDMR_INFOs: infos and pa_array free themselves here. */
}

/*
 * The global KeyID is programmed once per package, by any CPU of it.
 *
 * First, caches are flushed on every CPU, as Linux's config_global_keyid does: the kernel zeroed
 * the PAMTs through KeyID 0, and caches are not coherent across KeyIDs, so dirty lines of those
 * writes must reach memory before the TDX module (from KEY.CONFIG and TDMR.INIT on) uses the PAMTs
 * with the global KeyID. PAMTs are about 1/256 of RAM: WBINVD rather than flushing them by line.
 */
Status TdxModule::tdh_sys_key_config_all()
{
	kapi_wbinvd_on_all_cpus();
	return for_each_package([this](unsigned cpu, unsigned pkg) -> Status {
		TdxStatus s;
		TRY(call_on_cpu(sc_, leaves::kSysKeyConfig, cpu, true, s));
		if (!s.is_success()) {
			kapi_log(KAPI_LOG_ERR, "TDH.SYS.KEY.CONFIG on package %u (CPU %u) failed\n", pkg, cpu);
			log_seamcall_failure(leaves::kSysKeyConfig, s);
			return status_to_errno(s);
		}
		return Status::ok();
	});
}

/*
 * TDMR.INIT initializes a chunk of a TDMR's PAMT per call and returns the next address to
 * initialize, rounded down to 1 GiB (so the VMM never uses a partly initialized 1 GiB block): many
 * calls in a row return the same rdx. The TDX module 1.5 covers at least 4 MiB of TDMR per call
 * (1024 4K PAMT entries; 16 MiB with dynamic PAMT), so rdx moves at least every 256 calls. A
 * module whose rdx has not moved in kTdmrInitStallCalls calls is stuck: give up then, not after
 * an unbounded number of calls.
 */
namespace {
constexpr u32 kTdmrInitCallsPerGiB = 256;
constexpr u32 kTdmrInitStallCalls = 4 * kTdmrInitCallsPerGiB;
} // namespace

Status TdxModule::tdh_sys_tdmr_init_all()
{
	TdmrTable &t = *table_;
	for (usize i = 0; i < t.count; i++) {
		const TdmrDesc &d = t.tdmrs[i];
		u64 next = d.base;
		for (u32 stalled = 0; next < d.end();) {
			RegBlock r{};
			r.rcx = d.base;
			TRY(sc_.call_errno(leaves::kSysTdmrInit, r));
			if (r.rdx < next || r.rdx > d.end()) {
				kapi_log(KAPI_LOG_ERR,
					 "TDH.SYS.TDMR.INIT of TDMR %zu [0x%llx, 0x%llx) reported 0x%llx, outside the TDMR\n",
					 (kstd::usize)i, (unsigned long long)d.base, (unsigned long long)d.end(),
					 (unsigned long long)r.rdx);
				return error(err::kEIO);
			}
			stalled = r.rdx == next ? stalled + 1 : 0;
			if (stalled == kTdmrInitStallCalls) {
				kapi_log(KAPI_LOG_ERR,
					 "TDH.SYS.TDMR.INIT of TDMR %zu [0x%llx, 0x%llx) did not finish: no progress past 0x%llx in %u calls\n",
					 (kstd::usize)i, (unsigned long long)d.base, (unsigned long long)d.end(),
					 (unsigned long long)next, kTdmrInitStallCalls);
				return error(err::kEIO);
			}
			next = r.rdx;
			kapi_cond_resched_if_may_sleep();
		}
	}
	return Status::ok();
}

/*
 * Extension bring-up (ABI.md §6): only when the module reports TDX_FEATURES0.EXT. After
 * SYS.CONFIG the module knows which add-ons it runs and says what they need: EXT_REQUIRED and
 * MEMORY_POOL_REQUIRED_PAGES. The pool goes first (EXT.MEM.ADD), then EXT.INIT when required.
 *
 * It runs after TDMR.INIT, the last step, as the quoting series does (init_tdx_module calls its
 * init_tdx_module_extensions after init_tdmrs): the EXT leaves run only in SYS_READY (after the
 * last package's KEY.CONFIG) anyway, and the PAMTs are complete before the module takes more
 * memory for itself. Unlike the series, which skips everything when EXT_REQUIRED is 0, the pool
 * is added whenever the module asks for pages, as ABI.md's order says.
 */
Status TdxModule::init_extensions()
{
	if (!(info_.features0 & abi::features0::kExt))
		return Status::ok(); /* no extension call at all */
	u64 required = TRY(sys_rd(sc_, abi::field::kExtRequired));
	u64 pages = TRY(sys_rd(sc_, abi::field::kMemoryPoolRequiredPages));
	if (pages)
		TRY(tdh_ext_mem_add_pool(pages));
	kapi_log(KAPI_LOG_INFO, "TDX module extensions: %llu pages (%llu KiB) in the memory pool\n",
		 (unsigned long long)pages, (unsigned long long)(pages * kPageSize >> 10));
	if (required)
		TRY(tdh_ext_init());
	return Status::ok();
}

/*
 * Quoting, when SYS.CONFIG enabled the QUOTE add-on (never a QUOTE leaf otherwise): after the
 * extensions it needs are initialized, as the quoting series does. Quoting is an add-on, not TDX:
 * when it cannot start, TDX comes up without it.
 */
Status TdxModule::init_quoting()
{
	if (addons_ & abi::features0::kQuote)
		(void)quote_.start(); /* logs why when it fails */
	return Status::ok();
}

/*
 * Hands nr_pages to the module's memory pool, a list page (up to 512 addresses) per
 * TDH.EXT.MEM.ADD; the one list page is reused for every batch (the module never keeps it).
 *
 * Pages the module accepted are its own until SYS.DISABLE. When a call fails, the pages of the
 * lists it accepted before, and those of the failing list (it may have taken any of them before
 * failing), stay with the module for good: the kernel never frees them. Pages of later lists
 * were never given and are freed at once.
 */
Status TdxModule::tdh_ext_mem_add_pool(u64 nr_pages)
{
	if (nr_pages > kMaxPoolPages) {
		kapi_log(KAPI_LOG_ERR, "TDX module extensions want %llu pages for their memory pool; at most %llu are given\n",
			 (unsigned long long)nr_pages, (unsigned long long)kMaxPoolPages);
		return error(err::kE2BIG);
	}
	Status s = ext_pool_.alloc(nr_pages);
	if (s.is_error()) {
		kapi_log(KAPI_LOG_ERR, "no memory for the %llu KiB memory pool of the TDX module extensions\n",
			 (unsigned long long)(nr_pages * kPageSize >> 10));
		return s;
	}
	PageRun list = PageRun::alloc(kPageSize);
	if (!list) {
		ext_pool_.reset();
		return error(err::kENOMEM);
	}
	for (usize i = 0; i < ext_pool_.nr_batches(); i++) {
		s = tdh_ext_mem_add(list, ext_pool_.fill_list(i, list));
		ext_pool_.give(i);
		if (s.is_error()) {
			u64 kept = ext_pool_.abandon_to_module();
			ext_pool_.free_not_given();
			kapi_log(KAPI_LOG_WARN,
				 "TDH.EXT.MEM.ADD of list %zu of %zu failed: %llu KiB of memory pool stay with the TDX module for good\n",
				 (kstd::usize)i + 1, (kstd::usize)ext_pool_.nr_batches(), (unsigned long long)(kept >> 10));
			if (sc_.dead())
				(void)list.abandon_to_module(); /* the emulator may still read it */
			return s;
		}
	}
	return Status::ok();
}

/*
 * One list to completion. On TDX_INTERRUPTED_RESUMABLE the module has moved rcx's first entry past
 * what it took, and the call is re-issued with rcx as it came back. An rcx that names another list,
 * goes back, or does not move in kExtMemAddStallCalls calls in a row is a module not to trust.
 */
namespace {
constexpr u32 kExtMemAddStallCalls = 1024;
constexpr u32 kExtInitMaxCalls = 1u << 16;
} // namespace

Status TdxModule::tdh_ext_mem_add(const PageRun &list, u64 info)
{
	RegBlock r{};
	r.rcx = info;
	u32 first = abi::hpa_list_info_first(info);
	for (u32 stalled = 0;;) {
		TdxStatus s = sc_.call(leaves::kExtMemAdd, r);
		if (s.is_success())
			return Status::ok();
		if (!s.is(abi::status::kInterruptedResumable)) {
			log_seamcall_failure(leaves::kExtMemAdd, s);
			return status_to_errno(s);
		}
		u64 out = r.rcx;
		u32 next = abi::hpa_list_info_first(out);
		if (abi::hpa_list_info_list_pa(out) != list.pa().value() ||
		    abi::hpa_list_info_last(out) != abi::hpa_list_info_last(info) ||
		    (out & abi::kHpaListInfoReservedMask) || next < first || next > abi::hpa_list_info_last(info)) {
			kapi_log(KAPI_LOG_ERR, "TDH.EXT.MEM.ADD of HPA_LIST_INFO 0x%llx returned rcx 0x%llx: not a later entry of the same list\n",
				 (unsigned long long)info, (unsigned long long)out);
			return error(err::kEIO);
		}
		stalled = next == first ? stalled + 1 : 0;
		if (stalled == kExtMemAddStallCalls) {
			kapi_log(KAPI_LOG_ERR, "TDH.EXT.MEM.ADD made no progress past entry %u in %u calls\n", first,
				 kExtMemAddStallCalls);
			return error(err::kEIO);
		}
		first = next;
		kapi_cond_resched_if_may_sleep();
	}
}

/*
 * EXT.INIT works in chunks and answers TDX_INTERRUPTED_RESUMABLE until it is done (state kept in
 * the module). When it fails, the module may have written pages it was given with its private
 * KeyID: caches are flushed on every CPU before anything else happens (the failed bring-up's
 * teardown then disables the module, flushes again and frees).
 */
Status TdxModule::tdh_ext_init()
{
	RegBlock r{};
	TdxStatus s = sc_.call_resumable(leaves::kExtInit, r, /*retry_busy=*/false, kExtInitMaxCalls);
	if (s.is_success()) {
		ext_initialized_ = true;
		return Status::ok();
	}
	kapi_wbinvd_on_all_cpus();
	if (s.is(abi::status::kInterruptedResumable)) {
		kapi_log(KAPI_LOG_ERR, "TDH.EXT.INIT did not finish in %u calls\n", kExtInitMaxCalls);
		return error(err::kEIO);
	}
	log_seamcall_failure(leaves::kExtInit, s);
	return status_to_errno(s);
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
	case Step::kExtensions:
		return init_extensions();
	case Step::kQuote:
		return init_quoting();
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
		for (usize i = 0; i < table_->nr_pamt; i++)
			sum += table_->pamt[i].bytes();
	return sum;
}

void TdxModule::teardown()
{
	ready_ = false;
	/* No quote request in progress from here on: the buffer goes only after SYS.DISABLE. */
	quote_.stop();
	bool module_released = true;
	if (started_ && sc_.dead()) {
		/* A dead transport fails every call at once: nothing can reach the module any more. */
		kapi_log(KAPI_LOG_ERR, "SEAMCALL transport is dead: the TDX module cannot be disabled\n");
		started_ = false;
		module_released = false;
	} else if (started_ && gone_) {
		/* A failed update left no module to disable: what it was given is lost with it. */
		kapi_log(KAPI_LOG_ERR, "no TDX module since a failed update: it cannot be disabled\n");
		started_ = false;
		module_released = false;
	} else if (started_) {
		module_released = tdh_sys_disable().is_ok();
	}
	addons_ = 0;
	keyids_ = {};
	ext_initialized_ = false;
	/* The module writes the quote buffer only inside QUOTE.GET, and none is in progress. */
	quote_.release();
	if (!table_ && !ext_pool_.nr_batches())
		return;
	/*
	 * The module wrote PAMTs with the global KeyID, and the extensions their pool with its own
	 * keys: flush before the kernel reuses them.
	 */
	kapi_wbinvd_on_all_cpus();
	if (!module_released) {
		u64 lost = 0;
		for (usize i = 0; table_ && i < table_->nr_pamt; i++)
			lost += table_->pamt[i].abandon_to_module();
		if (lost)
			kapi_log(KAPI_LOG_ERR, "TDX module could not be disabled: %llu KiB of PAMT stay with it\n",
				 (unsigned long long)(lost >> 10));
		lost = ext_pool_.abandon_to_module();
		if (lost)
			kapi_log(KAPI_LOG_ERR, "TDX module could not be disabled: %llu KiB of extension memory pool stay with it\n",
				 (unsigned long long)(lost >> 10));
	} else {
		/* SYS.DISABLE released the pool with everything else given to TDX. */
		ext_pool_.take_back_after_disable();
	}
	ext_pool_.reset();
	table_ = Box<TdmrTable>();
}

} // namespace tdx
