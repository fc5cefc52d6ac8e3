// SPDX-License-Identifier: GPL-2.0
#include "mailbox_server.h"

#include <time.h>

#include <chrono>
#include <cstddef>
#include <cstring>

namespace seam_emu {

namespace {

/* The header is packed, so its fields are reached through byte offsets, never references. */
template <typename T> T *field_at(u8 *base, size_t off) { return reinterpret_cast<T *>(base + off); }

} // namespace

MailboxServer::MailboxServer(u8 *base, u64 size, Emulator &emu, const Profile &p)
	: base_(base), size_(size), emu_(emu), profile_(p)
{
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
	/* Withdraw any old magic first so the guest never sees a half-written header as valid. */
	__atomic_store_n(field_at<u64>(base_, offsetof(MailboxHeader, magic)), 0, __ATOMIC_RELEASE);
	MailboxHeader h{};
	h.protocol_version = kProtocolVersion;
	h.slot_count = profile_.lps;
	h.slot_offset = kSlotOffset;
	h.slot_size = kSlotSize;
	h.heartbeat = 0;
	h.emu_state = kEmuRunning;
	h.tdx_keyid_start = profile_.tdx_keyid_start;
	h.nr_tdx_keyids = profile_.nr_tdx_keyids;
	h.num_packages = profile_.packages;
	std::memcpy(base_ + sizeof(u64), reinterpret_cast<u8 *>(&h) + sizeof(u64), sizeof(h) - sizeof(u64));
	std::memset(base_ + kLeafCallsOffset, 0, leaf::kMax * sizeof(u64));
	__atomic_store_n(field_at<u64>(base_, offsetof(MailboxHeader, magic)), kMailboxMagic, __ATOMIC_RELEASE);
	return true;
}

void MailboxServer::heartbeat()
{
	__atomic_fetch_add(field_at<u64>(base_, offsetof(MailboxHeader, heartbeat)), 1, __ATOMIC_RELEASE);
}

void MailboxServer::set_stopped()
{
	__atomic_store_n(field_at<u32>(base_, offsetof(MailboxHeader, emu_state)), u32(kEmuStopped), __ATOMIC_RELEASE);
}

void MailboxServer::count_leaf(u64 rax)
{
	if ((rax & kSeamldrLeafBit) || (rax & kLeafNumberMask) >= leaf::kMax)
		return;
	u64 *calls = field_at<u64>(base_, kLeafCallsOffset + (rax & kLeafNumberMask) * sizeof(u64));
	__atomic_store_n(calls, *calls + 1, __ATOMIC_RELEASE); /* the only writer */
}

unsigned MailboxServer::poll_once()
{
	unsigned served = 0;
	for (u32 i = 0; i < profile_.lps; i++) {
		MailboxSlot *s = slot(i);
		u32 req = __atomic_load_n(&s->req_seq, __ATOMIC_ACQUIRE);
		u32 done = __atomic_load_n(&s->done_seq, __ATOMIC_RELAXED);
		if (req == done)
			continue;
		u64 rax = s->rax;
		count_leaf(rax);
		RegBlock regs;
		std::memcpy(&regs, &s->regs, sizeof(regs));
		u64 ns = 0;
		u64 st = emu_.serve(i, rax, regs, &ns);
		std::memcpy(&s->regs, &regs, sizeof(regs));
		s->rax = st;
		s->service_ns = ns;
		__atomic_store_n(&s->done_seq, req, __ATOMIC_RELEASE);
		emu_.write_call_log(); /* after the answer: logging is not part of the call */
		served++;
	}
	return served;
}

void MailboxServer::run(const std::atomic<bool> &stop)
{
	using clock = std::chrono::steady_clock;
	auto last_activity = clock::now();
	long sleep_ns = kMinSleepNs;
	while (!stop.load(std::memory_order_relaxed)) {
		if (poll_once()) {
			last_activity = clock::now();
			sleep_ns = kMinSleepNs;
			continue;
		}
		if (clock::now() - last_activity < std::chrono::nanoseconds(kHotSpinNs)) {
			__builtin_ia32_pause();
			continue;
		}
		if (sleep_ns == kMinSleepNs)
			emu_.flush_log();
		/* Idle: sleep, doubling up to 1 ms, so an idle emulator costs well under 1% of a core. */
		timespec ts{0, sleep_ns};
		nanosleep(&ts, nullptr);
		sleep_ns = std::min(sleep_ns * 2, kMaxSleepNs);
	}
}

} // namespace seam_emu
