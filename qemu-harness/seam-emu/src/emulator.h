// SPDX-License-Identifier: GPL-2.0
// The module behind a lock, with per-leaf counters, fault injection and the control commands.
#pragma once

#include <array>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "module.h"

namespace seam_emu {

struct FaultRule {
	enum class Kind { kStatus, kDelay, kDie };
	u16 leaf;
	u64 remaining; /* calls of `leaf` until it fires; fires when it reaches 0 */
	Kind kind;
	u64 status = 0;
	u64 delay_ms = 0;
};

/* Leaf name or decimal number as the control protocol spells it; nullopt if unknown. */
std::optional<u16> parse_leaf(const std::string &s);

class Emulator {
public:
	Emulator(const Profile &p, const GuestMemory &mem);

	/*
	 * Serve one SEAMCALL from LP `lp` (thread-safe): counts it, applies fault rules, runs the
	 * module. Returns the completion status; *service_ns gets the time spent here.
	 * A "die" rule calls the die handler (default: _exit(3)) before answering.
	 */
	u64 serve(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns = nullptr);

	/* Run one control command line (without its newline); returns one JSON object + "\n". */
	std::string control(const std::string &line);

	void set_die_handler(std::function<void()> h) { die_ = std::move(h); }
	void set_log(std::FILE *f) { log_ = f; }
	/*
	 * With deferred logging, serve() only records the call: the mailbox server answers the guest
	 * first and then writes the line (write_call_log), flushing the log when it goes idle
	 * (flush_log), so logging never sits between a SEAMCALL and its answer.
	 */
	void set_deferred_logging(bool on) { defer_log_ = on; }
	void write_call_log();
	void flush_log();

	/* Test access: hold the lock while looking at the module. */
	std::mutex &mutex() { return mu_; }
	const Module &module() const { return module_; }
	u64 counter(u16 leaf) const;

private:
	u64 serve_locked_parts(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns);
	std::string cmd_fault(const std::vector<std::string> &args);
	std::string cmd_state();

	std::mutex mu_;
	Module module_;
	std::array<u64, leaf::kMax> counters_{};
	std::vector<FaultRule> rules_;
	u64 calls_ = 0;
	u64 service_ns_total_ = 0;
	std::function<void()> die_;
	std::FILE *log_ = nullptr;
	bool defer_log_ = false;
	struct CallRecord {
		u32 lp;
		u64 rax, rcx, rdx, r8, status, ns;
		bool forced;
	};
	std::vector<CallRecord> pending_log_; /* guarded by mu_ */
};

} // namespace seam_emu
