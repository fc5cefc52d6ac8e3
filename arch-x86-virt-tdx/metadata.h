/* SPDX-License-Identifier: GPL-2.0 */
/* The global metadata bring-up needs, read with TDH.SYS.RD and decoded by field size. */
#pragma once

#include <kstd/span.h>
#include <tdx/abi/metadata.h>

#include "seamcall.h"

namespace tdx {

struct Cmr {
	u64 base;
	u64 size;
};

struct TdxSysInfo {
	u16 major = 0, minor = 0, update = 0;
	u16 build_num = 0;
	u32 build_date = 0;
	u64 features0 = 0;
	u16 max_tdmrs = 0;
	u16 max_reserved_per_tdmr = 0;
	u16 pamt_entry_size[3] = {}; /* indexed by abi::PageLevel */
	Array<Cmr, abi::kMaxCmrs> cmrs;
};

/* Truncates a value read for field_id to that field's element size. */
u64 metadata_decode(u64 field_id, u64 raw);

/* TDH.SYS.RD of one field, decoded. */
Result<u64> sys_rd(Seamcall &sc, u64 field_id);

/*
 * Walks a TDH.SYS.RDALL list (abi::MdListHeader, then sequences of a field id and its u64
 * elements), calling put for each element with its own field id; -EINVAL when malformed.
 */
Status parse_md_list(const u8 *page, usize page_size, void (*put)(void *ctx, u64 id, u64 v), void *ctx);

/*
 * Reads everything in TdxSysInfo, with TDH.SYS.RDALL (one call) or, on modules without it, with
 * TDH.SYS.RD field by field, and checks it is usable (limits non-zero, CMR count).
 */
Status read_sys_info(Seamcall &sc, TdxSysInfo &out);

} // namespace tdx
