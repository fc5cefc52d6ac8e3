// SPDX-License-Identifier: GPL-2.0
// The emulator side of the mailbox protocol (include/tdx/emu/mailbox.h): header, polling, serving.
#pragma once

#include <atomic>
#include <string>

#include <tdx/emu/mailbox.h>

#include "emulator.h"

namespace seam_emu {

using namespace tdx::emu;

class MailboxServer {
public:
	/* Spin this long after the last request before sleeping; sleeps then grow up to kMaxSleep. */
	static constexpr long kHotSpinNs = 200'000;
	static constexpr long kMinSleepNs = 20'000;
	static constexpr long kMaxSleepNs = 1'000'000;

	/* base/size: the mapped ivshmem memory. */
	MailboxServer(u8 *base, u64 size, Emulator &emu, const Profile &p);

	/* Check the size and publish the header (magic last, release store). */
	bool publish(std::string *err);
	void heartbeat();
	void set_stopped();

	/* Serve every pending slot once; returns how many calls were served. */
	unsigned poll_once();
	/* Bumps the shared per-leaf counter in the header page (kLeafCallsOffset). */
	void count_leaf(u64 rax);
	/* Serve until *stop: hot spin after activity, then back off with nanosleep. */
	void run(const std::atomic<bool> &stop);

private:
	MailboxSlot *slot(u32 i) const;

	u8 *base_;
	u64 size_;
	Emulator &emu_;
	const Profile &profile_;
};

} // namespace seam_emu
