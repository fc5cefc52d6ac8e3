/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one table of SEAMCALL leaves (ABI.md §1, §3): number, spec name, the short name the
 * emulator's control channel and the harness use, and the highest version a TDX module 1.5
 * accepts. The module's logs, the emulator's dispatch and counters, KUnit and the harness (through
 * the emulator's "leaves" command) all read it; no leaf number is restated anywhere else.
 */
#pragma once

#include "seamcall.h"

namespace tdx::abi {

namespace leaf {
inline constexpr u16 kSysInfo = 32;
inline constexpr u16 kSysLpShutdown = 44;
} // namespace leaf

struct LeafInfo {
	u16 number;
	u8 max_version;
	const char *spec_name;  /* "TDH.SYS.KEY.CONFIG" */
	const char *short_name; /* "sys.key.config": the spec name without "TDH.", lower case */
};

inline constexpr LeafInfo kLeaves[] = {
	{leaf::kMngAddcx, 0, "TDH.MNG.ADDCX", "mng.addcx"},
	{leaf::kMngKeyConfig, 0, "TDH.MNG.KEY.CONFIG", "mng.key.config"},
	{leaf::kMngCreate, 0, "TDH.MNG.CREATE", "mng.create"},
	{leaf::kMrExtend, 0, "TDH.MR.EXTEND", "mr.extend"},
	{leaf::kMrFinalize, 0, "TDH.MR.FINALIZE", "mr.finalize"},
	{leaf::kMngKeyFreeid, 0, "TDH.MNG.KEY.FREEID", "mng.key.freeid"},
	{leaf::kMngInit, 0, "TDH.MNG.INIT", "mng.init"},
	{leaf::kPhymemPageReclaim, 0, "TDH.PHYMEM.PAGE.RECLAIM", "phymem.page.reclaim"},
	{leaf::kSysKeyConfig, 0, "TDH.SYS.KEY.CONFIG", "sys.key.config"},
	{leaf::kSysInfo, 0, "TDH.SYS.INFO", "sys.info"},
	{leaf::kSysInit, 0, "TDH.SYS.INIT", "sys.init"},
	{leaf::kSysRd, 0, "TDH.SYS.RD", "sys.rd"},
	{leaf::kSysLpInit, 0, "TDH.SYS.LP.INIT", "sys.lp.init"},
	{leaf::kSysTdmrInit, 0, "TDH.SYS.TDMR.INIT", "sys.tdmr.init"},
	{leaf::kSysRdAll, 0, "TDH.SYS.RDALL", "sys.rdall"},
	{leaf::kPhymemCacheWb, 0, "TDH.PHYMEM.CACHE.WB", "phymem.cache.wb"},
	{leaf::kSysLpShutdown, 0, "TDH.SYS.LP.SHUTDOWN", "sys.lp.shutdown"},
	{leaf::kSysConfig, 1, "TDH.SYS.CONFIG", "sys.config"},
	{leaf::kSysShutdown, 0, "TDH.SYS.SHUTDOWN", "sys.shutdown"},
	{leaf::kSysUpdate, 1, "TDH.SYS.UPDATE", "sys.update"},
	{leaf::kExtInit, 0, "TDH.EXT.INIT", "ext.init"},
	{leaf::kExtMemAdd, 0, "TDH.EXT.MEM.ADD", "ext.mem.add"},
	{leaf::kSysDisable, 0, "TDH.SYS.DISABLE", "sys.disable"},
	{leaf::kQuoteGet, 0, "TDH.QUOTE.GET", "quote.get"},
	{leaf::kQuoteInit, 0, "TDH.QUOTE.INIT", "quote.init"},
};

/* The table's entry for a leaf number, or nullptr. */
constexpr const LeafInfo *find_leaf(u16 number)
{
	for (const LeafInfo &l : kLeaves)
		if (l.number == number)
			return &l;
	return nullptr;
}

/* "TDH.SYS.CONFIG", or "unknown leaf" for a number the table does not have. */
constexpr const char *leaf_spec_name(u16 number)
{
	const LeafInfo *l = find_leaf(number);
	return l ? l->spec_name : "unknown leaf";
}

namespace detail {
constexpr bool leaves_sorted_and_bounded()
{
	u16 prev = 0;
	for (const LeafInfo &l : kLeaves) {
		if (l.number <= prev || l.number >= leaf::kMax)
			return false;
		prev = l.number;
	}
	return true;
}
} // namespace detail
static_assert(detail::leaves_sorted_and_bounded());
static_assert(find_leaf(leaf::kSysConfig)->max_version == 1);
static_assert(find_leaf(leaf::kSysLpShutdown)->number == leaf::kSysLpShutdown); /* not "!= nullptr": -Waddress */

} // namespace tdx::abi
