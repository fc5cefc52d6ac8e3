// SPDX-License-Identifier: GPL-2.0
// The real seam-emu binary: RAM and mailbox files in a temp dir, the mailbox protocol v2 as the
// guest speaks it, the ivshmem server as QEMU sees it, the control socket, signals.
// No assertion here depends on how fast the machine is: waits have generous limits and only
// fail when something never happens.
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
#include <functional>
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
constexpr auto kPatience = 10s; /* "never happened" */

bool eventually(const std::function<bool()> &f, std::chrono::milliseconds limit = kPatience)
{
	auto deadline = std::chrono::steady_clock::now() + limit;
	while (!f()) {
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		std::this_thread::sleep_for(1ms);
	}
	return true;
}

struct FileMap {
	u8 *p = nullptr;
	u64 size = 0;
	void open(const std::string &path, u64 sz)
	{
		int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
		ASSERT_GE(fd, 0);
		ASSERT_EQ(ftruncate(fd, off_t(sz)), 0);
		map_fd(fd, sz);
		close(fd);
	}
	void map_fd(int fd, u64 sz)
	{
		p = static_cast<u8 *>(mmap(nullptr, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
		ASSERT_NE(p, MAP_FAILED);
		size = sz;
	}
	~FileMap()
	{
		if (p && p != MAP_FAILED)
			munmap(p, size);
	}
};

class Control {
public:
	explicit Control(const std::string &path) : fd_(connect_unix(path)) {}
	~Control()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	bool ok() const { return fd_ >= 0; }
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
	std::string raw_cmd(const std::string &line)
	{
		send_raw(line + "\n");
		return read_line();
	}

private:
	int fd_;
	std::string buf_;
};

/* What QEMU's ivshmem-doorbell device does with the server: connect, take the messages and fds. */
class IvshmemClient {
public:
	struct Msg {
		s64 value;
		int fd;
	};
	explicit IvshmemClient(const std::string &path) : fd_(connect_unix(path)) {}
	~IvshmemClient()
	{
		close_socket();
		for (const Msg &m : msgs_)
			if (m.fd >= 0)
				close(m.fd);
	}
	bool ok() const { return fd_ >= 0; }
	void close_socket()
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = -1;
	}
	/* One message (8 bytes, maybe with an fd); false on end of file or after 5 s. */
	bool receive(Msg *out)
	{
		pollfd p{fd_, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			return false;
		s64 v = 0;
		iovec iov{&v, sizeof(v)};
		alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		if (recvmsg(fd_, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC) != ssize_t(sizeof(v)))
			return false;
		int fd = -1;
		for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
		*out = {v, fd};
		msgs_.push_back(*out);
		return true;
	}
	/* The whole greeting for n vectors; the doorbell eventfds end up in vectors(). */
	void handshake(u32 n)
	{
		Msg m;
		ASSERT_TRUE(receive(&m));
		EXPECT_EQ(m.value, 0) << "protocol version";
		EXPECT_EQ(m.fd, -1);
		ASSERT_TRUE(receive(&m));
		EXPECT_EQ(m.value, s64(tdx::emu::kGuestPeer)) << "the client's id";
		EXPECT_EQ(m.fd, -1);
		ASSERT_TRUE(receive(&m));
		EXPECT_EQ(m.value, -1) << "shared memory";
		ASSERT_GE(m.fd, 0);
		shm_fd_ = m.fd;
		for (u32 i = 0; i < n; i++) {
			ASSERT_TRUE(receive(&m)) << "vector " << i;
			EXPECT_EQ(m.value, s64(tdx::emu::kDoorbellPeer)) << "vector " << i;
			ASSERT_GE(m.fd, 0) << "vector " << i;
			vectors_.push_back(m.fd);
		}
	}
	int shm_fd() const { return shm_fd_; }
	/* The guest's Doorbell write for (kDoorbellPeer, vector i), as QEMU carries it out. */
	void ring(u32 i) const
	{
		const u64 one = 1;
		ASSERT_EQ(write(vectors_.at(i), &one, sizeof(one)), ssize_t(sizeof(one)));
	}
	size_t vector_count() const { return vectors_.size(); }
	/* True when the server closed the connection (end of file) within 5 s. */
	bool closed_by_server()
	{
		pollfd p{fd_, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0)
			return false;
		char b;
		return recv(fd_, &b, 1, 0) == 0;
	}

private:
	int fd_;
	int shm_fd_ = -1;
	std::vector<int> vectors_;
	std::vector<Msg> msgs_;
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
		unlink((dir_ + "/pid").c_str());
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
		mbox_.reset();
		for (int i = 0; i < 1000; i++) {
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
	void stop_with(int sig)
	{
		kill(pid_, sig);
		int ws = wait_exit();
		EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
	}

	std::string sock() const { return dir_ + "/ctl"; }
	std::string ivshmem_sock() const { return dir_ + "/ivshmem"; }
	MailboxHeader header() const
	{
		MailboxHeader h;
		std::memcpy(&h, mbox_->p, sizeof(h));
		return h;
	}
	u32 header_u32(size_t off) const
	{
		return __atomic_load_n(reinterpret_cast<u32 *>(mbox_->p + off), __ATOMIC_ACQUIRE);
	}
	u64 heartbeat() const
	{
		return __atomic_load_n(reinterpret_cast<u64 *>(mbox_->p + offsetof(MailboxHeader, heartbeat)),
				       __ATOMIC_ACQUIRE);
	}
	bool doorbell() const { return header_u32(offsetof(MailboxHeader, doorbell)) == 1; }
	MailboxSlot *slot(u32 i) const
	{
		return reinterpret_cast<MailboxSlot *>(mbox_->p + tdx::emu::kSlotOffset + i * tdx::emu::kSlotSize);
	}
	u64 done_id(u32 cpu) const { return __atomic_load_n(&slot(cpu)->done_id, __ATOMIC_ACQUIRE); }
	bool emu_waiting(u32 cpu) const { return __atomic_load_n(&slot(cpu)->emu_waiting, __ATOMIC_ACQUIRE) == 1; }

	/*
	 * Steps 2-3 of a call (mailbox.h): inputs, req_id = id (store-release), full fence, and the
	 * Doorbell if the emulator said it sleeps and `ring` (the client's vectors) is given.
	 */
	u64 post(u32 cpu, u64 rax_in, const RegBlock &regs, const IvshmemClient *ring = nullptr, u64 id = 0)
	{
		MailboxSlot *s = slot(cpu);
		s->rax = rax_in;
		s->regs = regs;
		s->cpu = cpu;
		if (!id)
			id = s->req_id + 1;
		__atomic_store_n(&s->req_id, id, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ring && doorbell() && emu_waiting(cpu))
			ring->ring(cpu);
		return id;
	}
	bool wait_answer(u32 cpu, u64 id, std::chrono::milliseconds limit = kPatience)
	{
		return eventually([&] { return done_id(cpu) == id; }, limit);
	}
	/* One SEAMCALL through the mailbox, as the guest makes it. */
	u64 seamcall(u32 cpu, u64 rax_in, RegBlock &regs, bool expect_answer = true,
		     const IvshmemClient *ring = nullptr)
	{
		u64 id = post(cpu, rax_in, regs, ring);
		if (!wait_answer(cpu, id, expect_answer ? std::chrono::milliseconds(kPatience) : 500ms)) {
			EXPECT_FALSE(expect_answer) << "mailbox timeout";
			return ~0ull;
		}
		MailboxSlot *s = slot(cpu);
		regs = s->out_regs;
		last_service_ns_ = s->service_ns;
		return s->status;
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
		for (int i = 0; i < 1000; i++) {
			if (waitpid(pid_, &st, WNOHANG) == pid_) {
				pid_ = -1;
				return st;
			}
			std::this_thread::sleep_for(10ms);
		}
		ADD_FAILURE() << "seam-emu did not exit";
		return -1;
	}
	u64 shared_calls(u16 leaf) const
	{
		u64 v;
		std::memcpy(&v, mbox_->p + tdx::emu::kLeafCallsOffset + leaf * 8, 8);
		return v;
	}

	std::string dir_;
	FileMap ram_;
	std::unique_ptr<FileMap> mbox_;
	pid_t pid_ = -1;
	RegBlock out_{};
	u64 last_service_ns_ = 0;
};

TEST_F(Process, HeaderBringUpControlAndSigterm)
{
	start();
	MailboxHeader h = header();
	EXPECT_EQ(h.protocol_version, tdx::emu::kProtocolVersion);
	EXPECT_EQ(h.slot_count, 2u);
	EXPECT_EQ(h.slot_offset, tdx::emu::kSlotOffset);
	EXPECT_EQ(h.slot_size, tdx::emu::kSlotSize);
	EXPECT_EQ(h.emu_state, u32(tdx::emu::kEmuRunning));
	EXPECT_EQ(h.doorbell, 0u) << "no ivshmem client: the guest must not ring";
	EXPECT_NE(h.epoch, 0u);
	EXPECT_EQ(h.tdx_keyid_start, 32u);
	EXPECT_EQ(h.nr_tdx_keyids, 32u);
	EXPECT_EQ(h.num_packages, 1u);
	struct stat st;
	ASSERT_EQ(stat((dir_ + "/mbox").c_str(), &st), 0);
	EXPECT_EQ(st.st_size, 64 * 1024) << "a new mailbox file: a power of two, at least 64 KiB";
	const u64 beat = heartbeat();
	EXPECT_TRUE(eventually([&] { return heartbeat() > beat + 1; })) << "heartbeat moves";

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
	json s = json::parse(a.read_line());
	EXPECT_EQ(s["state"], "SYS_READY");
	EXPECT_EQ(s["tdmrs"], 1);
	EXPECT_EQ(s["tdmrs_initialized"], 1);
	EXPECT_EQ(s["lp_init"], json::array({true, true}));
	EXPECT_EQ(s["pkg_key_config"], json::array({true}));
	EXPECT_EQ(b.cmd("counters")["counters"], json({{"sys.key.config", 1},
						       {"sys.init", 1},
						       {"sys.rd", 1},
						       {"sys.lp.init", 2},
						       {"sys.tdmr.init", 4},
						       {"sys.config", 1}}));
	EXPECT_EQ(b.cmd("stats")["calls"], 10);
	/* The same counts in the header page, for in-guest tests; reset-counters leaves them alone. */
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
	stop_with(SIGTERM);
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuStopped));
	EXPECT_NE(stat(sock().c_str(), &st), 0) << "control socket removed";
	EXPECT_NE(stat((dir_ + "/pid").c_str(), &st), 0) << "pidfile removed";
	std::ifstream log(dir_ + "/log");
	std::string first;
	std::getline(log, first);
	EXPECT_NE(first.find("rax=0x21"), std::string::npos) << first;
}

/* The emulator echoes the call's identity and writes only the output half. */
TEST_F(Process, AnswerCarriesTheCallIdentityAndLeavesTheInputs)
{
	start();
	RegBlock in{};
	in.rcx = 0x1111;
	in.rdx = 0x2222;
	in.r8 = 0x8888;
	u64 id = post(0, leaf_rax(leaf::kSysInit), in, nullptr, 1000); /* ids need not be dense */
	ASSERT_TRUE(wait_answer(0, id));
	MailboxSlot *s = slot(0);
	EXPECT_EQ(s->done_id, 1000u);
	EXPECT_EQ(s->req_id, 1000u);
	EXPECT_EQ(s->status, status::kOperandInvalid | kOperandIdRcx) << "SYS.INIT wants rcx = 0";
	EXPECT_EQ(s->rax, leaf_rax(leaf::kSysInit)) << "input half untouched";
	EXPECT_EQ(s->regs.rcx, 0x1111u);
	EXPECT_EQ(s->regs.rdx, 0x2222u);
	EXPECT_EQ(s->regs.r8, 0x8888u);
	EXPECT_EQ(s->cpu, 0u);

	RegBlock zero{};
	id = post(0, leaf_rax(leaf::kSysInit), zero);
	EXPECT_EQ(id, 1001u);
	ASSERT_TRUE(wait_answer(0, id));
	EXPECT_EQ(s->status, status::kSuccess);
	ASSERT_TRUE(wait_answer(0, post(0, leaf_rax(leaf::kSysLpInit), zero)));
	/* Outputs go to out_regs; the inputs stay as the guest wrote them. */
	RegBlock rd{};
	rd.rdx = field::kMajorVersion;
	rd.r8 = 0xdead;
	id = post(0, leaf_rax(leaf::kSysRd), rd);
	ASSERT_TRUE(wait_answer(0, id));
	EXPECT_EQ(s->status, status::kSuccess);
	EXPECT_EQ(s->out_regs.r8, 1u) << "major version";
	EXPECT_EQ(s->regs.r8, 0xdeadu);
	EXPECT_EQ(s->regs.rdx, field::kMajorVersion);
}

/*
 * The guest gives up on a slow call and prepares the next one: the late answer lands in the
 * output half only, with the old id, and the next call is served as written.
 */
TEST_F(Process, LateAnswerNeverTouchesTheNextCall)
{
	start();
	Control c(sock());
	ASSERT_EQ(c.cmd("fault sys.init 1 delay 700")["ok"], true);
	RegBlock zero{};
	const u64 late = post(0, leaf_rax(leaf::kSysInit), zero);
	EXPECT_FALSE(wait_answer(0, late, 50ms)) << "held for 700 ms";

	/* The next call's inputs, written while the emulator still works on the old one. */
	MailboxSlot *s = slot(0);
	RegBlock next{};
	next.rdx = field::kMajorVersion;
	s->rax = leaf_rax(leaf::kSysRd);
	s->regs = next;
	ASSERT_TRUE(wait_answer(0, late)) << "the late answer comes";
	EXPECT_EQ(s->done_id, late);
	EXPECT_EQ(s->status, status::kSuccess) << "SYS.INIT's answer";
	EXPECT_EQ(s->rax, leaf_rax(leaf::kSysRd)) << "the next call's inputs are intact";
	EXPECT_EQ(s->regs.rdx, field::kMajorVersion);
	EXPECT_EQ(s->regs.rcx, 0u);

	const u64 id = post(0, leaf_rax(leaf::kSysRd), next);
	EXPECT_EQ(id, late + 1);
	ASSERT_TRUE(wait_answer(0, id));
	/* SYS.RD on an LP without LP.INIT: the model's answer to this call, not a replay of SYS.INIT. */
	EXPECT_EQ(s->status, status::kSysLpInitNotDone);
	EXPECT_EQ(c.cmd("counters")["counters"], json({{"sys.init", 1}, {"sys.rd", 1}}));
}

/* Each LP has a thread of its own: a call held on LP 0 does not stall LP 1. */
TEST_F(Process, CallsOnTwoLpsAreServedConcurrently)
{
	start();
	ASSERT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	Control c(sock());
	ASSERT_EQ(c.cmd("fault lp.init 1 delay 600000")["ok"], true); /* ten minutes */
	RegBlock zero{};
	const u64 held = post(0, leaf_rax(leaf::kSysLpInit), zero);
	ASSERT_TRUE(eventually([&] { return c.cmd("counters lp.init")["counters"]["sys.lp.init"] == 1; }));
	/* LP 1 is answered (BUSY or not: the held call keeps the module's locks) meanwhile. */
	RegBlock r{};
	EXPECT_NE(seamcall(1, leaf_rax(leaf::kSysRd), r), ~0ull);
	EXPECT_NE(done_id(0), held) << "LP 0 is still held";
	EXPECT_EQ(c.cmd("ping")["ok"], true) << "the control channel answers too";
	/* An orderly exit answers the held call before it reports "stopped". */
	stop_with(SIGTERM);
	EXPECT_EQ(done_id(0), held);
	EXPECT_EQ(slot(0)->status, status::kSuccess);
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuStopped));
}

