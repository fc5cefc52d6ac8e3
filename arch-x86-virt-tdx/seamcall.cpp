// SPDX-License-Identifier: GPL-2.0
#include "seamcall.h"

#include <kapi/kapi.h>

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
	}
	for (const auto &n : kStatusNames)
		if (s.code() == n.code)
			return n.name;
	return "unknown";
}

void log_seamcall_failure(Leaf leaf, TdxStatus s)
{
	kapi_log(KAPI_LOG_ERR, "SEAMCALL (leaf %u v%u) failed: 0x%016llx (%s)\n", leaf.number(),
		 leaf.version(), (unsigned long long)s.raw(), status_name(s));
}

TdxStatus Seamcall::call(Leaf leaf, RegBlock &regs)
{
	RegBlock in = regs;
	TdxStatus s;
	for (unsigned i = 0; i <= abi::kRndNoEntropyRetries; i++) {
		regs = in;
		s = TdxStatus(backend_.call(leaf.rax(), regs));
		if (!s.is(st::kRndNoEntropy))
			break;
	}
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
		if (kapi_may_sleep())
			kapi_cond_resched();
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
