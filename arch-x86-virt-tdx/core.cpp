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
