// SPDX-License-Identifier: GPL-2.0
// The emulated TDX module: the dispatcher, the global state machine and the state the leaves share
// (ABI.md §1-§3). The leaves live in files named after their family: tdh_sys.cpp (SYS.INIT,
// LP.INIT, SYS.INFO, LP.SHUTDOWN, SYS.SHUTDOWN, SYS.DISABLE), tdh_sys_rd.cpp (SYS.RD, SYS.RDALL),
// tdh_sys_config.cpp (SYS.CONFIG, SYS.KEY.CONFIG, SYS.TDMR.INIT), tdh_phymem.cpp (PHYMEM.*),
// tdh_ext.cpp (EXT.MEM.ADD, EXT.INIT and the extensions' metadata), tdh_mng.cpp (the TD lifecycle
// leaves the TD harness uses, TDREPORTs, the emulator-only service), tdh_quote.cpp (QUOTE.INIT,
// QUOTE.GET), tdh_sys_update.cpp (SYS.UPDATE and what an installed update hands over), and
// seamldr.cpp (the P-SEAMLDR: SEAMLDR.INFO, SEAMLDR.INSTALL).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <tdx/abi/seamcall.h>
#include <tdx/abi/seamldr.h>
#include <tdx/abi/status.h>
#include <tdx/abi/tdmr.h>

#include <dice-quote/claims.h>
#include <dice-quote/result.h>

#include "ext_state.h"
#include "guest_memory.h"
#include "key_state.h"
#include "locks.h"
#include "lp_state.h"
#include "metadata.h"
#include "phymem_state.h"
#include "profile.h"
#include "seamldr_state.h"
#include "td_state.h"
#include "tdmr_check.h"

namespace seam_emu {

/*
 * What TDH.QUOTE.GET learns from a TDREPORT that Module::check_td_report() accepted: the
 * REPORTDATA and the TD's and the TDX module's measurements, as they were when the TD's measurement
 * was finalized (origin) and as the report carries them (current).
 */
struct ReportedTd {
	dice_quote::ReportData report_data{};
	dice_quote::TdMeasurements td_origin, td_current;
	dice_quote::SeamMeasurements seam_origin, seam_current;
};

enum class SysState { kSysinitPending, kSysinitDone, kSysconfigDone, kSysReady, kSysShutdown };
const char *sys_state_name(SysState s);

/* TDX_FEATURES0 bits that SYS.CONFIG v1 / SYS.UPDATE v1 may enable as add-ons (ABI.md §6). */
inline constexpr u64 kAddOnCapableFeatures = features0::kExt | features0::kQuote;
/* Add-ons that need the module extensions (EXT_REQUIRED, the memory pool) when enabled. */
inline constexpr u64 kAddOnsNeedingExt = features0::kQuote;

/* TDH.SYS.SHUTDOWN rcx: bits 15:0 the handoff version, bit 16 "avoid compat-sensitive". */
inline constexpr u64 kShutdownHvMask = 0xFFFF;
inline constexpr u64 kShutdownAvoidCompatSensitive = 1ull << 16;

class Module {
public:
	/* What TDH.SYS.TDMR.INIT writes into PAMT memory: "PAMTINIT" repeated. */
	static constexpr u64 kPamtInitPattern = 0x54494E49544D4150ull;

	Module(const Platform &platform, const ModuleImage &image, const GuestMemory &mem);
	Module(const Profile &p, const GuestMemory &mem) : Module(p.platform(), p.image(), mem) {}

	/*
	 * One SEAMCALL from logical processor `lp`: rax in, completion status out, regs in/out.
	 * Thread-safe: calls on different LPs may run concurrently (one at a time per LP, as on
	 * hardware). `hold` (may be empty) runs after the leaf did its work, while the leaf still
	 * holds the modelled TDX-module locks but outside state_mutex(), so calls on other LPs
	 * meanwhile meet the contention (TDX_SYS_BUSY / TDX_OPERAND_BUSY).
	 */
	u64 seamcall(u32 lp, u64 rax, RegBlock &regs, const std::function<void()> &hold = {});

	/* Guards the model's state: hold it while using any accessor below. */
	std::mutex &state_mutex() const { return mu_; }

