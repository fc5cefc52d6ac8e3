/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TdxHost: the one owner of the TDX module's software state (backend, bring-up, status), with
 * the state lock every path takes: load and unload, sysfs reads, the KUnit hooks, and later
 * runtime update and quoting. Its status follows Linux's tdx_module_status.
 */
#pragma once

#include <kapi/kapi.h>

#include <tdx/abi/seamldr.h>

#include "backend.h"

namespace tdx {

class TdxModule;

enum class ModuleStatus : u8 { kUninitialized, kInitialized, kFailed };
const char *module_status_name(ModuleStatus s);

class TdxHost {
public:
	/* Picks the backend and brings the TDX module up; -EBUSY if it is up already. */
	Status init(const tdx_core_params &p);
	/* Tears everything down (SYS.DISABLE, cache flush, free); safe in any state. */
	void exit();
	/* The running module's version; -ENXIO unless it is initialized. */
	Status version(tdx_module_version &out);

	/*
	 * Quoting (quote.h). The state lock is held only to find the running module and take the
	 * quote lock; the TDH.QUOTE.GET loop runs under the quote lock alone, so sysfs reads and
	 * the rest of the state's users do not wait for a quote. Teardown takes the quote lock
	 * (inside the state lock) and so waits for a request in progress.
	 */
	bool quote_enabled();
	u32 max_quote_size();
	Status generate_quote(u64 tdr_pa, const void *report, u32 report_len, void **quote, u32 *quote_len);

	/*
	 * Runtime update (update.h, update_image.h): whether this platform offers it (a module is
	 * initialized, reports TD_PRESERVING, and the CPU lacks the SEAMRET-invalidates-VMCS
	 * erratum); a fresh SEAMLDR.INFO; and the update itself with the image fw_upload received
	 * (vmalloc'ed), in two parts: update_prepare() refuses an image before anything stops
	 * (-EINVAL, its reason logged; the module runs on) and update_install() runs the window. 0;
	 * -EINVAL the image is refused before anything stops (its reason
	 * logged; the module runs on); -EBUSY a TD build is in progress (nothing changed); -ENXIO no
	 * module; -EOPNOTSUPP not offered; -EIO the window failed (logged: the old module runs on
	 * when SYS.SHUTDOWN itself failed, else no TDX module is left and TDX is marked failed);
	 * -ENOMEM.
	 */
	bool update_supported();
	/* Why runtime update is not offered (a static string), or nullptr when it is. */
	const char *update_unsupported();
	Status seamldr_info(abi::SeamldrInfo &out);
	/* Checks and prepares (the image must stay until install or abort), then the window. */
	Status update_prepare(const void *image, usize size);
	Status update_install();
	void update_abort();
	/* Where the time of the last update window went (update.h); -ENOENT before the first. */
	Status update_timing(struct UpdateTiming &out);

	/* The state lock, for callers that need several steps at once (KUnit hooks, bench). */
	void lock();
	void unlock();
	ModuleStatus status_locked() const { return status_; }
	/* The emulator backend when it is the one in use, else nullptr. */
	EmuBackend *emu_locked();
	/* The bring-up object while the core is loaded, else nullptr. */
	TdxModule *module_locked();
	/* Tears the bring-up down and replaces it with a fresh, not yet started one (KUnit). */
	Status recreate_module_locked();
	/* A bring-up driven step by step (KUnit) finished: the module is initialized. */
	void mark_ready_locked();

private:
	Status init_locked(const tdx_core_params &p);
	bool update_supported_locked();
	const char *update_unsupported_locked();
	Status update_allowed_locked();
	Status update_prepare_locked(struct Window &w, const void *image, usize size);
	Status update_install_locked(struct Window &w);
	void destroy_locked();
	/* The CPU hotplug callback (cpu_online_cb), registered once while the module is up. */
	Status add_cpuhp_locked();
	void remove_cpuhp_locked();

	ModuleStatus status_ = ModuleStatus::kUninitialized;
	bool cpuhp_ = false;
};

TdxHost &host();

/* Holds the state lock for a scope. */
class [[nodiscard]] HostLock {
public:
	HostLock() { host().lock(); }
	~HostLock() { host().unlock(); }
	HostLock(const HostLock &) = delete;
	HostLock &operator=(const HostLock &) = delete;
};

} // namespace tdx
