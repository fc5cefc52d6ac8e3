// SPDX-License-Identifier: GPL-2.0
/* The core's side of include/kapi/kunit_hooks.h (built only for the test build). */
#include <kapi/kunit_hooks.h>
#include <kstd/bits.h>
#include <kstd/new.h>

#include "bringup.h"
#include "core.h"
#include "update_image.h"

namespace tdx {
namespace {

struct TdmrWork {
	MemList ram;
	TdxSysInfo info;
	TdmrDesc tdmrs[kMaxTdmrs];
};

Result<int> build_tdmrs(const tdx_kunit_range *ram, unsigned nr_ram, const tdx_kunit_range *cmrs,
			unsigned nr_cmrs, const tdx_kunit_limits &lim, const kapi_u64 *pamt_base,
			tdx_kunit_tdmr *out, unsigned max_out)
{
	Box<TdmrWork> w(new (kAlloc) TdmrWork());
	if (!w)
		return error(err::kENOMEM);
	for (unsigned i = 0; i < nr_ram; i++)
		TRY(memlist_add(w->ram, ram[i].start, ram[i].end));
	for (unsigned i = 0; i < nr_cmrs; i++)
		if (!w->info.cmrs.push_back({cmrs[i].start, cmrs[i].end - cmrs[i].start}))
			return error(err::kE2BIG);
	TRY(memlist_check_cmrs(w->ram, w->info.cmrs.cspan()));
	w->info.max_tdmrs = u16(lim.max_tdmrs);
	w->info.max_reserved_per_tdmr = u16(min(lim.max_rsvd, unsigned(TDX_KUNIT_MAX_RSVD)));
	for (auto &e : w->info.pamt_entry_size)
		e = u16(lim.pamt_entry_size);

	usize n = TRY(plan_tdmrs(w->ram, w->info, Span<TdmrDesc>(w->tdmrs, min<usize>(kMaxTdmrs, max_out))));
	/* Without given bases the PAMTs go above every TDMR, so they reserve nothing. */
	u64 away = align_up(w->tdmrs[n ? n - 1 : 0].end(), abi::kTdmrAlignment);
	for (usize i = 0; i < n; i++)
		for (unsigned l = 0; l < abi::kNumPageLevels; l++)
			w->tdmrs[i].pamt_base[l] = pamt_base ? pamt_base[abi::kNumPageLevels * i + l]
							 : away + (abi::kNumPageLevels * i + l) * (8ull << 20);
	Span<const TdmrDesc> all(w->tdmrs, n);
	for (usize i = 0; i < n; i++) {
		TdmrDesc &t = w->tdmrs[i];
		TRY(fill_reserved_areas(t, w->ram, all, w->info.max_reserved_per_tdmr));
		tdx_kunit_tdmr &o = out[i];
		o = {};
		o.base = t.base;
		o.size = t.size;
		for (unsigned l = 0; l < abi::kNumPageLevels; l++) {
			o.pamt_base[l] = t.pamt_base[l];
			o.pamt_size[l] = t.pamt_size[l];
		}
		o.nr_rsvd = unsigned(t.rsvd.size());
		for (usize r = 0; r < t.rsvd.size(); r++) {
			o.rsvd[r].offset = t.rsvd[r].offset;
			o.rsvd[r].size = t.rsvd[r].size;
		}
	}
	return int(n);
}

/* See tdx_kunit_pool_lists. */
Status pool_lists(u64 nr_pages, tdx_kunit_pool_report &out)
{
	u64 before = page_counts().held;
	{
		ExtPool pool;
		TRY(pool.alloc(nr_pages));
		PageRun list = PageRun::alloc(kPageSize);
		if (!list)
			return error(err::kENOMEM);
		out.pages_held = page_counts().held - before;
		out.nr_lists = pool.nr_batches();
		const auto *e = static_cast<const u64 *>(list.va());
		for (usize i = 0; i < pool.nr_batches(); i++) {
			u64 info = pool.fill_list(i, list);
			if (i == 0)
				out.first_info = info;
			out.last_info = info;
			u32 n = abi::hpa_list_info_last(info) + 1;
			for (u32 k = 0; k < n; k++) {
				bool next = k == 0 || e[k] == e[k - 1] + kPageSize;
				out.bad_entries += !is_aligned(e[k], kPageSize) || !next;
			}
			out.entries += n;
		}
	}
	out.held_after = page_counts().held - before;
	return Status::ok();
}

/* See tdx_kunit_quote_buffer: the list read back from memory, from the head, as the module reads it. */
Status quote_buffer(u64 nr_data, tdx_kunit_quote_buffer_report &out)
{
	u64 before = page_counts().held;
	{
		QuoteBuffer b;
		TRY(b.alloc(nr_data));
		out.pages_held = page_counts().held - before;
		u64 node_pa = b.head().value();
		for (u64 j = 0; j < b.nr_nodes() && node_pa == b.node_pa(j).value(); j++) {
			const u64 *e = b.node(j);
			out.nr_nodes++;
			for (u32 k = 0; k < abi::kQuoteListDataPerNode; k++) {
				if (out.data_pages == nr_data) {
					out.not_ones += e[k] != abi::kQuoteListEnd;
					continue;
				}
				out.out_of_order += e[k] != b.data_pa(out.data_pages).value();
				out.data_pages++;
			}
			node_pa = e[abi::kQuoteListNextEntry];
		}
		out.not_ones += node_pa != abi::kQuoteListEnd;
	}
	out.held_after = page_counts().held - before;
	return Status::ok();
}

/* A refusal as the C side reads it (static strings, nothing to free). */
void report_refusal(const ImageRefusal &r, tdx_kunit_image_refusal *why)
{
	if (why)
		*why = {r.code_name(), r.message};
}

} // namespace
} // namespace tdx

