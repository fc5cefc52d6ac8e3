// SPDX-License-Identifier: GPL-2.0
#include "fdutil.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace quote_service {

Fd &Fd::operator=(Fd &&o) noexcept
{
	if (this != &o)
		reset(o.release());
	return *this;
}

int Fd::release()
{
	const int fd = fd_;
	fd_ = -1;
	return fd;
}

void Fd::reset(int fd)
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = fd;
}

std::int64_t now_ms()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return std::int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

int ms_until(std::int64_t deadline_ms)
{
	const std::int64_t left = deadline_ms - now_ms();
	return left <= 0 ? 0 : static_cast<int>(std::min<std::int64_t>(left, 1 << 30));
}

static bool fill_addr(const std::string &path, sockaddr_un *addr)
{
	*addr = {};
	addr->sun_family = AF_UNIX;
	if (path.empty() || path.size() >= sizeof(addr->sun_path))
		return false;
	std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
	return true;
}

Fd unix_listen(const std::string &path, std::string *err)
{
	sockaddr_un addr;
	if (!fill_addr(path, &addr)) {
		*err = "socket path '" + path + "' is empty or too long";
		return {};
	}
	struct stat st{};
	if (lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*err = path + " exists and is not a socket";
			return {};
		}
		unlink(path.c_str());
	}
	Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd || bind(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
	    listen(fd.get(), 128) != 0) {
		*err = path + ": " + std::strerror(errno);
		return {};
	}
	return fd;
}

Fd unix_connect_nb(const std::string &path, int *err_no)
{
	sockaddr_un addr;
	if (!fill_addr(path, &addr)) {
		*err_no = ENAMETOOLONG;
		return {};
	}
	Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (!fd) {
		*err_no = errno;
		return {};
	}
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0) {
		*err_no = 0;
		return fd;
	}
	*err_no = errno;
	if (errno == EINPROGRESS || errno == EAGAIN)
		return fd;
	return {};
}

IoStatus send_pending(int fd, const std::uint8_t *buf, std::size_t len, std::size_t *off)
{
	while (*off < len) {
		const ssize_t n = ::send(fd, buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			*off += static_cast<std::size_t>(n);
		else if (n < 0 && errno == EAGAIN)
			return IoStatus::kWouldBlock;
		else if (n >= 0 || errno != EINTR)
			return IoStatus::kClosed;
	}
	return IoStatus::kDone;
}

IoStatus read_available(int fd, std::vector<std::uint8_t> *in, std::size_t enough)
{
	std::uint8_t chunk[65536];
	while (in->size() < enough) {
		const ssize_t n = ::read(fd, chunk, sizeof(chunk));
		if (n > 0)
			in->insert(in->end(), chunk, chunk + n);
		else if (n < 0 && errno == EAGAIN)
			return IoStatus::kWouldBlock;
		else if (n == 0 || errno != EINTR)
			return IoStatus::kClosed;
	}
	return IoStatus::kDone;
}

/* Waits for events on fd until the deadline: false on timeout or a poll error. */
static bool wait_fd(int fd, short events, std::int64_t deadline_ms)
{
	for (;;) {
		pollfd p{fd, events, 0};
		const int n = poll(&p, 1, ms_until(deadline_ms));
		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
}

bool write_all(int fd, const void *data, std::size_t len, std::int64_t deadline_ms)
{
	const auto *p = static_cast<const char *>(data);
	while (len > 0) {
		/* send() so that a closed peer is EPIPE, not SIGPIPE; a tty is no socket. */
		ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = ::write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= static_cast<std::size_t>(n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline_ms))
			continue;
		return false;
	}
	return true;
}

LineReader::Result LineReader::read_line(int fd, std::string *line, std::int64_t deadline_ms)
{
	for (;;) {
		const auto nl = buf_.find('\n');
		if (nl != std::string::npos) {
			line->assign(buf_, 0, nl);
			buf_.erase(0, nl + 1);
			std::erase(*line, '\r');
			return Result::kLine;
		}
		if (buf_.size() > max_line_)
			return Result::kTooLong;
		char chunk[16384];
		const ssize_t n = ::read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			buf_.append(chunk, static_cast<std::size_t>(n));
			continue;
		}
		if (n == 0)
			return Result::kEof;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return Result::kError;
		if (!wait_fd(fd, POLLIN, deadline_ms))
			return Result::kTimeout;
	}
}

} // namespace quote_service
