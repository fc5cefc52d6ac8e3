// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.CONFIG's checks of the TDMR_INFO entries, in the TDX module's order and with its statuses.
#pragma once

#include <vector>

#include <tdx/abi/tdmr.h>

#include "guest_memory.h"
#include "profile.h"

namespace seam_emu {

/* One TDMR_INFO as copied out of guest memory; PAMT arrays indexed by PageLevel (4k, 2m, 1g). */
struct TdmrDesc {
	u64 base = 0, size = 0;
	u64 pamt_base[kNumPageLevels] = {};
	u64 pamt_size[kNumPageLevels] = {};
	std::vector<TdmrReservedArea> rsvd; /* MAX_RESERVED_PER_TDMR entries, as given */

	static TdmrDesc from_info(const TdmrInfo &info, const TdmrReservedArea *rsvd, unsigned n);
};

/* PAMT bytes the entries of a TDMR of tdmr_size take at a level. */
u64 pamt_required_size(const ModuleImage &m, PageLevel level, u64 tdmr_size);
/* The PAMT size SYS.CONFIG accepts at a level: the entries' bytes rounded up to 4 KiB, exactly. */
u64 pamt_exact_size(const ModuleImage &m, PageLevel level, u64 tdmr_size);

/* The parts of a (validated) TDMR outside its reserved areas. */
std::vector<PhysRange> tdmr_available_areas(const TdmrDesc &t);

/*
 * Validate TDMRs 0..n-1 like TDH.SYS.CONFIG (PAMT sizes exact, see pamt_exact_size()). Returns TDX_SUCCESS or a class-0x0A status
 * (INVALID_TDMR, NON_ORDERED_TDMR, TDMR_OUTSIDE_CMRS, INVALID_PAMT, PAMT_OUTSIDE_CMRS, PAMT_OVERLAP,
 * INVALID_RESERVED_IN_TDMR, NON_ORDERED_RESERVED_IN_TDMR) whose low bytes carry the TDMR index,
 * then the PAMT level or reserved-area index, then the other TDMR's index.
 */
u64 check_tdmrs(const std::vector<TdmrDesc> &tdmrs, const ModuleImage &m, const std::vector<PhysRange> &cmrs);
/* The same checks for TDMR i alone, against TDMRs 0..i-1 (the module checks each as it reads it). */
u64 check_tdmr(const std::vector<TdmrDesc> &tdmrs, size_t i, const ModuleImage &m, const std::vector<PhysRange> &cmrs);

} // namespace seam_emu
