// SPDX-License-Identifier: GPL-2.0
#include "mailbox_server.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>

#include <tdx/abi/status.h>

namespace seam_emu {

namespace {

/* The header is packed, so its fields are reached through byte offsets, never references. */
template <typename T> T *field_at(u8 *base, size_t off) { return reinterpret_cast<T *>(base + off); }

/* A non-zero random epoch different from the previous emulator's. */
u64 fresh_epoch(u64 old)
{
	u64 e = 0;
	while (e == 0 || e == old) {
		if (getrandom(&e, sizeof(e), 0) != ssize_t(sizeof(e)))
			e = u64(std::chrono::steady_clock::now().time_since_epoch().count()) ^ (u64(getpid()) << 32);
	}
	return e;
}

u64 now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return u64(ts.tv_sec) * 1000000000ull + u64(ts.tv_nsec);
}

} // namespace

MailboxServer::MailboxServer(u8 *base, u64 size, Emulator &emu, const Profile &p)
	: base_(base), size_(size), emu_(emu), profile_(p)
{
	/* Non-blocking: the ivshmem client shares the open file and may set O_NONBLOCK anyway. */
	for (u32 i = 0; i < profile_.lps; i++)
		eventfds_.push_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
}

MailboxServer::~MailboxServer()
{
	stop();
	for (int fd : eventfds_)
		if (fd >= 0)
			close(fd);
}

MailboxSlot *MailboxServer::slot(u32 i) const
{
	return reinterpret_cast<MailboxSlot *>(base_ + kSlotOffset + u64(i) * kSlotSize);
}

bool MailboxServer::publish(std::string *err)
{
	if (size_ < mailbox_bytes(profile_.lps)) {
		*err = "mailbox is " + std::to_string(size_) + " bytes, " + std::to_string(mailbox_bytes(profile_.lps)) +
		       " needed for " + std::to_string(profile_.lps) + " slots";
		return false;
	}
	for (int fd : eventfds_) {
		if (fd < 0) {
			*err = std::string("eventfd: ") + std::strerror(errno);
			return false;
		}
	}
	/* Withdraw any old magic first so the guest never sees a half-written header as valid. */
	__atomic_store_n(field_at<u64>(base_, offsetof(MailboxHeader, magic)), 0, __ATOMIC_SEQ_CST);
	const u64 old_epoch = __atomic_load_n(field_at<u64>(base_, offsetof(MailboxHeader, epoch)), __ATOMIC_RELAXED);

	/* Drain: what an earlier emulator left unanswered is refused, never served by this one. */
	for (u32 i = 0; i < profile_.lps; i++) {
		MailboxSlot *s = slot(i);
		const u64 req = __atomic_load_n(&s->req_id, __ATOMIC_ACQUIRE);
		const u64 done = __atomic_load_n(&s->done_id, __ATOMIC_RELAXED);
		s->status = req != done ? tdx::abi::kTdxSeamcallVmFailInvalid : 0;
		std::memset(&s->out_regs, 0, sizeof(s->out_regs));
		s->service_ns = 0;
		__atomic_store_n(&s->emu_waiting, 0u, __ATOMIC_RELAXED);
		__atomic_store_n(&s->done_id, req, __ATOMIC_RELEASE);
	}

	epoch_ = fresh_epoch(old_epoch);
	MailboxHeader h{};
	h.protocol_version = kProtocolVersion;
	h.slot_count = profile_.lps;
	h.slot_offset = kSlotOffset;
	h.slot_size = kSlotSize;
	h.heartbeat = 0;
	h.emu_state = kEmuRunning;
	h.doorbell = 0;
	h.tdx_keyid_start = profile_.tdx_keyid_start;
	h.nr_tdx_keyids = profile_.nr_tdx_keyids;
	h.num_packages = profile_.packages;
	h.cpu_signature = profile_.cpu_signature;
	h.platform_flags = profile_.errata.seamret_invalidates_vmcs ? kPlatformSeamretInvalidatesVmcs : 0;
	h.epoch = epoch_;
	std::memcpy(base_ + sizeof(u64), reinterpret_cast<u8 *>(&h) + sizeof(u64), sizeof(h) - sizeof(u64));
	std::memset(base_ + kLeafCallsOffset, 0, leaf::kMax * sizeof(u64));
	__atomic_store_n(field_at<u64>(base_, offsetof(MailboxHeader, magic)), kMailboxMagic, __ATOMIC_RELEASE);
	return true;
}

void MailboxServer::set_stopped()
{
	__atomic_store_n(field_at<u32>(base_, offsetof(MailboxHeader, emu_state)), u32(kEmuStopped), __ATOMIC_RELEASE);
}

