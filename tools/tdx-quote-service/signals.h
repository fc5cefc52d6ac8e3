// SPDX-License-Identifier: GPL-2.0
// SIGTERM and SIGINT as a pollable fd (signalfd), SIGPIPE ignored: the programs' main loops end
// cleanly when the fd becomes readable.
#pragma once

#include "fdutil.h"

namespace quote_service {

/* Blocks SIGTERM and SIGINT and returns a signalfd for them; invalid Fd on failure. */
Fd stop_signals_fd();

} // namespace quote_service
