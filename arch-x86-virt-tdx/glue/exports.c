// SPDX-License-Identifier: GPL-2.0
/*
 * What tdx_host.ko exports to other modules in the namespace TDX_HOST (include/tdx/host_api.h:
 * the contracts): quoting and the TD-management wrappers, each a call of the core's entry point.
 */
#include <linux/export.h>
#include <linux/module.h>
#include <linux/types.h>

#include <kapi/kapi.h>
#include <tdx/host_api.h>

/* ---- quoting ---- */

bool tdx_host_quote_enabled(void)
{
	return tdx_core_quote_enabled();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_quote_enabled, TDX_NS_HOST);

u32 tdx_host_max_quote_size(void)
{
	return tdx_core_max_quote_size();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_max_quote_size, TDX_NS_HOST);

int tdx_host_generate_quote(u64 tdr_pa, const void *tdreport, u32 report_len, void **quote, u32 *quote_len)
{
	return tdx_core_generate_quote(tdr_pa, tdreport, report_len, quote, quote_len);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_generate_quote, TDX_NS_HOST);

/* ---- TD management ---- */

int tdx_host_guest_keyid_alloc(void)
{
	return tdx_core_guest_keyid_alloc();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_guest_keyid_alloc, TDX_NS_HOST);

void tdx_host_guest_keyid_free(unsigned int keyid)
{
	tdx_core_guest_keyid_free(keyid);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_guest_keyid_free, TDX_NS_HOST);

u64 tdx_host_mng_create(u64 tdr_pa, u16 hkid)
{
	return tdx_core_mng_create(tdr_pa, hkid);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mng_create, TDX_NS_HOST);

u64 tdx_host_mng_addcx(u64 tdr_pa, u64 tdcs_pa)
{
	return tdx_core_mng_addcx(tdr_pa, tdcs_pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mng_addcx, TDX_NS_HOST);

u64 tdx_host_mng_key_config_all(u64 tdr_pa)
{
	return tdx_core_mng_key_config_all(tdr_pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mng_key_config_all, TDX_NS_HOST);

u64 tdx_host_mng_init(u64 tdr_pa, u64 td_params_pa)
{
	return tdx_core_mng_init(tdr_pa, td_params_pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mng_init, TDX_NS_HOST);

u64 tdx_host_mr_extend(u64 tdr_pa, u64 gpa)
{
	return tdx_core_mr_extend(tdr_pa, gpa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mr_extend, TDX_NS_HOST);

u64 tdx_host_mr_finalize(u64 tdr_pa)
{
	return tdx_core_mr_finalize(tdr_pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mr_finalize, TDX_NS_HOST);

u64 tdx_host_mng_key_freeid(u64 tdr_pa)
{
	return tdx_core_mng_key_freeid(tdr_pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_mng_key_freeid, TDX_NS_HOST);

u64 tdx_host_phymem_cache_wb_all(void)
{
	return tdx_core_phymem_cache_wb_all();
}
EXPORT_SYMBOL_NS_GPL(tdx_host_phymem_cache_wb_all, TDX_NS_HOST);

u64 tdx_host_phymem_page_reclaim(u64 pa)
{
	return tdx_core_phymem_page_reclaim(pa);
}
EXPORT_SYMBOL_NS_GPL(tdx_host_phymem_page_reclaim, TDX_NS_HOST);
