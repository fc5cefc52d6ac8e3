// SPDX-License-Identifier: GPL-2.0
#include "seamcall.h"

#include <kapi/kapi.h>
#include <tdx/abi/leaves.h>

namespace tdx {

namespace st = abi::status;

Status status_to_errno(TdxStatus s)
{
	if (s.is_success())
		return Status::ok();
	switch (s.raw()) {
	case abi::kTdxSeamcallVmFailInvalid:
		return error(err::kENODEV);
	case abi::kTdxSeamcallGp:
		return error(err::kEOPNOTSUPP);
	case abi::kTdxSeamcallUd:
		return error(err::kEACCES);
	case kTdxSeamcallTimeout:
		return error(err::kETIMEDOUT);
	case kTdxSeamcallEmuGone:
		return error(err::kENODEV);
	default:
		return error(err::kEIO);
	}
}

namespace {
struct StatusName {
	u64 code;
	const char *name;
};

constexpr StatusName kStatusNames[] = {
	{st::kSuccess, "TDX_SUCCESS"},
	{st::kInterruptedResumable, "TDX_INTERRUPTED_RESUMABLE"},
	{st::kInterruptedRestartable, "TDX_INTERRUPTED_RESTARTABLE"},
	{st::kOperandInvalid, "TDX_OPERAND_INVALID"},
	{st::kOperandAddrRangeError, "TDX_OPERAND_ADDR_RANGE_ERROR"},
	{st::kOperandBusy, "TDX_OPERAND_BUSY"},
	{st::kSysBusy, "TDX_SYS_BUSY"},
	{st::kRndNoEntropy, "TDX_RND_NO_ENTROPY"},
	{st::kSysInitNotPending, "TDX_SYS_INIT_NOT_PENDING"},
	{st::kSysLpInitNotDone, "TDX_SYS_LP_INIT_NOT_DONE"},
	{st::kSysLpInitDone, "TDX_SYS_LP_INIT_DONE"},
	{st::kSysLpInitNotPending, "TDX_SYS_LP_INIT_NOT_PENDING"},
	{st::kSysNotReady, "TDX_SYS_NOT_READY"},
	{st::kSysShutdown, "TDX_SYS_SHUTDOWN"},
	{st::kSysKeyConfigNotPending, "TDX_SYS_KEY_CONFIG_NOT_PENDING"},
	{st::kSysStateIncorrect, "TDX_SYS_STATE_INCORRECT"},
	{st::kSysInvalidHandoff, "TDX_SYS_INVALID_HANDOFF"},
	{st::kSysIncompatibleSigstruct, "TDX_SYS_INCOMPATIBLE_SIGSTRUCT"},
	{st::kSysConfigNotPending, "TDX_SYS_CONFIG_NOT_PENDING"},
	{st::kUpdateCompatSensitive, "TDX_UPDATE_COMPAT_SENSITIVE"},
	{st::kKeyConfigured, "TDX_KEY_CONFIGURED"},
	{st::kTdmrAlreadyInitialized, "TDX_TDMR_ALREADY_INITIALIZED"},
	{st::kInvalidTdmr, "TDX_INVALID_TDMR"},
	{st::kMetadataFieldIdIncorrect, "TDX_METADATA_FIELD_ID_INCORRECT"},
};
} // namespace

const char *status_name(TdxStatus s)
{
	switch (s.raw()) {
	case abi::kTdxSeamcallVmFailInvalid:
		return "TDX_SEAMCALL_VMFAILINVALID";
	case abi::kTdxSeamcallGp:
		return "TDX_SEAMCALL_GP";
	case abi::kTdxSeamcallUd:
		return "TDX_SEAMCALL_UD";
	case kTdxSeamcallTimeout:
		return "TDX_SEAMCALL_TIMEOUT";
	case kTdxSeamcallEmuGone:
		return "TDX_SEAMCALL_EMULATOR_GONE";
	}
	for (const auto &n : kStatusNames)
		if (s.code() == n.code)
			return n.name;
	return "unknown";
}

const char *leaf_name(Leaf leaf)
{
	return leaf.is_seamldr() ? "P-SEAMLDR" : abi::leaf_spec_name(leaf.number());
}

void log_seamcall_failure(Leaf leaf, TdxStatus s)
{
	if (leaf.is_seamldr() || !abi::find_leaf(leaf.number()))
		kapi_log(KAPI_LOG_ERR, "SEAMCALL 0x%llx failed: %s (0x%016llx)\n", (unsigned long long)leaf.rax(),
			 status_name(s), (unsigned long long)s.raw());
	else if (leaf.version())
		kapi_log(KAPI_LOG_ERR, "%s v%u failed: %s (0x%016llx)\n", leaf_name(leaf), leaf.version(),
			 status_name(s), (unsigned long long)s.raw());
	else
		kapi_log(KAPI_LOG_ERR, "%s failed: %s (0x%016llx)\n", leaf_name(leaf), status_name(s),
			 (unsigned long long)s.raw());
}

Status check_tdx_keyids(u32 start, u32 nr)
{
	if (start == 0) {
		kapi_log(KAPI_LOG_ERR, "TDX KeyIDs start at 0: KeyID 0 is the host's and never a TDX KeyID\n");
		return error(err::kENODEV);
	}
	if (u64(start) + nr - 1 > kMaxKeyId) {
		kapi_log(KAPI_LOG_ERR, "TDX KeyIDs [%u, +%u) exceed the KeyID space (at most %llu)\n", start, nr,
			 (unsigned long long)kMaxKeyId);
		return error(err::kENODEV);
	}
	if (nr < 2) {
		kapi_log(KAPI_LOG_ERR, "%u TDX KeyIDs: need a global one and one for TDs\n", nr);
		return error(err::kENODEV);
	}
	return Status::ok();
}

TdxStatus Seamcall::call(Leaf leaf, RegBlock &regs)
{
	/* After TDX_RND_NO_ENTROPY the backend left the inputs in regs: re-issue them as they are. */
	TdxStatus s = TdxStatus(backend_.call(leaf.rax(), regs));
	for (unsigned i = 0; i < abi::kRndNoEntropyRetries && s.is(st::kRndNoEntropy); i++)
		s = TdxStatus(backend_.call(leaf.rax(), regs));
	return s;
}

TdxStatus Seamcall::call_resumable(Leaf leaf, RegBlock &regs, bool retry_busy, u32 max_calls)
{
	TdxStatus s;
	for (u32 n = 0; n < max_calls; n++) {
		s = call(leaf, regs);
		bool again = s.is(st::kInterruptedResumable) || (retry_busy && s.is(st::kSysBusy));
		if (!again)
			return s;
		kapi_cond_resched_if_may_sleep();
	}
	return s;
}

Status Seamcall::call_errno(Leaf leaf, RegBlock &regs)
{
	TdxStatus s = call(leaf, regs);
	if (!s.is_success())
		log_seamcall_failure(leaf, s);
	return status_to_errno(s);
}

} // namespace tdx