using namespace tdx;

extern "C" kapi_u64 tdx_kunit_leaf_rax(unsigned int number, unsigned int version)
{
	return Leaf(u16(number), u8(version)).rax();
}

extern "C" int tdx_kunit_status_to_errno(kapi_u64 status)
{
	return status_to_errno(TdxStatus(status)).to_kernel();
}

extern "C" const char *tdx_kunit_status_name(kapi_u64 status)
{
	return status_name(TdxStatus(status));
}

extern "C" unsigned int tdx_kunit_field_elem_bytes(kapi_u64 field_id)
{
	return abi::field_elem_bytes(field_id);
}

extern "C" kapi_u64 tdx_kunit_metadata_decode(kapi_u64 field_id, kapi_u64 raw)
{
	return metadata_decode(field_id, raw);
}

extern "C" int tdx_kunit_build_tdmrs(const struct tdx_kunit_range *ram, unsigned int nr_ram,
				     const struct tdx_kunit_range *cmrs, unsigned int nr_cmrs,
				     const struct tdx_kunit_limits *lim, const kapi_u64 *pamt_base,
				     struct tdx_kunit_tdmr *out, unsigned int max_out)
{
	Result<int> r = build_tdmrs(ram, nr_ram, cmrs, nr_cmrs, *lim, pamt_base, out, max_out);
	return r.is_ok() ? r.value() : r.status().to_kernel();
}

extern "C" kapi_u64 tdx_kunit_select_addons(kapi_u64 features0)
{
	return select_addons(features0);
}

extern "C" kapi_u64 tdx_kunit_sys_config_rax(kapi_u64 addons)
{
	return sys_config_leaf(addons).rax();
}

extern "C" kapi_u64 tdx_kunit_hpa_list_info(kapi_u64 list_pa, unsigned int first, unsigned int last)
{
	return abi::hpa_list_info(list_pa, first, last);
}

