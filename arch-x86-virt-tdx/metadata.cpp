// SPDX-License-Identifier: GPL-2.0
#include "metadata.h"

#include <kapi/kapi.h>
#include <tdx/abi/tdmr.h>

namespace tdx {

namespace f = abi::field;

u64 metadata_decode(u64 field_id, u64 raw)
{
	unsigned bytes = abi::field_elem_bytes(field_id);
	return bytes == 8 ? raw : raw & ((1ull << (8 * bytes)) - 1);
}

Result<u64> sys_rd(Seamcall &sc, u64 field_id)
{
	RegBlock r{};
	r.rdx = field_id;
	TRY(sc.call_errno(leaves::kSysRd, r));
	return metadata_decode(field_id, r.r8);
}

namespace {
template <class T> Status rd_into(Seamcall &sc, u64 field_id, T &out)
{
	out = T(TRY(sys_rd(sc, field_id)));
	return Status::ok();
}
} // namespace

Status read_sys_info(Seamcall &sc, TdxSysInfo &out)
{
	TRY(rd_into(sc, f::kMajorVersion, out.major));
	TRY(rd_into(sc, f::kMinorVersion, out.minor));
	TRY(rd_into(sc, f::kUpdateVersion, out.update));
	TRY(rd_into(sc, f::kBuildNum, out.build_num));
	TRY(rd_into(sc, f::kBuildDate, out.build_date));
	TRY(rd_into(sc, f::kTdxFeatures0, out.features0));
	TRY(rd_into(sc, f::kMaxTdmrs, out.max_tdmrs));
	TRY(rd_into(sc, f::kMaxReservedPerTdmr, out.max_reserved_per_tdmr));
	TRY(rd_into(sc, f::kPamt4kEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k4K)]));
	TRY(rd_into(sc, f::kPamt2mEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k2M)]));
	TRY(rd_into(sc, f::kPamt1gEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k1G)]));

	u64 num_cmrs = TRY(sys_rd(sc, f::kNumCmrs));
	if (num_cmrs == 0 || num_cmrs > abi::kMaxCmrs) {
		kapi_log(KAPI_LOG_ERR, "TDX module reports %llu CMRs (1..%u supported)\n",
			 (unsigned long long)num_cmrs, abi::kMaxCmrs);
		return error(err::kEINVAL);
	}
	out.cmrs.clear();
	for (unsigned i = 0; i < num_cmrs; i++) {
		Cmr c{TRY(sys_rd(sc, f::cmr_base(i))), TRY(sys_rd(sc, f::cmr_size(i)))};
		if (c.size && !out.cmrs.push_back(c))
			return error(err::kEINVAL);
	}

	for (u16 e : out.pamt_entry_size)
		if (e == 0)
			return error(err::kEINVAL);
	if (out.max_tdmrs == 0 || out.max_reserved_per_tdmr == 0) {
		kapi_log(KAPI_LOG_ERR, "TDX module reports no TDMR capacity\n");
		return error(err::kEINVAL);
	}
	return Status::ok();
}

} // namespace tdx
