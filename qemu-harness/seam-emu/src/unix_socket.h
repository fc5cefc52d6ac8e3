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

/*
 * What each of the emulator's servers opens: the listening socket and an eventfd that wakes its
 * thread's poll for shutdown. False with *err set (and nothing left open) on failure.
 */
bool open_listener(const std::string &path, int backlog, const char *what, int *listen_fd, int *stop_fd,
		   std::string *err);
/* Makes stop_fd readable: the server thread polling it returns. */
void wake_listener(int stop_fd);
/* Closes both descriptors (those still open) and removes the socket file. */
void close_listener(const std::string &path, int *listen_fd, int *stop_fd);

} // namespace seam_emu
