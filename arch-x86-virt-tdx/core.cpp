// SPDX-License-Identifier: GPL-2.0
/*
 * The core's C entry points and TdxHost, the one owner of the TDX module's software state: the
 * SEAMCALL backend, the bring-up and its status. Bring-up, teardown, sysfs reads, the KUnit hooks
 * (and later runtime update and quoting) all go through it, under its lock.
 */
#include <kapi/kapi.h>
#include <kstd/guard.h>
#include <kstd/lazy_init.h>

#include "backend.h"
#include "bringup.h"
#include "core.h"
#include "td.h"
#include "update.h"
#include "update_image.h"

namespace tdx {
namespace {

/* Globals without constructors: built from tdx_core_init, destroyed in tdx_core_exit. */
kstd::LazyInit<EmuBackend> g_emu;
kstd::LazyInit<HwBackend> g_hw;
kstd::LazyInit<Seamcall> g_seamcall;
kstd::LazyInit<TdxModule> g_module;
TdxHost g_host;

/*
 * The emulator backend over its device, after the handshake (EmuBackend::probe). The backend owns
 * the device from here on: destroying it releases the device.
 */
Result<SeamcallBackend *> start_emu(const tdx_core_params &p, const kapi_emu_device &dev)
{
	EmuBackend &emu = g_emu.init(dev, u64(p.seamcall_timeout_ms) * 1000000);
	emu.hold_device();
	Status s = emu.probe(kapi_nr_cpu_ids());
	if (s.is_error()) {
		kapi_log(KAPI_LOG_ERR, "no usable emulator mailbox (%d)\n", s.to_kernel());
		g_emu.destroy();
		return s;
	}
	return static_cast<SeamcallBackend *>(&emu);
}

/*
 * seamcall=auto uses the emulator when its device is bound and carries a published mailbox (the
 * magic), else the instruction; emu requires the emulator; hw never looks at the device.
 */
Result<SeamcallBackend *> pick_backend(const tdx_core_params &p)
{
	kapi_emu_device dev{};
	bool have_dev = p.seamcall_mode != TDX_SEAMCALL_HW && kapi_emu_get(&dev) == 0;
	bool use_emu = p.seamcall_mode == TDX_SEAMCALL_EMU ||
		       (p.seamcall_mode == TDX_SEAMCALL_AUTO && have_dev && EmuBackend::present(dev.mailbox, dev.size));
	if (use_emu) {
		if (!have_dev) {
			kapi_log(KAPI_LOG_ERR, "seamcall=emu but no usable emulator mailbox (no 1af4:1110 device)\n");
			return error(err::kENODEV);
		}
		return start_emu(p, dev);
	}
	if (have_dev)
		kapi_emu_put();
	if (HwBackend::probe().is_error()) {
		kapi_log(KAPI_LOG_ERR, "no TDX: the CPU does not report TDX with VMX on, and no emulator\n");
		return error(err::kENODEV);
	}
	return static_cast<SeamcallBackend *>(&g_hw.init());
}

/* The state lock as a kstd::Guard policy. */
struct StateLock {
	void lock() { kapi_state_lock(); }
	void unlock() { kapi_state_unlock(); }
};
StateLock g_state_lock;

/* A CPU that comes online after bring-up: LP.INIT if it never had one (kapi_cpuhp_* callback). */
int cpu_online_cb(unsigned int cpu)
{
	TdxModule *m = g_module.alive() ? &g_module.get() : nullptr;
	return m ? m->cpu_online(cpu).to_kernel() : 0;
}

/* TD management (td.h) is open exactly while the module is initialized. */
void start_td_management()
{
	const TdxModule::KeyIds &k = g_module->keyids();
	td_manager().start(g_seamcall.get(), k.start, k.nr, k.global);
}

} // namespace

const char *module_status_name(ModuleStatus s)
{
	switch (s) {
	case ModuleStatus::kUninitialized:
		return "uninitialized";
	case ModuleStatus::kInitialized:
		return "initialized";
	case ModuleStatus::kFailed:
		return "failed";
	}
	return "?";
}

TdxHost &host() { return g_host; }

void TdxHost::lock() { g_state_lock.lock(); }
void TdxHost::unlock() { g_state_lock.unlock(); }

Status TdxHost::init_locked(const tdx_core_params &p)
{
	SeamcallBackend *backend = TRY(pick_backend(p));
	kapi_log(KAPI_LOG_INFO, "SEAMCALL backend: %s\n", backend->name());
	Seamcall &sc = g_seamcall.init(*backend);
	Status s = g_module.init(sc).bring_up();
	if (s.is_error()) {
		status_ = ModuleStatus::kFailed;
		destroy_locked();
		return s;
	}
	/* From here on a CPU coming online gets what the TDX module needs of it. */
	s = add_cpuhp_locked();
	if (s.is_error()) {
		status_ = ModuleStatus::kFailed;
		destroy_locked();
		return s;
	}
	status_ = ModuleStatus::kInitialized;
	start_td_management();
	return Status::ok();
}

Status TdxHost::add_cpuhp_locked()
{
	if (cpuhp_)
		return Status::ok();
	Status s = Status::from_kernel(kapi_cpuhp_add(cpu_online_cb));
	if (s.is_error()) {
		kapi_log(KAPI_LOG_ERR, "could not register the CPU hotplug callback\n");
		return s;
	}
	cpuhp_ = true;
	return Status::ok();
}

void TdxHost::remove_cpuhp_locked()
{
	if (cpuhp_) {
		kapi_cpuhp_remove();
		cpuhp_ = false;
	}
}

Status TdxHost::init(const tdx_core_params &p)
{
	kstd::Guard<StateLock> g(g_state_lock);
	if (status_ == ModuleStatus::kInitialized)
		return error(err::kEBUSY);
	return init_locked(p);
}

void TdxHost::destroy_locked()
{
	td_manager().stop(); /* first: the TD calls in progress finish while TDX is still up */
	remove_cpuhp_locked();
	g_module.destroy(); /* tears the TDX module down */
	g_seamcall.destroy();
	g_emu.destroy();
	g_hw.destroy();
	if (status_ == ModuleStatus::kInitialized)
		status_ = ModuleStatus::kUninitialized;
}

void TdxHost::exit()
{
	kstd::Guard<StateLock> g(g_state_lock);
	destroy_locked();
	status_ = ModuleStatus::kUninitialized;
}

Status TdxHost::version(tdx_module_version &out)
{
	kstd::Guard<StateLock> g(g_state_lock);
	if (status_ != ModuleStatus::kInitialized || !g_module.alive() || !g_module->ready())
		return error(err::kENXIO);
	const TdxSysInfo &i = g_module->sys_info();
	out = {i.major, i.minor, i.update, i.build_num, i.build_date};
	return Status::ok();
}

/* The quoting of the running, initialized module, or nullptr; the caller holds the state lock. */
static Quoting *quoting_locked(ModuleStatus status)
{
	if (status != ModuleStatus::kInitialized || !g_module.alive() || !g_module->ready())
		return nullptr;
	return &g_module->quoting();
}

bool TdxHost::quote_enabled()
{
	kstd::Guard<StateLock> g(g_state_lock);
	Quoting *q = quoting_locked(status_);
	return q && q->enabled();
}

u32 TdxHost::max_quote_size()
{
	kstd::Guard<StateLock> g(g_state_lock);
	Quoting *q = quoting_locked(status_);
	return q ? q->max_quote_size() : 0;
}

Status TdxHost::generate_quote(u64 tdr_pa, const void *report, u32 report_len, void **quote, u32 *quote_len)
{
	g_state_lock.lock();
	Quoting *q = quoting_locked(status_);
	if (!q) {
		g_state_lock.unlock();
		return error(err::kENODEV);
	}
	/* Lock order: state, then quote. The module stays while the quote lock is held (teardown takes it). */
	quote_lock.lock();
	g_state_lock.unlock();
	Status s = q->generate_locked(tdr_pa, report, report_len, quote, quote_len);
	quote_lock.unlock();
	return s;
}

/* ---- runtime update ---------------------------------------------------------------------------- */

const char *TdxHost::update_unsupported_locked()
{
	if (status_ != ModuleStatus::kInitialized || !g_module.alive() || !g_module->ready())
		return "no TDX module is up";
	if (!(g_module->sys_info().features0 & abi::features0::kTdPreserving))
		return "the TDX module does not report TD_PRESERVING (TDX_FEATURES0 bit 1)";
	if (g_seamcall->backend().seamret_invalidates_vmcs())
		return "the CPU's SEAMRET invalidates the current VMCS (erratum)";
	return nullptr;
}

bool TdxHost::update_supported_locked() { return !update_unsupported_locked(); }

const char *TdxHost::update_unsupported()
{
	kstd::Guard<StateLock> g(g_state_lock);
	return update_unsupported_locked();
}

bool TdxHost::update_supported()
{
	kstd::Guard<StateLock> g(g_state_lock);
	return update_supported_locked();
}

Status TdxHost::seamldr_info(abi::SeamldrInfo &out)
{
	kstd::Guard<StateLock> g(g_state_lock);
	if (!update_supported_locked())
		return error(err::kENXIO);
	return Seamldr(g_seamcall.get()).info(out);
}

/* The window's shared state: every CPU of stop_machine walks it (update.h). */
struct Window {
	UpdateRendezvous rendezvous;
	UpdatePlan plan;
	WindowCpus cpus;
	/* The inputs too big for the stack of the caller: the sigstruct and the facts. */
	abi::Sigstruct sig;
	UpdateFacts facts;
	/* The signed message (header || body) and the key and signature big-endian, for the check. */
	u8 signed_part[abi::kSigstructHeaderBytes + abi::kSigstructBodyBytes];
	u8 modulus_be[abi::kSigstructRsaBytes];
	u8 signature_be[abi::kSigstructRsaBytes];
	/* The seamldr_params page, from update_prepare() to the end of update_install(). */
	PageRun params;
	/* When the lead CPU entered the window, and where the last window's time went. */
	u64 entered_ns = 0;
	u64 released_ns = 0; /* the last CPU's return from window_cpu */
	UpdateTiming timing;
};

namespace {

/* Built at the first update, never destroyed (no global constructors in the module). */
kstd::LazyInit<Window> g_window_storage;
Window &window()
{
	return g_window_storage.alive() ? g_window_storage.get() : g_window_storage.init();
}

int window_cpu(void *ctx)
{
	Window &w = *static_cast<Window *>(ctx);
	const unsigned cpu = kapi_this_cpu();
	const bool lead = cpu == w.cpus.lead;
	if (lead)
		w.entered_ns = kapi_ktime_ns();
	/* The CPUs counted before stop_machine took the hotplug lock must be the ones here. */
	if (kapi_num_online_cpus() != w.cpus.nr || !kapi_cpu_online(w.cpus.lead)) {
		w.rendezvous.ack(UpdateStep::kStart, cpu, -err::kEAGAIN, 0);
		return 0;
	}
	w.rendezvous.walk(cpu, [&](UpdateStep s, u64 *status) {
		return g_module->update_step(s, lead, w.plan, status);
	});
	note_latest(&w.released_ns, kapi_ktime_ns());
	return 0;
}

void reverse_copy(u8 *dst, const u8 *src, usize n)
{
	for (usize i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/*
 * The sigstruct's RSA-3072 signature over header || body, with the key it carries (stored
 * little-endian; the crypto API takes big-endian). Whether that key is trusted is the signer
 * check's business. -errno only when the check itself could not be made.
 */
Status check_signature(Window &w)
{
	const abi::Sigstruct &s = w.sig;
	const u8 *raw = reinterpret_cast<const u8 *>(&s);
	__builtin_memcpy(w.signed_part, raw, abi::kSigstructHeaderBytes);
	__builtin_memcpy(w.signed_part + abi::kSigstructHeaderBytes, raw + abi::kSigstructBodyOffset,
			 abi::kSigstructBodyBytes);
	reverse_copy(w.modulus_be, s.modulus, sizeof(w.modulus_be));
	reverse_copy(w.signature_be, s.signature, sizeof(w.signature_be));
	u8 digest[48];
	TRY(Status::from_kernel(kapi_sha384(w.signed_part, sizeof(w.signed_part), digest)));
	const int r = kapi_rsa_pkcs1_sha384_verify(w.modulus_be, sizeof(w.modulus_be), s.exponent, w.signature_be, digest);
	w.facts.signature_ok = r == 0;
	if (r && r != -err::kEKEYREJECTED) {
		kapi_log(KAPI_LOG_ERR, "update: the sigstruct's signature could not be checked (%d)\n", r);
		return Status::from_kernel(r);
	}
	return Status::ok();
}

/* Before anything stops: what preflight() needs to know (update.h). */
Status gather_facts(Seamcall &sc, const u8 *image, const ImageLayout &layout, abi::Sigstruct &s, UpdateFacts &f)
{
	__builtin_memcpy(&s, image + layout.sigstruct_offset, sizeof(s));
	TRY(Seamldr(sc).info(f.seamldr));
	f.module_hv = u16(TRY(sys_rd(sc, abi::field::kModuleHv)));
	f.cpu_signature = sc.backend().cpu_signature();
	TRY(Status::from_kernel(kapi_sha384(s.modulus, sizeof(s.modulus), f.signer_id)));
	TRY(Status::from_kernel(kapi_sha384(image + layout.module_offset, u64(layout.module_pages) * kPageSize,
					    f.module_hash)));
	return Status::ok();
}

} // namespace

/* -ENXIO without an initialized module, -EOPNOTSUPP when this platform offers no update. */
Status TdxHost::update_allowed_locked()
{
	if (update_supported_locked())
		return Status::ok();
	return error(status_ == ModuleStatus::kInitialized ? err::kEOPNOTSUPP : err::kENXIO);
}

Status TdxHost::update_prepare(const void *image, usize size)
{
	kstd::Guard<StateLock> g(g_state_lock);
	Window &w = window();
	w.params = PageRun();
	Status s = update_prepare_locked(w, image, size);
	if (s.is_error())
		w.params = PageRun();
	return s;
}

Status TdxHost::update_install()
{
	kstd::Guard<StateLock> g(g_state_lock);
	Window &w = window();
	if (!w.params)
		return error(err::kEINVAL); /* no update_prepare() before */
	Status s = update_install_locked(w);
	/* If the emulator died in the window, it may still read the params page. */
	if (g_seamcall.alive() && g_seamcall->dead())
		w.params.abandon_to_module();
	w.params = PageRun();
	return s;
}

void TdxHost::update_abort()
{
	kstd::Guard<StateLock> g(g_state_lock);
	window().params = PageRun();
}

Status TdxHost::update_prepare_locked(Window &w, const void *image, usize size)
{
	TRY(update_allowed_locked());
	Seamcall &sc = g_seamcall.get();
	const u8 *bytes = static_cast<const u8 *>(image);

	ImageRefusal why;
	Result<ImageLayout> layout = validate_image(Span<const u8>(bytes, size), &why);
	if (layout.is_error()) {
		kapi_log(KAPI_LOG_ERR, "update: image refused: %s: %s\n", why.code_name(), why.message);
		return layout.status();
	}
	w.facts = UpdateFacts{};
	TRY(gather_facts(sc, bytes, layout.value(), w.sig, w.facts));
	TRY(check_signature(w));
	if (const UpdateRefusal r = preflight(w.sig, w.facts); r != UpdateRefusal::kNone) {
		kapi_log(KAPI_LOG_ERR, "update: image refused: %s (the running module goes on)\n", update_refusal_code(r));
		return error(err::kEINVAL);
	}
	w.params = PageRun::alloc(kPageSize);
	if (!w.params)
		return error(err::kENOMEM);
	TRY(build_seamldr_params(layout.value(), kapi_vmalloc_to_pfn, image,
				 static_cast<abi::SeamldrParams *>(w.params.va()), &why));
	w.plan = UpdatePlan{w.facts.module_hv, w.params.pa().value()};
	return Status::ok();
}

Status TdxHost::update_install_locked(Window &w)
{
	TRY(update_allowed_locked());
	/*
	 * No quote request in the window. A request takes the state lock to start, which this holds:
	 * waiting once for the quote lock lets the one in flight finish, and none starts after.
	 * (Holding the quote lock across stop_machine would order it before the CPU hotplug lock,
	 * which bring-up takes first.)
	 */
	quote_lock.lock();
	quote_lock.unlock();
	w.cpus = window_cpus();
	w.rendezvous.start(w.cpus.nr);
	w.entered_ns = 0;
	w.released_ns = 0;
	const u64 t0 = kapi_ktime_ns();
	(void)kapi_stop_machine(window_cpu, &w);
	const u64 t1 = kapi_ktime_ns();
	const u32 windows = w.timing.windows + 1;
	w.timing = window_timing(w.rendezvous, t0, w.entered_ns, w.released_ns ? w.released_ns : t1);
	w.timing.windows = windows;
	w.timing.nr_cpus = w.cpus.nr;
	const u64 blackout = w.timing.total_ns;

	const UpdateRendezvous::Failure &fail = w.rendezvous.failure();
	Status result = Status::ok();
	if (!w.rendezvous.failed()) {
		quote_lock.lock();
		g_module->update_finish();
		quote_lock.unlock();
		const TdxSysInfo &i = g_module->sys_info();
		kapi_log(KAPI_LOG_INFO, "update: TDX module updated to %u.%u.%02u (build %u, %u), %llu us with every CPU stopped\n",
			 i.major, i.minor, i.update, i.build_num, i.build_date, (unsigned long long)(blackout / 1000));
	} else if (fail.step == UpdateStep::kStart) {
		kapi_log(KAPI_LOG_WARN, "update: a CPU came or went before the window: nothing changed, try again\n");
		result = Status::from_kernel(fail.err);
	} else if (fail.step == UpdateStep::kShutdown) {
		/* SYS.SHUTDOWN refused: nothing changed, the module runs on. */
		if (fail.err == -err::kEBUSY)
			kapi_log(KAPI_LOG_WARN, "update: refused while a TD build is in progress: try again when it is done\n");
		else
			kapi_log(KAPI_LOG_ERR, "update: TDH.SYS.SHUTDOWN failed: %s (0x%016llx); the running module goes on\n",
				 status_name(TdxStatus(fail.status)), (unsigned long long)fail.status);
		result = Status::from_kernel(fail.err);
	} else {
		/* Past SYS.SHUTDOWN the old module is gone: TDX stays down until the next load. */
		kapi_log(KAPI_LOG_ERR, "update: failed at %s on CPU %u: %s (0x%016llx, %d); no TDX module is left\n",
			 update_step_name(fail.step), fail.cpu, status_name(TdxStatus(fail.status)),
			 (unsigned long long)fail.status, fail.err);
		g_module->mark_gone();
		status_ = ModuleStatus::kFailed;
		result = error(err::kEIO);
	}
	/* TD calls fail at once from here on; quote requests already do (the status is failed). */
	if (g_module->gone())
		td_manager().stop();
	return result;
}

Status TdxHost::update_timing(UpdateTiming &out)
{
	kstd::Guard<StateLock> g(g_state_lock);
	if (!g_window_storage.alive() || !g_window_storage->timing.windows)
		return error(err::kENOENT);
	out = g_window_storage->timing;
	return Status::ok();
}

EmuBackend *TdxHost::emu_locked()
{
	return g_emu.alive() && g_seamcall.alive() ? &g_emu.get() : nullptr;
}

TdxModule *TdxHost::module_locked()
{
	return g_module.alive() ? &g_module.get() : nullptr;
}

Status TdxHost::recreate_module_locked()
{
	if (!g_seamcall.alive())
		return error(err::kENODEV);
	td_manager().stop();
	remove_cpuhp_locked();
	g_module.destroy();
	g_module.init(g_seamcall.get());
	status_ = ModuleStatus::kUninitialized;
	return Status::ok();
}

void TdxHost::mark_ready_locked()
{
	(void)add_cpuhp_locked(); /* logged; KUnit's bring-up goes on without the callback */
	status_ = ModuleStatus::kInitialized;
	start_td_management();
}

} // namespace tdx

extern "C" int tdx_core_init(const struct tdx_core_params *params)
{
	return tdx::host().init(*params).to_kernel();
}

extern "C" void tdx_core_exit(void)
{
	tdx::host().exit();
}

extern "C" int tdx_core_version(struct tdx_module_version *out)
{
	return tdx::host().version(*out).to_kernel();
}

extern "C" int tdx_core_quote_enabled(void)
{
	return tdx::host().quote_enabled();
}

extern "C" unsigned int tdx_core_max_quote_size(void)
{
	return tdx::host().max_quote_size();
}

extern "C" int tdx_core_generate_quote(kapi_u64 tdr_pa, const void *report, unsigned int report_len, void **quote,
				       unsigned int *quote_len)
{
	return tdx::host().generate_quote(tdr_pa, report, report_len, quote, quote_len).to_kernel();
}

extern "C" int tdx_core_update_supported(void)
{
	return tdx::host().update_supported();
}

extern "C" const char *tdx_core_update_unsupported(void)
{
	return tdx::host().update_unsupported();
}

extern "C" int tdx_core_seamldr_version(struct tdx_seamldr_version *out)
{
	tdx::abi::SeamldrInfo info;
	const tdx::Status s = tdx::host().seamldr_info(info);
	if (s.is_ok())
		*out = {info.major, info.minor, info.update, info.num_remaining_updates};
	return s.to_kernel();
}

extern "C" int tdx_core_update_prepare(const void *image, kapi_size size)
{
	return tdx::host().update_prepare(image, size).to_kernel();
}

extern "C" int tdx_core_update_install(void)
{
	return tdx::host().update_install().to_kernel();
}

extern "C" void tdx_core_update_abort(void)
{
	tdx::host().update_abort();
}
