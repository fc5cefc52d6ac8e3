// SPDX-License-Identifier: GPL-2.0
// The quoting extension's state (seam-emu README, "Quoting"): the platform's DICE root seed, the
// chain TDH.QUOTE.INIT made, QUOTE.INIT's progress, the TDH.QUOTE.GET request in progress, and
// counters for the control channel. Guarded by Module::state_mutex().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <dice-quote/dice_quote.h>

#include "locks.h"
#include "module.h"

namespace seam_emu {

/* QUOTE.GET's input registers: a call with the same ones continues the request in progress. */
struct QuoteGetRegs {
	u64 rcx = 0, rdx = 0, r8 = 0, r9 = 0, r10 = 0, r11 = 0;
	static QuoteGetRegs of(const RegBlock &r) { return {r.rcx, r.rdx, r.r8, r.r9, r.r10, r.r11}; }
	bool operator==(const QuoteGetRegs &) const = default;
};

class Module::QuoteState {
public:
	/* The root seed: 48 random bytes, drawn once (the platform's unique device secret). */
	static constexpr size_t kRootSeedBytes = 48;

	QuoteState();

	const dice_quote::Bytes &root_seed() const { return root_seed_; }
	/* The root certificate exported so far (empty until the first chain was made). */
	const std::string &root_pem() const { return root_pem_; }
	/* Keep the first root certificate made: later chains have the same root key and name. */
	void note_root(const dice_quote::DiceChain &chain)
	{
		if (root_pem_.empty())
			root_pem_ = chain.root_pem();
	}

	/* The module's quoting lock: one QUOTE.INIT / QUOTE.GET inside at a time. */
	MutexLock lock;

	/* QUOTE.INIT: calls of the one in progress; the chain of the last one completed. */
	u32 init_progress = 0;
	std::optional<dice_quote::DiceChain> chain;

	/* A QUOTE.GET signed and being written out; dropped when another one starts. */
	struct Request {
		QuoteGetRegs regs;
		std::vector<u64> pages; /* the buffer's data pages, in order (r11 / 4096 of them) */
		dice_quote::Bytes quote;
		u64 next_page = 0; /* buffer pages written so far */
	};
	std::optional<Request> request;

	/* For the emulator's life (SYS.DISABLE keeps them). */
	u64 inits_completed = 0, gets_completed = 0, refused = 0;
	std::optional<u64> last_refusal;
	u64 last_quote_length = 0;

	TdReportCheck report_check_for_tests;

	/* SYS.DISABLE: the chain, QUOTE.INIT's progress and the request go; seed and root stay. */
	void reset()
	{
		init_progress = 0;
		chain.reset();
		request.reset();
	}

private:
	dice_quote::Bytes root_seed_;
	std::string root_pem_;
};

} // namespace seam_emu
