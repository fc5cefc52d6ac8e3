// SPDX-License-Identifier: GPL-2.0
// The control socket: a unix stream socket, line protocol, many clients, one poll() thread that
// sleeps until a client speaks (no periodic wake-up).
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "emulator.h"

namespace seam_emu {

class ControlServer {
public:
	/* Longest command line accepted; longer lines are answered with an error and dropped. */
	static constexpr size_t kMaxLine = 4096;

	ControlServer(Emulator &emu, std::string path);
	~ControlServer();

	/* Bind (replacing a stale socket file) and listen; false with *err on failure. */
	bool open(std::string *err);
	/* Serve in a thread of its own. */
	void start();
	void stop();

private:
	void loop();

	Emulator &emu_;
	std::string path_;
	int listen_fd_ = -1;
	int stop_fd_ = -1; /* an eventfd: written by stop() to wake the loop */
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

} // namespace seam_emu
