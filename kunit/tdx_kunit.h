/* SPDX-License-Identifier: GPL-2.0 */
#ifndef TDX_KUNIT_H
#define TDX_KUNIT_H

#include <kunit/test.h>

extern struct kunit_suite tdx_seamcall_suite;
extern struct kunit_suite tdx_metadata_suite;
extern struct kunit_suite tdx_tdmr_suite;
extern struct kunit_suite tdx_bringup_suite;
extern struct kunit_suite tdx_ext_suite;
extern struct kunit_suite tdx_quote_suite;
extern struct kunit_suite tdx_image_suite;
extern struct kunit_suite tdx_update_suite;

#endif
