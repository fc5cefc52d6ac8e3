// SPDX-License-Identifier: GPL-2.0
#include "fake_module.h"

#include <kapi/kapi.h>
#include <tdx/abi/metadata.h>
#include <tdx/abi/tdmr.h>

#include "fake_kapi.h"

#include <cstring>

namespace fake {

namespace lf = tdx::abi::leaf;
namespace st = tdx::abi::status;
namespace fld = tdx::abi::field;

FakeModule::FakeModule()
{
	metadata = {
		{fld::kMajorVersion, 1},	 {fld::kMinorVersion, 5},
		{fld::kUpdateVersion, 6},	 {fld::kBuildNum, 744},
		{fld::kBuildDate, 20240229},	 {fld::kTdxFeatures0, tdx::abi::features0::kNoRbpMod | 2},
		{fld::kMaxTdmrs, 64},		 {fld::kMaxReservedPerTdmr, 16},
		{fld::kPamt4kEntrySize, 16},	 {fld::kPamt2mEntrySize, 16},
		{fld::kPamt1gEntrySize, 16},	 {fld::kNumCmrs, 1},
		{fld::cmr_base(0), 0},		 {fld::cmr_size(0), 0x80000000},
	};
}

int FakeModule::count(uint16_t leaf) const
{
	int n = 0;
	for (const Call &c : calls)
		n += c.leaf == leaf;
	return n;
}

kstd::Status FakeModule::tdx_keyids(uint32_t &start, uint32_t &nr)
{
	start = keyid_start;
	nr = nr_keyids;
	return kstd::Status::ok();
}

uint64_t FakeModule::call(uint64_t rax, tdx::RegBlock &regs)
{
	uint16_t leaf = uint16_t(rax & 0xFFFF);
	unsigned cpu = kapi_this_cpu();
	calls.push_back({leaf, cpu});
	if (rnd_no_entropy_left > 0) {
		rnd_no_entropy_left--;
		return st::kRndNoEntropy;
	}
	auto f = faults_.find(leaf);
	if (f != faults_.end() && --f->second.first == 0) {
		uint64_t s = f->second.second;
		faults_.erase(f);
		return s;
	}
	return serve(leaf, regs, cpu);
}

uint64_t FakeModule::serve(uint16_t leaf, tdx::RegBlock &r, unsigned cpu)
{
	switch (leaf) {
	case lf::kSysInit:
		if (state != State::kSysInitPending)
			return st::kSysInitNotPending;
		state = State::kSysInitDone;
		return st::kSuccess;
	case lf::kSysLpInit:
		if (state == State::kSysInitPending)
			return st::kSysInitNotPending;
		return lp_done.insert(cpu).second ? st::kSuccess : st::kSysLpInitDone;
	case lf::kSysRd: {
		if (!lp_done.count(cpu))
			return st::kSysLpInitNotDone;
		auto it = metadata.find(r.rdx);
		if (it == metadata.end())
			return st::kMetadataFieldIdIncorrect;
		r.r8 = it->second;
		return st::kSuccess;
	}
	case lf::kSysRdAll: {
		if (!rdall_supported)
			return st::kOperandInvalid | tdx::abi::kOperandIdRax;
		if (!lp_done.count(cpu))
			return st::kSysLpInitNotDone;
		auto *page = reinterpret_cast<uint8_t *>(r.rdx);
		auto it = r.r8 == tdx::abi::kFieldIdNone ? metadata.begin() : metadata.find(r.r8);
		if (it == metadata.end())
			return st::kMetadataFieldIdIncorrect;
		tdx::abi::MdListHeader h{};
		size_t off = sizeof(h);
		if (rdall_sequence_from_build_num) {
			/* One sequence for BUILD_NUM (non-arch, code 2) .. UPDATE_VERSION (code 5). */
			uint64_t hdr = fld::kBuildNum | (3ull << tdx::abi::kFieldLastInSeqShift);
			uint64_t vals[4] = {metadata[fld::kBuildNum], metadata[fld::kMinorVersion],
					    metadata[fld::kMajorVersion], metadata[fld::kUpdateVersion]};
			memcpy(page + off, &hdr, 8);
			memcpy(page + off + 8, vals, sizeof(vals));
			off += 8 + sizeof(vals);
			h.num_sequences++;
		}
		/* One sequence per field: its id, then its value. */
		for (unsigned n = 0; it != metadata.end() && n < rdall_fields_per_call; ++it, ++n) {
			if (rdall_sequence_from_build_num &&
			    (it->first == fld::kBuildNum || it->first == fld::kMinorVersion ||
			     it->first == fld::kMajorVersion || it->first == fld::kUpdateVersion))
				continue;
			memcpy(page + off, &it->first, 8);
			memcpy(page + off + 8, &it->second, 8);
			off += 16;
			h.num_sequences++;
		}
		h.list_buff_size = uint16_t(off);
		if (rdall_malformed)
			h.list_buff_size = 4;
		memcpy(page, &h, sizeof(h));
		if (rdall_stuck) {
			r.r8 = metadata.begin()->first;
			return st::kMetadataListOverflow;
		}
		if (it == metadata.end()) {
			r.r8 = tdx::abi::kFieldIdNone;
			return st::kSuccess;
		}
		r.r8 = it->first;
		return st::kMetadataListOverflow;
	}
	case lf::kSysConfig: {
		if (state != State::kSysInitDone)
			return st::kSysConfigNotPending;
		if (lp_done.size() < kernel().nr_cpus)
			return st::kSysLpInitNotDone;
		auto *pas = reinterpret_cast<const uint64_t *>(r.rcx);
		tdmrs.clear();
		for (uint64_t i = 0; i < r.rdx; i++) {
			auto *info = reinterpret_cast<const tdx::abi::TdmrInfo *>(pas[i]);
			if (info->size == 0 || info->base % tdx::abi::kTdmrAlignment)
				return st::kInvalidTdmr;
			tdmrs.emplace_back(info->base, info->size);
		}
		global_keyid = r.r8;
		state = State::kSysConfigDone;
		return st::kSuccess;
	}
	case lf::kSysKeyConfig:
		if (state != State::kSysConfigDone)
			return st::kSysKeyConfigNotPending;
		return pkg_done.insert(kapi_cpu_package(cpu)).second ? st::kSuccess : st::kKeyConfigured;
	case lf::kSysTdmrInit: {
		if (state != State::kSysConfigDone)
			return st::kSysStateIncorrect;
		for (auto [base, size] : tdmrs) {
			if (base != r.rcx)
				continue;
			if (tdmr_init_bogus_rdx == ~0ull) { /* never makes progress */
				r.rdx = base;
				return st::kSuccess;
			}
			uint64_t &next = tdmr_next.try_emplace(base, base).first->second;
			if (next >= base + size)
				return st::kTdmrAlreadyInitialized;
			next = std::min(base + size, next + tdmr_init_chunk);
			r.rdx = next;
			if (tdmr_init_coarse && next < base + size)
				r.rdx = next & ~(tdx::abi::kTdmrAlignment - 1);
			if (tdmr_init_bogus_rdx)
				r.rdx = tdmr_init_bogus_rdx;
			bool all = true;
			for (auto [b, s] : tdmrs)
				all &= tdmr_next.count(b) && tdmr_next[b] >= b + s;
			if (all)
				state = State::kSysReady;
			return st::kSuccess;
		}
		return st::kInvalidTdmr;
	}
	case lf::kSysDisable:
		if (++disable_progress_ < disable_steps)
			return st::kInterruptedResumable;
		disable_progress_ = 0;
		state = State::kSysInitPending;
		lp_done.clear();
		pkg_done.clear();
		tdmrs.clear();
		tdmr_next.clear();
		return st::kSuccess;
	default:
		return st::kOperandInvalid;
	}
}

} // namespace fake