	SysState state() const { return state_; }
	bool lp_initialized(u32 lp) const { return lps_.initialized(lp); }
	bool pkg_key_configured(u32 pkg) const { return keys_.package_configured(pkg); }
	bool all_lps_initialized() const { return lps_.all_initialized(); }
	bool all_pkgs_key_configured() const { return keys_.all_packages_configured(); }
	const std::vector<TdmrRuntime> &tdmrs() const { return tdmrs_; }
	unsigned tdmrs_initialized() const;
	u16 global_keyid() const { return keys_.global_keyid(); }
	u64 addons() const { return addons_; }
	u32 disable_progress() const { return disable_progress_; }
	/* The handoff version SYS.SHUTDOWN prepared its data for (valid until SYS.UPDATE took it). */
	bool handoff_valid() const { return handoff_valid_; }
	u16 handoff_hv() const { return handoff_hv_; }
	/* The P-SEAMLDR installed an update: the new image waits for SYS.UPDATE to take the handoff. */
	bool update_pending() const { return update_pending_; }
	const SeamldrState &seamldr() const { return seamldr_; }
	/* A TDX module is installed and no install session blocks it: module SEAMCALLs reach it. */
	bool module_reachable() const { return seamldr_.module_present && !seamldr_.session_open(); }
	const LpTable &lps() const { return lps_; }
	const KeyTable &keys() const { return keys_; }
	const PageOwners &pages() const { return pages_; }
	const ExtState &ext() const { return ext_; }
	/* The image reports module extensions (TDX_FEATURES0 bit 39): the EXT leaves exist. */
	bool ext_reported() const { return image_.tdx_features0 & features0::kExt; }

	/* Scan every pool page for host writes (control "ext check"); returns the pages newly found. */
	u64 check_ext_integrity() { return ext_.check(mem_); }
	/*
	 * QUOTE.INIT completed (or, with false, its result was dropped): MAX_QUOTE_SIZE becomes
	 * readable through SYS.RD/RDALL (or stops being). The quoting leaves call this; tests too.
	 */
	void set_quote_initialized(bool done);
	/*
	 * The platform loads another module image (control "image"): only while the module is in
	 * SYSINIT_PENDING (never initialized, or disabled) and no LP is inside it; the next bring-up
	 * then runs the new image (its features, extensions, pool size, quote size). The platform part
	 * is unchanged. False, with the reason, otherwise.
	 */
	bool replace_image(const ModuleImage &image, std::string *why);

	/*
	 * Where the P-SEAMLDR looks up Intel-signed images (a checkout of Intel's module-binaries
	 * repository; empty: it refuses them). Takes state_mutex() itself.
	 */
	void set_module_binaries(std::string dir);
	std::string module_binaries() const { return module_binaries_; }
	/*
	 * A fault point in SEAMLDR.INSTALL's loading step (after the old module's memory was
	 * modified): called there with the calling LP, under state_mutex(); a status makes the install
	 * fail with it (the emulator's fault rule "seamldr.load"). Set once, before serving.
	 */
	using LoadFault = std::function<std::optional<u64>(u32 lp)>;
	void set_seamldr_load_fault(LoadFault f) { load_fault_ = std::move(f); }
	/* The control command reset-counters. Takes state_mutex() itself. */
	void reset_seamldr_counters();
	const SharexLock &global_lock() const { return global_lock_; }

	const Platform &platform() const { return platform_; }
	const ModuleImage &image() const { return image_; }
	/* Both parts as one Profile (a copy). */
	Profile profile() const;
	const GlobalMetadata &metadata() const { return metadata_; }
	const GuestMemory &memory() const { return mem_; }

	/*
	 * TDH.QUOTE.GET's check of its input (tdh_mng.cpp): `report` (tdreport::kSize bytes) must carry
	 * this emulator's MAC and its hashes must match its TEE_TCB_INFO and TDINFO, and its TDINFO must
	 * be that of the TD whose TDR is at tdr_pa (a TD whose measurement is finalized). TDX_SUCCESS
	 * and *out filled, or the status QUOTE.GET answers: operand id RCX for a TDR that is not such
	 * a TD, R8 for a report that is not genuine or not that TD's. Caller holds state_mutex().
	 */
	u64 check_td_report(u64 tdr_pa, const u8 *report, ReportedTd *out) const;
	/* The TDs (td_state.h); a TD build in progress: created, neither finalized nor torn down. */
	const TdTable &tds() const { return tds_; }
	bool td_build_in_progress() const { return tds_.build_in_progress(); }

