// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_host_kunit: KUnit suites for tdx_host. C test bodies call the C++ core through the hooks
 * tdx_host.ko exports in namespace TDX_HOST_KUNIT; load tdx_host.ko (seamcall=emu) first.
 */
#include <linux/module.h>

#include <kapi/compat.h>

#include "tdx_kunit.h"

kunit_test_suites(&tdx_seamcall_suite, &tdx_metadata_suite, &tdx_tdmr_suite, &tdx_bringup_suite,
		  &tdx_ext_suite, &tdx_quote_suite, &tdx_image_suite, &tdx_update_suite);

TDX_IMPORT_KUNIT();
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites for tdx_host");
