// SPDX-License-Identifier: GPL-2.0
#include "metadata.h"

#include <kapi/kapi.h>
#include <kstd/new.h>
#include <tdx/abi/tdmr.h>

#include "pages.h"

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

namespace st = abi::status;

/* The fields bring-up needs; CMR_BASE/SIZE[i] are consecutive field codes (ABI.md section 6). */
constexpr u64 kScalarFields[] = {
	f::kMajorVersion,     f::kMinorVersion,	      f::kUpdateVersion,    f::kBuildNum,
	f::kBuildDate,	      f::kTdxFeatures0,	      f::kMaxTdmrs,	    f::kMaxReservedPerTdmr,
	f::kPamt4kEntrySize,  f::kPamt2mEntrySize,    f::kPamt1gEntrySize,  f::kNumCmrs,
};
constexpr unsigned kNumScalars = sizeof(kScalarFields) / sizeof(kScalarFields[0]);
constexpr unsigned kNumFields = kNumScalars + 2 * abi::kMaxCmrs;

/* Values gathered by field id, from SYS.RD or from an RDALL list. */
struct FieldTable {
	u64 value[kNumFields] = {};
	bool found[kNumFields] = {};

	static u64 id_at(unsigned i)
	{
		if (i < kNumScalars)
			return kScalarFields[i];
		i -= kNumScalars;
		return i < abi::kMaxCmrs ? f::cmr_base(i) : f::cmr_size(i - abi::kMaxCmrs);
	}
	/*
	 * A sequence's elements take their ids from its header, so a sequence that runs from a
	 * non-architectural field into architectural ones (the version class does) reports them with
	 * bit 63 set: class and code identify a field, bit 63 does not.
	 */
	static u64 key(u64 field_id) { return abi::field_base_id(field_id) & ~(1ull << abi::kFieldNonArchBit); }
	void put(u64 field_id, u64 raw)
	{
		u64 id = key(field_id);
		for (unsigned i = 0; i < kNumFields; i++) {
			if (key(id_at(i)) == id) {
				value[i] = metadata_decode(id_at(i), raw);
				found[i] = true;
				return;
			}
		}
	}
	Result<u64> get(u64 field_id) const
	{
		for (unsigned i = 0; i < kNumFields; i++)
			if (id_at(i) == field_id && found[i])
				return value[i];
		kapi_log(KAPI_LOG_ERR, "TDX module metadata lacks field 0x%016llx\n",
			 (unsigned long long)field_id);
		return error(err::kEINVAL);
	}
};

Status read_by_field(Seamcall &sc, FieldTable &t)
{
	for (u64 id : kScalarFields)
		t.put(id, TRY(sys_rd(sc, id)));
	u64 n = min<u64>(TRY(t.get(f::kNumCmrs)), abi::kMaxCmrs);
	for (unsigned i = 0; i < n; i++) {
		t.put(f::cmr_base(i), TRY(sys_rd(sc, f::cmr_base(i))));
		t.put(f::cmr_size(i), TRY(sys_rd(sc, f::cmr_size(i))));
	}
	return Status::ok();
}

} // namespace

Status parse_md_list(const u8 *page, usize page_size, void (*put)(void *ctx, u64 id, u64 v), void *ctx)
{
	abi::MdListHeader h;
	if (page_size < sizeof(h))
		return error(err::kEINVAL);
	__builtin_memcpy(&h, page, sizeof(h));
	if (h.list_buff_size < sizeof(h) || h.list_buff_size > page_size)
		return error(err::kEINVAL);
	usize off = sizeof(h);
	for (unsigned seq = 0; seq < h.num_sequences; seq++) {
		u64 hdr;
		if (off + sizeof(u64) > h.list_buff_size)
			return error(err::kEINVAL);
		__builtin_memcpy(&hdr, page + off, sizeof(hdr));
		off += sizeof(u64);
		u64 fields = ((hdr >> abi::kFieldLastInSeqShift) & abi::kFieldLastInSeqMask) + 1;
		u64 elems = ((hdr >> abi::kFieldLastElemShift) & abi::kFieldLastElemMask) + 1;
		u64 base = abi::field_base_id(hdr);
		for (u64 k = 0; k < fields * elems; k++) {
			u64 v;
			if (off + sizeof(u64) > h.list_buff_size)
				return error(err::kEINVAL);
			__builtin_memcpy(&v, page + off, sizeof(v));
			off += sizeof(u64);
			/* Element k of the sequence has field code base + k. */
			put(ctx, (base & ~abi::kFieldCodeMask) | ((base + k) & abi::kFieldCodeMask), v);
		}
	}
	return Status::ok();
}

