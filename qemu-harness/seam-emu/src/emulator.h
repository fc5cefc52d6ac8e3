// SPDX-License-Identifier: GPL-2.0
// The module with per-leaf counters, fault injection and the control commands.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "module.h"

namespace seam_emu {

/*
 * What fault rules and counters name: a leaf number (below leaf::kMax), or one of these points of
 * the P-SEAMLDR, which has no leaf numbers of its own.
 */
namespace fault_target {
inline constexpr u16 kSeamldrInfo = leaf::kMax;        /* "seamldr.info": SEAMLDR.INFO */
inline constexpr u16 kSeamldrInstall = leaf::kMax + 1; /* "seamldr.install": SEAMLDR.INSTALL, any LP */
/* "seamldr.load": the loading step of an install session's last LP, after the old module's memory
 * was modified (status and die only: the call is inside the model then). */
inline constexpr u16 kSeamldrLoad = leaf::kMax + 2;
inline constexpr u16 kCount = leaf::kMax + 3;
} // namespace fault_target

struct FaultRule {
	enum class Kind { kStatus, kDelay, kDie };
	u16 leaf;      /* a leaf number or a fault_target */
	u64 remaining; /* calls of `leaf` (from `lp`, if set) until it fires; fires when it reaches 0 */
	Kind kind;
	u64 status = 0;
	u64 delay_ms = 0;
	std::optional<u32> lp; /* only calls from this logical processor count */
};

/*
 * A leaf as the control protocol spells it: a decimal number below leaf::kMax, the short name of
 * include/tdx/abi/leaves.h ("sys.key.config"), its spec name ("TDH.SYS.KEY.CONFIG"), or one of the
 * older aliases (lp.init, key.config, tdmr.init, cache.wb); or a P-SEAMLDR fault target
 * ("seamldr.info", "seamldr.install", "seamldr.load"); case-insensitive. nullopt if unknown.
 */
std::optional<u16> parse_leaf(const std::string &s);
/* The short name of a leaf number or fault target, or its decimal number if the leaf table does not have it. */
std::string leaf_short_name(u16 leaf);

/* How a control connection's replies are written (the "format" command switches it). */
enum class ControlFormat {
	kJson, /* one JSON object per line, "ok" first (the default, for tools) */
	kKv,   /* "ok key=value ..." or "error <message>", nested values flattened (for the shell) */
};

class Emulator {
public:
	Emulator(const Profile &p, const GuestMemory &mem);

	/* One served call, as the --log line shows it. */
	struct CallRecord {
		u32 lp;
		u64 rax, rcx, rdx, r8, status, ns;
		bool forced;
	};

	/*
	 * Serve one SEAMCALL from LP `lp`. Thread-safe: calls from different LPs run concurrently.
	 * Counts it, applies fault rules, runs the module. Returns the completion status;
	 * *service_ns gets the time this function spent on the call: counting, fault rules and the
	 * module's seamcall (a delay fault included); logging comes after and is not part of it.
	 * A "die" rule calls the die handler (default: _exit(3)) before answering.
	 * With a log: if `later` is given the call's log record goes there, for queue_call_log()
	 * once the guest has its answer (logging is never part of a call); else it is written now.
	 */
	u64 serve(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns = nullptr, CallRecord *later = nullptr);

	/*
	 * Run one control command line (without its newline); returns one reply line ending in "\n"
	 * in *fmt's format. The "format" command changes *fmt (a connection's state).
	 */
	std::string control(const std::string &line, ControlFormat *fmt);
	std::string control(const std::string &line)
	{
		ControlFormat f = ControlFormat::kJson;
		return control(line, &f);
	}
	/* An error reply in `fmt` (for the transport, e.g. a line too long). */
	static std::string error_reply(const std::string &msg, ControlFormat fmt);

	void set_die_handler(std::function<void()> h) { die_ = std::move(h); }
	void set_log(std::FILE *f) { log_ = f; }
	/*
	 * The mailbox server queues each call's record after the answer, and its logger thread
	 * writes the queue (write_call_log + flush_log) when a slot thread goes idle or once
	 * kLogBatch records wait, so logging sits neither between a SEAMCALL and its answer nor
	 * between two calls of a burst.
	 */
	static constexpr size_t kLogBatch = 4096;
	bool logging() const { return log_ != nullptr; }
	void queue_call_log(const CallRecord &r);
	size_t pending_log_records() const { return pending_log_count_.load(std::memory_order_relaxed); }
	void write_call_log();
	void flush_log();

