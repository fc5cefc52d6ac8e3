// SPDX-License-Identifier: GPL-2.0
/*
 * TD management for importing modules (td.h): the guest KeyID allocator, the gate, the wrappers
 * over the TD-management SEAMCALLs and their C entry points (include/kapi/kapi.h, "TD management").
 */
#include "td.h"

#include <kapi/kapi.h>
#include <kstd/bits.h>

#include "bringup.h"

namespace tdx {

namespace st = abi::status;

namespace {

/* Constant-initialized (constexpr constructor): no global constructor runs. */
TdManager g_td_manager;

constexpr TdxStatus kNoCall{abi::kTdxSeamcallVmFailInvalid};

bool td_busy(TdxStatus s) { return s.is(st::kOperandBusy) || s.is(st::kSysBusy); }

/* What a package's CPU runs (kapi_run_on_cpu, interrupts off). */
struct PackageCall {
	Seamcall *sc;
	TdManager::PackageOp op;
	u64 arg;
	TdxStatus status;
};

int package_call_on_this_cpu(void *ctx)
{
	auto *c = static_cast<PackageCall *>(ctx);
	c->status = c->op(*c->sc, c->arg);
	return 0;
}

/* The TD's private key on this package; a key configured already (by another CPU) is done. */
TdxStatus mng_key_config_this_package(Seamcall &sc, u64 tdr_pa)
{
	RegBlock r{};
	r.rcx = tdr_pa;
	TdxStatus s = call_retry_busy(sc, leaves::kMngKeyConfig, r);
	return s.is(st::kKeyConfigured) ? TdxStatus() : s;
}

/*
 * Writes back this package's caches for the KeyIDs of torn-down TDs: a start, then resumes while
 * the module was interrupted (rcx says which; the module does not rewrite it). Nothing to flush
 * (TDX_NO_HKID_READY_TO_WBCACHE, not an error) is done.
 */
TdxStatus phymem_cache_wb_this_package(Seamcall &sc, u64)
{
	TdxStatus s;
	u64 cmd = abi::kCacheWbStart;
	for (u32 n = 0; n < kCacheWbMaxCalls; n++) {
		RegBlock r{};
		r.rcx = cmd;
		s = call_retry_busy(sc, leaves::kPhymemCacheWb, r);
		if (!s.is(st::kInterruptedResumable))
			break;
		cmd = abi::kCacheWbResume;
	}
	return s.is(st::kNoHkidReadyToWbcache) ? TdxStatus() : s;
}

} // namespace

TdManager &td_manager() { return g_td_manager; }

/* ---- GuestKeyIds ---- */

void GuestKeyIds::reset(u32 start, u32 nr, u32 global)
{
	start_ = start;
	nr_ = min(nr, kWords * 64);
	global_ = global;
	for (u32 w = 0; w < kWords; w++) {
		u32 first = w * 64;
		u64 v = first >= nr_ ? ~0ull : first + 64 > nr_ ? ~0ull << (nr_ - first) : 0;
		__atomic_store_n(&taken_[w], v, __ATOMIC_RELAXED);
	}
	if (global >= start && global - start < nr_) {
		u32 i = global - start;
		__atomic_fetch_or(&taken_[i / 64], 1ull << (i % 64), __ATOMIC_RELAXED);
	}
}

bool GuestKeyIds::index_of(u32 keyid, u32 &index) const
{
	if (keyid < start_ || keyid - start_ >= nr_ || keyid == global_)
		return false;
	index = keyid - start_;
	return true;
}

Result<u32> GuestKeyIds::alloc()
{
	for (u32 w = 0; w < div_round_up(nr_, 64); w++) {
		u64 v = __atomic_load_n(&taken_[w], __ATOMIC_RELAXED);
		while (v != ~0ull) {
			u32 bit = __builtin_ctzll(~v);
			if (__atomic_compare_exchange_n(&taken_[w], &v, v | (1ull << bit), true, __ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED))
				return start_ + w * 64 + bit;
		}
	}
	return error(err::kENOSPC);
}

bool GuestKeyIds::free(u32 keyid)
{
	u32 i;
	if (!index_of(keyid, i))
		return false;
	u64 mask = 1ull << (i % 64);
	return __atomic_fetch_and(&taken_[i / 64], ~mask, __ATOMIC_ACQ_REL) & mask;
}

bool GuestKeyIds::allocated(u32 keyid) const
{
	u32 i;
	return index_of(keyid, i) && (__atomic_load_n(&taken_[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

/* ---- UseGate ---- */

bool UseGate::enter()
{
	u64 v = __atomic_load_n(&state_, __ATOMIC_RELAXED);
	do {
		if (!(v & kOpen))
			return false;
	} while (!__atomic_compare_exchange_n(&state_, &v, v + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

void UseGate::leave() { __atomic_fetch_sub(&state_, 1, __ATOMIC_RELEASE); }

void UseGate::open() { __atomic_fetch_or(&state_, kOpen, __ATOMIC_RELEASE); }

/* The callers inside are in one SEAMCALL each (bounded by the transport's timeout) or a few. */
void UseGate::close()
{
	__atomic_fetch_and(&state_, ~kOpen, __ATOMIC_ACQ_REL);
	while (users()) {
		__builtin_ia32_pause();
		kapi_cond_resched_if_may_sleep();
	}
}

/* ---- the calls ---- */

TdxStatus call_retry_busy(Seamcall &sc, Leaf leaf, RegBlock &regs)
{
	const RegBlock in = regs;
	TdxStatus s = sc.call(leaf, regs);
	for (u32 i = 0; i < kTdBusyRetries && td_busy(s); i++) {
		kapi_cond_resched_if_may_sleep();
		regs = in;
		s = sc.call(leaf, regs);
	}
	return s;
}

void TdManager::start(Seamcall &sc, u32 keyid_start, u32 nr_keyids, u32 global_keyid)
{
	gate_.close();
	sc_ = &sc;
	keyids_.reset(keyid_start, nr_keyids, global_keyid);
	gate_.open(); /* release: a caller that gets in sees sc_ and the KeyIDs */
}

void TdManager::stop()
{
	gate_.close();
	sc_ = nullptr;
}

Result<u32> TdManager::guest_keyid_alloc()
{
	GateUse use(gate_);
	if (!use)
		return error(err::kENODEV);
	return keyids_.alloc();
}

void TdManager::guest_keyid_free(u32 keyid)
{
	GateUse use(gate_);
	if (use && !keyids_.free(keyid))
		kapi_log(KAPI_LOG_WARN, "guest KeyID %u freed but not allocated: ignored\n", keyid);
}

TdxStatus TdManager::call(Leaf leaf, RegBlock &regs)
{
	GateUse use(gate_);
	if (!use || sc_->dead())
		return kNoCall;
	return call_retry_busy(*sc_, leaf, regs);
}

TdxStatus TdManager::on_each_package(Leaf leaf, PackageOp op, u64 arg)
{
	GateUse use(gate_);
	if (!use || sc_->dead())
		return kNoCall;
	TdxStatus first;
	Status s = for_each_package([&](unsigned cpu, unsigned pkg) -> Status {
		PackageCall c{sc_, op, arg, TdxStatus()};
		Status ran = Status::from_kernel(kapi_run_on_cpu(cpu, package_call_on_this_cpu, &c));
		if (ran.is_error()) {
			kapi_log(KAPI_LOG_ERR, "%s: could not run on CPU %u of package %u (%d)\n", leaf_name(leaf), cpu,
				 pkg, ran.to_kernel());
			return ran;
		}
		if (!c.status.is_success()) {
			kapi_log(KAPI_LOG_ERR, "%s on package %u (CPU %u) failed\n", leaf_name(leaf), pkg, cpu);
			log_seamcall_failure(leaf, c.status);
			first = c.status;
			return status_to_errno(c.status);
		}
		return Status::ok();
	});
	/* No call could be made on some package (no CPU to run on): a software error. */
	if (s.is_error() && first.is_success())
		return TdxStatus(abi::kTdxSwError);
	return first;
}

TdxStatus TdManager::mng_create(u64 tdr_pa, u16 hkid)
{
	RegBlock r{};
	r.rcx = tdr_pa;
	r.rdx = hkid;
	return call(leaves::kMngCreate, r);
}

TdxStatus TdManager::mng_addcx(u64 tdr_pa, u64 tdcs_pa)
{
	RegBlock r{};
	r.rcx = tdcs_pa;
	r.rdx = tdr_pa;
	return call(leaves::kMngAddcx, r);
}

TdxStatus TdManager::mng_key_config_all(u64 tdr_pa)
{
	return on_each_package(leaves::kMngKeyConfig, mng_key_config_this_package, tdr_pa);
}

TdxStatus TdManager::mng_init(u64 tdr_pa, u64 td_params_pa)
{
	RegBlock r{};
	r.rcx = tdr_pa;
	r.rdx = td_params_pa;
	return call(leaves::kMngInit, r);
}

TdxStatus TdManager::mr_extend(u64 tdr_pa, u64 gpa)
{
	RegBlock r{};
	r.rcx = gpa;
	r.rdx = tdr_pa;
	return call(leaves::kMrExtend, r);
}

TdxStatus TdManager::mr_finalize(u64 tdr_pa)
{
	RegBlock r{};
	r.rcx = tdr_pa;
	return call(leaves::kMrFinalize, r);
}

TdxStatus TdManager::mng_key_freeid(u64 tdr_pa)
{
	RegBlock r{};
	r.rcx = tdr_pa;
	return call(leaves::kMngKeyFreeid, r);
}

TdxStatus TdManager::phymem_cache_wb_all()
{
	return on_each_package(leaves::kPhymemCacheWb, phymem_cache_wb_this_package, 0);
}

TdxStatus TdManager::phymem_page_reclaim(u64 pa)
{
	RegBlock r{};
	r.rcx = pa;
	return call(leaves::kPhymemPageReclaim, r);
}

} // namespace tdx

/* ---- C entry points (include/kapi/kapi.h, "TD management") ---- */

extern "C" int tdx_core_guest_keyid_alloc(void)
{
	kstd::Result<kstd::u32> k = tdx::td_manager().guest_keyid_alloc();
	return k.is_ok() ? int(k.value()) : k.status().to_kernel();
}

extern "C" void tdx_core_guest_keyid_free(unsigned int keyid)
{
	tdx::td_manager().guest_keyid_free(keyid);
}

extern "C" kapi_u64 tdx_core_mng_create(kapi_u64 tdr_pa, unsigned short hkid)
{
	return tdx::td_manager().mng_create(tdr_pa, hkid).raw();
}

extern "C" kapi_u64 tdx_core_mng_addcx(kapi_u64 tdr_pa, kapi_u64 tdcs_pa)
{
	return tdx::td_manager().mng_addcx(tdr_pa, tdcs_pa).raw();
}

extern "C" kapi_u64 tdx_core_mng_key_config_all(kapi_u64 tdr_pa)
{
	return tdx::td_manager().mng_key_config_all(tdr_pa).raw();
}

extern "C" kapi_u64 tdx_core_mng_init(kapi_u64 tdr_pa, kapi_u64 td_params_pa)
{
	return tdx::td_manager().mng_init(tdr_pa, td_params_pa).raw();
}

extern "C" kapi_u64 tdx_core_mr_extend(kapi_u64 tdr_pa, kapi_u64 gpa)
{
	return tdx::td_manager().mr_extend(tdr_pa, gpa).raw();
}

extern "C" kapi_u64 tdx_core_mr_finalize(kapi_u64 tdr_pa)
{
	return tdx::td_manager().mr_finalize(tdr_pa).raw();
}

extern "C" kapi_u64 tdx_core_mng_key_freeid(kapi_u64 tdr_pa)
{
	return tdx::td_manager().mng_key_freeid(tdr_pa).raw();
}

extern "C" kapi_u64 tdx_core_phymem_cache_wb_all(void)
{
	return tdx::td_manager().phymem_cache_wb_all().raw();
}

extern "C" kapi_u64 tdx_core_phymem_page_reclaim(kapi_u64 pa)
{
	return tdx::td_manager().phymem_page_reclaim(pa).raw();
}