TEST_F(Process, EpochChangesAcrossRestartsAndStaleRequestsAreRefused)
{
	start();
	const u64 first = header().epoch;
	EXPECT_NE(first, 0u);
	ASSERT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	stop_with(SIGTERM);
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuStopped));

	/* A request nobody answers: no emulator runs. */
	RegBlock zero{};
	const u64 stale = post(1, leaf_rax(leaf::kSysInit), zero);
	EXPECT_NE(done_id(1), stale);

	start();
	const MailboxHeader h = header();
	EXPECT_NE(h.epoch, 0u);
	EXPECT_NE(h.epoch, first) << "a new emulator is a new epoch";
	EXPECT_EQ(h.emu_state, u32(tdx::emu::kEmuRunning));
	EXPECT_EQ(done_id(1), stale) << "drained at start";
	EXPECT_EQ(slot(1)->status, tdx::abi::kTdxSeamcallVmFailInvalid) << "refused, not served";
	EXPECT_EQ(shared_calls(leaf::kSysInit), 0u);
	Control c(sock());
	EXPECT_EQ(c.cmd("state")["state"], "SYSINIT_PENDING") << "a fresh module; the stale SYS.INIT never ran";
	EXPECT_EQ(c.cmd("counters")["counters"], json::object());
	/* The slot works on from there. */
	EXPECT_EQ(seamcall(1, leaf::kSysInit), status::kSuccess);
	stop_with(SIGINT);
}

