// SPDX-License-Identifier: GPL-2.0
// The kernel's side of the firmware upload (fake_kernel.h).
#include "fake_kernel.h"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"

namespace tdx_update::test {

namespace {

constexpr auto kTick = std::chrono::milliseconds(1);

/* Replace `path` in one rename, so a concurrent reader never sees it half written. */
void put_atomic(const fs::path &path, const std::string &text)
{
	const fs::path tmp = path.string() + ".new";
	std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
	fs::rename(tmp, path);
}

std::string read_text(const fs::path &path)
{
	std::ifstream in(path);
	std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	while (!text.empty() && text.back() == '\n')
		text.pop_back();
	return text;
}

/* The data FIFO is opened (and its buffer shrunk to one page) before the tool can run, so that
 * no write of the tool's can get ahead of the shrink. */
int open_data_fifo(const fs::path &path)
{
	EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
	const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	EXPECT_GE(fd, 0) << path;
	EXPECT_EQ(::fcntl(fd, F_SETPIPE_SZ, 4096), 4096);
	return fd;
}

} // namespace

FakeKernel::FakeKernel(const fs::path &root, Script script, std::string new_version)
	: dir_(root / kFwUpload), version_file_(root / kTdxHost / "version"), script_(script),
	  new_version_(std::move(new_version))
{
	fs::create_directories(dir_);
	set("status", "idle");
	set("error", "");
	set("loading", "");
	EXPECT_EQ(::mkfifo((dir_ / "remaining_size").c_str(), 0600), 0);
	data_fd_ = open_data_fifo(dir_ / "data");
	thread_ = std::thread([this] { serve(); });
}

FakeKernel::~FakeKernel()
{
	stop_ = true;
	thread_.join();
	if (data_fd_ >= 0)
		::close(data_fd_);
}

module_image::Bytes FakeKernel::received() const
{
	std::lock_guard<std::mutex> g(lock_);
	return received_;
}

std::vector<std::string> FakeKernel::loading_seen() const
{
	std::lock_guard<std::mutex> g(lock_);
	return loading_seen_;
}

void FakeKernel::set(const char *name, const std::string &text)
{
	put_atomic(dir_ / name, text.empty() ? text : text + "\n");
}

std::string FakeKernel::loading() const
{
	return read_text(dir_ / "loading");
}

void FakeKernel::serve()
{
	/* The tool may close remaining_size between our open and our write: take EPIPE, not SIGPIPE. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
	if (!receive_data() || !wait_loading_0())
		return;
	remaining_ = received().size();
	set("status", "transferring");
	if (!answer_remaining_size(true))
		return;
	finish();
	answer_remaining_size(false);
}

/* Everything the tool writes to data, until it closes it. */
bool FakeKernel::receive_data()
{
	bool started = false;
	while (!stop_) {
		pollfd p{data_fd_, POLLIN, 0};
		if (::poll(&p, 1, 10) <= 0)
			continue;
		char buf[4096];
		const ssize_t n = ::read(data_fd_, buf, sizeof(buf));
		if (n < 0)
			continue; /* EAGAIN: a writer without data yet */
		if (n == 0)
			return true; /* the tool closed data */
		std::lock_guard<std::mutex> g(lock_);
		received_.insert(received_.end(), buf, buf + n);
		if (!started) {
			started = true;
			loading_seen_.push_back(loading());
			set("status", "receiving");
		}
	}
	return false;
}

/* loading=0 commits the upload; -1 aborts it. */
bool FakeKernel::wait_loading_0()
{
	while (!stop_) {
		const std::string l = loading();
		if (l == "0" || l == "-1") {
			std::lock_guard<std::mutex> g(lock_);
			loading_seen_.push_back(l);
		}
		if (l == "0")
			return true;
		if (l == "-1") {
			set("status", "idle");
			return false;
		}
		std::this_thread::sleep_for(kTick);
	}
	return false;
}

void FakeKernel::finish()
{
	switch (script_) {
	case Script::success:
		put_atomic(version_file_, new_version_ + "\n");
		break;
	case Script::firmware_invalid:
		set("error", "transferring:firmware-invalid");
		break;
	case Script::device_busy:
		set("error", "transferring:device-busy");
		break;
	case Script::module_gone:
		fs::remove(version_file_);
		set("error", "programming:firmware-invalid");
		break;
	case Script::hang:
		set("status", "programming");
		return;
	}
	remaining_ = 0;
	set("status", "idle");
}

/*
 * Answer the tool's reads of remaining_size: one (once), or every one until the test ends. An
 * answer counts when the tool has read it; one written to a reader that was just closing (it had
 * its previous answer) is dropped and given again to the next reader.
 */
bool FakeKernel::answer_remaining_size(bool once)
{
	const fs::path path = dir_ / "remaining_size";
	while (!stop_) {
		/* Non-blocking: succeeds only while the tool has the FIFO open for reading. */
		const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			std::this_thread::sleep_for(kTick);
			continue;
		}
		const std::string text = std::to_string(remaining_.load()) + "\n";
		const bool read = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && wait_read(fd);
		::close(fd);
		if (read && once)
			return true;
	}
	return false;
}

/* Until the pipe is empty (read: true) or has no reader left (POLLERR: false). */
bool FakeKernel::wait_read(int fd) const
{
	while (!stop_) {
		int queued = 0;
		if (::ioctl(fd, FIONREAD, &queued) == 0 && queued == 0)
			return true;
		pollfd p{fd, 0, 0};
		if (::poll(&p, 1, 1) > 0 && (p.revents & POLLERR))
			return false;
	}
	return false;
}

} // namespace tdx_update::test
