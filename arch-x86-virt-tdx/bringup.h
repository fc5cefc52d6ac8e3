/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TDX module bring-up and teardown, in the order Linux uses:
 * SYS.INIT -> LP.INIT on every online CPU -> read metadata -> build TDMRs and PAMTs from System
 * RAM -> SYS.CONFIG -> KEY.CONFIG once per package -> TDMR.INIT of every TDMR to completion.
 * A failure at any step after SYS.INIT disables the module (SYS.DISABLE), flushes caches and frees
 * everything; teardown on unload does the same.
 */
#pragma once

#include <kapi/kapi.h>
#include <kstd/new.h>

#include "metadata.h"
#include "pages.h"
#include "tdmr.h"

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

struct TdmrTable {
	TdmrDesc tdmrs[kMaxTdmrs];
	PageRun pamt[kMaxTdmrs][abi::kNumPageLevels];
	usize count = 0;
	MemList memlist;
};

class TdxModule {
public:
	explicit TdxModule(Seamcall &sc) : sc_(sc) {}
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
		kCount,
	};
	/* One step; the caller holds kapi_cpus_read_lock(). */
	Status run_step(Step step);
	/* After the last step: TDX is ready; logs the version and the PAMT size. */
	void finish();

	Status bring_up();
	/* SYS.DISABLE, cache flush, free; safe to call in any state, and more than once. */
	void teardown();

	bool ready() const { return ready_; }
	const TdxSysInfo &sys_info() const { return info_; }
	u64 pamt_bytes() const;
	usize nr_tdmrs() const { return table_ ? table_->count : 0; }

	/* The steps, public so tests can drive them one by one. */
	Status tdh_sys_init();
	Status read_metadata();
	Status tdh_sys_lp_init_all();
	Status construct_tdmrs();
	Status tdh_sys_config();
	Status tdh_sys_key_config_all();
	Status tdh_sys_tdmr_init_all();

private:
	Status check_features() const;
	Status alloc_pamts();
	Status tdh_sys_disable();

	Seamcall &sc_;
	TdxSysInfo info_;
	Box<TdmrTable> table_;
	bool started_ = false; /* SYS.INIT succeeded: the module holds state to disable */
	bool ready_ = false;
};

} // namespace tdx
