/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernel versions the module builds for, in one place (C glue only:
 * it includes kernel headers). The glue tests the TDX_HAVE_* names below, never
 * LINUX_VERSION_CODE itself.
 */
#ifndef TDX_KAPI_COMPAT_H
#define TDX_KAPI_COMPAT_H

#include <linux/version.h>

/* The faux bus (faux_device_create_with_groups) arrived in 6.14. */
#define TDX_HAVE_FAUX_BUS (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0))

/* From 6.13 the namespace of EXPORT_SYMBOL_NS* / MODULE_IMPORT_NS is a string literal. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDX_NS_KUNIT "TDX_HOST_KUNIT"
#else
#define TDX_NS_KUNIT TDX_HOST_KUNIT
#endif
#define TDX_EXPORT_KUNIT(sym) EXPORT_SYMBOL_NS_GPL(sym, TDX_NS_KUNIT)
#define TDX_IMPORT_KUNIT() MODULE_IMPORT_NS(TDX_NS_KUNIT)

/* FW_UPLOAD_ERR_FW_INVALID exists from 6.8; before, the nearest error is FW_UPLOAD_ERR_HW_ERROR. */
#define TDX_HAVE_FW_UPLOAD_FW_INVALID (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0))

/*
 * RSA PKCS#1 v1.5 signature verification through crypto_sig: "pkcs1pad(rsa,<hash>)" up to 6.12,
 * "pkcs1(rsa,<hash>)" from 6.13 (the padding template was split into its sig and akcipher parts).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define TDX_RSA_PKCS1_SHA384 "pkcs1(rsa,sha384)"
#else
#define TDX_RSA_PKCS1_SHA384 "pkcs1pad(rsa,sha384)"
#endif

#endif /* TDX_KAPI_COMPAT_H */
