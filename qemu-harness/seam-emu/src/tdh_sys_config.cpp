// SPDX-License-Identifier: GPL-2.0
// Configuration of memory and keys: TDH.SYS.CONFIG, TDH.SYS.KEY.CONFIG, TDH.SYS.TDMR.INIT.
#include <algorithm>

#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

namespace {
constexpr u64 k1G = 1ull << 30;
constexpr u64 kMaxPa = 1ull << GuestMemory::kMaxPaBits;
} // namespace

u64 Module::read_tdmr_infos(u64 array_pa, u64 count, std::vector<TdmrDesc> *out) const
{
	const unsigned nr_rsvd = image_.tdmr.max_reserved_per_tdmr;
	const u64 info_bytes = sizeof(TdmrInfo) + u64(nr_rsvd) * sizeof(TdmrReservedArea);
	std::vector<u64> pas(count);
	if (!mem_.read(array_pa, pas.data(), count * sizeof(u64)))
		return status::kOperandAddrRangeError | kOperandIdRcx;
	std::vector<TdmrReservedArea> rsvd(nr_rsvd);
	for (u64 i = 0; i < count; i++) {
		/* Each TDMR_INFO is read and checked in turn, as the module does. */
		PaCheck pc = check_pa(mem_, pas[i], kTdmrInfoAlignment, info_bytes, kOperandIdRcx);
		if (!pc.ok())
			return pc.status;
		TdmrInfo info;
		mem_.read(pas[i], &info, sizeof(info));
		mem_.read(pas[i] + sizeof(TdmrInfo), rsvd.data(), nr_rsvd * sizeof(TdmrReservedArea));
		out->push_back(TdmrDesc::from_info(info, rsvd.data(), nr_rsvd));
		u64 st = check_tdmr(*out, i, image_, mem_.ranges());
		if (st != status::kSuccess)
			return st;
	}
	return status::kSuccess;
}

u64 Module::tdh_sys_config(Call &c)
{
	RegBlock &r = c.regs;
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	/* After an installed update only SYS.UPDATE completes the initialization (with the handoff). */
	if (state_ != SysState::kSysinitDone || update_pending_)
		return status::kSysConfigNotPending;
	/* LP.INIT must have run on every LP first; the module reports that as CONFIG_NOT_PENDING. */
	if (!lps_.all_initialized())
		return status::kSysConfigNotPending;

	const u64 array_pa = r.rcx, count = r.rdx, hkid_in = r.r8;
	if (array_pa & (kTdmrPaArrayAlignment - 1) || array_pa >= kMaxPa)
		return status::kOperandInvalid | kOperandIdRcx;
	if (count < 1 || count > image_.tdmr.max_tdmrs)
		return status::kOperandInvalid | kOperandIdRdx;
	PaCheck pc = check_pa(mem_, array_pa, kTdmrPaArrayAlignment, count * sizeof(u64), kOperandIdRcx);
	if (!pc.ok())
		return pc.status;
	/* r8: bits 15:0 the global private KeyID, the rest reserved. */
	const u64 hkid = hkid_in & 0xFFFF;
	if ((hkid_in >> 16) || !keys_.is_tdx_keyid(hkid))
		return status::kOperandInvalid | kOperandIdR8;
	/*
	 * v1: r9 the add-on bitmap, only features the image reports and that are add-ons (EXT, QUOTE;
	 * bit 39 is accepted and has no effect, ABI.md §6). r11 is where TDX Connect drafts pass the
	 * untrusted wall-clock time: 0 ("no untrusted time") is the only value this model takes.
	 */
	u64 addons = 0;
	if (c.version >= 1) {
		addons = r.r9;
		if (addons & ~(image_.tdx_features0 & kAddOnCapableFeatures))
			return status::kOperandInvalid | kOperandIdR9;
		if (r.r11 != 0)
			return status::kOperandInvalid | kOperandIdR11;
	}

	std::vector<TdmrDesc> descs;
	u64 st = read_tdmr_infos(array_pa, count, &descs);
	if (st != status::kSuccess)
		return st; /* nothing changed */

	/*
	 * The PAMTs become the module's: no page of them may belong to it already. check_tdmr() made
	 * sure they do not overlap each other; a page still owned from an earlier bring-up (one that
	 * SYS.DISABLE failed to release) is caught here, and so will be pages of later owners.
	 */
	for (size_t i = 0; i < descs.size(); i++)
		for (unsigned l = 0; l < kNumPageLevels; l++)
			if (pages_.overlaps(descs[i].pamt_base[l], descs[i].pamt_size[l]))
				return status::kPamtOverlap | (i & 0xFF) | (l << 8) | (0xFFull << 16);
	for (size_t i = 0; i < descs.size(); i++)
		for (unsigned l = 0; l < kNumPageLevels; l++)
			pages_.claim(descs[i].pamt_base[l], descs[i].pamt_size[l], PageOwner::kPamt, u32(i));

	tdmrs_.clear();
	for (auto &d : descs)
		tdmrs_.push_back({d, d.base, {}});
	keys_.set_global_keyid(u16(hkid));
	addons_ = addons;
	configure_ext(addons);
	state_ = SysState::kSysconfigDone;
	return status::kSuccess;
}

