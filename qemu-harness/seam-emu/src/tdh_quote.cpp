// SPDX-License-Identifier: GPL-2.0
// Quoting leaves (placeholder: answered as unknown leaves until the quoting model lands).
#include <tdx/abi/status.h>

#include "module.h"

namespace seam_emu {

u64 Module::tdh_quote_init(Call &) { return status::kOperandInvalid | kOperandIdRax; }
u64 Module::tdh_quote_get(Call &) { return status::kOperandInvalid | kOperandIdRax; }
void Module::reset_quote() {}

} // namespace seam_emu
