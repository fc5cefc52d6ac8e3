/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDX module bring-up and teardown, in the order Linux uses:
 * SYS.INIT -> LP.INIT on every online CPU -> read metadata -> build TDMRs and PAMTs from System
 * RAM -> SYS.CONFIG (v1 with the add-on features when there are any) -> KEY.CONFIG once per
 * package -> TDMR.INIT of every TDMR to completion -> extensions (TDX_FEATURES0.EXT only: the
 * memory pool with EXT.MEM.ADD, then EXT.INIT when EXT_REQUIRED) -> quoting (QUOTE enabled as an
 * add-on only: QUOTE.INIT, MAX_QUOTE_SIZE, the quote buffer; a failure there disables quoting,
 * not TDX).
 * A failure at any step after SYS.INIT disables the module (SYS.DISABLE), flushes caches and frees
 * everything; teardown on unload does the same.
 */
#pragma once

#include <kapi/kapi.h>
#include <kstd/new.h>

#include "ext.h"
#include "metadata.h"
#include "pages.h"
#include "quote.h"
#include "tdmr.h"
#include "update.h"

namespace tdx {

/*
 * Calls fn(cpu, package) -> Status for the first online CPU of each package, in CPU order, and
 * stops at the first error; -ERANGE for a package id past 255.
 */
template <class Fn> Status for_each_package(Fn fn)
{
	u64 seen[4] = {}; /* packages visited, as a bitmap of up to 256 */
	for (unsigned cpu = 0; cpu < kapi_nr_cpu_ids(); cpu++) {
		if (!kapi_cpu_online(cpu))
			continue;
		unsigned pkg = kapi_cpu_package(cpu);
		if (pkg >= 256)
			return error(err::kERANGE);
		if (seen[pkg / 64] & (1ull << (pkg % 64)))
			continue;
		seen[pkg / 64] |= 1ull << (pkg % 64);
		TRY(fn(cpu, pkg));
	}
	return Status::ok();
}

/*
 * How the PAMTs of a TDMR layout are allocated, tried in this order: each PAMT block is one
 * reserved area in every TDMR it falls in, so fewer, larger blocks spare the module's
 * MAX_RESERVED_PER_TDMR; smaller ones are easier to find (a PAMT of one level of a 1 GiB TDMR is
 * a buddy allocation).
 */
enum class PamtShape : u8 {
	kOneBlock, /* every PAMT of every TDMR in one run */
	kPerTdmr,  /* one run per TDMR, its 4K, 2M and 1G PAMTs in a row (as Linux does) */
	kPerLevel, /* one run per TDMR and page level */
};

struct TdmrTable {
	TdmrDesc tdmrs[kMaxTdmrs];
	usize count = 0;
	/* The runs holding the PAMTs the TDMRs point into (pamt_base), as the shape cut them. */
	PageRun pamt[kMaxTdmrs * abi::kNumPageLevels];
	usize nr_pamt = 0;
	MemList memlist;
};

class TdxModule {
public:
	explicit TdxModule(Seamcall &sc) : sc_(sc), quote_(sc) {}
	~TdxModule() { teardown(); }
	TdxModule(const TdxModule &) = delete;
	TdxModule &operator=(const TdxModule &) = delete;

	/* The bring-up steps, in order (KUnit runs them one at a time). */
	enum class Step : u8 {
		kSysInit,
		kLpInitAll,
		kReadMetadata,
		kConstructTdmrs,
		kSysConfig,
		kKeyConfigAll,
		kTdmrInitAll,
		kExtensions,
		kQuote,
		kCount,
	};
	/* One step; the caller holds kapi_cpus_read_lock(). */
	Status run_step(Step step);
	/* After the last step: TDX is ready; logs the version and the PAMT size. */
	void finish();

	Status bring_up();
	/* SYS.DISABLE, cache flush, free; safe to call in any state, and more than once. */
	void teardown();
	/*
	 * CPU hotplug, on the CPU coming online after bring-up: LP.INIT if this logical CPU never had
	 * it (the TDX module keeps an LP initialized across offline/online, as Linux assumes).
	 */
	Status cpu_online(unsigned cpu);
	bool lp_initialized(unsigned cpu) const
	{
		return cpu < kMaxCpus && (__atomic_load_n(&lp_done_[cpu / 64], __ATOMIC_ACQUIRE) >> (cpu % 64)) & 1;
	}

