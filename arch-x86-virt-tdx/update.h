/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime TDX module update (ABI.md §4, §10), the parts that decide rather than do:
 *  - Seamldr: SEAMLDR.INFO and SEAMLDR.INSTALL, one CPU inside the P-SEAMLDR at a time;
 *  - preflight(): what can be known to fail before anything stops. The P-SEAMLDR checks the same
 *    things again inside the window, but by then the old module is shut down and a refusal leaves
 *    no TDX module; so every refusal the kernel can predict from public facts (SEAMLDR.INFO, the
 *    running module's handoff version, the CPU, the image's sigstruct and hash) is made here, and
 *    the old module keeps running;
 *  - UpdateRendezvous: the CPUs of the stop_machine window walk the steps together, each step
 *    acknowledged by every CPU before the next begins, a failure on any CPU seen by all at once.
 */
#pragma once

#include <kapi/kapi.h>
#include <tdx/abi/seamldr.h>

#include "seamcall.h"

namespace tdx {

namespace leaves {
inline constexpr Leaf kSeamldrInfo = Leaf::seamldr(abi::kSeamldrInfo);
inline constexpr Leaf kSeamldrInstall = Leaf::seamldr(abi::kSeamldrInstall);
} // namespace leaves

class Seamldr {
public:
	explicit Seamldr(Seamcall &sc) : sc_(sc) {}
	/* SEAMLDR.INFO into a page of its own (may sleep): -EIO (logged) when the P-SEAMLDR refuses. */
	Status info(abi::SeamldrInfo &out);
	/* SEAMLDR.INSTALL of the seamldr_params page at params_pa, on this CPU; never sleeps or logs. */
	TdxStatus install(u64 params_pa);

private:
	/* Every P-SEAMLDR call goes through here, under the P-SEAMLDR lock. */
	TdxStatus call(Leaf leaf, RegBlock &regs);
	Seamcall &sc_;
};

/* What the running platform says, gathered before the window (preflight's inputs). */
struct UpdateFacts {
	abi::SeamldrInfo seamldr;        /* a fresh SEAMLDR.INFO */
	u16 module_hv = 0;               /* the running module's MODULE_HV, read fresh */
	u32 cpu_signature = 0;           /* CPUID.1.EAX of the platform */
	bool signature_ok = false;       /* the sigstruct's RSA signature verifies with its own key */
	u8 signer_id[48] = {};           /* SHA-384 of the new sigstruct's modulus, as stored */
	u8 module_hash[48] = {};         /* SHA-384 of the new module image */
};

enum class UpdateRefusal : u8 {
	kNone,
	kNoModule,            /* SEAMLDR.INFO reports no TDX module loaded */
	kNoUpdatesLeft,       /* num_remaining_updates is 0 */
	kBadSigstruct,        /* a header constant of the sigstruct is wrong */
	kBadSignature,        /* its RSA signature does not verify (with the key it carries) */
	kUntrustedSigner,     /* not signed by the signer of the running module (MRSIGNERSEAM) */
	kMajorSvnChange,      /* a TD-preserving update keeps the major SVN */
	kSvnDowngrade,        /* the minor SVN may not go down */
	kUnsupportedCpu,      /* the CPU is not in the sigstruct's CPUID table */
	kDebugImage,          /* a debug-signed image for a production module */
	kIncompatibleHandoff, /* the running MODULE_HV is outside the new [min_update_hv, module_hv] */
	kBadHash,             /* the module image is not the one the sigstruct signs (seamhash) */
};
/* Stable short name ("no-updates-left") for logs and tests. */
const char *update_refusal_code(UpdateRefusal r);

/* The first refusal that applies, in the order listed above, or kNone. */
UpdateRefusal preflight(const abi::Sigstruct &s, const UpdateFacts &f);

/* What the window needs, prepared before it (nothing is allocated inside). */
struct UpdatePlan {
	u16 handoff_hv = 0; /* the running module's MODULE_HV, for TDH.SYS.SHUTDOWN */
	u64 params_pa = 0;  /* the seamldr_params page */
};

/* The steps of the window, in order (ABI.md §10); kStart is before the first, kDone after the last. */
enum class UpdateStep : u8 {
	kStart,
	kShutdown,   /* lead CPU: TDH.SYS.SHUTDOWN */
	kInstall,    /* every CPU: SEAMLDR.INSTALL */
	kSysInit,    /* lead CPU: TDH.SYS.INIT of the new module */
	kLpInit,     /* every CPU: TDH.SYS.LP.INIT */
	kSysUpdate,  /* lead CPU: TDH.SYS.UPDATE (v1 with the bring-up's add-ons) */
	kExtensions, /* lead CPU: extensions again, without allocating */
	kQuote,      /* lead CPU: QUOTE.INIT again (re-key), MAX_QUOTE_SIZE against the buffer */
	kDone,
};
inline constexpr u8 kUpdateSteps = u8(UpdateStep::kDone) + 1; /* kStart .. kDone */
const char *update_step_name(UpdateStep s);
/* Whether every CPU runs the step, or the lead CPU alone while the others wait. */
constexpr bool update_step_on_every_cpu(UpdateStep s) { return s == UpdateStep::kInstall || s == UpdateStep::kLpInit; }

/*
 * The CPUs of a window, counted under the CPU hotplug lock before stop_machine takes it (and
 * checked again inside): the lead CPU (the first online one) and how many there are.
 */
struct WindowCpus {
	unsigned lead = 0;
	u32 nr = 0;
};
WindowCpus window_cpus();

class UpdateRendezvous {
public:
	struct Failure {
		UpdateStep step = UpdateStep::kStart;
		u32 cpu = 0;
		int err = 0;    /* -errno */
		u64 status = 0; /* the TDX or P-SEAMLDR status, when a call failed */
	};