	/* Wake every delay fault now sleeping and make later ones return at once (shutdown). */
	void cancel_delays();

	/* Threads of the serving machinery count each return from a blocking wait (stats "wakeups"). */
	void note_wakeup() { wakeups_.fetch_add(1, std::memory_order_relaxed); }
	u64 wakeups() const { return wakeups_.load(std::memory_order_relaxed); }

	/* The directory of the profiles the control command "image NAME" loads images from. */
	void set_profile_dir(std::string dir) { profile_dir_ = std::move(dir); }
	/* A checkout of Intel's module-binaries repository, for the P-SEAMLDR's Intel-signed images. */
	void set_module_binaries(std::string dir) { module_.set_module_binaries(std::move(dir)); }

	/* Module::set_irq_source (the mailbox server: its slots' irq_req and doorbells). */
	void set_irq_source(Module::IrqSource *source) { module_.set_irq_source(source); }

	/* Test access: hold module_mutex() while looking at the module's state. */
	std::mutex &module_mutex() const { return module_.state_mutex(); }
	const Module &module() const { return module_; }
	u64 counter(u16 leaf) const;

private:
	struct Reply;
	void hold_for(u64 ms);
	/*
	 * The rules on `target` counted down by one call; what fires: a forced status, a delay (added
	 * up), death. Takes mu_.
	 */
	struct Fired {
		std::optional<u64> status;
		u64 delay_ms = 0;
		bool die = false;
	};
	Fired fire_rules(u16 target, u32 lp);
	/* The die handler's answer path: log, die; a test's handler returns VMfailInvalid. */
	u64 die_now(u32 lp, u64 rax);
	/* SEAMLDR.INSTALL's loading step: the "seamldr.load" rules (module_.set_seamldr_load_fault). */
	std::optional<u64> seamldr_load_fault(u32 lp);
	Reply cmd_fault(const std::vector<std::string> &args);
	Reply cmd_faults();
	Reply cmd_counters(const std::vector<std::string> &args);
	Reply cmd_leaves(const std::vector<std::string> &args);
	Reply cmd_state();
	Reply cmd_ext(const std::vector<std::string> &args);
	Reply cmd_image(const std::vector<std::string> &args);
	Reply cmd_td(const std::vector<std::string> &args);    /* "td ..." (TD lifecycle) */
	Reply cmd_quote(const std::vector<std::string> &args); /* "quote ..." (quoting) */
	Reply cmd_seamldr();                                   /* "seamldr" (the P-SEAMLDR) */
	Reply cmd_qe(const std::vector<std::string> &args);    /* "qe sign HEX" (the quoting enclave) */
	Reply cmd_stats();

	Module module_; /* thread-safe itself (its state_mutex()) */
	std::string profile_dir_; /* where "image NAME" finds NAME.json */

	/* Counters and fault rules: mu_ guards rules_; counters are atomics (read without it). */
	std::mutex mu_;
	std::array<std::atomic<u64>, fault_target::kCount> counters_{};
	std::vector<FaultRule> rules_;
	std::atomic<bool> have_rules_{false};
	std::atomic<u64> calls_{0};
	std::atomic<u64> service_ns_total_{0};
	std::atomic<u64> wakeups_{0};

	/* "qe sign" requests answered with a quote / with an error, and the last error (for "quote"). */
	std::mutex qe_mu_;
	u64 qe_signed_ = 0, qe_refused_ = 0;  /* guarded by qe_mu_ */
	std::string qe_last_refusal_ = "none"; /* guarded by qe_mu_ */

	std::mutex delay_mu_;
	std::condition_variable delay_cv_;
	bool delays_cancelled_ = false;

	std::function<void()> die_;
	std::FILE *log_ = nullptr;
	std::mutex log_mu_;
	std::mutex log_write_mu_;
	std::vector<CallRecord> pending_log_; /* guarded by log_mu_ */
	std::atomic<size_t> pending_log_count_{0};
};

} // namespace seam_emu
