// SPDX-License-Identifier: GPL-2.0
/* The emulator mailbox transport, against an in-memory mailbox served by a thread. */
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include <kapi/kapi.h>

#include "backend.h"
#include "fake_kapi.h"

using namespace tdx;
using namespace tdx::emu;

namespace {

class Mailbox {
public:
	explicit Mailbox(u32 slots) : mem_(mailbox_bytes(slots) / 8 + 1)
	{
		auto *h = hdr();
		h->protocol_version = kProtocolVersion;
		h->slot_count = slots;
		h->slot_offset = kSlotOffset;
		h->slot_size = kSlotSize;
		h->tdx_keyid_start = 16;
		h->nr_tdx_keyids = 8;
		h->magic = kMailboxMagic;
	}
	~Mailbox() { stop(); }
	void *base() { return mem_.data(); }
	usize size() const { return mem_.size() * 8; }
	MailboxHeader *hdr() { return reinterpret_cast<MailboxHeader *>(mem_.data()); }
	MailboxSlot *slot(u32 i)
	{
		return reinterpret_cast<MailboxSlot *>(reinterpret_cast<u8 *>(mem_.data()) + kSlotOffset + i * kSlotSize);
	}

	/* Serves every call: status = leaf number, rdx = rcx + 1, service_ns = 42. */
	void serve()
	{
		server_ = std::thread([this] {
			while (!stop_.load()) {
				for (u32 i = 0; i < hdr()->slot_count; i++) {
					MailboxSlot *s = slot(i);
					u32 req = __atomic_load_n(&s->req_seq, __ATOMIC_ACQUIRE);
					if (req == s->done_seq)
						continue;
					s->regs.rdx = s->regs.rcx + 1;
					s->rax = s->rax & 0xFFFF;
					s->service_ns = 42;
					__atomic_store_n(&s->done_seq, req, __ATOMIC_RELEASE);
				}
			}
		});
	}
	void stop()
	{
		stop_ = true;
		if (server_.joinable())
			server_.join();
	}

private:
	std::vector<u64> mem_;
	std::thread server_;
	std::atomic<bool> stop_{false};
};

} // namespace

TEST(EmuBackend, ProbeChecksTheHeader)
{
	fake::reset();
	Mailbox mb(2);
	EXPECT_TRUE(EmuBackend::probe(mb.base(), mb.size(), 2).is_ok());
	EXPECT_EQ(EmuBackend::probe(mb.base(), mb.size(), 3), error(err::kENODEV)); /* too few slots */
	EXPECT_TRUE(fake::kernel().log_contains("models 2 logical CPUs"));
	EXPECT_EQ(EmuBackend::probe(mb.base(), 100, 2), error(err::kENODEV)); /* BAR too small */
	mb.hdr()->protocol_version = 2;
	EXPECT_EQ(EmuBackend::probe(mb.base(), mb.size(), 2), error(err::kENODEV));
	mb.hdr()->protocol_version = kProtocolVersion;
	mb.hdr()->magic = 0;
	EXPECT_EQ(EmuBackend::probe(mb.base(), mb.size(), 2), error(err::kENODEV));
	EXPECT_TRUE(fake::kernel().log_contains("no magic"));
}

TEST(EmuBackend, CallRoundTrip)
{
	fake::reset();
	Mailbox mb(2);
	mb.serve();
	EmuBackend b(mb.base(), 1000000000ull);
	fake::kernel().current_cpu = 1;
	RegBlock r{};
	r.rcx = 7;
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), 34u);
	EXPECT_EQ(r.rdx, 8u);
	EXPECT_EQ(b.last_service_ns(1), 42u);
	EXPECT_EQ(mb.slot(1)->cpu, 1u);
	EXPECT_EQ(mb.slot(1)->req_seq, 1u);
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(35), r), 35u);
	EXPECT_EQ(mb.slot(1)->req_seq, 2u);
	EXPECT_EQ(mb.slot(0)->req_seq, 0u); /* CPU 1 only used its own slot */
	u32 start = 0, nr = 0;
	EXPECT_TRUE(b.tdx_keyids(start, nr).is_ok());
	EXPECT_EQ(start, 16u);
	EXPECT_EQ(nr, 8u);
}

