/* SPDX-License-Identifier: GPL-2.0 */
/* What core.cpp shares with the rest of the core. */
#pragma once

#include "backend.h"

namespace tdx {

/* The emulator backend when it is the one in use, else nullptr. */
EmuBackend *emu_backend();

} // namespace tdx