u64 Module::tdh_sys_key_config(Call &c)
{
	/* One package at a time: two packages' KEY.CONFIG on different LPs contend (SYS_BUSY). */
	if (!c.locks.exclusive(global_lock_))
		return status::kSysBusy;
	if (state_ != SysState::kSysconfigDone)
		return status::kSysKeyConfigNotPending;
	if (!keys_.configure_package(lps_.package_of(c.lp)))
		return status::kKeyConfigured;
	/* The last package's key makes the module ready (TDMR.INIT runs from then on). */
	if (keys_.all_packages_configured())
		state_ = SysState::kSysReady;
	return status::kSuccess;
}

void Module::init_pamt_range(const TdmrRuntime &t, u64 start, u64 len) const
{
	for (unsigned l = 0; l < kNumPageLevels; l++) {
		unsigned shift = page_level_shift(PageLevel(l));
		u64 first = (start - t.desc.base) >> shift;
		u64 last = (start + len - t.desc.base + (1ull << shift) - 1) >> shift; /* exclusive */
		u64 es = image_.tdmr.pamt_entry_size[l];
		u64 off = first * es, bytes = (last - first) * es;
		u8 *p = mem_.ptr(t.desc.pamt_base[l] + off, bytes);
		if (!p)
			continue; /* cannot happen: SYS.CONFIG checked the PAMT lies in a CMR */
		for (u64 k = 0; k < bytes; k++)
			p[k] = u8(kPamtInitPattern >> (8 * ((off + k) % 8)));
	}
}

/* In SYS_READY only (the dispatcher); the TDMR's own lock, not the global one, serializes it. */
u64 Module::tdh_sys_tdmr_init(Call &c)
{
	RegBlock &r = c.regs;
	const u64 tdmr_pa = r.rcx;
	r.rdx = 0;
	if (tdmr_pa & (k1G - 1) || tdmr_pa >= kMaxPa)
		return status::kOperandInvalid | kOperandIdRcx;
	auto it = std::find_if(tdmrs_.begin(), tdmrs_.end(), [&](const TdmrRuntime &t) { return t.desc.base == tdmr_pa; });
	if (it == tdmrs_.end())
		return status::kOperandInvalid | kOperandIdRcx;
	if (!c.locks.lock(it->lock))
		return status::kOperandBusy | kOperandIdRcx;
	if (it->initialized())
		return status::kTdmrAlreadyInitialized;

	const u64 end = it->desc.base + it->desc.size;
	const u64 len = std::min(image_.work_budget.tdmr_init_bytes, end - it->next_to_init);
	init_pamt_range(*it, it->next_to_init, len);
	it->next_to_init += len;
	/* Rounded down to 1 GiB so the VMM never uses a partly initialized 1 GiB block. */
	r.rdx = it->next_to_init & ~(k1G - 1);
	return status::kSuccess;
}

} // namespace seam_emu