TEST_F(Process, DieFaultExitsWithoutAnswering)
{
	start();
	Control c(sock());
	ASSERT_EQ(c.cmd("fault lp.init 2 die")["ok"], true);
	EXPECT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(seamcall(0, leaf::kSysLpInit), status::kSuccess);
	RegBlock r{};
	const u64 id = post(1, leaf_rax(leaf::kSysLpInit), r);
	int ws = wait_exit();
	EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 3) << ws;
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuRunning)) << "a dead emulator is not 'stopped'";
	EXPECT_NE(done_id(1), id);
	/* Its heartbeat no longer moves (what the guest's staleness check relies on). */
	const u64 beat = heartbeat();
	std::this_thread::sleep_for(std::chrono::milliseconds(2 * tdx::emu::kHeartbeatPeriodMs));
	EXPECT_EQ(heartbeat(), beat);
}

TEST_F(Process, DelayFaultKeepsHeartbeat)
{
	start();
	Control c(sock());
	ASSERT_EQ(c.cmd("fault sys.init 1 delay 600000")["ok"], true); /* ten minutes */
	RegBlock zero{};
	const u64 id = post(0, leaf_rax(leaf::kSysInit), zero);
	const u64 beat = heartbeat();
	EXPECT_TRUE(eventually([&] { return heartbeat() > beat + 1; })) << "the heartbeat moves while a call is held";
	EXPECT_NE(done_id(0), id);
	/* The orderly exit cuts the hold short and answers. */
	stop_with(SIGTERM);
	EXPECT_EQ(done_id(0), id);
	EXPECT_EQ(slot(0)->status, status::kSuccess);
	/* Two beats (>= one full period) passed inside the hold: it is part of the service time. */
	EXPECT_GE(slot(0)->service_ns, u64(tdx::emu::kHeartbeatPeriodMs) * 1'000'000u);
}