void MailboxServer::set_doorbell(bool on)
{
	__atomic_store_n(field_at<u32>(base_, offsetof(MailboxHeader, doorbell)), u32(on), __ATOMIC_SEQ_CST);
	doorbell_.store(on, std::memory_order_seq_cst);
	if (!on)
		for (u32 i = 0; i < profile_.lps; i++)
			kick(i);
}

void MailboxServer::kick(u32 i)
{
	const u64 one = 1;
	if (write(eventfds_[i], &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already huge, the thread wakes anyway. */
	}
}

void MailboxServer::count_leaf(u64 rax)
{
	if ((rax & kSeamldrLeafBit) || (rax & kLeafNumberMask) >= leaf::kMax)
		return;
	__atomic_fetch_add(field_at<u64>(base_, kLeafCallsOffset + (rax & kLeafNumberMask) * sizeof(u64)), 1,
			   __ATOMIC_RELEASE);
}

void MailboxServer::start()
{
	stop_ = false;
	/* The guest marks the call it waits for when its CPU has an interrupt pending (mailbox.h). */
	emu_.set_irq_source(this);
	heartbeat_ = std::thread([this] { heartbeat_loop(); });
	if (emu_.logging())
		logger_ = std::thread([this] { log_loop(); });
	for (u32 i = 0; i < profile_.lps; i++)
		threads_.emplace_back([this, i] { slot_loop(i); });
}

void MailboxServer::stop()
{
	stop_ = true;
	emu_.cancel_delays();
	for (u32 i = 0; i < threads_.size(); i++)
		kick(i);
	for (auto &t : threads_)
		t.join();
	threads_.clear();
	emu_.set_irq_source(nullptr);
	{
		std::lock_guard<std::mutex> g(hb_mu_);
	}
	hb_cv_.notify_all();
	if (heartbeat_.joinable())
		heartbeat_.join();
	wake_logger();
	if (logger_.joinable())
		logger_.join();
	/* What the slot threads queued last. */
	emu_.write_call_log();
	emu_.flush_log();
}

void MailboxServer::wake_logger()
{
	{
		std::lock_guard<std::mutex> g(log_mu_);
		log_due_ = true;
	}
	log_cv_.notify_one();
}

/* Asleep until a slot goes idle or a batch waits: an idle guest costs it no wake-ups. */
void MailboxServer::log_loop()
{
	/* The log can wait: at the host's idle priority it never delays an answer. */
	sched_param idle{};
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	std::unique_lock<std::mutex> lk(log_mu_);
	while (!stop_.load()) {
		log_cv_.wait(lk, [this] { return log_due_; });
		log_due_ = false;
		lk.unlock();
		emu_.note_wakeup();
		emu_.write_call_log();
		emu_.flush_log();
		lk.lock();
	}
}

void MailboxServer::heartbeat_loop()
{
	u64 *beat = field_at<u64>(base_, offsetof(MailboxHeader, heartbeat));
	std::unique_lock<std::mutex> lk(hb_mu_);
	while (!hb_cv_.wait_for(lk, std::chrono::milliseconds(kHeartbeatPeriodMs), [this] { return stop_.load(); })) {
		__atomic_fetch_add(beat, 1, __ATOMIC_RELEASE);
		emu_.note_wakeup();
	}
}

u64 MailboxServer::serve_slot(u32 i, MailboxSlot *s, u64 req)
{
	/* The input half is the guest's: read it once, never write it. */
	const u64 rax = s->rax;
	RegBlock regs;
	std::memcpy(&regs, &s->regs, sizeof(regs));
	count_leaf(rax);
	u64 ns = 0;
	Emulator::CallRecord rec;
	const u64 st = emu_.serve(i, rax, regs, &ns, &rec);
	std::memcpy(&s->out_regs, &regs, sizeof(regs));
	s->status = st;
	s->service_ns = ns;
	__atomic_store_n(&s->done_id, req, __ATOMIC_RELEASE);
	/* Logging is not part of the call: queued after the answer, written by the logger. */
	if (emu_.logging()) {
		emu_.queue_call_log(rec);
		if (emu_.pending_log_records() == Emulator::kLogBatch)
			wake_logger();
	}
	return ns;
}

/*
 * Sleep until the guest rings vector i. emu_waiting = 1, a full fence, then req_id once more: the
 * guest stores req_id, fences and then reads emu_waiting, so either it sees us waiting and rings,
 * or we see its request here. Returns after any wake (the caller re-checks).
 */
void MailboxServer::sleep_on_doorbell(u32 i, MailboxSlot *s, u64 done)
{
	__atomic_store_n(&s->emu_waiting, 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->req_id, __ATOMIC_ACQUIRE) == done && !stop_.load() && doorbell_.load()) {
		pollfd p{eventfds_[i], POLLIN, 0};
		while (poll(&p, 1, recheck_ms_ > 0 ? recheck_ms_ : -1) < 0 && errno == EINTR) {
		}
		drain_doorbell(i);
		emu_.note_wakeup();
	}
	__atomic_store_n(&s->emu_waiting, 0u, __ATOMIC_RELAXED);
}

