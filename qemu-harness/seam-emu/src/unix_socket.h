// SPDX-License-Identifier: GPL-2.0
// A listening Unix stream socket for the emulator's servers (control, ivshmem).
#pragma once

#include <string>

namespace seam_emu {

/*
 * Binds and listens on `path` (a stale socket there is replaced; any other file is refused), with
 * a non-blocking, close-on-exec descriptor. Returns it, or -1 with *err naming `what`.
 */
int listen_unix(const std::string &path, int backlog, const char *what, std::string *err);

} // namespace seam_emu