namespace {

/*
 * TDH.SYS.RDALL: the whole global metadata into one page, in one call (more if the module says
 * the list overflowed). -EOPNOTSUPP when the module has no RDALL, so the caller reads by field.
 */
constexpr unsigned kMaxRdAllCalls = 16;

Status read_all(Seamcall &sc, FieldTable &t)
{
	PageRun page = PageRun::alloc(kPageSize);
	if (!page)
		return error(err::kENOMEM);
	u64 next = abi::kFieldIdNone;
	for (unsigned calls = 0; calls < kMaxRdAllCalls; calls++) {
		RegBlock r{};
		r.rdx = page.pa().value();
		r.r8 = next;
		TdxStatus s = sc.call(leaves::kSysRdAll, r);
		if (s.is(st::kOperandInvalid) && s.operand() == abi::kOperandIdRax)
			return error(err::kEOPNOTSUPP);
		if (!s.is_success() && !s.is(st::kMetadataListOverflow)) {
			log_seamcall_failure(leaves::kSysRdAll, s);
			if (sc.dead()) {
				/* The emulator may still write the list into it: the page is the module's now. */
				u64 lost = page.abandon_to_module();
				kapi_log(KAPI_LOG_ERR, "TDH.SYS.RDALL did not complete: its %llu KiB page stays with the TDX module\n",
					 (unsigned long long)(lost >> 10));
			}
			return status_to_errno(s);
		}
		Status p = parse_md_list(static_cast<const u8 *>(page.va()), kPageSize,
					 [](void *ctx, u64 id, u64 v) { static_cast<FieldTable *>(ctx)->put(id, v); },
					 &t);
		if (p.is_error()) {
			kapi_log(KAPI_LOG_ERR, "TDH.SYS.RDALL returned a malformed metadata list\n");
			return p;
		}
		if (s.is_success())
			return Status::ok();
		if (r.r8 == next || r.r8 == abi::kFieldIdNone) {
			kapi_log(KAPI_LOG_ERR, "TDH.SYS.RDALL made no progress\n");
			return error(err::kEIO);
		}
		next = r.r8;
	}
	kapi_log(KAPI_LOG_ERR, "TDH.SYS.RDALL did not finish in %u calls\n", kMaxRdAllCalls);
	return error(err::kEIO);
}

template <class T> Status take(const FieldTable &t, u64 field_id, T &out)
{
	out = T(TRY(t.get(field_id)));
	return Status::ok();
}

} // namespace

Status read_sys_info(Seamcall &sc, TdxSysInfo &out)
{
	Box<FieldTable> t(new (kAlloc) FieldTable());
	if (!t)
		return error(err::kENOMEM);
	Status s = read_all(sc, *t);
	if (s == error(err::kEOPNOTSUPP)) {
		kapi_log(KAPI_LOG_INFO, "TDX module has no TDH.SYS.RDALL; reading metadata field by field\n");
		s = read_by_field(sc, *t);
	}
	TRY(s);

	TRY(take(*t, f::kMajorVersion, out.major));
	TRY(take(*t, f::kMinorVersion, out.minor));
	TRY(take(*t, f::kUpdateVersion, out.update));
	TRY(take(*t, f::kBuildNum, out.build_num));
	TRY(take(*t, f::kBuildDate, out.build_date));
	TRY(take(*t, f::kTdxFeatures0, out.features0));
	TRY(take(*t, f::kMaxTdmrs, out.max_tdmrs));
	TRY(take(*t, f::kMaxReservedPerTdmr, out.max_reserved_per_tdmr));
	TRY(take(*t, f::kPamt4kEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k4K)]));
	TRY(take(*t, f::kPamt2mEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k2M)]));
	TRY(take(*t, f::kPamt1gEntrySize, out.pamt_entry_size[unsigned(abi::PageLevel::k1G)]));

	u64 num_cmrs = TRY(t->get(f::kNumCmrs));
	if (num_cmrs == 0 || num_cmrs > abi::kMaxCmrs) {
		kapi_log(KAPI_LOG_ERR, "TDX module reports %llu CMRs (1..%u supported)\n",
			 (unsigned long long)num_cmrs, abi::kMaxCmrs);
		return error(err::kEINVAL);
	}
	out.cmrs.clear();
	for (unsigned i = 0; i < num_cmrs; i++) {
		Cmr c{TRY(t->get(f::cmr_base(i))), TRY(t->get(f::cmr_size(i)))};
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
