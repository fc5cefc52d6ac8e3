// SPDX-License-Identifier: GPL-2.0
// tdx-qgs's protocol handling against a scripted emulator: quotes, pipelining, many clients, every
// bad input, the emulator refusing or down, the test-fault knob, the tty channel, the program.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qgs_server.h"
#include "test_support.h"

namespace quote_service {
namespace {

using test::FakeEmulator;
using test::make_report;
using test::read_message;

/* The tdx-qgs program with args (stderr to /dev/null when quiet). */
pid_t spawn_qgs(const std::vector<std::string> &args, bool quiet = false)
{
	std::vector<char *> argv{const_cast<char *>(TDX_QGS)};
	for (const auto &a : args)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	const pid_t pid = fork();
	if (pid == 0) {
		if (quiet)
			dup2(open("/dev/null", O_WRONLY), 2);
		execv(TDX_QGS, argv.data());
		_exit(127);
	}
	return pid;
}

/* Its exit status, -1 when it did not exit normally. */
int exit_status(pid_t pid)
{
	int status = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

class QgsServerTest : public ::testing::Test {
protected:
	void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
	void TearDown() override { stop(); }

	void start(std::vector<Fault> faults = {}, int emulator_timeout_ms = 20000, std::string emulator = "")
	{
		if (!emu_)
			emu_ = std::make_unique<FakeEmulator>(emu_path_);
		server_ = std::make_unique<test::ServerThread>(ServerConfig{
			qgs_path_, emulator.empty() ? emu_path_ : emulator, emulator_timeout_ms, std::move(faults)});
		ASSERT_TRUE(server_->ok()) << server_->error();
	}
	void stop() { server_.reset(); }
	Fd client() { return test::connect_blocking(qgs_path_); }
	/* Sends a framed message and reads one framed reply. */
	std::optional<Bytes> ask(int fd, BytesView message)
	{
		if (!test::send_bytes(fd, frame(message)))
			return std::nullopt;
		return read_message(fd);
	}
	void expect_quote(const std::optional<Bytes> &resp, std::uint32_t seed)
	{
		ASSERT_TRUE(resp);
		const ParsedResponse p = parse_response(*resp);
		ASSERT_EQ(p.status, ResponseStatus::kOk) << p.why;
		EXPECT_EQ(Bytes(p.quote.begin(), p.quote.end()), test::fake_quote(make_report(seed)));
		EXPECT_TRUE(p.selected_id.empty());
	}
	void expect_error(const std::optional<Bytes> &resp, std::uint32_t code)
	{
		ASSERT_TRUE(resp);
		const ParsedResponse p = parse_response(*resp);
		ASSERT_EQ(p.status, ResponseStatus::kQgsError) << p.why;
		EXPECT_EQ(p.error_code, code) << error_code_name(p.error_code);
	}

	test::TempDir dir_;
	std::string qgs_path_ = dir_.path("qgs.sock");
	std::string emu_path_ = dir_.path("emu.sock");
	std::unique_ptr<FakeEmulator> emu_;
	std::unique_ptr<test::ServerThread> server_;
};

TEST_F(QgsServerTest, ValidRequestGetsTheEmulatorsQuote)
{
	start();
	Fd c = client();
	ASSERT_TRUE(c);
	expect_quote(ask(c.get(), build_request(make_report(1), {})), 1);
	EXPECT_EQ(emu_->formats(), 1);
	ASSERT_EQ(emu_->sign_args().size(), 1u);
	EXPECT_EQ(emu_->sign_args()[0], to_hex(make_report(1)));
}

TEST_F(QgsServerTest, SeveralRequestsOnOneConnectionInOneWrite)
{
	start();
	Fd c = client();
	Bytes all;
	for (std::uint32_t i = 1; i <= 3; i++) {
		const Bytes f = frame(build_request(make_report(i), {}));
		all.insert(all.end(), f.begin(), f.end());
	}
	ASSERT_TRUE(test::send_bytes(c.get(), all));
	for (std::uint32_t i = 1; i <= 3; i++)
		expect_quote(read_message(c.get()), i);
	/* one channel, opened once */
	EXPECT_EQ(emu_->connections(), 1);
	EXPECT_EQ(emu_->formats(), 1);
}

TEST_F(QgsServerTest, ManyClientsWithInterleavedPartialRequests)
{
	start();
	constexpr int kClients = 8;
	std::vector<Fd> cs;
	std::vector<Bytes> reqs;
	for (int i = 0; i < kClients; i++) {
		cs.push_back(client());
		ASSERT_TRUE(cs.back());
		reqs.push_back(frame(build_request(make_report(100 + i), {})));
		/* the first half of each request now, the rest later: nobody blocks the others */
		ASSERT_TRUE(test::send_bytes(cs[i].get(), BytesView(reqs[i]).first(reqs[i].size() / 2)));
	}
	for (int i = kClients - 1; i >= 0; i--)
		ASSERT_TRUE(test::send_bytes(cs[i].get(), BytesView(reqs[i]).subspan(reqs[i].size() / 2)));
	for (int i = 0; i < kClients; i++)
		expect_quote(read_message(cs[i].get()), 100 + i);
}

/* Bad input: the documented error_code, and the connection still serves. */
TEST_F(QgsServerTest, BadMessagesAnsweredWithTheirErrorCode)
{
	start();
	Fd c = client();
	const Bytes good = build_request(make_report(5), {});
	struct Case {
		const char *name;
		Bytes message;
		std::uint32_t code;
	};
	std::vector<Case> cases;
	Bytes m = good;
	m[qgs::kOffMajor] = 2;
	cases.push_back({"major 2", m, qgs::kErrorInvalidVersion});
	m = good;
	m[qgs::kOffType] = qgs::kGetQuoteResp;
	cases.push_back({"a response", m, qgs::kErrorInvalidType});
	m = good;
	m[qgs::kOffSize] ^= 4;
	cases.push_back({"size field", m, qgs::kErrorInvalidSize});
	cases.push_back({"report 1000", build_request(Bytes(1000, 1), {}), qgs::kErrorInvalidParameter});
	cases.push_back({"shorter than a header", Bytes(8, 1), qgs::kErrorInvalidSize});
	cases.push_back({"empty message", Bytes{}, qgs::kErrorInvalidSize});
	m = good;
	store_le32(m.data() + qgs::kReqOffIdListSize, 5);
	cases.push_back({"id_list_size past the end", m, qgs::kErrorInvalidSize});
	for (const auto &k : cases) {
		SCOPED_TRACE(k.name);
		expect_error(ask(c.get(), k.message), k.code);
	}
	expect_quote(ask(c.get(), good), 5);
	EXPECT_EQ(emu_->signs(), 1); /* the emulator saw only the valid one */
}

TEST_F(QgsServerTest, OversizedPrefixAnsweredThenClosed)
{
	start();
	Fd c = client();
	const Bytes prefix{0x7f, 0, 0, 0};
	ASSERT_TRUE(test::send_bytes(c.get(), prefix));
	expect_error(read_message(c.get()), qgs::kErrorInvalidSize);
	EXPECT_TRUE(test::read_eof(c.get()));
	/* the service goes on */
	Fd d = client();
	expect_quote(ask(d.get(), build_request(make_report(2), {})), 2);
}

TEST_F(QgsServerTest, TruncatedMessageAndEarlyDisconnectsSurvived)
{
	start();
	{
		Fd c = client();
		const Bytes f = frame(build_request(make_report(1), {}));
		ASSERT_TRUE(test::send_bytes(c.get(), BytesView(f).first(100)));
	} /* closed mid-message */
	{
		Fd c = client();
		ASSERT_TRUE(test::send_bytes(c.get(), frame(build_request(make_report(2), {}))));
	} /* closed before its reply */
	{
		Fd c = client();
		ASSERT_TRUE(test::send_bytes(c.get(), Bytes{0, 0}));
		shutdown(c.get(), SHUT_WR); /* half a prefix, then EOF: no reply, closed */
		EXPECT_TRUE(test::read_eof(c.get()));
	}
	{
		/* a request then EOF on the write side: the reply still comes */
		Fd c = client();
		ASSERT_TRUE(test::send_bytes(c.get(), frame(build_request(make_report(3), {}))));
		shutdown(c.get(), SHUT_WR);
		expect_quote(read_message(c.get()), 3);
		EXPECT_TRUE(test::read_eof(c.get()));
	}
	Fd c = client();
	expect_quote(ask(c.get(), build_request(make_report(4), {})), 4);
}

TEST_F(QgsServerTest, EmulatorRefusingIsUnexpected)
{
	start();
	emu_->set_mode(FakeEmulator::Mode::kRefuse);
	Fd c = client();
	expect_error(ask(c.get(), build_request(make_report(1), {})), qgs::kErrorUnexpected);
	emu_->set_mode(FakeEmulator::Mode::kSign);
	expect_quote(ask(c.get(), build_request(make_report(2), {})), 2);
	EXPECT_EQ(emu_->connections(), 1); /* a refusal is an answer: the channel stays */
}

TEST_F(QgsServerTest, EmulatorChannelBrokenOnceIsReopened)
{
	start();
	Fd c = client();
	expect_quote(ask(c.get(), build_request(make_report(1), {})), 1);
	emu_->close_next(1);
	expect_quote(ask(c.get(), build_request(make_report(2), {})), 2);
	EXPECT_EQ(emu_->connections(), 2);
	EXPECT_EQ(emu_->formats(), 2); /* `format json` again on the new channel */
	EXPECT_EQ(emu_->signs(), 3);
}

TEST_F(QgsServerTest, EmulatorChannelBrokenTwiceIsUnexpected)
{
	for (const auto mode : {FakeEmulator::Mode::kClose, FakeEmulator::Mode::kUnreadable}) {
		SCOPED_TRACE(static_cast<int>(mode));
		stop();
		emu_.reset();
		start();
		emu_->set_mode(mode);
		Fd c = client();
		expect_error(ask(c.get(), build_request(make_report(1), {})), qgs::kErrorUnexpected);
		EXPECT_EQ(emu_->signs(), 2); /* tried, reopened once, tried again */
		emu_->set_mode(FakeEmulator::Mode::kSign);
		expect_quote(ask(c.get(), build_request(make_report(2), {})), 2);
	}
}

TEST_F(QgsServerTest, EmulatorSilentIsUnexpected)
{
	/* a small exchange bound so the test is quick; the outcome, not the time, is checked */
	start({}, 100);
	emu_->set_mode(FakeEmulator::Mode::kSilent);
	Fd c = client();
	expect_error(ask(c.get(), build_request(make_report(1), {})), qgs::kErrorUnexpected);
	EXPECT_EQ(emu_->signs(), 2);
}

TEST_F(QgsServerTest, NoEmulatorIsUnexpected)
{
	start({}, 20000, dir_.path("nothing-here"));
	Fd c = client();
	expect_error(ask(c.get(), build_request(make_report(1), {})), qgs::kErrorUnexpected);
	expect_error(ask(c.get(), build_request(make_report(2), {})), qgs::kErrorUnexpected);
}

TEST_F(QgsServerTest, EmulatorPathNotASocketIsUnexpected)
{
	const std::string file = dir_.path("plain");
	Fd(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
	start({}, 20000, file);
	Fd c = client();
	expect_error(ask(c.get(), build_request(make_report(1), {})), qgs::kErrorUnexpected);
}

TEST_F(QgsServerTest, FaultMalformed)
{
	start({{Fault::Kind::kMalformed, 2}});
	Fd c = client();
	expect_quote(ask(c.get(), build_request(make_report(1), {})), 1);
	const auto r = ask(c.get(), build_request(make_report(2), {}));
	ASSERT_TRUE(r); /* the prefix is right */
	EXPECT_EQ(read_header(r->data()).size, r->size() + 1);
	EXPECT_EQ(parse_response(*r).status, ResponseStatus::kMalformed);
	expect_quote(ask(c.get(), build_request(make_report(3), {})), 3);
}

TEST_F(QgsServerTest, FaultGarbage)
{
	start({{Fault::Kind::kGarbage, 1}});
	Fd c = client();
	const auto r = ask(c.get(), build_request(make_report(1), {}));
	ASSERT_TRUE(r);
	EXPECT_EQ(r->size(), 48u);
	EXPECT_EQ(parse_response(*r).status, ResponseStatus::kMalformed);
	EXPECT_EQ(emu_->signs(), 0);
	expect_quote(ask(c.get(), build_request(make_report(2), {})), 2);
}

TEST_F(QgsServerTest, FaultDrop)
{
	start({{Fault::Kind::kDrop, 1}});
	Fd c = client();
	ASSERT_TRUE(test::send_bytes(c.get(), frame(build_request(make_report(1), {}))));
	EXPECT_TRUE(test::read_eof(c.get()));
	EXPECT_EQ(emu_->signs(), 0);
	Fd d = client();
	expect_quote(ask(d.get(), build_request(make_report(2), {})), 2);
}

TEST_F(QgsServerTest, FaultUnsolicited)
{
	start({{Fault::Kind::kUnsolicited, 1}});
	Fd c = client();
	const auto extra = ask(c.get(), build_request(make_report(1), {}));
	ASSERT_TRUE(extra);
	const ParsedResponse p = parse_response(*extra);
	EXPECT_EQ(p.status, ResponseStatus::kOk);
	EXPECT_TRUE(p.quote.empty());
	expect_quote(read_message(c.get()), 1);
	expect_quote(ask(c.get(), build_request(make_report(2), {})), 2);
}

TEST_F(QgsServerTest, FaultsCountMessagesOverAllConnections)
{
	start({{Fault::Kind::kDrop, 2}, {Fault::Kind::kGarbage, 3}});
	Fd a = client(), b = client();
	expect_quote(ask(a.get(), build_request(make_report(1), {})), 1);
	ASSERT_TRUE(test::send_bytes(b.get(), frame(build_request(make_report(2), {}))));
	EXPECT_TRUE(test::read_eof(b.get()));
	/* a bad message counts too */
	const auto g = ask(a.get(), Bytes(4, 0));
	ASSERT_TRUE(g);
	EXPECT_EQ(g->size(), 48u);
	expect_quote(ask(a.get(), build_request(make_report(4), {})), 4);
	EXPECT_EQ(server_->server().messages(), 4u);
}

TEST(QgsFault, Parse)
{
	std::string err;
	const auto f = parse_fault("unsolicited:12", &err);
	ASSERT_TRUE(f) << err;
	EXPECT_EQ(f->kind, Fault::Kind::kUnsolicited);
	EXPECT_EQ(f->nth, 12u);
	EXPECT_EQ(parse_fault("malformed:1", &err)->kind, Fault::Kind::kMalformed);
	EXPECT_EQ(parse_fault("garbage:1", &err)->kind, Fault::Kind::kGarbage);
	EXPECT_EQ(parse_fault("drop:1", &err)->kind, Fault::Kind::kDrop);
	for (const char *bad : {"drop", "drop:", "drop:0", "drop:x", "drop:1x", "drop:-1", "Drop:1", "late:1", ":1", ""})
		EXPECT_FALSE(parse_fault(bad, &err)) << bad;
}

TEST_F(QgsServerTest, TtyChannel)
{
	/* A pty stands in for the guest's serial port: the service opens the slave by path and puts
	 * it in raw mode; the fake emulator serves the master. Stale bytes are flushed at open. */
	Fd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
	ASSERT_TRUE(master);
	ASSERT_EQ(grantpt(master.get()), 0);
	ASSERT_EQ(unlockpt(master.get()), 0);
	const std::string slave = ptsname(master.get());
	emu_ = std::make_unique<FakeEmulator>("");
	emu_->attach(master.get());
	start({}, 20000, slave);
	Fd c = client();
	for (std::uint32_t i = 1; i <= 3; i++)
		expect_quote(ask(c.get(), build_request(make_report(i), {})), i);
	EXPECT_EQ(emu_->formats(), 1);
	stop();
	emu_.reset(); /* before master closes */
}

/* The program itself: options, a request, SIGTERM ends it cleanly and removes its socket. */
TEST_F(QgsServerTest, ProgramServesAndStopsOnSigterm)
{
	emu_ = std::make_unique<FakeEmulator>(emu_path_);
	const pid_t pid = spawn_qgs({"--socket", qgs_path_, "--emulator", emu_path_, "--test-fault", "garbage:2"});
	ASSERT_GE(pid, 0);
	Fd c;
	for (int i = 0; i < 2000 && !c; i++) { /* until it listens (bounded, not timed) */
		c = client();
		if (!c)
			usleep(10000);
	}
	ASSERT_TRUE(c);
	expect_quote(ask(c.get(), build_request(make_report(1), {})), 1);
	const auto g = ask(c.get(), build_request(make_report(2), {}));
	ASSERT_TRUE(g);
	EXPECT_EQ(parse_response(*g).status, ResponseStatus::kMalformed);
	ASSERT_EQ(kill(pid, SIGTERM), 0);
	EXPECT_EQ(exit_status(pid), 0);
	struct stat st;
	EXPECT_NE(lstat(qgs_path_.c_str(), &st), 0);
}

TEST(QgsProgram, BadOptionsExitOne)
{
	for (const char *fault : {"drop:0", "boom:1"}) {
		const pid_t pid = spawn_qgs({"--socket", "/nonexistent/x", "--emulator", "/x", "--test-fault", fault}, true);
		ASSERT_GE(pid, 0);
		EXPECT_EQ(exit_status(pid), 1) << fault;
	}
	/* a socket it cannot create */
	const pid_t pid = spawn_qgs({"--socket", "/nonexistent/x", "--emulator", "/x"}, true);
	EXPECT_EQ(exit_status(pid), 1);
}

} // namespace
} // namespace quote_service
