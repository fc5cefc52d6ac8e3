// SPDX-License-Identifier: GPL-2.0
// The quoting extension's state (seam-emu README, "Quoting"): the platform's DICE root seed, the
// chain TDH.QUOTE.INIT made, QUOTE.INIT's progress, the TDH.QUOTE.GET request in progress, and
// counters for the control channel. Guarded by Module::state_mutex().
#pragma once

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <memory>
#include <optional>
#include <pthread.h>
#include <string>
#include <vector>

#include <tdx/abi/td.h>

#include <dice-quote/dice_quote.h>

#include "locks.h"
#include "module.h"

namespace seam_emu {

/* An eventfd, closed with its owner; signal() makes it readable. */
class EventFd {
public:
	EventFd();
	~EventFd();
	EventFd(const EventFd &) = delete;
	EventFd &operator=(const EventFd &) = delete;
	int get() const { return fd_; }
	void signal() const;

private:
	int fd_;
};

/*
 * The thread that makes QUOTE.GET's signatures beside the calls (profile quote.sign_budget_us > 0),
 * started at the first signature, one job at a time. Its priority follows its callers': while
 * someone waits for a signature (an Urgent lives: a QUOTE.GET call inside its budget, the raw
 * bench) it runs at the host's normal priority (SCHED_OTHER at the process's nice), as a real
 * module makes the signature on the calling CPU inside the call; otherwise at the host's idle
 * priority (SCHED_IDLE), so that between calls it takes no CPU from a vCPU doing other work.
 * At SCHED_IDLE throughout, a vCPU spinning in the call on the signer's host CPU starved it (a
 * signature took seconds). A host that does not let a thread leave SCHED_IDLE (no CAP_SYS_NICE)
 * keeps it at normal priority throughout.
 */
class Signer {
public:
	using Job = std::function<dice_quote::Result<dice_quote::Bytes>()>;
	Signer() = default;
	~Signer();
	Signer(const Signer &) = delete;
	Signer &operator=(const Signer &) = delete;
	/* done (may be null) is signalled once the future is ready. */
	std::future<dice_quote::Result<dice_quote::Bytes>> submit(Job job, std::shared_ptr<const EventFd> done = {});
	/* While held (control "quote hold-signer on"), no queued signature starts. */
	void hold(bool on);
	bool held() const;

	/* Someone waits for a signature while this lives: the thread runs at normal priority. */
	class Urgent {
	public:
		explicit Urgent(Signer &s) : s_(s) { s_.urgent(+1); }
		~Urgent() { s_.urgent(-1); }
		Urgent(const Urgent &) = delete;
		Urgent &operator=(const Urgent &) = delete;

	private:
		Signer &s_;
	};
	/* The thread's scheduling policy now (SCHED_IDLE or SCHED_OTHER); -1 before it started. */
	int policy() const;
	/*
	 * Whether the thread may go back from SCHED_IDLE to SCHED_OTHER: probed at the first
	 * signature on a thread of its own, with the capabilities of the thread that submits it
	 * (which the signing thread inherits).
	 */
	bool idle_is_reversible() const;

private:
	void loop();
	void urgent(int delta);
	/* Sets `t`'s policy from urgent_ (SCHED_IDLE only when it can be undone). Caller holds mu_. */
	void apply_policy(pthread_t t) const;
	mutable std::mutex mu_;
	std::condition_variable cv_;
	struct Queued {
		std::packaged_task<dice_quote::Result<dice_quote::Bytes>()> task;
		std::shared_ptr<const EventFd> done;
	};
	std::deque<Queued> jobs_; /* guarded by mu_ */
	bool stop_ = false;                                                           /* guarded by mu_ */
	bool held_ = false;                                                           /* guarded by mu_ */
	int urgent_ = 0;                                                              /* guarded by mu_ */
	bool idle_reversible_ = false;                                                /* guarded by mu_ */
	std::thread thread_;
};

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

	/*
	 * QUOTE.INIT: calls of the one in progress; the chain of the last one completed (shared with
	 * a signing in progress, which a re-key must not pull from under it).
	 */
	u32 init_progress = 0;
	std::shared_ptr<const dice_quote::DiceChain> chain;

	/*
	 * A QUOTE.GET being signed or written out; dropped when another one starts. With a sign
	 * budget the signature is made beside the calls (`signing`) until one of them takes it.
	 */
	struct Request {
		QuoteGetRegs regs;
		std::vector<u64> pages; /* the buffer's data pages, in order (r11 / 4096 of them) */
		std::future<dice_quote::Result<dice_quote::Bytes>> signing;
		/* An eventfd the signing job writes when it is done (a wait can block on it). */
		std::shared_ptr<const EventFd> signed_fd;
		dice_quote::Bytes quote; /* empty while signing */
		u64 next_page = 0;       /* buffer pages written so far */
	};
	std::optional<Request> request;

	/* The last request that was signed, for the control command "quote bench" to do again. */
	struct Work {
		u64 tdr = 0;
		std::array<u8, tdreport::kSize> report{};
		u64 pages = 0;
	};
	std::optional<Work> last_work;

	/*
	 * The platform's quoting enclave (control "qe sign") signs with the chain of the module running
	 * now: QUOTE.INIT's when it is that module's, else a chain of its own, made from the same seed
	 * at its first use and made again when the module changes. QUOTE.INIT is not needed (an image
	 * without QUOTE still has a QE); SYS.DISABLE keeps the QE's chain (it is not the module's).
	 * nullptr if a chain cannot be made.
	 */
	std::shared_ptr<const dice_quote::DiceChain> chain_for(const dice_quote::ChainInputs &in);
	std::shared_ptr<const dice_quote::DiceChain> qe_chain;

	/* Declared last, so destroyed first: it finishes the signatures queued, then its thread ends. */
	Signer signer;

	/* For the emulator's life (SYS.DISABLE keeps them). */
	u64 inits_completed = 0, gets_completed = 0, refused = 0;
	/* QUOTE.GET calls that stopped waiting for the signature because the caller's CPU had an
	 * interrupt pending (Module::set_irq_source). */
	u64 gets_interrupted = 0;
	std::optional<u64> last_refusal;
	u64 last_quote_length = 0;
	/* Zero bytes appended to every quote signed (control "quote pad"); for the emulator's life. */
	u32 pad = 0;

	/* SYS.DISABLE: the chain, QUOTE.INIT's progress and the request go; seed and root stay. */
	void reset()
	{
		init_progress = 0;
		chain.reset();
		request.reset();
		last_work.reset();
	}

private:
	dice_quote::Bytes root_seed_;
	std::string root_pem_;
};

} // namespace seam_emu