	/* Leaves this model runs (the others answer TDX_OPERAND_INVALID, as unknown leaves do). */
	static bool implemented(u16 leaf);

private:
	/* One SEAMCALL in progress: its registers and the module locks it holds until it leaves. */
	struct Call {
		u32 lp;
		u16 leaf;
		u8 version;
		RegBlock &regs;
		HeldLocks locks;
	};

	u64 dispatch(Call &c, u64 rax);
	u64 run_leaf(Call &c);

	/* ---- the P-SEAMLDR: seamldr.cpp (and seamldr_state.h) ---- */
	/* One P-SEAMLDR call: one LP inside at a time, `hold` (a delay fault) inside it. */
	u64 seamldr_seamcall(Call &c, u64 rax, std::unique_lock<std::mutex> &g, const std::function<void()> &hold);
	u64 seamldr_info(Call &c);
	u64 seamldr_install(Call &c);
	/* The last LP of a session: the checks, then the install; *rdx the recoverability. */
	u64 seamldr_install_last(u32 lp, u64 params_pa, u64 *rdx, std::string *why);
	u64 check_seamldr_params(const SeamldrParams &p, std::string *why) const;
	u64 check_install_scenario(bool update, std::string *why) const;
	u64 check_install_sigstruct(const Sigstruct &s, bool update, std::string *why) const;
	u64 installed_image(const Sigstruct &s, const std::vector<u8> &pages, ModuleImage *out, std::string *why) const;
	u64 check_install_handoff(const Sigstruct &s, std::string *why) const;
	/* The new image runs: an update hands the old module's state over, a load starts afresh. */
	void install_image(const ModuleImage &next, bool update);
	/* ---- end P-SEAMLDR ---- */

	/* tdh_sys.cpp */
	u64 tdh_sys_init(Call &c);
	u64 tdh_sys_lp_init(Call &c);
	u64 tdh_sys_info(Call &c);
	u64 tdh_sys_lp_shutdown(Call &c);
	u64 tdh_sys_shutdown(Call &c);
	u64 tdh_sys_disable(Call &c);
	void reset_to_sysinit_pending();
	/* tdh_sys_update.cpp */
	u64 tdh_sys_update(Call &c);
	/* SYS.UPDATE: the extensions as the new image and the handed-over add-ons need them. */
	void resume_ext(u64 addons);
	/* tdh_sys_rd.cpp */
	u64 tdh_sys_rd(Call &c);
	u64 tdh_sys_rdall(Call &c);
	/* tdh_sys_config.cpp */
	u64 tdh_sys_config(Call &c);
	u64 tdh_sys_key_config(Call &c);
	u64 tdh_sys_tdmr_init(Call &c);
	u64 read_tdmr_infos(u64 array_pa, u64 count, std::vector<TdmrDesc> *out) const;
	void init_pamt_range(const TdmrRuntime &t, u64 start, u64 len) const;
	/* tdh_phymem.cpp */
	u64 tdh_phymem_cache_wb(Call &c);
	/* ---- TD lifecycle: tdh_mng.cpp (and td_state.h) ---- */
	u64 tdh_mng_addcx(Call &c);
	u64 tdh_mng_key_config(Call &c);
	u64 tdh_mng_create(Call &c);
	u64 tdh_mr_extend(Call &c);
	u64 tdh_mr_finalize(Call &c);
	u64 tdh_mng_key_freeid(Call &c);
	u64 tdh_mng_init(Call &c);
	u64 tdh_phymem_page_reclaim(Call &c);
	/* An emulator-only service request (include/tdx/emu/service.h). */
	u64 emu_service(Call &c, u64 rax);
	/* SYS.DISABLE: every TD is gone. */
	void reset_tds();
	/* A page MNG.CREATE / MNG.ADDCX is given: in initialized TDMR memory, not reserved, not owned. */
	u64 check_new_td_page(u64 pa, u64 operand_id) const;
	/* The TD whose TDR is at tdr_pa, its lock taken for the call (*out set on success). */
	u64 lock_td(Call &c, u64 tdr_pa, u64 operand_id, Td **out);
	u64 find_td(u64 tdr_pa, u64 operand_id, const Td **out) const;
	/* Keys configured everywhere, every TDCS page added, and the TD in op state `want`. */
	u64 check_td_state(const Td &td, TdOpState want) const;
	/* A TD whose measurement is final (RUNNABLE): what a TDREPORT needs. */
	u64 find_runnable_td(u64 tdr_pa, u64 operand_id, const Td **out) const;
	unsigned tdcs_pages_needed() const;
	u64 reclaim_tdcs_page(Call &c, u64 pa);
	u64 reclaim_tdr_page(Call &c, u64 pa);
	u64 emu_td_report(Call &c);
	/* ---- end TD lifecycle ---- */