void MailboxServer::drain_doorbell(u32 i)
{
	u64 v;
	if (read(eventfds_[i], &v, sizeof(v)) < 0) {
		/* EAGAIN: someone else drained it; a wake is a wake. */
	}
}

bool MailboxServer::pending(u32 lp)
{
	if (lp >= profile_.lps)
		return false;
	const MailboxSlot *s = slot(lp);
	const u64 req = __atomic_load_n(&s->req_id, __ATOMIC_RELAXED);
	return req != 0 && __atomic_load_n(&s->irq_req, __ATOMIC_ACQUIRE) == req;
}

/*
 * Inside a call on slot lp: until done_fd is readable, the guest rings lp's doorbell (it does after
 * marking irq_req), or timeout. Without a doorbell connection nothing rings: then wait at most
 * kMinSleepNs at a time, so a marked interrupt is still seen soon.
 */
void MailboxServer::wait(u32 lp, int done_fd, std::chrono::nanoseconds timeout)
{
	const bool bell = doorbell_.load() && lp < eventfds_.size();
	if (!bell)
		timeout = std::min(timeout, std::chrono::nanoseconds(kMinSleepNs));
	pollfd p[2] = {{done_fd, POLLIN, 0}, {bell ? eventfds_[lp] : -1, POLLIN, 0}};
	const timespec ts{long(timeout.count() / 1'000'000'000), long(timeout.count() % 1'000'000'000)};
	if (ppoll(p, 2, &ts, nullptr) > 0 && (p[1].revents & POLLIN))
		drain_doorbell(lp);
	emu_.note_wakeup();
}

void MailboxServer::slot_loop(u32 i)
{
	/*
	 * Timed waits inside a call (a QUOTE.GET waiting at most its sign budget) end when they should,
	 * not up to the default 50 us of timer slack later: the guest waits with interrupts off.
	 */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	/*
	 * Real-time priority when the host allows it (root, CAP_SYS_NICE): while this thread has a
	 * call to answer, the vCPU that made it spins with its interrupts off, so nothing on the host
	 * should run before it. It never runs long: a call, a spin of kHotSpinNs, then a sleep.
	 */
	sched_param rt{};
	rt.sched_priority = 1;
	(void)pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	MailboxSlot *s = slot(i);
	u64 done = __atomic_load_n(&s->done_id, __ATOMIC_RELAXED); /* only this thread writes it */
	u64 last_activity = now_ns();
	long sleep_ns = kMinSleepNs;
	bool flushed = true;
	u32 spins = 0;
	while (!stop_.load(std::memory_order_relaxed)) {
		const u64 req = __atomic_load_n(&s->req_id, __ATOMIC_ACQUIRE);
		if (req != done) {
			const u64 service = serve_slot(i, s, req);
			done = req;
			last_activity = now_ns();
			/*
			 * After a call that took longer than the spin itself (one that waited for work of
			 * its own, a QUOTE.GET's signature), straight to sleep: the doorbell's wake costs
			 * little next to such calls, and the spin would take a host CPU from that work.
			 */
			if (service >= u64(kHotSpinNs))
				last_activity -= kHotSpinNs;
			sleep_ns = kMinSleepNs;
			flushed = false;
			continue;
		}
		/* Hot: a load and a pause per turn; the clock (slower than both) every kSpinsPerClock. */
		if (++spins % kSpinsPerClock || now_ns() - last_activity < u64(kHotSpinNs)) {
			__builtin_ia32_pause();
			continue;
		}
		if (!flushed) {
			if (emu_.logging())
				wake_logger();
			flushed = true;
		}
		if (doorbell_.load()) {
			sleep_on_doorbell(i, s, done);
			continue;
		}
		/* No doorbell (no ivshmem client): poll, the sleep doubling up to kMaxSleepNs. */
		timespec ts{0, sleep_ns};
		nanosleep(&ts, nullptr);
		emu_.note_wakeup();
		sleep_ns = std::min(sleep_ns * 2, kMaxSleepNs);
	}
}

} // namespace seam_emu
