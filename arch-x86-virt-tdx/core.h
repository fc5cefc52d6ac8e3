/* SPDX-License-Identifier: GPL-2.0 */
/* What core.cpp shares with the rest of the core. */
#pragma once

#include "backend.h"

namespace tdx {

class TdxModule;

/* The emulator backend when it is the one in use, else nullptr. */
EmuBackend *emu_backend();

/* The TDX module object while the core is loaded, else nullptr. */
TdxModule *tdx_module();

/* Tears the current bring-up down and replaces it with a fresh, not yet started one. */
Status recreate_module();

} // namespace tdx
