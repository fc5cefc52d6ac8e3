// SPDX-License-Identifier: GPL-2.0
#include "signals.h"

#include <csignal>
#include <sys/signalfd.h>

namespace quote_service {

Fd stop_signals_fd()
{
	std::signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
		return {};
	return Fd(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
}

} // namespace quote_service
