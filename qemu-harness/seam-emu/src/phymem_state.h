// SPDX-License-Identifier: GPL-2.0
// Physical memory the module knows: the TDMRs it was given and the pages it owns.
#pragma once

#include <map>
#include <vector>

#include "locks.h"
#include "tdmr_check.h"

namespace seam_emu {

/* A TDMR accepted by TDH.SYS.CONFIG and how far TDH.SYS.TDMR.INIT has got. */
struct TdmrRuntime {
	TdmrDesc desc;
	u64 next_to_init; /* first byte whose PAMT entries are not initialized yet */
	MutexLock lock;   /* held by a TDMR.INIT in progress (the module's tdmr_entry lock) */
	bool initialized() const { return next_to_init >= desc.base + desc.size; }
};

/* Why the module owns a page. */
enum class PageOwner : u8 {
	kPamt,    /* SYS.CONFIG: a TDMR's PAMT; index = the TDMR's */
	kExtPool, /* EXT.MEM.ADD: one page of the extension memory pool; index = its place in the pool */
	kTdr,     /* MNG.CREATE: a TD's root page (its TDR); index 0 */
	kTdcs,    /* MNG.ADDCX: one of a TD's TDCS pages; index = its place among them */
};
const char *page_owner_name(PageOwner o);

struct OwnedRange {
	u64 base, size;
	PageOwner owner;
	u32 index; /* see PageOwner */
	u64 end() const { return base + size; }
};

/*
 * The physical pages given to the module: no page can be given twice. PAMTs and pool pages come
 * back only through SYS.DISABLE; TD pages also one by one through PHYMEM.PAGE.RECLAIM.
 */
class PageOwners {
public:
	/* Give [base, base + size) to the module; false (and nothing changes) if a page of it is owned. */
	bool claim(u64 base, u64 size, PageOwner owner, u32 index);
	/* True if any page of [base, base + size) is owned. */
	bool overlaps(u64 base, u64 size) const;
	/* The owned range holding `pa`, or nullptr. */
	const OwnedRange *find(u64 pa) const;
	u64 bytes(PageOwner owner) const;
	u64 bytes() const;
	const std::map<u64, OwnedRange> &ranges() const { return ranges_; }
	/* Give back the range that starts at `base` (PHYMEM.PAGE.RECLAIM); false if none starts there. */
	bool release(u64 base) { return ranges_.erase(base) != 0; }
	/* SYS.DISABLE: the module lets go of everything. */
	void release_all() { ranges_.clear(); }

private:
	std::map<u64, OwnedRange> ranges_; /* by base; never overlapping */
};

} // namespace seam_emu
