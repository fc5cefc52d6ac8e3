/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The core's host tests run against the emulator's own model of the TDX module (seam_emu::Module,
 * linked from qemu-harness/seam-emu as a library): this backend hands each SEAMCALL to the model
 * on the fake kernel's current CPU, over the fake physical memory (phys_mem.h). What the model
 * answers is what the emulator answers in QEMU; the only additions are the test's own fault
 * injection (like the emulator's `fault` rules) and, for tests of the core's defences, an explicit
 * hook that alters an answer the model gave.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "seam-emu/src/module.h"
#include "seamcall.h"

namespace fake {

/* A profile of qemu-harness/seam-emu/profiles by file name ("no-rbp-mod.json"); aborts if bad. */
seam_emu::Profile emulator_profile(const char *file);
/* default.json: what the emulator runs unless told otherwise. */
seam_emu::Profile default_profile();

struct Call {
	uint16_t leaf;
	unsigned cpu;
	uint64_t status;
};

class ModelBackend final : public tdx::SeamcallBackend {
public:
	explicit ModelBackend(const seam_emu::Profile &p = default_profile()) : profile(p) {}

	uint64_t call(uint64_t rax, tdx::RegBlock &regs) override;
	/* The platform's TDX KeyIDs (the emulator's mailbox header carries the same). */
	kstd::Status tdx_keyids(uint32_t &start, uint32_t &nr) override;
	const char *name() const override { return "model"; }

	/*
	 * What the model runs. It is made at the first call (or model()), over the fake physical
	 * memory as it is then: change the profile, phys size and fake CPUs before that.
	 */
	seam_emu::Profile profile;
	/* When the model is made, its LPs and packages are the fake kernel's CPUs and packages. */
	bool topology_from_kernel = true;

	seam_emu::Module &model();
	/* The model's state, read under its lock. */
	template <class F> auto inspect(F f) -> decltype(f(std::declval<const seam_emu::Module &>()))
	{
		const seam_emu::Module &m = model();
		std::lock_guard<std::mutex> g(m.state_mutex());
		return f(m);
	}
	seam_emu::SysState state();
	/* The TDMRs SYS.CONFIG accepted: (base, size). */
	std::vector<std::pair<uint64_t, uint64_t>> tdmrs();

	/*
	 * Fault injection: the nth call of the leaf from now, and the times - 1 calls of it after
	 * that (kAlways: every one from then on), answer status without reaching the model.
	 */
	static constexpr int kAlways = -1;
	void fail(uint16_t leaf, int nth, uint64_t status, int times = 1);
	/*
	 * TDH.SYS.RDALL lists at most this many sequences per call (0: no limit) and answers
	 * TDX_METADATA_LIST_OVERFLOW with r8 = the first field left out, as a module whose list
	 * does not fit the page does; the next call starts from there.
	 */
	unsigned rdall_max_sequences = 0;
	/*
	 * Runs after each answer the model gave: a test of the core's defences makes it an answer
	 * no correct module gives (a malformed list, an rdx outside the TDMR...).
	 */
	std::function<void(uint16_t leaf, uint64_t &status, tdx::RegBlock &regs)> on_answer;

	int count(uint16_t leaf) const;
	std::vector<Call> calls;

private:
	struct Fault {
		int skip;
		int times;
		uint64_t status;
	};
	bool injected(uint16_t leaf, uint64_t &status);
	void limit_rdall(uint64_t &status, tdx::RegBlock &regs);

	std::map<uint16_t, Fault> faults_;
	std::unique_ptr<seam_emu::GuestMemory> mem_;
	std::unique_ptr<seam_emu::Module> model_;
};

/*
 * Between the core and the model: records every call's RAX and input registers, and can kill the
 * transport (as the emulator's dies) at the nth call of a leaf: from then on every call answers
 * TDX_SEAMCALL_TIMEOUT and dead() is true.
 */
class Recorder final : public tdx::SeamcallBackend {
public:
	explicit Recorder(ModelBackend &m) : m_(m) {}
	uint64_t call(uint64_t rax, tdx::RegBlock &regs) override
	{
		uint16_t leaf = uint16_t(rax & tdx::abi::kLeafNumberMask);
		if (leaf == cut_leaf && ++cut_seen == cut_nth)
			cut = true;
		if (cut)
			return tdx::kTdxSeamcallTimeout;
		in.push_back({rax, regs});
		return m_.call(rax, regs);
	}
	kstd::Status tdx_keyids(uint32_t &start, uint32_t &nr) override { return m_.tdx_keyids(start, nr); }
	const char *name() const override { return "recorder"; }
	bool dead() const override { return cut; }

	struct In {
		uint64_t rax;
		tdx::RegBlock regs;
	};
	std::vector<In> in;
	std::vector<In> of(uint16_t leaf) const
	{
		std::vector<In> v;
		for (const In &i : in)
			if ((i.rax & tdx::abi::kLeafNumberMask) == leaf)
				v.push_back(i);
		return v;
	}
	uint16_t cut_leaf = 0;
	int cut_nth = 0, cut_seen = 0;
	bool cut = false;

private:
	ModelBackend &m_;
};

/* One sequence of a TDH.SYS.RDALL list: its header (a field id) and its values. */
struct MdSequence {
	uint64_t *header;
	uint64_t *values;
	uint64_t count;
	uint16_t offset; /* of the header in the page */
};
/* The sequences of the list in the page at pa of fake physical memory (empty if malformed). */
std::vector<MdSequence> md_list_sequences(uint64_t pa);

} // namespace fake