	bool ready() const { return ready_; }
	const TdxSysInfo &sys_info() const { return info_; }
	u64 pamt_bytes() const;
	usize nr_tdmrs() const { return table_ ? table_->count : 0; }
	/*
	 * The add-on features SYS.CONFIG enabled (0: v0, none). A runtime update must enable exactly
	 * these again (SYS.UPDATE v1), so they stay here while the module runs.
	 */
	u64 addons() const { return addons_; }
	/* The TDX private KeyIDs SYS.CONFIG was given, and the global KeyID it took of them. */
	struct KeyIds {
		u32 start = 0, nr = 0, global = 0;
	};
	const KeyIds &keyids() const { return keyids_; }
	/* Pages of the extension memory pool the TDX module owns (0 without extensions). */
	u64 ext_pool_pages() const { return ext_pool_.pages_given(); }
	/* TDH.EXT.INIT completed (EXT_REQUIRED was set). */
	bool ext_initialized() const { return ext_initialized_; }
	const TdmrTable *tdmr_table() const { return table_.get(); }
	/* The quoting extension (its own lock: quote.h). */
	Quoting &quoting() { return quote_; }

	/*
	 * Runtime update (update.h): this CPU's share of step s of the window, `lead` on the CPU that
	 * runs the one-CPU steps. Runs with interrupts off inside stop_machine: nothing is allocated
	 * or logged. 0 or -errno (-EBUSY: SYS.SHUTDOWN refused for a TD build in progress), and the
	 * failed call's status in *status.
	 */
	int update_step(UpdateStep s, bool lead, const UpdatePlan &plan, u64 *status);
	/* After the window: what the steps recorded is logged and settled (quoting, the version). */
	void update_finish();
	/*
	 * A failed update past SYS.SHUTDOWN: no TDX module is left. Nothing can disable it, so
	 * teardown keeps (and logs) every page it was given.
	 */
	void mark_gone()
	{
		gone_ = true;
		ready_ = false;
	}
	bool gone() const { return gone_; }

	/* The steps, public so tests can drive them one by one. */
	Status tdh_sys_init();
	Status read_metadata();
	Status tdh_sys_lp_init_all();
	Status construct_tdmrs();
	Status tdh_sys_config();
	Status tdh_sys_key_config_all();
	Status tdh_sys_tdmr_init_all();
	Status init_extensions();
	/* Always succeeds: a quoting failure only disables quoting (Quoting::start). */
	Status init_quoting();

	static constexpr unsigned kMaxCpus = 8192; /* x86 NR_CPUS limit */

private:
	void set_lp_initialized(unsigned cpu)
	{
		if (cpu < kMaxCpus)
			__atomic_fetch_or(&lp_done_[cpu / 64], 1ull << (cpu % 64), __ATOMIC_RELEASE);
	}
	Status check_features() const;
	Status try_tdmr_layout(u64 max_span);
	Status alloc_pamts(PamtShape shape);
	void free_pamts();
	Status tdh_sys_disable();
	Status tdh_ext_mem_add_pool(u64 nr_pages);
	Status tdh_ext_mem_add(const PageRun &list, u64 info);
	Status tdh_ext_init();

	Seamcall &sc_;
	TdxSysInfo info_;
	Box<TdmrTable> table_;
	bool started_ = false; /* SYS.INIT succeeded: the module holds state to disable */
	u64 lp_done_[kMaxCpus / 64] = {}; /* CPUs whose LP.INIT succeeded */
	bool ready_ = false;
	u64 addons_ = 0;
	KeyIds keyids_;
	ExtPool ext_pool_;
	bool ext_initialized_ = false;
	bool gone_ = false;
	/* What the update window read of the new module, settled by update_finish(). */
	TdxSysInfo updated_info_;
	Quoting quote_;
};

} // namespace tdx