	/* ---- quoting: tdh_quote.cpp (and quote_state.h) ---- */
public:
	/* What the control command "quote" shows (caller holds state_mutex()). */
	struct QuoteInfo {
		bool reported = false;     /* the image has QUOTE (TDX_FEATURES0 bit 50) */
		bool initialized = false;  /* QUOTE.INIT completed: a chain exists */
		u32 init_progress = 0;     /* calls of the QUOTE.INIT in progress */
		bool get_in_progress = false;
		u64 inits_completed = 0, gets_completed = 0, refused = 0;
		std::optional<u64> last_refusal;
		u64 last_quote_length = 0;
		std::optional<dice_quote::Digest48> layer2_measurement; /* the chain's MRSEAM */
		u32 pad = 0;                                            /* set_quote_pad() */
		u64 gets_interrupted = 0; /* QUOTE.GET waits ended by an interrupt at the caller */
		bool signer_held = false; /* set_quote_signer_hold() */
		int signer_policy = -1;   /* quote_signer_policy() */
	};
	QuoteInfo quote_info() const;
	/*
	 * The control command "quote pad N" (tests of quotes too large for a buffer): every quote
	 * signed from now on, QUOTE.GET's (requests whose first call comes later) and the QE's, gets
	 * N zero bytes appended after the signed quote; 0 turns it off. Kept for the emulator's life.
	 * Caller holds state_mutex().
	 */
	static constexpr u32 kMaxQuotePad = 65536;
	void set_quote_pad(u32 n);
	/* The control command "quote hold-signer on|off" (tests): QUOTE.GET's signatures wait. */
	void set_quote_signer_hold(bool on);
	/*
	 * The signing thread's scheduling policy now: SCHED_OTHER while a call waits for a signature,
	 * else SCHED_IDLE (SCHED_OTHER throughout where the host would not let it back); -1 before
	 * its first signature. The signer's own lock: callable from inside a call.
	 */
	int quote_signer_policy() const;
	/*
	 * The caller's interrupts (the mailbox slot's irq_req, mailbox.h, "Host interrupts"): a real
	 * module polls for a pending host interrupt in its long flows and answers
	 * INTERRUPTED_RESUMABLE at once. QUOTE.GET's wait for its signature asks pending() and
	 * blocks in wait(), which returns when done_fd is readable, when the guest rings lp's doorbell
	 * (it does when it marks an interrupt), or after timeout.
	 */
	class IrqSource {
	public:
		virtual ~IrqSource() = default;
		virtual bool pending(u32 lp) = 0;
		virtual void wait(u32 lp, int done_fd, std::chrono::nanoseconds timeout) = 0;
	};
	/* Set once, before any call is served (the source outlives the calls); unset: never pending. */
	void set_irq_source(IrqSource *source) { irq_source_ = source; }
	/*
	 * The DICE root certificate (PEM) that every quote of this emulator chains to: made once,
	 * from the root seed alone, and the same for the emulator's life. Empty if it could not be
	 * made. Caller holds state_mutex().
	 */
	std::string quote_root_pem();
	/*
	 * The control command "quote bench N": the last signed QUOTE.GET's work (check, sign, write
	 * the pages) done N times inside the emulator, for the benchmark's raw rate. Takes
	 * state_mutex() itself: the caller must not hold it.
	 */
	struct QuoteBench {
		u64 quotes = 0, ns = 0, quote_bytes = 0;
		std::string error; /* empty when all N were made */
	};
	QuoteBench quote_bench(u32 n);
	/*
	 * The platform's quoting enclave (control "qe sign"; the userspace GetQuote path): the quote
	 * TDH.QUOTE.GET would make of `report` (tdreport::kSize bytes), after the same check, signed
	 * by a chain of the running module under the same root, whatever the image's features and
	 * QUOTE.INIT. Takes state_mutex() itself: the caller must not hold it.
	 */
	struct QeQuote {
		dice_quote::Bytes quote;
		std::string error; /* empty when signed; "report refused: <why>" or another failure */
	};
	QeQuote qe_sign(const u8 *report);

private:
	class QuoteState; /* quote_state.h */
	struct QuoteStateDeleter {
		void operator()(QuoteState *q) const;
	};
	using QuoteStatePtr = std::unique_ptr<QuoteState, QuoteStateDeleter>;
	static QuoteStatePtr make_quote_state();
	u64 tdh_quote_init(Call &c);
	u64 tdh_quote_get(Call &c);
	u64 quote_enter(Call &c);
	u64 quote_get_start(Call &c);
	u64 quote_get_continue(Call &c);
	u64 quote_signed(const dice_quote::Result<dice_quote::Bytes> &quote, u64 r11) const;
	dice_quote::QuoteClaims quote_claims(const ReportedTd &rep) const;
	u64 quote_refused(u64 status);
	std::string qe_check_report(const u8 *report, ReportedTd *out) const;
	/* SYS.DISABLE: quoting forgets its keys and any request in progress. */
	void reset_quote();
	/* ---- end quoting ---- */

