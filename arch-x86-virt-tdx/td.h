/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TD management for the modules that import tdx_host's TDX_HOST namespace (include/tdx/host_api.h):
 * thin wrappers over the TD-management SEAMCALLs in the manner of Linux's tdh_* exports, the
 * allocator of the TDX private KeyIDs TDs get, and the gate that keeps those calls away from a
 * TDX module that is not (or no longer) up.
 *
 * The wrappers return the TDX completion status as it is: 0, the module's status, or a software
 * status (class 0xFF) when no call could be made. They may run on several CPUs at once (KVM, the
 * test build's TD harness with several TDs in parallel): nothing here takes the state lock.
 */
#pragma once

#include <kstd/status.h>

#include "seamcall.h"

namespace tdx {

namespace leaves {
inline constexpr Leaf kMngAddcx{abi::leaf::kMngAddcx};
inline constexpr Leaf kMngKeyConfig{abi::leaf::kMngKeyConfig};
inline constexpr Leaf kMngCreate{abi::leaf::kMngCreate};
inline constexpr Leaf kMrExtend{abi::leaf::kMrExtend};
inline constexpr Leaf kMrFinalize{abi::leaf::kMrFinalize};
inline constexpr Leaf kMngKeyFreeid{abi::leaf::kMngKeyFreeid};
inline constexpr Leaf kMngInit{abi::leaf::kMngInit};
inline constexpr Leaf kPhymemPageReclaim{abi::leaf::kPhymemPageReclaim};
} // namespace leaves

/*
 * How many times a TD-management call is re-issued while the module answers TDX_OPERAND_BUSY or
 * TDX_SYS_BUSY (another CPU holds the object or the global lock for the length of one SEAMCALL).
 */
inline constexpr u32 kTdBusyRetries = 256;
/* TDH.PHYMEM.CACHE.WB resumptions on one package before giving up. */
inline constexpr u32 kCacheWbMaxCalls = 1u << 20;

/*
 * The guest KeyIDs: the TDX private KeyIDs [start, start + nr) but the global one. A bitmap
 * changed with atomic operations only, so alloc and free need no lock and work in any context.
 */
class GuestKeyIds {
public:
	constexpr GuestKeyIds() = default;
	GuestKeyIds(const GuestKeyIds &) = delete;
	GuestKeyIds &operator=(const GuestKeyIds &) = delete;

	/* Every KeyID of the range free but global; not concurrent with alloc() or free(). */
	void reset(u32 start, u32 nr, u32 global);
	/* The lowest free KeyID, now taken; -ENOSPC when none is left. */
	Result<u32> alloc();
	/* Gives keyid back; false (and nothing changes) when it was not allocated. */
	bool free(u32 keyid);
	bool allocated(u32 keyid) const;

private:
	static constexpr u32 kWords = (kMaxKeyId + 1) / 64;
	bool index_of(u32 keyid, u32 &index) const;

	u64 taken_[kWords] = {}; /* bit i: KeyID start_ + i is taken (or never a guest KeyID) */
	u32 start_ = 0, nr_ = 0, global_ = 0;
};

/*
 * Whether TD-management calls may reach the TDX module: open while it is up. enter() is one
 * atomic operation (the cheap check every wrapper makes); close() refuses new callers and waits
 * for those inside, whose calls are bounded by the transport's timeout.
 */
class UseGate {
public:
	constexpr UseGate() = default;
	UseGate(const UseGate &) = delete;
	UseGate &operator=(const UseGate &) = delete;

	[[nodiscard]] bool enter();
	void leave();
	void open();
	void close();
	bool is_open() const { return __atomic_load_n(&state_, __ATOMIC_ACQUIRE) & kOpen; }
	u64 users() const { return __atomic_load_n(&state_, __ATOMIC_ACQUIRE) & ~kOpen; }

private:
	static constexpr u64 kOpen = 1ull << 63;
	u64 state_ = 0; /* kOpen | number of callers inside */
};

/* A scope inside a UseGate: check it with explicit operator bool. */
class [[nodiscard]] GateUse {
public:
	explicit GateUse(UseGate &g) : gate_(g), in_(g.enter()) {}
	~GateUse()
	{
		if (in_)
			gate_.leave();
	}
	GateUse(const GateUse &) = delete;
	GateUse &operator=(const GateUse &) = delete;
	explicit operator bool() const { return in_; }

private:
	UseGate &gate_;
	bool in_;
};

/*
 * One call re-issued while the module answers TDX_OPERAND_BUSY or TDX_SYS_BUSY (with the inputs
 * it was given), at most kTdBusyRetries times; TDX_RND_NO_ENTROPY is Seamcall's to retry.
 */
TdxStatus call_retry_busy(Seamcall &sc, Leaf leaf, RegBlock &regs);

class TdManager {
public:
	constexpr TdManager() = default;
	TdManager(const TdManager &) = delete;
	TdManager &operator=(const TdManager &) = delete;

	/*
	 * TDX is up: calls go through sc, and the KeyIDs [keyid_start, + nr_keyids) but the global
	 * one are free for TDs. Called by the state owner (TdxHost) under its lock, gate closed.
	 */
	void start(Seamcall &sc, u32 keyid_start, u32 nr_keyids, u32 global_keyid);
	/* TDX goes down: no new call gets in, and the calls inside have left when this returns. */
	void stop();
	bool up() const { return gate_.is_open(); }

	/* -ENODEV when TDX is not up, -ENOSPC when every guest KeyID is taken. */
	Result<u32> guest_keyid_alloc();
	/* Ignored while TDX is down (every KeyID went with it); warns for one not allocated. */
	void guest_keyid_free(u32 keyid);

	TdxStatus mng_create(u64 tdr_pa, u16 hkid);
	TdxStatus mng_addcx(u64 tdr_pa, u64 tdcs_pa);
	/* On the first online CPU of each package; TDX_KEY_CONFIGURED there counts as done. */
	TdxStatus mng_key_config_all(u64 tdr_pa);
	TdxStatus mng_init(u64 tdr_pa, u64 td_params_pa);
	TdxStatus mr_extend(u64 tdr_pa, u64 gpa);
	TdxStatus mr_finalize(u64 tdr_pa);
	TdxStatus mng_key_freeid(u64 tdr_pa);
	/* On the first online CPU of each package, resumed until done (nothing to flush is done). */
	TdxStatus phymem_cache_wb_all();
	TdxStatus phymem_page_reclaim(u64 pa);

	/* What runs on one CPU of each package for the *_all calls. */
	using PackageOp = TdxStatus (*)(Seamcall &sc, u64 arg);

private:
	/* One call through the gate: TDX_SEAMCALL_VMFAILINVALID when TDX is down or the transport dead. */
	TdxStatus call(Leaf leaf, RegBlock &regs);
	/*
	 * op(sc, arg) on the first online CPU of each package (kapi_run_on_cpu: interrupts off),
	 * through the gate, in CPU order; stops at and returns the first failure.
	 */
	TdxStatus on_each_package(Leaf leaf, PackageOp op, u64 arg);

	UseGate gate_;
	Seamcall *sc_ = nullptr;
	GuestKeyIds keyids_;
};

/* The one TdManager of the module (the exported interface's). */
TdManager &td_manager();

} // namespace tdx
