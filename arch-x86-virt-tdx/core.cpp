// SPDX-License-Identifier: GPL-2.0
/* The core's C entry points: backend choice, bring-up on load, teardown on unload. */
#include <kapi/kapi.h>
#include <kstd/lazy_init.h>

#include "backend.h"
#include "bringup.h"
#include "core.h"

namespace tdx {
namespace {

/* Globals without constructors: built from tdx_core_init, destroyed in tdx_core_exit. */
kstd::LazyInit<EmuBackend> g_emu;
kstd::LazyInit<HwBackend> g_hw;
kstd::LazyInit<Seamcall> g_seamcall;
kstd::LazyInit<TdxModule> g_module;

Result<SeamcallBackend *> pick_backend(const tdx_core_params &p)
{
	void *base = nullptr;
	kapi_size size = 0;
	bool have_emu = false;
	if (p.seamcall_mode != TDX_SEAMCALL_HW)
		have_emu = kapi_emu_mailbox(&base, &size) == 0 &&
			   EmuBackend::probe(base, size, kapi_nr_cpu_ids()).is_ok();

	if (p.seamcall_mode == TDX_SEAMCALL_EMU || (p.seamcall_mode == TDX_SEAMCALL_AUTO && have_emu)) {
		if (!have_emu) {
			kapi_log(KAPI_LOG_ERR, "seamcall=emu but no usable emulator mailbox\n");
			return error(err::kENODEV);
		}
		u64 timeout_ns = u64(p.seamcall_timeout_ms) * 1000000;
		return static_cast<SeamcallBackend *>(&g_emu.init(base, timeout_ns));
	}
	if (HwBackend::probe().is_error()) {
		kapi_log(KAPI_LOG_ERR, "no TDX: the CPU does not report TDX with VMX on, and no emulator\n");
		return error(err::kENODEV);
	}
	return static_cast<SeamcallBackend *>(&g_hw.init());
}

void destroy_all()
{
	g_module.destroy(); /* tears the module down */
	g_seamcall.destroy();
	g_emu.destroy();
	g_hw.destroy();
}

Status core_init(const tdx_core_params &p)
{
	SeamcallBackend *backend = TRY(pick_backend(p));
	kapi_log(KAPI_LOG_INFO, "SEAMCALL backend: %s\n", backend->name());
	Seamcall &sc = g_seamcall.init(*backend);
	Status s = g_module.init(sc).bring_up();
	if (s.is_error())
		destroy_all();
	return s;
}

} // namespace

EmuBackend *emu_backend()
{
	return g_emu.alive() && g_seamcall.alive() ? &g_emu.get() : nullptr;
}

TdxModule *tdx_module()
{
	return g_module.alive() ? &g_module.get() : nullptr;
}

Status recreate_module()
{
	if (!g_seamcall.alive())
		return error(err::kENODEV);
	g_module.destroy();
	g_module.init(g_seamcall.get());
	return Status::ok();
}

} // namespace tdx

extern "C" int tdx_core_init(const struct tdx_core_params *params)
{
	return tdx::core_init(*params).to_kernel();
}

extern "C" void tdx_core_exit(void)
{
	tdx::destroy_all();
}

extern "C" int tdx_core_version(struct tdx_module_version *out)
{
	if (!tdx::g_module.alive() || !tdx::g_module->ready())
		return -kstd::err::kENXIO;
	const tdx::TdxSysInfo &i = tdx::g_module->sys_info();
	*out = {i.major, i.minor, i.update, i.build_num, i.build_date};
	return 0;
}
