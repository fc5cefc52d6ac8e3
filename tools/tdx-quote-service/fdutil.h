// SPDX-License-Identifier: GPL-2.0
// File descriptors for the two programs: an owning handle, Unix stream sockets, bounded blocking
// writes and line reads, and a monotonic clock in milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quote_service {

class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&o) noexcept : fd_(o.release()) {}
	Fd &operator=(Fd &&o) noexcept;
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	int release();
	void reset(int fd = -1);

private:
	int fd_ = -1;
};

std::int64_t now_ms();

/* Listen on a Unix stream socket at path, replacing a stale socket file (any other file there is
 * refused). Non-blocking, close-on-exec. Invalid Fd with *err on failure. */
Fd unix_listen(const std::string &path, std::string *err);

/* Starts a non-blocking connect: the socket, and *err_no 0 (connected), EINPROGRESS / EAGAIN
 * (not yet: the listener's backlog is full), or the failure (ENOENT, ECONNREFUSED, ...) with an
 * invalid Fd. */
Fd unix_connect_nb(const std::string &path, int *err_no);

/* Non-blocking transfers for poll loops. */
enum class IoStatus {
	kDone,       /* all sent / enough read */
	kWouldBlock, /* nothing more for now: poll again */
	kClosed,     /* the peer is gone (EOF, EPIPE, ECONNRESET, ...) */
};
/* Sends buf from *off on (no SIGPIPE), advancing *off. */
IoStatus send_pending(int fd, const std::uint8_t *buf, std::size_t len, std::size_t *off);
/* Appends what fd has to *in until it holds at least `enough` bytes. */
IoStatus read_available(int fd, std::vector<std::uint8_t> *in, std::size_t enough);

/* Blocking-style I/O on a non-blocking fd, each bounded by a deadline (now_ms() based). */
bool write_all(int fd, const void *data, std::size_t len, std::int64_t deadline_ms);

/* Reads whole lines from a stream fd, keeping what follows the line for the next call. */
class LineReader {
public:
	enum class Result { kLine, kEof, kError, kTimeout, kTooLong };
	explicit LineReader(std::size_t max_line) : max_line_(max_line) {}
	/* One line without its "\n" (and without "\r"s). */
	Result read_line(int fd, std::string *line, std::int64_t deadline_ms);
	void clear() { buf_.clear(); }

private:
	std::size_t max_line_;
	std::string buf_;
};

/* Milliseconds left until deadline for poll(): 0 when past. */
int ms_until(std::int64_t deadline_ms);

} // namespace quote_service