	/* Before the window: nr_cpus CPUs will take part; the first step is kShutdown. */
	void start(u32 nr_cpus);
	UpdateStep step() const { return UpdateStep(__atomic_load_n(&step_, __ATOMIC_ACQUIRE)); }
	bool failed() const { return __atomic_load_n(&failed_, __ATOMIC_ACQUIRE); }
	/*
	 * cpu finished step s with err (0 or -errno; status the call's). The first failure is kept;
	 * once every CPU has acked a step and none failed, the step after it begins.
	 */
	void ack(UpdateStep s, u32 cpu, int err, u64 status);
	/* After the window: the first failure (step kStart when there was none). */
	const Failure &failure() const { return failure_; }
	/*
	 * After the window: when step s ended (kapi_ktime_ns, read by the CPU whose ack completed it,
	 * or by the first CPU that failed it), 0 if it did not.
	 */
	u64 ended_ns(UpdateStep s) const { return ended_ns_[u8(s)]; }

	/*
	 * One CPU's walk through the window: runs do_step(step) for each step as it begins, acks it,
	 * and waits (relaxing, touching the watchdogs) for the next; returns when the window is done
	 * or failed. do_step returns the -errno and sets *status.
	 */
	template <class Fn> void walk(u32 cpu, Fn do_step)
	{
		UpdateStep done = UpdateStep::kStart;
		for (;;) {
			const UpdateStep s = step();
			if (failed() || s == UpdateStep::kDone)
				return;
			if (s == done) {
				kapi_cpu_relax();
				kapi_touch_watchdogs();
				continue;
			}
			done = s;
			u64 status = 0;
			const int err = do_step(s, &status);
			ack(s, cpu, err, status);
		}
	}

private:
	u32 nr_cpus_ = 0;
	u32 acks_ = 0;
	u8 step_ = u8(UpdateStep::kStart);
	bool failed_ = false;           /* published after failure_ */
	bool failure_recorded_ = false; /* taken by the first failing CPU */
	Failure failure_;
	u64 ended_ns_[kUpdateSteps] = {};
};

/*
 * Where the time of the last window went (make bench reads it through the test build), in ns of
 * kapi_ktime_ns. phase_ns[kStart]: from the stop_machine call until the lead CPU was in the window;
 * phase_ns[s] for each step: from its beginning (the end of the one before) until every CPU had
 * acked it, or one failed it (0 for the steps after); phase_ns[kDone]: from the end of the last
 * step that ran until the last CPU left the window's function (released: stop_machine lets them
 * go at once). total_ns, the call to that release, is their sum: the time every CPU was stopped
 * (the blackout). How long the caller then takes to be scheduled again is not in it. Recorded
 * with a clock read per step in the window, nothing printed or allocated there.
 */
struct UpdateTiming {
	u32 windows = 0; /* windows run since load (0: none yet; the rest is then zero) */
	u32 nr_cpus = 0;
	bool ok = false; /* the window ran every step */
	u64 total_ns = 0;
	u64 phase_ns[kUpdateSteps] = {};
};
/* The phases of a window from its clock reads: the call, the lead CPU's entry, the release. */
UpdateTiming window_timing(const UpdateRendezvous &r, u64 called_ns, u64 entered_ns, u64 released_ns);

/* *latest = max(*latest, now), from any CPU (each CPU's release from a stop_machine function). */
inline void note_latest(u64 *latest, u64 now)
{
	u64 seen = __atomic_load_n(latest, __ATOMIC_RELAXED);
	while (seen < now && !__atomic_compare_exchange_n(latest, &seen, now, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
	}
}

} // namespace tdx
