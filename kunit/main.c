// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_host_kunit: KUnit suites for tdx_host. C test bodies call the C++ core through the hooks
 * tdx_host.ko exports in namespace TDX_HOST_KUNIT; load tdx_host.ko (seamcall=emu) first.
 */
#include <linux/module.h>
#include <linux/version.h>

#include "tdx_kunit.h"

kunit_test_suites(&tdx_seamcall_suite, &tdx_metadata_suite, &tdx_tdmr_suite, &tdx_bringup_suite);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("TDX_HOST_KUNIT");
#else
MODULE_IMPORT_NS(TDX_HOST_KUNIT);
#endif
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for tdx_host");
