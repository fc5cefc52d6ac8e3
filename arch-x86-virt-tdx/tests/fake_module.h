/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An in-process fake TDX module behind the SeamcallBackend interface: enough state to check the
 * bring-up order, a call log, and fault injection. The real model is seam-emu; this one keeps the
 * core's host tests fast and self-contained.
 */
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "backend.h"

namespace fake {

struct Call {
	uint16_t leaf;
	unsigned cpu;
};

class FakeModule final : public tdx::SeamcallBackend {
public:
	FakeModule();
	uint64_t call(uint64_t rax, tdx::RegBlock &regs) override;
	kstd::Status tdx_keyids(uint32_t &start, uint32_t &nr) override;
	const char *name() const override { return "fake"; }

	/* The nth call (1-based, counted from now) of leaf answers status. */
	void fail(uint16_t leaf, int nth, uint64_t status) { faults_[leaf] = {nth, status}; }
	int count(uint16_t leaf) const;

	std::map<uint64_t, uint64_t> metadata;
	uint32_t keyid_start = 32, nr_keyids = 32;
	uint64_t tdmr_init_chunk = 256ull << 20;
	int disable_steps = 2;
	bool tdmr_init_coarse = false; /* report progress rounded down to 1 GiB, as the module does */
	uint64_t tdmr_init_bogus_rdx = 0; /* non-zero: TDMR.INIT answers this rdx */
	int rnd_no_entropy_left = 0;
	bool rdall_supported = true;
	unsigned rdall_fields_per_call = 1000; /* fewer: the list "overflows" into further calls */
	bool rdall_malformed = false;
	bool rdall_sequence_from_build_num = false; /* write BUILD_NUM..UPDATE_VERSION as one sequence */
	bool rdall_stuck = false; /* overflows without progress */ /* answers TDX_RND_NO_ENTROPY this many times first */

	enum class State { kSysInitPending, kSysInitDone, kSysConfigDone, kSysReady } state = State::kSysInitPending;
	std::set<unsigned> lp_done, pkg_done;
	std::vector<std::pair<uint64_t, uint64_t>> tdmrs; /* base, size */
	std::map<uint64_t, uint64_t> tdmr_next;
	std::vector<Call> calls;
	uint64_t global_keyid = 0;

private:
	uint64_t serve(uint16_t leaf, tdx::RegBlock &r, unsigned cpu);
	std::map<uint16_t, std::pair<int, uint64_t>> faults_;
	int disable_progress_ = 0;
};

} // namespace fake