/* seam-emu as QEMU's ivshmem server: the greeting, the doorbell flag, sleeping and waking. */
TEST_F(Process, IvshmemServerDoorbellWakesTheSlotThread)
{
	start({"--ivshmem-server", ivshmem_sock()});
	EXPECT_EQ(header().doorbell, 0u) << "no client yet";
	Control c(sock());

	auto client = std::make_unique<IvshmemClient>(ivshmem_sock());
	ASSERT_TRUE(client->ok());
	client->handshake(2);
	ASSERT_EQ(client->vector_count(), 2u);
	/* The shared memory fd is the mailbox file. */
	struct stat a, b;
	ASSERT_EQ(fstat(client->shm_fd(), &a), 0);
	ASSERT_EQ(stat((dir_ + "/mbox").c_str(), &b), 0);
	EXPECT_EQ(a.st_ino, b.st_ino);
	FileMap via_fd;
	via_fd.map_fd(client->shm_fd(), u64(a.st_size));
	EXPECT_EQ(__atomic_load_n(reinterpret_cast<u64 *>(via_fd.p), __ATOMIC_ACQUIRE), tdx::emu::kMailboxMagic);

	EXPECT_TRUE(eventually([&] { return doorbell(); })) << "header.doorbell once the client has the fds";
	/* A second client is refused while the first is connected. */
	IvshmemClient second(ivshmem_sock());
	ASSERT_TRUE(second.ok());
	EXPECT_TRUE(second.closed_by_server());

	/* Idle slot threads say they sleep... */
	ASSERT_TRUE(eventually([&] { return emu_waiting(0) && emu_waiting(1); }));
	const u64 wakeups = c.cmd("stats")["wakeups"].get<u64>();
	/* ...and do: a request without a ring stays unanswered (nothing polls the slot). */
	RegBlock zero{};
	const u64 id = post(1, leaf_rax(leaf::kSysInit), zero);
	EXPECT_FALSE(wait_answer(1, id, 300ms));
	EXPECT_TRUE(emu_waiting(1));
	/* The guest's Doorbell write (vector 1) wakes slot 1's thread, which serves it. */
	client->ring(1);
	ASSERT_TRUE(wait_answer(1, id));
	EXPECT_EQ(slot(1)->status, status::kSuccess);
	EXPECT_GT(c.cmd("stats")["wakeups"].get<u64>(), wakeups);
	/* A call made the way the guest makes it: ring only when the thread said it sleeps. */
	ASSERT_TRUE(eventually([&] { return emu_waiting(0); }));
	RegBlock r{};
	EXPECT_EQ(seamcall(0, leaf_rax(leaf::kSysLpInit), r, true, client.get()), status::kSuccess);
	EXPECT_EQ(seamcall(0, leaf_rax(leaf::kSysLpInit), r, true, client.get()), status::kSysLpInitDone);

	/* The client leaves: doorbell off, the threads poll again and answer unrung requests. */
	client.reset();
	EXPECT_TRUE(eventually([&] { return !doorbell(); }));
	EXPECT_EQ(seamcall(1, leaf::kSysLpInit), status::kSuccess);
	/* A new client gets the same greeting and turns the doorbell on again. */
	IvshmemClient again(ivshmem_sock());
	ASSERT_TRUE(again.ok());
	again.handshake(2);
	EXPECT_TRUE(eventually([&] { return doorbell(); }));
	ASSERT_TRUE(eventually([&] { return emu_waiting(1); }));
	RegBlock rd{};
	rd.rdx = field::kMajorVersion;
	EXPECT_EQ(seamcall(1, leaf_rax(leaf::kSysRd), rd, true, &again), status::kSuccess);
	EXPECT_EQ(rd.r8, 1u);

	stop_with(SIGTERM);
	EXPECT_EQ(header().emu_state, u32(tdx::emu::kEmuStopped));
	EXPECT_EQ(header().doorbell, 0u);
	struct stat st;
	EXPECT_NE(stat(ivshmem_sock().c_str(), &st), 0) << "ivshmem socket removed";
}