TEST(EmuBackend, CpuWithoutASlotIsVmFailInvalid)
{
	fake::reset();
	Mailbox mb(1);
	EmuBackend b(mb.base(), 1000000);
	fake::kernel().current_cpu = 3;
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), tdx::abi::kTdxSeamcallVmFailInvalid);
}

TEST(EmuBackend, SilentEmulatorTimesOutAndMarksTdxUnusable)
{
	fake::reset();
	Mailbox mb(1); /* nobody serves it */
	EmuBackend b(mb.base(), 2000000); /* 2 ms of fake clock */
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(33), r), kTdxSeamcallTimeout);
	EXPECT_TRUE(b.dead());
	EXPECT_TRUE(fake::kernel().log_contains("did not answer in 2 ms"));
	/* Later calls fail at once, without touching the mailbox. */
	u32 seq = mb.slot(0)->req_seq;
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(34), r), kTdxSeamcallTimeout);
	EXPECT_EQ(mb.slot(0)->req_seq, seq);
	EXPECT_EQ(status_to_errno(TdxStatus(kTdxSeamcallTimeout)), error(err::kETIMEDOUT));
}

TEST(EmuBackend, NoKeyIdsIsAnError)
{
	fake::reset();
	Mailbox mb(1);
	mb.hdr()->nr_tdx_keyids = 0;
	EmuBackend b(mb.base(), 1000000);
	u32 start, nr;
	EXPECT_EQ(b.tdx_keyids(start, nr), error(err::kENODEV));
}

TEST(HwBackend, RefusesWithoutTdxCpu)
{
	fake::reset();
	/* The fake CPU reports no TDX: the hw backend must not be chosen. */
	EXPECT_EQ(HwBackend::probe(), error(err::kENODEV));
	HwBackend b;
	RegBlock r{};
	EXPECT_EQ(b.call(tdx::abi::leaf_rax(33), r), tdx::abi::kTdxSeamcallVmFailInvalid);
	u32 start, nr;
	EXPECT_EQ(b.tdx_keyids(start, nr), error(err::kENODEV));
}

/* Backend choice at load time (core.cpp): what each seamcall= mode does without TDX hardware. */
TEST(CoreInit, ChoosesTheBackend)
{
	fake::reset();
	tdx_core_params p{TDX_SEAMCALL_AUTO, 100};
	/* No emulator, no TDX CPU: nothing to bring up. */
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_TRUE(fake::kernel().log_contains("no TDX"));
	p.seamcall_mode = TDX_SEAMCALL_EMU;
	EXPECT_EQ(tdx_core_init(&p), -19);
	EXPECT_TRUE(fake::kernel().log_contains("seamcall=emu but no usable emulator"));
	/* An emulator mailbox with no magic is not used by auto either. */
	Mailbox mb(2);
	mb.hdr()->magic = 0;
	fake::kernel().mailbox = mb.base();
	fake::kernel().mailbox_size = mb.size();
	p.seamcall_mode = TDX_SEAMCALL_AUTO;
	EXPECT_EQ(tdx_core_init(&p), -19);
	/* seamcall=hw ignores a working emulator. */
	mb.hdr()->magic = kMailboxMagic;
	p.seamcall_mode = TDX_SEAMCALL_HW;
	EXPECT_EQ(tdx_core_init(&p), -19);
	tdx_module_version v;
	EXPECT_EQ(tdx_core_version(&v), -6); /* -ENXIO: no module */
	EXPECT_EQ(fake::kernel().live_allocs, 0);
}

TEST(CoreInit, AutoPicksAWorkingEmulatorAndTimesOutCleanly)
{
	fake::reset();
	Mailbox mb(2); /* present but nobody answers: bring-up times out */
	fake::kernel().mailbox = mb.base();
	fake::kernel().mailbox_size = mb.size();
	tdx_core_params p{TDX_SEAMCALL_AUTO, 1};
	EXPECT_EQ(tdx_core_init(&p), -110);
	EXPECT_TRUE(fake::kernel().log_contains("SEAMCALL backend: emu"));
	EXPECT_EQ(fake::kernel().live_allocs, 0);
	tdx_module_version v;
	EXPECT_EQ(tdx_core_version(&v), -6);
	/* And a second load starts from scratch (no state left from the first). */
	EXPECT_EQ(tdx_core_init(&p), -110);
	tdx_core_exit();
}
