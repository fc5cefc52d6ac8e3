// SPDX-License-Identifier: GPL-2.0
/*
 * The test build's exports: the KUnit hooks (include/kapi/kunit_hooks.h) to tdx_host_kunit.ko, and
 * the test-only part of include/tdx/host_api.h (tdx_host_test_*) to the TD harness.
 */
#include <linux/export.h>
#include <linux/module.h>
#include <linux/types.h>

#include <kapi/compat.h>
#include <kapi/kunit_hooks.h>
#include <tdx/host_api.h>

TDX_EXPORT_KUNIT(tdx_kunit_leaf_rax);
TDX_EXPORT_KUNIT(tdx_kunit_status_to_errno);
TDX_EXPORT_KUNIT(tdx_kunit_status_name);
TDX_EXPORT_KUNIT(tdx_kunit_field_elem_bytes);
TDX_EXPORT_KUNIT(tdx_kunit_metadata_decode);
TDX_EXPORT_KUNIT(tdx_kunit_build_tdmrs);
TDX_EXPORT_KUNIT(tdx_kunit_emu_active);
TDX_EXPORT_KUNIT(tdx_kunit_emu_leaf_calls);
TDX_EXPORT_KUNIT(tdx_kunit_restart);
TDX_EXPORT_KUNIT(tdx_kunit_nr_steps);
TDX_EXPORT_KUNIT(tdx_kunit_run_step);
TDX_EXPORT_KUNIT(tdx_kunit_nr_tdmrs);
TDX_EXPORT_KUNIT(tdx_kunit_nr_packages);
TDX_EXPORT_KUNIT(tdx_kunit_ensure_up);
TDX_EXPORT_KUNIT(tdx_kunit_hold);
TDX_EXPORT_KUNIT(tdx_kunit_release);
TDX_EXPORT_KUNIT(tdx_kunit_sys_rd);
TDX_EXPORT_KUNIT(tdx_kunit_select_addons);
TDX_EXPORT_KUNIT(tdx_kunit_sys_config_rax);
TDX_EXPORT_KUNIT(tdx_kunit_hpa_list_info);
TDX_EXPORT_KUNIT(tdx_kunit_hpa_list_nr_batches);
TDX_EXPORT_KUNIT(tdx_kunit_hpa_list_batch);
TDX_EXPORT_KUNIT(tdx_kunit_pool_lists);
TDX_EXPORT_KUNIT(tdx_kunit_ext_pool_pages);
TDX_EXPORT_KUNIT(tdx_kunit_quote_list_nr_nodes);
TDX_EXPORT_KUNIT(tdx_kunit_quote_list_entry);
TDX_EXPORT_KUNIT(tdx_kunit_quote_size_cap);
TDX_EXPORT_KUNIT(tdx_kunit_quote_buffer_pages);
TDX_EXPORT_KUNIT(tdx_kunit_quote_buffer);
TDX_EXPORT_KUNIT(tdx_kunit_quote_state);
TDX_EXPORT_KUNIT(tdx_kunit_validate_image);
TDX_EXPORT_KUNIT(tdx_kunit_rendezvous);
TDX_EXPORT_KUNIT(tdx_kunit_update_step_on_every_cpu);
TDX_EXPORT_KUNIT(tdx_kunit_build_seamldr_params);

u64 tdx_host_test_emu_service(u64 rax, u64 rcx, u64 rdx, u64 r8)
{
	return tdx_kunit_emu_service(rax, rcx, rdx, r8);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_emu_service, TDX_NS_HOST);

int tdx_host_test_hold_state(void)
{
	return tdx_kunit_hold_state();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_hold_state, TDX_NS_HOST);

void tdx_host_test_release_state(void)
{
	tdx_kunit_release();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_release_state, TDX_NS_HOST);

void tdx_host_test_hold_quote(void)
{
	tdx_kunit_hold_quote();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_hold_quote, TDX_NS_HOST);

void tdx_host_test_release_quote(void)
{
	tdx_kunit_release_quote();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_release_quote, TDX_NS_HOST);

int tdx_host_test_update_timing(struct tdx_host_test_update_timing *out)
{
	struct tdx_kunit_update_timing t;
	int i, ret;

	BUILD_BUG_ON(TDX_HOST_TEST_UPDATE_PHASES != TDX_KUNIT_UPDATE_STEPS);
	ret = tdx_kunit_update_timing(&t);
	if (ret)
		return ret;
	out->windows = t.windows;
	out->nr_cpus = t.nr_cpus;
	out->ok = t.ok;
	out->total_ns = t.total_ns;
	for (i = 0; i < TDX_HOST_TEST_UPDATE_PHASES; i++) {
		out->phase_ns[i] = t.phase_ns[i];
		out->phase_name[i] = t.phase_name[i];
	}
	return 0;
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_update_timing, TDX_NS_HOST);

int tdx_host_test_empty_stop_machine(u64 *ns)
{
	return tdx_kunit_empty_stop_machine(ns);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_test_empty_stop_machine, TDX_NS_HOST);

/* Only the test build has this file: modinfo tells a test build from the module users install. */
MODULE_INFO(tdx_test_build, "y");
