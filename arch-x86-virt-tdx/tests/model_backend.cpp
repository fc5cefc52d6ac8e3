// SPDX-License-Identifier: GPL-2.0
#include "model_backend.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <kapi/kapi.h>
#include <tdx/abi/metadata.h>
#include <tdx/abi/status.h>

#include "fake_kapi.h"
#include "phys_mem.h"

namespace fake {

namespace st = tdx::abi::status;

seam_emu::Profile emulator_profile(const char *file)
{
	seam_emu::ProfileResult r = seam_emu::load_profile(std::string(SEAM_EMU_PROFILE_DIR) + "/" + file);
	if (!r.profile) {
		fprintf(stderr, "%s\n", r.error.c_str());
		abort();
	}
	return *r.profile;
}

seam_emu::Profile default_profile()
{
	static const seam_emu::Profile p = emulator_profile("default.json");
	return p;
}

seam_emu::Module &ModelBackend::model()
{
	if (model_)
		return *model_;
	if (topology_from_kernel) {
		const Kernel &k = kernel();
		profile.lps = k.nr_cpus;
		profile.packages = k.cpus_per_package ? k.nr_cpus / k.cpus_per_package : 0;
		if (profile.packages * k.cpus_per_package != k.nr_cpus)
			profile.packages = 0; /* check_topology() refuses it below */
	}
	std::string bad = seam_emu::check_topology(profile.platform());
	if (!bad.empty()) {
		fprintf(stderr, "model platform: %s\n", bad.c_str());
		abort();
	}
	const seam_emu::GuestMemory &phys = phys_memory();
	mem_ = std::make_unique<seam_emu::GuestMemory>(phys.ptr(0, 0), phys_bytes());
	model_ = std::make_unique<seam_emu::Module>(profile.platform(), profile.image(), *mem_);
	return *model_;
}

seam_emu::SysState ModelBackend::state()
{
	return inspect([](const seam_emu::Module &m) { return m.state(); });
}

std::vector<std::pair<uint64_t, uint64_t>> ModelBackend::tdmrs()
{
	return inspect([](const seam_emu::Module &m) {
		std::vector<std::pair<uint64_t, uint64_t>> v;
		for (const auto &t : m.tdmrs())
			v.emplace_back(t.desc.base, t.desc.size);
		return v;
	});
}

kstd::Status ModelBackend::tdx_keyids(uint32_t &start, uint32_t &nr)
{
	const seam_emu::Platform &p = model_ ? model_->platform() : profile.platform();
	start = p.tdx_keyid_start;
	nr = p.nr_tdx_keyids;
	return kstd::Status::ok();
}

void ModelBackend::fail(uint16_t leaf, int nth, uint64_t status, int times)
{
	faults_[leaf] = {nth - 1, times, status};
}

bool ModelBackend::injected(uint16_t leaf, uint64_t &status)
{
	auto f = faults_.find(leaf);
	if (f == faults_.end())
		return false;
	if (f->second.skip > 0) {
		f->second.skip--;
		return false;
	}
	status = f->second.status;
	if (f->second.times != kAlways && --f->second.times <= 0)
		faults_.erase(f);
	return true;
}

uint64_t ModelBackend::call(uint64_t rax, tdx::RegBlock &regs)
{
	const uint16_t leaf = uint16_t(rax & tdx::abi::kLeafNumberMask);
	const unsigned cpu = kapi_this_cpu();
	uint64_t status;
	if (!injected(leaf, status)) {
		const tdx::RegBlock in = regs;
		status = model().seamcall(cpu, rax, regs);
		if (tdx::TdxStatus(status).is(tdx::abi::status::kRndNoEntropy))
			regs = in; /* the SeamcallBackend contract: the inputs stay for the retry */
		if (leaf == tdx::abi::leaf::kSysRdAll && rdall_max_sequences)
			limit_rdall(status, regs);
		if (on_answer)
			on_answer(leaf, status, regs);
	}
	calls.push_back({leaf, cpu, status});
	return status;
}

int ModelBackend::count(uint16_t leaf) const
{
	int n = 0;
	for (const Call &c : calls)
		n += c.leaf == leaf;
	return n;
}

void ModelBackend::limit_rdall(uint64_t &status, tdx::RegBlock &regs)
{
	if (status != st::kSuccess && status != st::kMetadataListOverflow)
		return;
	std::vector<MdSequence> seqs = md_list_sequences(regs.rdx);
	if (seqs.size() <= rdall_max_sequences)
		return;
	const MdSequence &first_out = seqs[rdall_max_sequences];
	tdx::abi::MdListHeader h{};
	h.num_sequences = uint16_t(rdall_max_sequences);
	h.list_buff_size = first_out.offset;
	memcpy(phys_ptr(regs.rdx, sizeof(h)), &h, sizeof(h));
	regs.r8 = tdx::abi::field_base_id(*first_out.header);
	status = st::kMetadataListOverflow;
}

std::vector<MdSequence> md_list_sequences(uint64_t pa)
{
	constexpr uint64_t kPage = tdx::abi::kPageSize;
	std::vector<MdSequence> out;
	auto *page = static_cast<uint8_t *>(phys_ptr(pa, kPage));
	if (!page || pa % kPage)
		return out;
	tdx::abi::MdListHeader h;
	memcpy(&h, page, sizeof(h));
	if (h.list_buff_size > kPage)
		return out;
	uint64_t off = sizeof(h);
	for (unsigned i = 0; i < h.num_sequences; i++) {
		if (off + 8 > h.list_buff_size)
			return {};
		auto *hdr = reinterpret_cast<uint64_t *>(page + off);
		uint64_t fields = ((*hdr >> tdx::abi::kFieldLastInSeqShift) & tdx::abi::kFieldLastInSeqMask) + 1;
		uint64_t elems = ((*hdr >> tdx::abi::kFieldLastElemShift) & tdx::abi::kFieldLastElemMask) + 1;
		if (off + 8 * (1 + fields * elems) > h.list_buff_size)
			return {};
		out.push_back({hdr, hdr + 1, fields * elems, uint16_t(off)});
		off += 8 * (1 + fields * elems);
	}
	return out;
}

} // namespace fake
