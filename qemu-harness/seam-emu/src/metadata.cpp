// SPDX-License-Identifier: GPL-2.0
#include "metadata.h"

#include <algorithm>
#include <cstring>

#include <tdx/abi/status.h>

namespace seam_emu {

namespace {

constexpr u64 kContextMask = kFieldContextMask << kFieldContextShift;
/* Bits a single-element field id must have clear: reserved bits 31:24, 49:47, 55, 62 and the
 * sequence description (last element, last field in sequence). */
constexpr u64 kSingleElementMbz = (0xFFull << 24) | (0x7ull << 47) | (1ull << 55) | (1ull << 62) |
				  (kFieldLastElemMask << kFieldLastElemShift) |
				  (kFieldLastInSeqMask << kFieldLastInSeqShift);

u64 class_of(u64 id) { return (id >> kFieldClassShift) & kFieldClassMask; }
u64 code_of(u64 id) { return id & kFieldCodeMask; }
u64 size_code_of(u64 id) { return (id >> kFieldElemSizeShift) & kFieldElemSizeMask; }

/* The table's order: by class, then field code. */
bool field_less(const MdField &a, const MdField &b)
{
	if (class_of(a.id) != class_of(b.id))
		return class_of(a.id) < class_of(b.id);
	return code_of(a.id) < code_of(b.id);
}

u64 truncate(u64 id, u64 v)
{
	unsigned bytes = field_elem_bytes(id);
	return bytes == 8 ? v : v & ((1ull << (bytes * 8)) - 1);
}

} // namespace

bool GlobalMetadata::is_null_id(u64 id) { return (id | kContextMask) == kFieldIdNone; }

void GlobalMetadata::add(u64 id, u64 value) { fields_.push_back({id, truncate(id, value)}); }

GlobalMetadata::GlobalMetadata(const ModuleImage &m, const std::vector<PhysRange> &cmrs)
{
	namespace f = field;
	add(f::kBuildDate, m.module.build_date);
	add(f::kBuildNum, m.module.build_num);
	add(f::kMinorVersion, m.module.minor);
	add(f::kMajorVersion, m.module.major);
	add(f::kUpdateVersion, m.module.update);
	add(f::kModuleHv, m.handoff.module_hv);
	add(f::kMinUpdateHv, m.handoff.min_update_hv);
	add(f::kNoDowngrade, m.handoff.no_downgrade);
	add(f::kNumHandoffPages, m.handoff.num_handoff_pages);
	add(f::kTdxFeatures0, m.tdx_features0);
	add(f::kNumCmrs, cmrs.size());
	/* The CMR arrays have kMaxCmrs elements, as in the TDX module; unused entries read 0. */
	for (unsigned i = 0; i < kMaxCmrs; i++)
		add(f::cmr_base(i), i < cmrs.size() ? cmrs[i].base : 0);
	for (unsigned i = 0; i < kMaxCmrs; i++)
		add(f::cmr_size(i), i < cmrs.size() ? cmrs[i].size : 0);
	add(f::kMaxTdmrs, m.tdmr.max_tdmrs);
	add(f::kMaxReservedPerTdmr, m.tdmr.max_reserved_per_tdmr);
	add(f::kPamt4kEntrySize, m.tdmr.pamt_entry_size[0]);
	add(f::kPamt2mEntrySize, m.tdmr.pamt_entry_size[1]);
	add(f::kPamt1gEntrySize, m.tdmr.pamt_entry_size[2]);
	add(f::kTdrBaseSize, m.td.tdr_base_size);
	add(f::kTdcsBaseSize, m.td.tdcs_base_size);
	add(f::kTdvpsBaseSize, m.td.tdvps_base_size);
	std::sort(fields_.begin(), fields_.end(), field_less);
}

void GlobalMetadata::publish(u64 id, u64 value)
{
	const MdField f{id, truncate(id, value)};
	int i = find(id);
	if (i >= 0) {
		fields_[i] = f;
		return;
	}
	fields_.insert(std::upper_bound(fields_.begin(), fields_.end(), f, field_less), f);
}

void GlobalMetadata::withdraw(u64 id)
{
	int i = find(id);
	if (i >= 0)
		fields_.erase(fields_.begin() + i);
}

int GlobalMetadata::find(u64 field_id) const
{
	for (size_t i = 0; i < fields_.size(); i++)
		if (class_of(fields_[i].id) == class_of(field_id) && code_of(fields_[i].id) == code_of(field_id))
			return int(i);
	return -1;
}

GlobalMetadata::ReadResult GlobalMetadata::read(u64 field_id) const
{
	/* A null field id asks for the first field id of the context. */
	if (is_null_id(field_id))
		return {status::kMetadataFirstFieldIdInContext, fields_.front().id, 0};
	/* FIELD_SIZE, INC_SIZE, WRITE_MASK_VALID and CONTEXT_CODE are ignored for a single element. */
	if (field_id & kSingleElementMbz)
		return {status::kMetadataFieldIdIncorrect, kFieldIdNone, 0};
	int i = find(field_id);
	if (i < 0)
		return {status::kMetadataFieldIdIncorrect, kFieldIdNone, 0};
	u64 next = size_t(i + 1) < fields_.size() ? fields_[i + 1].id : kFieldIdNone;
	return {status::kSuccess, next, fields_[i].value};
}

GlobalMetadata::DumpResult GlobalMetadata::dump(u64 first_id, u8 *buf, u64 buf_size) const
{
	size_t idx = 0;
	if (!is_null_id(first_id)) {
		int i = find(first_id);
		/* The start must name a field exactly, with its element size. */
		if (i < 0 || size_code_of(first_id) != size_code_of(fields_[i].id))
			return {status::kMetadataFieldIdIncorrect, kFieldIdNone};
		idx = size_t(i);
	}
	if (buf_size < sizeof(MdListHeader) + 2 * sizeof(u64))
		return {status::kMetadataListOverflow, fields_[idx].id};

	MdListHeader hdr{};
	hdr.list_buff_size = sizeof(MdListHeader);
	u64 off = sizeof(MdListHeader);
	/* Each sequence: a header id, then one u64 per element; fields join a sequence while their
	 * codes are consecutive within a class and their element size is the same. */
	while (idx < fields_.size() && buf_size - off >= 2 * sizeof(u64)) {
		u64 seq_off = off;
		off += sizeof(u64);
		u64 count = 0;
		do {
			u64 v = fields_[idx].value;
			std::memcpy(buf + off, &v, sizeof(v));
			off += sizeof(u64);
			count++;
			idx++;
		} while (idx < fields_.size() && buf_size - off >= sizeof(u64) &&
			 class_of(fields_[idx].id) == class_of(fields_[idx - 1].id) &&
			 code_of(fields_[idx].id) == code_of(fields_[idx - 1].id) + 1 &&
			 size_code_of(fields_[idx].id) == size_code_of(fields_[idx - 1].id) && count < 512);
		u64 seq_hdr = fields_[idx - count].id & ~(kContextMask | (kFieldLastElemMask << kFieldLastElemShift) |
							   (kFieldLastInSeqMask << kFieldLastInSeqShift));
		seq_hdr |= (count - 1) << kFieldLastInSeqShift;
		std::memcpy(buf + seq_off, &seq_hdr, sizeof(seq_hdr));
		hdr.num_sequences++;
		hdr.list_buff_size = u16(off);
	}
	std::memcpy(buf, &hdr, sizeof(hdr));
	if (idx < fields_.size())
		return {status::kMetadataListOverflow, fields_[idx].id};
	return {status::kSuccess, kFieldIdNone};
}

} // namespace seam_emu
