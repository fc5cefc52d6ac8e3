// SPDX-License-Identifier: GPL-2.0
// tdx-quote-vmm's loop over a fake device, with the real tdx-qgs (in a thread) and the scripted
// emulator: every request ends exactly once with the documented status, concurrent requests,
// the QGS down or faulty or silent, the VMM restarted or stopped, device read errors.
#include <gtest/gtest.h>

#include <csignal>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <thread>
#include <unistd.h>

#include "fake_device.h"
#include "qgs_server.h"
#include "test_support.h"
#include "vmm_loop.h"

namespace quote_service {
namespace {

using test::FakeDevice;
using test::FakeEmulator;
using test::make_report;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kSuccess = KVM_TDX_QUOTE_STATUS_SUCCESS;
constexpr std::uint64_t kError = KVM_TDX_QUOTE_STATUS_ERROR;
constexpr std::uint64_t kUnavailable = KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE;

class VmmLoopTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		std::signal(SIGPIPE, SIG_IGN);
		emu_ = std::make_unique<FakeEmulator>(dir_.path("emu.sock"));
		dev_.add_td(1, 64 * kPage);
	}
	void TearDown() override
	{
		stop_qgs();
		EXPECT_TRUE(dev_.violations().empty()) << dev_.violations().front();
	}
	void start_qgs(std::vector<Fault> faults = {})
	{
		server_ = std::make_unique<test::ServerThread>(
			ServerConfig{qgs_path_, dir_.path("emu.sock"), 20000, std::move(faults)});
		ASSERT_TRUE(server_->ok()) << server_->error();
	}
	void stop_qgs() { server_.reset(); }
	/* One VMM instance until `once` requests ended; its done lines. */
	std::vector<std::string> run_vmm(std::uint64_t once, int timeout_ms = 30000, int stop_fd = -1)
	{
		char *buf = nullptr;
		std::size_t len = 0;
		std::FILE *out = open_memstream(&buf, &len);
		Vmm vmm(dev_, {qgs_path_, timeout_ms, once}, out);
		/* a hang guard: a loop that never reaches `once` stops, and the test fails, not hangs */
		Fd guard(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
		const itimerspec at{{0, 0}, {test::kHangGuardMs / 1000, 0}};
		timerfd_settime(guard.get(), 0, &at, nullptr);
		vmm.run(stop_fd >= 0 ? stop_fd : guard.get());
		pollfd fired{guard.get(), POLLIN, 0};
		EXPECT_EQ(poll(&fired, 1, 0), 0) << "the VMM did not end " << once << " requests";
		std::fclose(out);
		std::vector<std::string> lines;
		std::string all(buf, len);
		std::free(buf);
		for (std::size_t nl; (nl = all.find('\n')) != std::string::npos; all.erase(0, nl + 1))
			lines.push_back(all.substr(0, nl));
		return lines;
	}
	/* A TDREPORT request of TD td at gpa (buffer of size bytes), queued. */
	kvm_tdx_quote_exit queue(std::uint64_t id, std::uint32_t td, std::uint64_t gpa, std::uint64_t size = kPage)
	{
		const auto e = dev_.get_quote(id, td, gpa, size, make_report(seed(id)));
		dev_.queue(e);
		return e;
	}
	static std::uint32_t seed(std::uint64_t id) { return static_cast<std::uint32_t>(id * 7 + 1); }
	static std::string done(std::uint64_t id, std::uint32_t td, std::uint64_t status, std::uint32_t out_len)
	{
		char s[128];
		std::snprintf(s, sizeof(s), "done id=%llu td=%u status=0x%llx out_len=%u",
			      static_cast<unsigned long long>(id), td, static_cast<unsigned long long>(status), out_len);
		return s;
	}
	/* The request ended in the header with status / out_len, after RESUME SUCCESS and one DONE. */
	void expect_ended(const kvm_tdx_quote_exit &e, std::uint64_t status, std::uint32_t out_len = 0)
	{
		SCOPED_TRACE("id " + std::to_string(e.id));
		EXPECT_EQ(dev_.load64(e.td, e.gpa + 8), status);
		EXPECT_EQ(dev_.load32(e.td, e.gpa + 20), out_len);
		const auto r = dev_.replies(e.id);
		ASSERT_EQ(r.size(), 2u);
		EXPECT_EQ(r[0].op, KVM_TDX_QUOTE_OP_RESUME);
		EXPECT_EQ(r[0].ret, KVM_TDX_QUOTE_TDVMCALL_SUCCESS);
		EXPECT_EQ(r[1].op, KVM_TDX_QUOTE_OP_DONE);
		EXPECT_EQ(r[1].ret, status); /* DONE carries the status; the kernel writes it */
		if (status == kSuccess) {
			EXPECT_EQ(dev_.bytes(e.td, e.gpa + 24, out_len), test::fake_quote(make_report(seed(e.id)), out_len));
		}
	}
	/* Refused before the vCPU resumed: status ERROR (or untouched), one RESUME with ret, no DONE. */
	void expect_rejected(const kvm_tdx_quote_exit &e, std::uint64_t ret, std::uint64_t status)
	{
		SCOPED_TRACE("id " + std::to_string(e.id));
		const auto r = dev_.replies(e.id);
		ASSERT_EQ(r.size(), 1u);
		EXPECT_EQ(r[0].op, KVM_TDX_QUOTE_OP_RESUME);
		EXPECT_EQ(r[0].ret, ret);
		EXPECT_EQ(dev_.load64(e.td, e.gpa + 8), status);
	}

	test::TempDir dir_;
	std::string qgs_path_ = dir_.path("qgs.sock");
	std::unique_ptr<FakeEmulator> emu_;
	std::unique_ptr<test::ServerThread> server_;
	FakeDevice dev_;
};

TEST_F(VmmLoopTest, FourTdsTwentyFiveRequestsEachAtOnce)
{
	start_qgs();
	std::vector<kvm_tdx_quote_exit> exits;
	for (std::uint32_t td = 2; td <= 4; td++)
		dev_.add_td(td, 64 * kPage);
	for (std::uint64_t i = 0; i < 25; i++)
		for (std::uint32_t td = 1; td <= 4; td++)
			exits.push_back(queue(100 * td + i, td, 2 * kPage * i, 2 * kPage));
	const auto lines = run_vmm(exits.size());
	ASSERT_EQ(lines.size(), exits.size());
	for (const auto &e : exits) {
		expect_ended(e, kSuccess, 700);
		EXPECT_NE(std::find(lines.begin(), lines.end(), done(e.id, e.td, kSuccess, 700)), lines.end());
	}
	/* each buffer saw the quote, then out_len, then status, nothing else */
	std::map<std::pair<std::uint32_t, std::uint64_t>, std::vector<std::uint64_t>> order;
	for (const auto &w : dev_.writes())
		order[{w.td, w.gpa / (2 * kPage)}].push_back(w.gpa % (2 * kPage));
	ASSERT_EQ(order.size(), exits.size());
	for (const auto &[buf, offsets] : order)
		EXPECT_EQ(offsets, (std::vector<std::uint64_t>{24, 20, 8}));
	EXPECT_EQ(emu_->signs(), 100);
}

TEST_F(VmmLoopTest, BadExitsAndHeaders)
{
	start_qgs();
	std::vector<kvm_tdx_quote_exit> bad;
	bad.push_back(dev_.get_quote(1, 1, 0, kPage, make_report(1), 2));           /* version 2 */
	bad.push_back(dev_.get_quote(2, 1, kPage, kPage, Bytes(1000, 1)));          /* in_len 1000 */
	bad.push_back(dev_.get_quote(3, 1, 2 * kPage, kPage, Bytes(4080, 1)));      /* in_len + 24 > 4096 */
	auto other = dev_.get_quote(4, 1, 3 * kPage, kPage, make_report(4));
	other.nr = 0x10004;                                                          /* not GetQuote */
	auto gone = dev_.get_quote(5, 77, 0, kPage, make_report(5));                /* no such TD */
	auto tiny = dev_.get_quote(6, 1, 4 * kPage, 16, make_report(6));            /* no room for a header */
	auto outside = dev_.get_quote(7, 1, 64 * kPage, kPage, make_report(7));     /* not mapped */
	for (const auto &e : bad)
		dev_.queue(e);
	for (const auto &e : {other, gone, tiny, outside})
		dev_.queue(e);
	const auto lines = run_vmm(7);
	for (const auto &e : bad) {
		expect_rejected(e, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, kError);
		EXPECT_EQ(dev_.load32(e.td, e.gpa + 20), 0u);
	}
	expect_rejected(other, KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED, KVM_TDX_QUOTE_STATUS_IN_FLIGHT);
	EXPECT_EQ(dev_.replies(5).at(0).ret, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND);
	expect_rejected(tiny, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND, KVM_TDX_QUOTE_STATUS_IN_FLIGHT);
	EXPECT_EQ(dev_.replies(7).at(0).ret, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND);
	/* a done line where a status was written */
	EXPECT_EQ(lines, (std::vector<std::string>{done(1, 1, kError, 0), done(2, 1, kError, 0), done(3, 1, kError, 0)}));
	EXPECT_EQ(emu_->signs(), 0);
	EXPECT_EQ(dev_.writes().size(), 6u); /* out_len and status of the three bad headers */
}

TEST_F(VmmLoopTest, QgsDownThenUpAcrossAVmmRestart)
{
	const auto a = queue(1, 1, 0), b = queue(2, 1, kPage);
	EXPECT_EQ(run_vmm(2), (std::vector<std::string>{done(1, 1, kUnavailable, 0), done(2, 1, kUnavailable, 0)}));
	expect_ended(a, kUnavailable);
	expect_ended(b, kUnavailable);
	/* the service comes up; a new VMM instance opens the device and later requests succeed */
	start_qgs();
	const auto c = queue(3, 1, 2 * kPage), d = queue(4, 1, 3 * kPage);
	EXPECT_EQ(run_vmm(2).size(), 2u);
	expect_ended(c, kSuccess, 700);
	expect_ended(d, kSuccess, 700);
}

TEST_F(VmmLoopTest, EachQgsFaultEndsDocumented)
{
	start_qgs({{Fault::Kind::kMalformed, 1},
		   {Fault::Kind::kGarbage, 2},
		   {Fault::Kind::kDrop, 3},
		   {Fault::Kind::kUnsolicited, 4}});
	const std::uint64_t expected[] = {kError, kError, kUnavailable, kError, kSuccess};
	for (std::uint64_t i = 0; i < 5; i++) {
		SCOPED_TRACE(i);
		const auto e = queue(i + 1, 1, i * kPage);
		ASSERT_EQ(run_vmm(1).size(), 1u); /* one at a time: the Nth message is this request */
		expect_ended(e, expected[i], expected[i] == kSuccess ? 700 : 0);
	}
}

TEST_F(VmmLoopTest, EmulatorRefusingIsError)
{
	start_qgs();
	emu_->set_mode(FakeEmulator::Mode::kRefuse);
	const auto e = queue(1, 1, 0);
	run_vmm(1);
	expect_ended(e, kError);
}

TEST_F(VmmLoopTest, SilentQgsTimesOut)
{
	/* listens, never accepts nor answers; a short bound keeps the test quick (outcome checked) */
	std::string err;
	Fd silent = unix_listen(qgs_path_, &err);
	ASSERT_TRUE(silent) << err;
	const auto e = queue(1, 1, 0);
	EXPECT_EQ(run_vmm(1, 100), (std::vector<std::string>{done(1, 1, kUnavailable, 0)}));
	expect_ended(e, kUnavailable);
}

TEST_F(VmmLoopTest, QuoteLargerThanTheBuffer)
{
	start_qgs();
	emu_->set_mode(FakeEmulator::Mode::kBig);
	const auto small = queue(1, 1, 0, kPage);
	const auto big = queue(2, 1, 4 * kPage, 3 * kPage);
	run_vmm(2);
	expect_ended(small, kError, 0);
	expect_ended(big, kSuccess, 8000);
}

TEST_F(VmmLoopTest, DeviceReadErrorsSurvived)
{
	start_qgs();
	dev_.fail_reads(3, EIO);
	const auto e = queue(1, 1, 0);
	run_vmm(1);
	expect_ended(e, kSuccess, 700);
}

TEST_F(VmmLoopTest, BufferGoneBeforeCompletion)
{
	start_qgs();
	dev_.fail_writes(true);
	const auto e = queue(1, 1, 0);
	/* the quote could not be written: DONE says ERROR with out_len 0 */
	EXPECT_EQ(run_vmm(1), (std::vector<std::string>{done(1, 1, kError, 0)}));
	const auto r = dev_.replies(e.id);
	ASSERT_EQ(r.size(), 2u);
	EXPECT_EQ(r[1].op, KVM_TDX_QUOTE_OP_DONE); /* the kernel gets its DONE anyway */
	EXPECT_EQ(r[1].ret, kError);
}

TEST_F(VmmLoopTest, StopEndsRequestsInFlight)
{
	std::string err;
	Fd silent = unix_listen(qgs_path_, &err);
	ASSERT_TRUE(silent) << err;
	const auto e = queue(1, 1, 0);
	Fd stop(eventfd(0, EFD_CLOEXEC));
	std::vector<std::string> lines;
	std::thread vmm([&] { lines = run_vmm(0, 3600000, stop.get()); });
	for (int i = 0; i < 2000 && dev_.replies(1).empty(); i++)
		usleep(10000); /* until the exit was taken (bounded, not timed) */
	const std::uint64_t one = 1;
	ASSERT_EQ(write(stop.get(), &one, sizeof(one)), 8);
	vmm.join();
	EXPECT_EQ(lines, (std::vector<std::string>{done(1, 1, kUnavailable, 0)}));
	expect_ended(e, kUnavailable);
}

} // namespace
} // namespace quote_service
