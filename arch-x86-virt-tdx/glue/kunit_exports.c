// SPDX-License-Identifier: GPL-2.0
/* Exports the KUnit hooks (include/kapi/kunit_hooks.h) to tdx_host_kunit.ko only. */
#include <linux/export.h>
#include <linux/version.h>

#include <kapi/kunit_hooks.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDX_KUNIT_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, "TDX_HOST_KUNIT")
#else
#define TDX_KUNIT_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, TDX_HOST_KUNIT)
#endif

TDX_KUNIT_EXPORT(tdx_kunit_leaf_rax);
TDX_KUNIT_EXPORT(tdx_kunit_status_to_errno);
TDX_KUNIT_EXPORT(tdx_kunit_status_name);
TDX_KUNIT_EXPORT(tdx_kunit_field_elem_bytes);
TDX_KUNIT_EXPORT(tdx_kunit_metadata_decode);
TDX_KUNIT_EXPORT(tdx_kunit_build_tdmrs);
TDX_KUNIT_EXPORT(tdx_kunit_emu_active);
TDX_KUNIT_EXPORT(tdx_kunit_emu_leaf_calls);
TDX_KUNIT_EXPORT(tdx_kunit_restart);
TDX_KUNIT_EXPORT(tdx_kunit_nr_steps);
TDX_KUNIT_EXPORT(tdx_kunit_run_step);
TDX_KUNIT_EXPORT(tdx_kunit_nr_tdmrs);
TDX_KUNIT_EXPORT(tdx_kunit_nr_packages);
TDX_KUNIT_EXPORT(tdx_kunit_ensure_up);