TEST_F(Process, ControlKvFormatPerConnection)
{
	start();
	Control kv(sock()), js(sock());
	EXPECT_EQ(kv.raw_cmd("format kv"), "ok format=kv\n");
	EXPECT_EQ(kv.raw_cmd("ping"), "ok\n");
	EXPECT_EQ(js.raw_cmd("ping"), "{\"ok\":true}\n") << "other connections keep JSON";
	EXPECT_EQ(seamcall(0, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(kv.raw_cmd("counters"), "ok sys.init=1\n");
	EXPECT_EQ(kv.raw_cmd("counters TDH.SYS.LP.INIT"), "ok sys.lp.init=0\n");
	EXPECT_EQ(kv.raw_cmd("leaves key.config"), "ok sys.key.config=31\n");
	std::string st = kv.raw_cmd("state");
	EXPECT_EQ(st.rfind("ok state=SYSINIT_DONE lp_init.0=0 lp_init.1=0 ", 0), 0u) << st;
	EXPECT_EQ(kv.raw_cmd("bogus"), "error unknown or malformed command: bogus\n");
	kv.send_raw(std::string(5000, 'x') + "\n");
	EXPECT_EQ(kv.read_line(), "error line too long\n");
	std::string stats = kv.raw_cmd("stats");
	EXPECT_EQ(stats.rfind("ok calls=1 service_ns_total=", 0), 0u) << stats;
	EXPECT_NE(stats.find(" wakeups="), std::string::npos) << stats;
	EXPECT_EQ(kv.raw_cmd("format json"), "{\"ok\":true,\"format\":\"json\"}\n");
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
	stop_with(SIGINT);

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
	/* An ivshmem BAR is a power of two: a mailbox file of another size is refused. */
	FileMap odd;
	odd.open(dir_ + "/odd", 3 * 4096 * 8);
	EXPECT_EQ(run({"--ram", dir_ + "/ram", "--mailbox", dir_ + "/odd", "--control", dir_ + "/c2", "--profile",
		       profile_path("default.json"), "--ivshmem-server", dir_ + "/ivs2"}),
		  1);
}

} // namespace
} // namespace seam_emu::test
