/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SEAMCALL layer: leaf + version encoding, the register block, the completion status and its
 * one mapping to errno, retry of TDX_RND_NO_ENTROPY, and re-issue of resumable calls. The
 * transport is a SeamcallBackend: the real instruction or the emulator's mailbox.
 */
#pragma once

#include <kstd/status.h>
#include <kstd/types.h>
#include <tdx/abi/seamcall.h>
#include <tdx/abi/status.h>

namespace tdx {

using namespace kstd;
using abi::RegBlock;

/* A leaf number and version, encoded into RAX as ABI.md §1 says. */
class Leaf {
public:
	constexpr explicit Leaf(u16 number, u8 version = 0) : rax_(abi::leaf_rax(number, version)) {}
	static constexpr Leaf seamldr(u64 rax) { return Leaf(rax, RawTag{}); }
	constexpr u64 rax() const { return rax_; }
	constexpr u16 number() const { return u16(rax_ & abi::kLeafNumberMask); }
	constexpr u8 version() const { return u8((rax_ >> abi::kLeafVersionShift) & abi::kLeafVersionMask); }
	constexpr bool is_seamldr() const { return rax_ & abi::kSeamldrLeafBit; }
	constexpr bool operator==(const Leaf &) const = default;

private:
	struct RawTag {};
	constexpr Leaf(u64 rax, RawTag) : rax_(rax) {}
	u64 rax_;
};

namespace leaves {
inline constexpr Leaf kSysKeyConfig{abi::leaf::kSysKeyConfig};
inline constexpr Leaf kSysInit{abi::leaf::kSysInit};
inline constexpr Leaf kSysRd{abi::leaf::kSysRd};
inline constexpr Leaf kSysLpInit{abi::leaf::kSysLpInit};
inline constexpr Leaf kSysTdmrInit{abi::leaf::kSysTdmrInit};
inline constexpr Leaf kSysRdAll{abi::leaf::kSysRdAll};
inline constexpr Leaf kPhymemCacheWb{abi::leaf::kPhymemCacheWb};
inline constexpr Leaf kSysConfig{abi::leaf::kSysConfig};
inline constexpr Leaf kSysConfigV1{abi::leaf::kSysConfig, 1};
inline constexpr Leaf kSysDisable{abi::leaf::kSysDisable};
} // namespace leaves
static_assert(leaves::kSysConfigV1.rax() == 0x1002D);

/*
 * Project-defined software statuses (class 0xFF, like the fault statuses), never produced by a
 * TDX module. kTdxSeamcallTimeout: the emulator did not answer within seamcall_timeout_ms, or its
 * heartbeat stopped (it was killed). kTdxSeamcallEmuGone: the emulator stopped (orderly exit) or
 * was replaced by another one (a new epoch) since the backend was set up.
 */
inline constexpr u64 kTdxSeamcallTimeout = 0x8000FF00FFFE0000ull;
inline constexpr u64 kTdxSeamcallEmuGone = 0x8000FF00FFFD0000ull;

/*
 * TDX private KeyIDs as the platform reports them (IA32_MKTME_KEYID_PARTITIONING, or the
 * emulator's header): KeyID 0 is the host's own key and never a TDX KeyID, the range must fit the
 * 16-bit HKID space, and bring-up needs the global KeyID plus at least one for TDs. -ENODEV
 * (logged) otherwise.
 */
inline constexpr u64 kMaxKeyId = 0xFFFF;
Status check_tdx_keyids(u32 start, u32 nr);

/* A completion status as the module (or the SEAMCALL path) returned it. */
class TdxStatus {
public:
	constexpr TdxStatus() = default;
	constexpr explicit TdxStatus(u64 raw) : raw_(raw) {}
	constexpr u64 raw() const { return raw_; }
	/* The status without its operand id / details: what names the status. */
	constexpr u64 code() const { return raw_ & abi::kStatusCodeMask; }
	constexpr bool is_success() const { return raw_ == abi::status::kSuccess; }
	constexpr bool is_error() const { return raw_ & abi::kStatusErrorBit; }
	constexpr bool is(u64 status_code) const { return code() == (status_code & abi::kStatusCodeMask); }
	constexpr u32 operand() const { return u32(raw_ & abi::kStatusOperandMask); }
	constexpr u8 status_class() const { return u8(raw_ >> abi::kStatusClassShift); }
	constexpr bool is_software() const { return status_class() == abi::kStatusSwErrorClass && is_error(); }
	constexpr bool is_non_recoverable() const { return raw_ & abi::kStatusNonRecoverableBit; }
	constexpr bool operator==(const TdxStatus &) const = default;

private:
	u64 raw_ = 0;
};

/* The one place a TDX status becomes an errno (as Linux maps them, plus the timeout). */
Status status_to_errno(TdxStatus s);

/* A short name for a status, for logs ("TDX_SYS_BUSY"); "unknown" when not in ABI.md's table. */
const char *status_name(TdxStatus s);

/* A transport for SEAMCALL. Implementations must work with interrupts off. */
class SeamcallBackend {
public:
	/*
	 * One SEAMCALL: regs in, regs out. When it returns TDX_RND_NO_ENTROPY (the module found no
	 * entropy and did nothing) regs still hold the inputs, so Seamcall re-issues them as they are.
	 */
	virtual u64 call(u64 rax, RegBlock &regs) = 0;
	/* TDX private KeyID range (emulated or from the MSR). */
	virtual Status tdx_keyids(u32 &start, u32 &nr) = 0;
	virtual const char *name() const = 0;
	/*
	 * The transport failed (a call timed out, the emulator died or stopped): every later call
	 * fails at once, and the other side may still write the pages a failed call referenced, so
	 * the caller must never give those back to the kernel (PageRun::abandon_to_module()).
	 */
	virtual bool dead() const { return false; }
	/* The platform's CPUID.1.EAX, which a runtime update's image must support. */
	virtual u32 cpu_signature() { return 0; }
	/*
	 * The CPU has the SEAMRET-invalidates-VMCS erratum: P-SEAMLDR calls would corrupt the
	 * current VMCS, so runtime update is not offered.
	 */
	virtual bool seamret_invalidates_vmcs() { return false; }

protected:
	~SeamcallBackend() = default;
};

/* The SEAMCALL front door the rest of the core uses. */
class Seamcall {
public:
	explicit Seamcall(SeamcallBackend &backend) : backend_(backend) {}

