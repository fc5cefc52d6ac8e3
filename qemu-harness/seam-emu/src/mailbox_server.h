// SPDX-License-Identifier: GPL-2.0
// The emulator side of the mailbox protocol (include/tdx/emu/mailbox.h): the header, a serving
// thread per slot (logical CPU), the heartbeat thread, the call log's writer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <tdx/emu/mailbox.h>

#include "emulator.h"

namespace seam_emu {

using namespace tdx::emu;

class MailboxServer final : public Module::IrqSource {
public:
	/*
	 * After a call a slot's thread keeps spinning this long for the next one (calls come in
	 * bursts: bring-up, metadata reads, TDMR.INIT loops); then it sleeps. Short on purpose: on a
	 * 2-core host the scheduler may put this thread on the core of the very vCPU it waits for,
	 * and then every turn of the spin delays the guest (measured: 100 us of spin made each
	 * call cost 100 us); asleep, the guest's ring wakes it at once. No spin at all after a call
	 * that itself took longer than the spin. Asleep, it blocks on its
	 * doorbell eventfd when QEMU has the doorbell (header.doorbell = 1), else it polls with a
	 * sleep growing from kMinSleepNs to kMaxSleepNs.
	 */
	static constexpr long kHotSpinNs = 20'000;
	static constexpr long kMinSleepNs = 20'000;
	static constexpr long kMaxSleepNs = 1'000'000;
	static constexpr u32 kSpinsPerClock = 128;

	/* base/size: the mapped ivshmem memory. Creates one eventfd per slot. */
	MailboxServer(u8 *base, u64 size, Emulator &emu, const Profile &p);
	~MailboxServer();
	MailboxServer(const MailboxServer &) = delete;
	MailboxServer &operator=(const MailboxServer &) = delete;

	/*
	 * Check the size and publish the header: magic withdrawn, every slot drained (done_id =
	 * req_id: a request left by an earlier emulator is never served), a fresh epoch, magic last
	 * (release store).
	 */
	bool publish(std::string *err);
	u64 epoch() const { return epoch_; }

	/* Start the slot threads and the heartbeat thread; stop() answers no more calls and joins. */
	void start();
	void stop();
	/* emu_state = stopped (orderly exit; after stop()). */
	void set_stopped();

	/* The eventfd that wakes slot i's thread (vector i of the ivshmem doorbell). */
	int slot_eventfd(u32 i) const { return eventfds_[i]; }
	u32 slots() const { return profile_.lps; }
	/*
	 * header.doorbell: on once the ivshmem client (QEMU) holds the eventfds, off when it leaves;
	 * turning it off wakes every sleeping slot thread so it polls again.
	 */
	void set_doorbell(bool on);
	/*
	 * A slot thread asleep on its doorbell looks at its slot again every ms milliseconds (0:
	 * never). For a guest whose fences do not reach the host (QEMU's single-threaded TCG emits
	 * none), where a request can be stored after the slot looked idle and the doorbell not rung.
	 */
	void set_doorbell_recheck_ms(int ms) { recheck_ms_ = ms; }

	/* Module::IrqSource: slot lp's irq_req names the call it serves; ppoll on its doorbell. */
	bool pending(u32 lp) override;
	void wait(u32 lp, int done_fd, std::chrono::nanoseconds timeout) override;

private:
	MailboxSlot *slot(u32 i) const;
	void slot_loop(u32 i);
	u64 serve_slot(u32 i, MailboxSlot *s, u64 req); /* the call's service time (ns) */
	/* Bumps the shared per-leaf counter in the header page (kLeafCallsOffset). */
	void count_leaf(u64 rax);
	void sleep_on_doorbell(u32 i, MailboxSlot *s, u64 done);
	/* Reads slot i's doorbell eventfd empty (after a wake; EAGAIN, drained meanwhile, is fine). */
	void drain_doorbell(u32 i);
	void heartbeat_loop();
	/*
	 * The call log's writer: slot threads only queue records; this thread writes them when a
	 * slot goes idle or kLogBatch wait, so no file I/O ever delays a call or the next one (a
	 * guest re-issuing a resumable call keeps its CPU's interrupts off until it is answered).
	 */
	void log_loop();
	void wake_logger();
	void kick(u32 i);

	u8 *base_;
	u64 size_;
	Emulator &emu_;
	const Profile &profile_;
	u64 epoch_ = 0;
	std::vector<int> eventfds_;
	std::vector<std::thread> threads_;
	std::thread heartbeat_;
	std::atomic<bool> stop_{false};
	std::atomic<bool> doorbell_{false};
	int recheck_ms_ = 0;
	std::mutex hb_mu_;
	std::condition_variable hb_cv_;
	std::thread logger_;
	std::mutex log_mu_;
	std::condition_variable log_cv_;
	bool log_due_ = false; /* guarded by log_mu_ */
};

} // namespace seam_emu