	/* tdh_ext.cpp */
	u64 tdh_ext_mem_add(Call &c);
	u64 tdh_ext_init(Call &c);
	u64 ext_mem_add_entry(u64 pa, u64 list_pa, ExtReject *why);
	/* SYS.CONFIG on an EXT module: what the enabled add-ons make the extensions need. */
	void configure_ext(u64 addons);
	/* Make the extensions' metadata fields readable (or not) as ext_ says. */
	void publish_ext_metadata();

	mutable std::mutex mu_;
	const Platform platform_;
	ModuleImage image_; /* what the P-SEAMLDR will replace */
	const GuestMemory &mem_;
	GlobalMetadata metadata_;

	/* Everything below is guarded by mu_. */
	SysState state_ = SysState::kSysinitPending;
	SharexLock global_lock_; /* the module's global_lock */
	LpTable lps_;
	KeyTable keys_;
	/* Stable while any call might hold a TDMR's lock: only SYS.CONFIG (exclusive, before SYS_READY,
	 * so no TDMR.INIT can run) and SYS.DISABLE (no other LP inside) change it. */
	std::vector<TdmrRuntime> tdmrs_;
	PageOwners pages_;
	ExtState ext_;
	/* ---- TD lifecycle state (td_state.h) ---- */
	TdTable tds_;
	TdReportKey report_key_; /* drawn at construction, never shown */
	/* ---- end TD lifecycle state ---- */
	/* ---- quoting state (quote_state.h) ---- */
	QuoteStatePtr quote_ = make_quote_state();
	IrqSource *irq_source_ = nullptr; /* set_irq_source() */
	/* ---- end quoting state ---- */
	u64 addons_ = 0;
	u32 disable_progress_ = 0;
	/* SYS.SHUTDOWN's handoff data, for the SYS.UPDATE of the image that comes next. */
	bool handoff_valid_ = false;
	u16 handoff_hv_ = 0;
	bool update_pending_ = false;
	/* ---- P-SEAMLDR state (seamldr_state.h) ---- */
	SeamldrState seamldr_{platform_};
	std::string module_binaries_;
	LoadFault load_fault_;
	/* ---- end P-SEAMLDR state ---- */
};

} // namespace seam_emu
