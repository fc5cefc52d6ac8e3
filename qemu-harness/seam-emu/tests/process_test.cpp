// SPDX-License-Identifier: GPL-2.0
// The real seam-emu binary: RAM and mailbox files in a temp dir, the control socket, signals.
#include "test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <tdx/emu/mailbox.h>

namespace seam_emu::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tdx::emu::MailboxHeader;
using tdx::emu::MailboxSlot;

constexpr u64 kRamSize = 64 * kMiB;

struct FileMap {
	u8 *p = nullptr;
	u64 size = 0;
	void open(const std::string &path, u64 sz)
	{
		int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(ftruncate(fd, off_t(sz)), 0);
		p = static_cast<u8 *>(mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
		close(fd);
		ASSERT_NE(p, MAP_FAILED);
		size = sz;
	}
	~FileMap()
	{
		if (p)
			munmap(p, size);
	}
};

class Control {
public:
	explicit Control(const std::string &path)
	{
		fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
		ok_ = connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0;
	}
	~Control() { close(fd_); }
	bool ok() const { return ok_; }
	void send_raw(const std::string &s) { ASSERT_EQ(write(fd_, s.data(), s.size()), ssize_t(s.size())); }
	std::string read_line()
	{
		for (;;) {
			size_t nl = buf_.find('\n');
			if (nl != std::string::npos) {
				std::string line = buf_.substr(0, nl + 1);
				buf_.erase(0, nl + 1);
				return line;
			}
			pollfd p{fd_, POLLIN, 0};
			if (poll(&p, 1, 5000) <= 0)
				return {};
			char b[4096];
			ssize_t n = read(fd_, b, sizeof(b));
			if (n <= 0)
				return {};
			buf_.append(b, size_t(n));
		}
	}
	json cmd(const std::string &line)
	{
		send_raw(line + "\n");
		std::string r = read_line();
		return r.empty() ? json() : json::parse(r);
	}

private:
	int fd_;
	bool ok_;
	std::string buf_;
};

class Process : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/seam-emu-test.XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		ram_.open(dir_ + "/ram", kRamSize);
	}
	void TearDown() override
	{
		if (pid_ > 0) {
			kill(pid_, SIGKILL);
			waitpid(pid_, nullptr, 0);
		}
		mbox_.reset();
		std::string cmd = "rm -rf " + dir_;
		ASSERT_EQ(std::system(cmd.c_str()), 0);
	}

	void start(std::vector<std::string> extra = {}, const std::string &profile = "default.json")
	{
		std::vector<std::string> args = {SEAM_EMU_BIN,
						 "--ram", dir_ + "/ram",
						 "--mailbox", dir_ + "/mbox",
						 "--control", sock(),
						 "--profile", profile_path(profile),
						 "--pidfile", dir_ + "/pid",
						 "--log", dir_ + "/log"};
		args.insert(args.end(), extra.begin(), extra.end());
		pid_ = fork();
		ASSERT_GE(pid_, 0);
		if (pid_ == 0) {
			std::vector<char *> argv;
			for (auto &a : args)
				argv.push_back(a.data());
			argv.push_back(nullptr);
			int devnull = ::open("/dev/null", O_WRONLY);
			dup2(devnull, 2);
			execv(argv[0], argv.data());
			_exit(127);
		}
		/* Ready when the magic is published and the pidfile is written. */
		for (int i = 0; i < 500; i++) {
			struct stat st;
			if (stat((dir_ + "/pid").c_str(), &st) == 0 && stat((dir_ + "/mbox").c_str(), &st) == 0 &&
			    st.st_size > 0) {
				mbox_ = std::make_unique<FileMap>();
				mbox_->open(dir_ + "/mbox", u64(st.st_size));
				if (__atomic_load_n(reinterpret_cast<u64 *>(mbox_->p), __ATOMIC_ACQUIRE) ==
				    tdx::emu::kMailboxMagic)
					return;
				mbox_.reset();
			}
			std::this_thread::sleep_for(10ms);
		}
		FAIL() << "seam-emu did not come up";
	}

	std::string sock() const { return dir_ + "/ctl"; }
	MailboxHeader header() const
	{
		MailboxHeader h;
		std::memcpy(&h, mbox_->p, sizeof(h));
		return h;
	}
	MailboxSlot *slot(u32 i) const
	{
		return reinterpret_cast<MailboxSlot *>(mbox_->p + tdx::emu::kSlotOffset + i * tdx::emu::kSlotSize);
	}

	/* One SEAMCALL through the mailbox, as the guest makes it. */
	u64 seamcall(u32 cpu, u64 rax_in, RegBlock &regs, bool expect_answer = true)
	{
		MailboxSlot *s = slot(cpu);
		s->rax = rax_in;
		s->regs = regs;
		s->cpu = cpu;
		u32 seq = s->req_seq + 1;
		__atomic_store_n(&s->req_seq, seq, __ATOMIC_RELEASE);
		auto deadline = std::chrono::steady_clock::now() + (expect_answer ? 5s : 500ms);
		while (__atomic_load_n(&s->done_seq, __ATOMIC_ACQUIRE) != seq) {
			if (std::chrono::steady_clock::now() > deadline) {
				EXPECT_FALSE(expect_answer) << "mailbox timeout";
				return ~0ull;
			}
			std::this_thread::sleep_for(50us);
		}
		regs = s->regs;
		last_service_ns_ = s->service_ns;
		return s->rax;
	}
	u64 seamcall(u32 cpu, u16 leaf, u64 rcx = 0, u64 rdx = 0, u64 r8 = 0)
	{
		RegBlock r{};
		r.rcx = rcx;
		r.rdx = rdx;
		r.r8 = r8;
		u64 st = seamcall(cpu, leaf_rax(leaf), r);
		out_ = r;
		return st;
	}
	int wait_exit()
	{
		int st = 0;
		for (int i = 0; i < 500; i++) {
			if (waitpid(pid_, &st, WNOHANG) == pid_) {
				pid_ = -1;
				return st;
			}
			std::this_thread::sleep_for(10ms);
		}
		ADD_FAILURE() << "seam-emu did not exit";
		return -1;
	}
	u64 cpu_ticks() const
	{
		std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
		std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		std::istringstream rest(s.substr(s.rfind(')') + 2));
		std::string f;
		u64 utime = 0, stime = 0;
		for (int i = 3; i <= 15 && rest >> f; i++) {
			if (i == 14)
				utime = std::stoull(f);
			if (i == 15)
				stime = std::stoull(f);
		}
		return utime + stime;
	}

	std::string dir_;
	FileMap ram_;
	std::unique_ptr<FileMap> mbox_;
	pid_t pid_ = -1;
	RegBlock out_{};
	u64 last_service_ns_ = 0;
};

