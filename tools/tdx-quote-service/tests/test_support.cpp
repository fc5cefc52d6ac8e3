// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace quote_service::test {

Bytes fake_quote(BytesView report, std::size_t size)
{
	Bytes q(size);
	for (std::size_t i = 0; i < size; i++)
		q[i] = static_cast<std::uint8_t>(report[i % report.size()] ^ (i * 7));
	return q;
}

Bytes make_report(std::uint32_t seed)
{
	Bytes r(kTdReportSize);
	for (std::size_t i = 0; i < r.size(); i++)
		r[i] = static_cast<std::uint8_t>(seed * 131 + i * 17 + (seed >> 8));
	return r;
}

FakeEmulator::FakeEmulator(const std::string &path) : stop_(eventfd(0, EFD_CLOEXEC))
{
	if (!path.empty()) {
		std::string err;
		listen_ = unix_listen(path, &err);
	}
	thread_ = std::thread([this] { loop(); });
}

FakeEmulator::~FakeEmulator()
{
	stopping_ = true;
	const std::uint64_t one = 1;
	(void)!write(stop_.get(), &one, sizeof(one));
	thread_.join();
}

void FakeEmulator::attach(int fd)
{
	std::lock_guard l(mu_);
	attached_.push_back(fd);
	const std::uint64_t one = 1;
	(void)!write(stop_.get(), &one, sizeof(one)); /* wake the loop; it re-reads attached_ */
}

std::vector<std::string> FakeEmulator::sign_args() const
{
	std::lock_guard l(mu_);
	return sign_args_;
}

bool FakeEmulator::reply(const std::string &line, std::string *out)
{
	using nlohmann::json;
	out->clear();
	if (line == "format json") {
		formats_++;
		*out = R"({"ok":true,"format":"json"})";
		return true;
	}
	const std::string prefix = "qe sign ";
	if (line.rfind(prefix, 0) != 0) {
		*out = json{{"ok", false}, {"error", "unknown command"}}.dump();
		return true;
	}
	signs_++;
	const std::string arg = line.substr(prefix.size());
	{
		std::lock_guard l(mu_);
		sign_args_.push_back(arg);
	}
	if (close_next_ > 0) {
		close_next_--;
		return false;
	}
	const auto report = from_hex(arg);
	switch (mode_.load()) {
	case Mode::kSign:
	case Mode::kBig: {
		if (!report || report->size() != kTdReportSize) {
			*out = json{{"ok", false}, {"error", "qe sign: not a TDREPORT"}}.dump();
			return true;
		}
		const Bytes q = fake_quote(*report, mode_ == Mode::kBig ? 8000 : 700);
		*out = json{{"ok", true}, {"quote", to_hex(q)}, {"quote_bytes", q.size()}}.dump();
		return true;
	}
	case Mode::kRefuse: *out = json{{"ok", false}, {"error", "TDREPORT refused"}}.dump(); return true;
	case Mode::kUnreadable: *out = "ok quote=nothing"; return true;
	case Mode::kClose: return false;
	case Mode::kSilent: return true;
	}
	return true;
}

void FakeEmulator::loop()
{
	struct Conn {
		bool owned;
		std::string buf;
	};
	std::map<int, Conn> conns;
	std::size_t attached_seen = 0;
	for (;;) {
		{
			std::lock_guard l(mu_);
			for (; attached_seen < attached_.size(); attached_seen++) {
				conns[attached_[attached_seen]] = {false, {}};
				connections_++;
			}
		}
		std::vector<pollfd> fds{{stop_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
		for (auto &[fd, c] : conns)
			fds.push_back({fd, POLLIN, 0});
		if (poll(fds.data(), fds.size(), -1) < 0)
			continue;
		if (fds[0].revents) {
			std::uint64_t v;
			(void)!read(stop_.get(), &v, sizeof(v));
			if (stopping_)
				break;
			continue;
		}
		if (fds[1].revents) {
			const int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
			if (fd >= 0) {
				conns[fd] = {true, {}};
				connections_++;
			}
		}
		for (std::size_t i = 2; i < fds.size(); i++) {
			if (!fds[i].revents)
				continue;
			const int fd = fds[i].fd;
			Conn &c = conns[fd];
			char chunk[8192];
			const ssize_t n = read(fd, chunk, sizeof(chunk));
			bool keep = n > 0;
			if (keep)
				c.buf.append(chunk, static_cast<std::size_t>(n));
			for (std::size_t nl; keep && (nl = c.buf.find('\n')) != std::string::npos;) {
				const std::string line = c.buf.substr(0, nl);
				c.buf.erase(0, nl + 1);
				std::string out;
				keep = reply(line, &out);
				if (keep && !out.empty()) {
					out += '\n';
					keep = write_all(fd, out.data(), out.size(), now_ms() + kHangGuardMs);
				}
			}
			if (!keep) {
				if (c.owned)
					close(fd);
				conns.erase(fd);
			}
		}
	}
	for (auto &[fd, c] : conns)
		if (c.owned)
			close(fd);
}

ServerThread::ServerThread(ServerConfig config) : server_(std::move(config)), stop_(eventfd(0, EFD_CLOEXEC))
{
	if (server_.open(&error_))
		thread_ = std::thread([this] { server_.run(stop_.get()); });
}

ServerThread::~ServerThread()
{
	if (!thread_.joinable())
		return;
	const std::uint64_t one = 1;
	(void)!write(stop_.get(), &one, sizeof(one));
	thread_.join();
}

TempDir::TempDir()
{
	std::string tmpl = (std::filesystem::temp_directory_path() / "qgs-test.XXXXXX").string();
	dir_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir()
{
	std::error_code ec;
	std::filesystem::remove_all(dir_, ec);
}

Fd connect_blocking(const std::string &path)
{
	int err = 0;
	Fd fd = unix_connect_nb(path, &err);
	return err == 0 ? std::move(fd) : Fd();
}

bool send_bytes(int fd, BytesView b)
{
	return write_all(fd, b.data(), b.size(), now_ms() + kHangGuardMs);
}

/* Exactly n bytes, or false on EOF / error / the hang guard. */
static bool read_exact(int fd, std::uint8_t *p, std::size_t n, std::int64_t deadline)
{
	while (n > 0) {
		const ssize_t got = read(fd, p, n);
		if (got > 0) {
			p += got;
			n -= static_cast<std::size_t>(got);
			continue;
		}
		if (got == 0 || errno != EAGAIN)
			return false;
		pollfd pf{fd, POLLIN, 0};
		if (poll(&pf, 1, ms_until(deadline)) <= 0)
			return false;
	}
	return true;
}

std::optional<Bytes> read_message(int fd)
{
	const std::int64_t deadline = now_ms() + kHangGuardMs;
	std::uint8_t prefix[4];
	if (!read_exact(fd, prefix, 4, deadline))
		return std::nullopt;
	Bytes m(load_be32(prefix));
	if (m.size() > kMaxResponse || !read_exact(fd, m.data(), m.size(), deadline))
		return std::nullopt;
	return m;
}

bool read_eof(int fd)
{
	pollfd pf{fd, POLLIN, 0};
	if (poll(&pf, 1, kHangGuardMs) <= 0)
		return false;
	std::uint8_t b;
	return read(fd, &b, 1) == 0;
}

} // namespace quote_service::test
