// SPDX-License-Identifier: GPL-2.0
// TDH.SYS.RD and TDH.SYS.RDALL: global metadata. No module lock: fields change only under
// state_mutex() (the extensions' fields appear at SYS.CONFIG / QUOTE.INIT, go at SYS.DISABLE).
#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

u64 Module::tdh_sys_rd(Call &c)
{
	RegBlock &r = c.regs;
	const u64 field_id = r.rdx;
	r.rdx = kFieldIdNone;
	r.r8 = 0;
	/* LP-scope init implies SYS.INIT. */
	if (!lps_.initialized(c.lp))
		return status::kSysLpInitNotDone;
	GlobalMetadata::ReadResult res = metadata_.read(field_id);
	r.rdx = res.next_id;
	r.r8 = res.value;
	return res.status;
}

u64 Module::tdh_sys_rdall(Call &c)
{
	RegBlock &r = c.regs;
	const u64 first = r.r8;
	r.r8 = kFieldIdNone;
	if (!lps_.initialized(c.lp))
		return status::kSysLpInitNotDone;
	PaCheck pc = check_pa(mem_, r.rdx, kPageSize, kPageSize, kOperandIdRdx);
	if (!pc.ok())
		return pc.status;
	GlobalMetadata::DumpResult res = metadata_.dump(first, mem_.ptr(r.rdx, kPageSize), kPageSize);
	r.r8 = res.next_id;
	return res.status;
}

} // namespace seam_emu