	/* One call; retries TDX_RND_NO_ENTROPY. Never sleeps: usable with interrupts off. */
	TdxStatus call(Leaf leaf, RegBlock &regs);

	/*
	 * A resumable operation: re-issues the call, with the registers the module updated, while it
	 * answers TDX_INTERRUPTED_RESUMABLE (and TDX_SYS_BUSY when retry_busy), rescheduling
	 * between calls when the caller may sleep. Gives up after max_calls.
	 */
	TdxStatus call_resumable(Leaf leaf, RegBlock &regs, bool retry_busy = false,
				 u32 max_calls = 1u << 20);

	/* call() that logs a failure with the leaf's number and turns it into an errno. */
	Status call_errno(Leaf leaf, RegBlock &regs);

	SeamcallBackend &backend() { return backend_; }
	/* See SeamcallBackend::dead(). */
	bool dead() const { return backend_.dead(); }

private:
	SeamcallBackend &backend_;
};

/* The leaf's spec name from the leaf table ("TDH.SYS.CONFIG"), "P-SEAMLDR" for its leaves. */
const char *leaf_name(Leaf leaf);

/* Logs "TDH.SYS.KEY.CONFIG failed: TDX_OPERAND_INVALID (0x...)" ("v1" after a versioned leaf). */
void log_seamcall_failure(Leaf leaf, TdxStatus s);

} // namespace tdx