extern "C" kapi_u64 tdx_kunit_hpa_list_nr_batches(kapi_u64 nr_pages)
{
	return hpa_list_nr_batches(nr_pages);
}

extern "C" int tdx_kunit_hpa_list_batch(kapi_u64 nr_pages, kapi_u64 i, kapi_u64 *first_page, unsigned int *nr)
{
	if (i >= hpa_list_nr_batches(nr_pages))
		return -err::kERANGE;
	HpaListBatch b = hpa_list_batch(nr_pages, i);
	*first_page = b.first_page;
	*nr = b.nr;
	return 0;
}

extern "C" int tdx_kunit_pool_lists(kapi_u64 nr_pages, struct tdx_kunit_pool_report *out)
{
	*out = {};
	return pool_lists(nr_pages, *out).to_kernel();
}

extern "C" kapi_u64 tdx_kunit_ext_pool_pages(void)
{
	HostLock lock;
	TdxModule *m = host().module_locked();
	return m ? m->ext_pool_pages() : 0;
}

extern "C" kapi_u64 tdx_kunit_quote_list_nr_nodes(kapi_u64 nr_data_pages)
{
	return abi::quote_list_nr_nodes(nr_data_pages);
}

extern "C" kapi_u64 tdx_kunit_quote_list_entry(kapi_u64 nr_data, kapi_u64 node, unsigned int entry, kapi_u64 data_base,
					       kapi_u64 node_base)
{
	if (entry >= abi::kQuoteListEntries)
		return 0;
	return quote_list_entry(
		nr_data, node, entry, [=](u64 i) { return data_base + i * kPageSize; },
		[=](u64 j) { return node_base + j * kPageSize; });
}

extern "C" kapi_u64 tdx_kunit_quote_size_cap(void)
{
	return kMaxQuoteSizeCap;
}

extern "C" int tdx_kunit_quote_buffer_pages(kapi_u64 max_quote_size, kapi_u64 *pages)
{
	Result<u64> r = quote_buffer_pages_checked(max_quote_size);
	if (r.is_error())
		return r.status().to_kernel();
	*pages = r.value();
	return 0;
}

extern "C" int tdx_kunit_quote_buffer(kapi_u64 nr_data, struct tdx_kunit_quote_buffer_report *out)
{
	*out = {};
	return quote_buffer(nr_data, *out).to_kernel();
}

extern "C" int tdx_kunit_quote_state(struct tdx_kunit_quote_state *out)
{
	*out = {};
	HostLock lock;
	TdxModule *m = host().module_locked();
	if (!m)
		return -err::kENODEV;
	QuoteGuard g(quote_lock); /* inside the state lock, as everywhere */
	Quoting &q = m->quoting();
	out->enabled = q.enabled();
	out->max_quote_size = q.max_quote_size();
	out->data_pages = q.buffer_locked().nr_data_pages();
	out->nr_nodes = q.buffer_locked().nr_nodes();
	return 0;
}

namespace {
struct RendezvousRun {
	UpdateRendezvous rz;
	tdx_kunit_rendezvous_run *run;
};

int rendezvous_cpu(void *ctx)
{
	RendezvousRun &r = *static_cast<RendezvousRun *>(ctx);
	const unsigned cpu = kapi_this_cpu();
	const bool lead = cpu == r.run->lead_cpu;
	r.rz.walk(cpu, [&](UpdateStep s, u64 *status) {
		if (!lead && !update_step_on_every_cpu(s))
			return 0;
		if (cpu < 64)
			__atomic_fetch_or(&r.run->ran[unsigned(s)], 1ull << cpu, __ATOMIC_RELAXED);
		if (unsigned(s) == r.run->fail_step && cpu == r.run->fail_cpu) {
			*status = abi::status::kSysBusy;
			return -err::kEIO;
		}
		return 0;
	});
	return 0;
}
} // namespace

extern "C" int tdx_kunit_update_step_on_every_cpu(unsigned int step)
{
	return update_step_on_every_cpu(UpdateStep(step));
}