TEST_F(Process, HeaderHeartbeatBringUpControlAndSigterm)
{
	start();
	MailboxHeader h = header();
	EXPECT_EQ(h.protocol_version, tdx::emu::kProtocolVersion);
	EXPECT_EQ(h.slot_count, 2u);
	EXPECT_EQ(h.slot_offset, tdx::emu::kSlotOffset);
	EXPECT_EQ(h.slot_size, tdx::emu::kSlotSize);
	EXPECT_EQ(h.emu_state, u32(tdx::emu::kEmuRunning));
	EXPECT_EQ(h.tdx_keyid_start, 32u);
	EXPECT_EQ(h.nr_tdx_keyids, 32u);
	EXPECT_EQ(h.num_packages, 1u);
	u64 beat = h.heartbeat;
	std::this_thread::sleep_for(300ms);
	EXPECT_GE(header().heartbeat, beat + 2) << "heartbeat at least every 100 ms";

	/* A full bring-up through the mailbox, both CPUs. */
	Profile p = default_profile();
	GuestMemory mem(ram_.p, ram_.size);
	TdmrLayout l = one_tdmr_layout(p);
	write_layout(mem, l, p);
	EXPECT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	EXPECT_GT(last_service_ns_, 0u);
	EXPECT_EQ(seamcall(0, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(seamcall(1, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(seamcall(1, leaf::kSysRd, 0, field::kMajorVersion), status::kSuccess);
	EXPECT_EQ(out_.r8, 1u);
	EXPECT_EQ(seamcall(0, leaf::kSysConfig, l.array_pa, 1, 33), status::kSuccess);
	EXPECT_EQ(seamcall(1, leaf::kSysKeyConfig), status::kSuccess);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(seamcall(0, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(out_.rdx, kGiB);
	u64 word;
	std::memcpy(&word, ram_.p + l.tdmrs[0].pamt_base[0], 8);
	EXPECT_EQ(word, Module::kPamtInitPattern) << "PAMT written into the shared RAM file";

	/* Control: two clients at once, serial-style line endings. */
	Control a(sock()), b(sock());
	ASSERT_TRUE(a.ok());
	ASSERT_TRUE(b.ok());
	a.send_raw("pi");
	b.send_raw("ping\r\n");
	EXPECT_EQ(b.read_line(), "{\"ok\":true}\n");
	a.send_raw("ng\r\r\n\r\nstate\n");
	EXPECT_EQ(a.read_line(), "{\"ok\":true}\n");
	json st = json::parse(a.read_line());
	EXPECT_EQ(st["state"], "SYS_READY");
	EXPECT_EQ(st["tdmrs"], 1);
	EXPECT_EQ(st["tdmrs_initialized"], 1);
	EXPECT_EQ(st["lp_init"], json::array({true, true}));
	EXPECT_EQ(st["pkg_key_config"], json::array({true}));
	EXPECT_EQ(b.cmd("counters")["counters"],
		  json({{"33", 1}, {"34", 1}, {"35", 2}, {"36", 4}, {"45", 1}, {"31", 1}}));
	EXPECT_EQ(b.cmd("stats")["calls"], 10);
	/* The same counts in the header page, for in-guest tests; reset-counters leaves them alone. */
	auto shared_calls = [this](u16 leaf) {
		u64 v;
		std::memcpy(&v, mbox_->p + tdx::emu::kLeafCallsOffset + leaf * 8, 8);
		return v;
	};
	EXPECT_EQ(shared_calls(leaf::kSysInit), 1u);
	EXPECT_EQ(shared_calls(leaf::kSysLpInit), 2u);
	EXPECT_EQ(shared_calls(leaf::kSysTdmrInit), 4u);
	EXPECT_EQ(shared_calls(leaf::kSysDisable), 0u);
	ASSERT_EQ(b.cmd("reset-counters")["ok"], true);
	EXPECT_EQ(shared_calls(leaf::kSysLpInit), 2u);
	EXPECT_EQ(b.cmd("nonsense")["ok"], false);

	/* Injected status through the mailbox. */
	ASSERT_EQ(a.cmd("fault sys.rd 1 status 0xC0000C0000000000")["ok"], true);
	EXPECT_EQ(seamcall(0, leaf::kSysRd, 0, field::kMajorVersion), status::kMetadataFieldIdIncorrect);
	EXPECT_EQ(seamcall(0, leaf::kSysRd, 0, field::kMajorVersion), status::kSuccess);

	/* Orderly exit. */
	kill(pid_, SIGTERM);
	int ws = wait_exit();
	EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuStopped));
	struct stat s;
	EXPECT_NE(stat(sock().c_str(), &s), 0) << "control socket removed";
	EXPECT_NE(stat((dir_ + "/pid").c_str(), &s), 0) << "pidfile removed";
	std::ifstream log(dir_ + "/log");
	std::string first;
	std::getline(log, first);
	EXPECT_NE(first.find("rax=0x21"), std::string::npos) << first;
}

TEST_F(Process, DieFaultExitsWithoutAnswering)
{
	start();
	Control c(sock());
	ASSERT_EQ(c.cmd("fault lp.init 2 die")["ok"], true);
	EXPECT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(seamcall(0, leaf::kSysLpInit), status::kSuccess);
	RegBlock r{};
	EXPECT_EQ(seamcall(1, leaf_rax(leaf::kSysLpInit), r, /*expect_answer=*/false), ~0ull);
	int ws = wait_exit();
	EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 3) << ws;
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuRunning)) << "a dead emulator is not 'stopped'";
	EXPECT_NE(slot(1)->done_seq, slot(1)->req_seq);
}

TEST_F(Process, DelayFaultKeepsHeartbeat)
{
	start();
	Control c(sock());
	ASSERT_EQ(c.cmd("fault sys.init 1 delay 400")["ok"], true);
	u64 beat = header().heartbeat;
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	EXPECT_GE(std::chrono::steady_clock::now() - t0, 400ms);
	EXPECT_GE(last_service_ns_, 400'000'000u);
	EXPECT_GE(header().heartbeat, beat + 3);
}

TEST_F(Process, IdleUsesLittleCpu)
{
	start();
	std::this_thread::sleep_for(300ms);
	u64 t0 = cpu_ticks();
	auto w0 = std::chrono::steady_clock::now();
	std::this_thread::sleep_for(2s);
	u64 t1 = cpu_ticks();
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
	double share = double(t1 - t0) / double(sysconf(_SC_CLK_TCK)) / secs;
	EXPECT_LT(share, 0.02) << "idle CPU share " << share;
}

TEST_F(Process, CommandLineOverridesAndErrors)
{
	start({"--lps", "4", "--packages", "2"}, "no-rbp-mod.json");
	EXPECT_EQ(header().slot_count, 4u);
	EXPECT_EQ(header().num_packages, 2u);
	EXPECT_EQ(seamcall(3, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(seamcall(3, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(seamcall(3, leaf::kSysRd, 0, field::kTdxFeatures0), status::kSuccess);
	EXPECT_EQ(out_.r8 & features0::kNoRbpMod, 0u);
	kill(pid_, SIGINT);
	int ws = wait_exit();
	EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* Bad topology and a bad profile exit with status 2, before touching anything. */
	auto run = [&](std::vector<std::string> args) {
		pid_t p = fork();
		if (p == 0) {
			std::vector<char *> argv{const_cast<char *>(SEAM_EMU_BIN)};
			for (auto &a : args)
				argv.push_back(a.data());
			argv.push_back(nullptr);
			int devnull = ::open("/dev/null", O_WRONLY);
			dup2(devnull, 2);
			dup2(devnull, 1);
			execv(argv[0], argv.data());
			_exit(127);
		}
		int st;
		waitpid(p, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	};
	std::string bad_profile = dir_ + "/bad.json";
	std::ofstream(bad_profile) << "{\"lps\": 2}";
	EXPECT_EQ(run({"--ram", dir_ + "/ram", "--mailbox", dir_ + "/mb2", "--control", dir_ + "/c2", "--profile",
		       profile_path("default.json"), "--lps", "3", "--packages", "2"}),
		  2);
	EXPECT_EQ(run({"--ram", dir_ + "/ram", "--mailbox", dir_ + "/mb2", "--control", dir_ + "/c2", "--profile",
		       bad_profile}),
		  2);
	EXPECT_NE(run({"--mailbox", dir_ + "/mb2"}), 0); /* missing required options */
	EXPECT_EQ(run({"--ram", dir_ + "/nonexistent", "--mailbox", dir_ + "/mb2", "--control", dir_ + "/c2",
		       "--profile", profile_path("default.json")}),
		  1);
}

} // namespace
} // namespace seam_emu::test
