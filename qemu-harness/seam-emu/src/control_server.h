// SPDX-License-Identifier: GPL-2.0
// The control socket: a unix stream socket, line protocol, many clients, one poll() thread.
#pragma once

#include <atomic>
#include <functional>
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
	/* Serve in a thread; `tick` runs at least every 50 ms (the heartbeat). */
	void start(std::function<void()> tick);
	void stop();

private:
	void loop();

	Emulator &emu_;
	std::string path_;
	int listen_fd_ = -1;
	std::atomic<bool> stop_{false};
	std::function<void()> tick_;
	std::thread thread_;
};

} // namespace seam_emu