extern "C" int tdx_kunit_rendezvous(struct tdx_kunit_rendezvous_run *run)
{
	static_assert(TDX_KUNIT_UPDATE_STEPS == kUpdateSteps);
	Box<RendezvousRun> r(new (kAlloc) RendezvousRun());
	if (!r)
		return -err::kENOMEM;
	r->run = run;
	const WindowCpus cpus = window_cpus();
	run->lead_cpu = cpus.lead;
	run->nr_cpus = cpus.nr;
	if (run->nr_cpus > 64)
		return -err::kERANGE;
	r->rz.start(run->nr_cpus);
	int ret = kapi_stop_machine(rendezvous_cpu, r.get());
	run->failed = r->rz.failed();
	run->failure_step = unsigned(r->rz.failure().step);
	run->failure_cpu = r->rz.failure().cpu;
	run->failure_err = r->rz.failure().err;
	run->final_step = unsigned(r->rz.step());
	return ret;
}

extern "C" int tdx_kunit_update_timing(struct tdx_kunit_update_timing *out)
{
	UpdateTiming t;
	if (Status s = host().update_timing(t); s.is_error())
		return s.to_kernel();
	out->windows = t.windows;
	out->nr_cpus = t.nr_cpus;
	out->ok = t.ok;
	out->total_ns = t.total_ns;
	for (u8 i = 0; i < TDX_KUNIT_UPDATE_STEPS; i++) {
		out->phase_ns[i] = t.phase_ns[i];
		out->phase_name[i] = update_step_name(UpdateStep(i));
	}
	return 0;
}

namespace {
u64 empty_released_ns;
int empty_cpu(void *)
{
	note_latest(&empty_released_ns, kapi_ktime_ns());
	return 0;
}
} // namespace

extern "C" int tdx_kunit_empty_stop_machine(kapi_u64 *ns)
{
	/* As update_install_locked() runs the window, with nothing in it. */
	(void)window_cpus();
	empty_released_ns = 0;
	const u64 t0 = kapi_ktime_ns();
	const int ret = kapi_stop_machine(empty_cpu, nullptr);
	/* To the release, as the window's blackout is timed. */
	*ns = (empty_released_ns ? empty_released_ns : kapi_ktime_ns()) - t0;
	return ret;
}

extern "C" int tdx_kunit_validate_image(const void *blob, kapi_u64 size, struct tdx_kunit_image_layout *out,
					struct tdx_kunit_image_refusal *why)
{
	*out = {};
	ImageRefusal r;
	Result<ImageLayout> l = validate_image(Span<const u8>(static_cast<const u8 *>(blob), usize(size)), &r);
	if (l.is_error()) {
		report_refusal(r, why);
		return l.status().to_kernel();
	}
	out->format = l.value().format;
	out->module_pages = l.value().module_pages;
	out->size = l.value().size;
	out->sigstruct_offset = l.value().sigstruct_offset;
	out->module_offset = l.value().module_offset;
	return 0;
}

extern "C" int tdx_kunit_build_seamldr_params(const struct tdx_kunit_image_layout *layout, tdx_kunit_pfn_of_fn pfn_of,
					      const void *ctx, void *params, struct tdx_kunit_image_refusal *why)
{
	const ImageLayout l{u16(layout->format), layout->size, layout->sigstruct_offset, layout->module_offset,
			    layout->module_pages};
	ImageRefusal r;
	Status s = build_seamldr_params(l, pfn_of, ctx, static_cast<abi::SeamldrParams *>(params), &r);
	if (s.is_error())
		report_refusal(r, why);
	return s.to_kernel();
}

/* The bring-up hooks go through the state owner's lock, like every other user of the state. */
extern "C" int tdx_kunit_emu_active(void)
{
	HostLock lock;
	return host().emu_locked() != nullptr;
}

