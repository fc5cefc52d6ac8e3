// SPDX-License-Identifier: GPL-2.0
#include "emulator_channel.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace quote_service {

namespace {

/* Lines the handshake skips looking for the reply to `format json`: a tty may still hold the
 * tail of a reply meant for an earlier reader of the port. */
constexpr int kStaleLines = 8;

std::string errno_text(const std::string &what)
{
	return what + ": " + std::strerror(errno);
}

} // namespace

void EmulatorChannel::close()
{
	fd_.reset();
	reader_.clear();
}

bool EmulatorChannel::open_tty(std::string *err)
{
	Fd fd(::open(path_.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
	if (!fd) {
		*err = errno_text(path_);
		return false;
	}
	termios t{};
	if (tcgetattr(fd.get(), &t) != 0) {
		*err = errno_text(path_ + ": not a tty");
		return false;
	}
	/* Bytes as they are: no echo, no line editing, no CR/LF mapping, no flow control. */
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd.get(), TCSANOW, &t) != 0) {
		*err = errno_text(path_ + ": raw mode");
		return false;
	}
	tcflush(fd.get(), TCIOFLUSH);
	fd_ = std::move(fd);
	return true;
}

bool EmulatorChannel::open(std::string *err)
{
	close();
	struct stat st{};
	if (stat(path_.c_str(), &st) != 0) {
		*err = errno_text(path_);
		return false;
	}
	if (S_ISCHR(st.st_mode)) {
		if (!open_tty(err))
			return false;
	} else if (S_ISSOCK(st.st_mode)) {
		int e = 0;
		Fd fd = unix_connect_nb(path_, &e);
		if (!fd || e != 0) {
			/* The control server accepts at once; a full backlog counts as down. */
			*err = path_ + ": connect: " + std::strerror(e);
			return false;
		}
		fd_ = std::move(fd);
	} else {
		*err = path_ + " is neither a socket nor a character device";
		return false;
	}
	const std::int64_t deadline = now_ms() + timeout_ms_;
	static constexpr char kFormat[] = "format json\n";
	if (!write_all(fd_.get(), kFormat, sizeof(kFormat) - 1, deadline)) {
		*err = errno_text("writing `format json`");
		close();
		return false;
	}
	for (int i = 0; i < kStaleLines; i++) {
		std::string line;
		if (reader_.read_line(fd_.get(), &line, deadline) != LineReader::Result::kLine)
			break;
		const auto j = nlohmann::json::parse(line, nullptr, false);
		if (j.is_object() && j.value("ok", false) && j.value("format", "") == "json")
			return true;
	}
	*err = "no reply to `format json`";
	close();
	return false;
}

EmulatorChannel::Result EmulatorChannel::exchange(const std::string &command)
{
	const std::int64_t deadline = now_ms() + timeout_ms_;
	if (!write_all(fd_.get(), command.data(), command.size(), deadline))
		return {Outcome::kDown, {}, errno_text("writing the command")};
	std::string line;
	switch (reader_.read_line(fd_.get(), &line, deadline)) {
	case LineReader::Result::kLine: break;
	case LineReader::Result::kEof: return {Outcome::kDown, {}, "the emulator closed the channel"};
	case LineReader::Result::kTimeout: return {Outcome::kDown, {}, "no reply in time"};
	case LineReader::Result::kTooLong: return {Outcome::kDown, {}, "reply line too long"};
	case LineReader::Result::kError: return {Outcome::kDown, {}, errno_text("reading the reply")};
	}
	const auto j = nlohmann::json::parse(line, nullptr, false);
	if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
		return {Outcome::kDown, {}, "unreadable reply: " + line.substr(0, 80)};
	if (!j["ok"].get<bool>()) {
		const auto &e = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
									     : std::string("(no reason)");
		return {Outcome::kRefused, {}, e};
	}
	const auto q = j.find("quote");
	const auto n = j.find("quote_bytes");
	if (q == j.end() || !q->is_string() || n == j.end() || !n->is_number_unsigned())
		return {Outcome::kDown, {}, "reply without quote and quote_bytes"};
	auto quote = from_hex(q->get_ref<const std::string &>());
	if (!quote || quote->empty() || quote->size() != n->get<std::uint64_t>())
		return {Outcome::kDown, {}, "quote is not quote_bytes bytes of hex"};
	return {Outcome::kQuote, std::move(*quote), {}};
}

EmulatorChannel::Result EmulatorChannel::sign(BytesView report)
{
	const std::string command = "qe sign " + to_hex(report) + "\n";
	Result r{Outcome::kDown, {}, "not tried"};
	for (int attempt = 0; attempt < 2; attempt++) {
		std::string err;
		if (!fd_ && !open(&err)) {
			r.error = err;
			continue;
		}
		r = exchange(command);
		if (r.outcome != Outcome::kDown)
			return r;
		close();
	}
	return r;
}

} // namespace quote_service
