// SPDX-License-Identifier: GPL-2.0
// seam-emu as the ivshmem server of QEMU's ivshmem-doorbell device (QEMU docs/specs/ivshmem-spec.rst).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "mailbox_server.h"

namespace seam_emu {

/*
 * A unix socket QEMU's `-chardev socket,path=...` connects to. To each client the server sends,
 * as little-endian int64 messages (file descriptors by SCM_RIGHTS):
 *   0 (protocol version), kGuestPeer (the client's id), -1 + the mailbox file,
 *   kDoorbellPeer x N, each with the eventfd of slot i (vector i rings slot i's thread).
 * Then header.doorbell = 1; when the client goes, header.doorbell = 0 (the slot threads poll
 * again). One client at a time: another is refused (closed) while one is connected.
 */
class IvshmemServer {
public:
	IvshmemServer(std::string path, int shm_fd, MailboxServer &mailbox, Emulator &emu);
	~IvshmemServer();
	IvshmemServer(const IvshmemServer &) = delete;
	IvshmemServer &operator=(const IvshmemServer &) = delete;

	/* Bind (replacing a stale socket file) and listen; false with *err on failure. */
	bool open(std::string *err);
	void start();
	/* Disconnects the client (doorbell off), removes the socket. */
	void stop();

private:
	void loop();
	bool greet(int fd);
	void drop_client();

	std::string path_;
	int shm_fd_;
	MailboxServer &mailbox_;
	Emulator &emu_;
	int listen_fd_ = -1;
	int client_fd_ = -1;
	int stop_fd_ = -1; /* an eventfd: written by stop() to wake the loop */
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

} // namespace seam_emu