extern "C" kapi_u64 tdx_kunit_emu_leaf_calls(unsigned int leaf)
{
	HostLock lock;
	EmuBackend *emu = host().emu_locked();
	return emu ? emu->leaf_calls(u16(leaf)) : 0;
}

extern "C" int tdx_kunit_restart(void)
{
	HostLock lock;
	return host().recreate_module_locked().to_kernel();
}

extern "C" unsigned int tdx_kunit_nr_steps(void)
{
	return unsigned(TdxModule::Step::kCount);
}

extern "C" int tdx_kunit_run_step(unsigned int step)
{
	HostLock lock;
	TdxModule *m = host().module_locked();
	if (!m || step >= unsigned(TdxModule::Step::kCount))
		return -err::kEINVAL;
	kapi_cpus_read_lock();
	Status s = m->run_step(TdxModule::Step(step));
	kapi_cpus_read_unlock();
	if (s.is_ok() && step + 1 == unsigned(TdxModule::Step::kCount)) {
		m->finish();
		host().mark_ready_locked();
	}
	return s.to_kernel();
}

extern "C" unsigned int tdx_kunit_nr_tdmrs(void)
{
	HostLock lock;
	TdxModule *m = host().module_locked();
	return m ? unsigned(m->nr_tdmrs()) : 0;
}

extern "C" unsigned int tdx_kunit_nr_packages(void)
{
	unsigned n = 0;
	kapi_cpus_read_lock();
	Status s = for_each_package([&n](unsigned, unsigned) {
		n++;
		return Status::ok();
	});
	kapi_cpus_read_unlock();
	return s.is_ok() ? n : 0;
}

extern "C" int tdx_kunit_ensure_up(void)
{
	HostLock lock;
	TdxModule *m = host().module_locked();
	if (!m)
		return -err::kENODEV;
	if (m->ready())
		return 0;
	Status s = host().recreate_module_locked();
	if (s.is_ok())
		s = host().module_locked()->bring_up();
	if (s.is_ok())
		host().mark_ready_locked();
	return s.to_kernel();
}

/*
 * See kunit_hooks.h: the lock is held by the task between hold and release, not by the caller;
 * kept only when the core has what the holder needs (checked under it).
 */
namespace {
template <typename Has> int hold_if(Has has)
{
	host().lock();
	if (has())
		return 0;
	host().unlock();
	return -err::kENODEV;
}
} // namespace

extern "C" int tdx_kunit_hold(void)
{
	return hold_if([] { return host().emu_locked() != nullptr; });
}

extern "C" int tdx_kunit_hold_state(void)
{
	return hold_if([] { return host().module_locked() != nullptr; });
}

extern "C" void tdx_kunit_release(void)
{
	host().unlock();
}

extern "C" void tdx_kunit_hold_quote(void) { quote_lock.lock(); }

extern "C" void tdx_kunit_release_quote(void) { quote_lock.unlock(); }

extern "C" kapi_u64 tdx_kunit_emu_service(kapi_u64 rax, kapi_u64 rcx, kapi_u64 rdx, kapi_u64 r8)
{
	HostLock lock;
	if (EmuBackend *emu = host().emu_locked())
		return emu->service(rax, rcx, rdx, r8);
	/* A core without the emulator backend runs on the hw one: the SEAMCALL trap carries it. */
	kapi_u64 status;
	if (host().module_locked() && kapi_hw_trap_emu_service(rax, rcx, rdx, r8, &status) == 0)
		return status;
	return abi::kTdxSeamcallVmFailInvalid;
}

extern "C" int tdx_kunit_sys_rd(kapi_u64 field_id, kapi_u64 *value)
{
	EmuBackend *emu = host().emu_locked();
	if (!emu)
		return -err::kENODEV;
	Seamcall sc(*emu);
	Result<u64> v = sys_rd(sc, field_id);
	if (v.is_error())
		return v.status().to_kernel();
	*value = v.value();
	return 0;
}
