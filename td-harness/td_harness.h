/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tdx_td_harness.ko lends to the other test modules (test build only): its TDs, for
 * tdx_gq_harness.ko, the KVM integration of GetQuote in tests.
 */
#ifndef TDX_TD_HARNESS_H
#define TDX_TD_HARNESS_H

/*
 * TD id's TDR in *tdr_pa, with a reference: "destroy id" fails with -EBUSY until the matching
 * put. 0; -EINVAL for an id outside the harness's range, -ENOENT for no such TD, -EBUSY for a TD
 * whose build is still in progress (not finalized: it has no TDREPORT yet).
 */
int tdx_td_harness_get_td(unsigned int id, u64 *tdr_pa);
void tdx_td_harness_put_td(unsigned int id);

#endif /* TDX_TD_HARNESS_H */
