// SPDX-License-Identifier: GPL-2.0
// TD lifecycle leaves (placeholder: answered as unknown leaves until the TD model lands).
#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

u64 Module::tdh_mng_addcx(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mng_key_config(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mng_create(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mr_extend(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mr_finalize(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mng_key_freeid(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_mng_init(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_phymem_page_reclaim(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::emu_service(Call &, u64) { return status::kOperandInvalid | kOperandIdRax; }
void Module::reset_tds() {}
u64 Module::check_td_report(u64, const u8 *, ReportedTd *) const { return status::kOperandInvalid | kOperandIdRcx; }

} // namespace seam_emu
