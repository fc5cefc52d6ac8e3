// SPDX-License-Identifier: GPL-2.0
#include "qgs_server.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

namespace quote_service {

namespace {

constexpr std::pair<Fault::Kind, const char *> kFaultNames[] = {
	{Fault::Kind::kMalformed, "malformed"},
	{Fault::Kind::kGarbage, "garbage"},
	{Fault::Kind::kDrop, "drop"},
	{Fault::Kind::kUnsolicited, "unsolicited"},
};

/* Bytes of a garbage reply (about a header and body's worth). */
constexpr std::size_t kGarbageBytes = 48;

Bytes garbage()
{
	std::random_device rd;
	std::mt19937 gen(rd());
	Bytes g(kGarbageBytes);
	for (auto &b : g)
		b = static_cast<std::uint8_t>(gen());
	/* major >= 0xff00: random, yet never a header a reader could take for version 1 */
	g[qgs::kOffMajor + 1] = 0xff;
	return g;
}

void append(Bytes &out, const Bytes &more)
{
	out.insert(out.end(), more.begin(), more.end());
}

} // namespace

std::optional<Fault> parse_fault(std::string_view text, std::string *err)
{
	const auto colon = text.find(':');
	const std::string_view kind = text.substr(0, colon);
	for (const auto &[k, name] : kFaultNames) {
		if (kind != name)
			continue;
		std::uint64_t n = 0;
		const std::string_view num = colon == std::string_view::npos ? "" : text.substr(colon + 1);
		const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
		if (num.empty() || ec != std::errc() || end != num.data() + num.size() || n == 0) {
			*err = "--test-fault " + std::string(text) + ": N must be a number >= 1";
			return std::nullopt;
		}
		return Fault{k, n};
	}
	*err = "--test-fault " + std::string(text) + ": KIND is malformed, garbage, drop or unsolicited";
	return std::nullopt;
}

const char *fault_name(Fault::Kind kind)
{
	for (const auto &[k, name] : kFaultNames)
		if (k == kind)
			return name;
	return "?";
}

QgsServer::QgsServer(ServerConfig config)
	: config_(std::move(config)), emulator_(config_.emulator_path, config_.emulator_timeout_ms)
{
}

bool QgsServer::open(std::string *err)
{
	listen_fd_ = unix_listen(config_.socket_path, err);
	return static_cast<bool>(listen_fd_);
}

std::optional<Fault::Kind> QgsServer::fault_for(std::uint64_t n) const
{
	for (const auto &f : config_.faults)
		if (f.nth == n)
			return f.kind;
	return std::nullopt;
}

void QgsServer::accept_clients()
{
	for (;;) {
		Fd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
		if (!fd)
			return; /* EAGAIN, or a client gone before accept: nothing to do */
		const int key = fd.get();
		Client &c = clients_[key];
		c.fd = std::move(fd);
		c.id = next_client_++;
	}
}

Bytes QgsServer::answer(BytesView message, bool want_quote, std::string *outcome)
{
	const ParsedRequest req = parse_request(message);
	if (req.error_code != qgs::kSuccess) {
		*outcome = std::string(error_code_name(req.error_code)) + " (" + req.why + ")";
		return build_response(req.error_code, {}, {});
	}
	if (!want_quote) {
		*outcome = "valid, not quoted";
		return {};
	}
	const auto r = emulator_.sign(req.report);
	switch (r.outcome) {
	case EmulatorChannel::Outcome::kQuote:
		*outcome = "quote " + std::to_string(r.quote.size()) + " bytes";
		return build_response(qgs::kSuccess, {}, r.quote);
	case EmulatorChannel::Outcome::kRefused:
		*outcome = "unexpected (the emulator refused the report: " + r.error + ")";
		break;
	case EmulatorChannel::Outcome::kDown:
		*outcome = "unexpected (emulator channel down: " + r.error + ")";
		break;
	}
	return build_response(qgs::kErrorUnexpected, {}, {});
}

void QgsServer::handle_message(Client &c, BytesView message)
{
	const std::uint64_t n = ++messages_;
	const auto fault = fault_for(n);
	const bool quote = !fault || (*fault != Fault::Kind::kGarbage && *fault != Fault::Kind::kDrop);
	std::string outcome;
	Bytes resp = answer(message, quote, &outcome);
	if (fault) {
		switch (*fault) {
		case Fault::Kind::kMalformed:
			store_le32(resp.data() + qgs::kOffSize, static_cast<std::uint32_t>(resp.size() + 1));
			append(c.out, frame(resp));
			break;
		case Fault::Kind::kGarbage: append(c.out, frame(garbage())); break;
		case Fault::Kind::kDrop:
			c.close_after = true;
			c.in.clear();
			break;
		case Fault::Kind::kUnsolicited:
			append(c.out, frame(build_response(qgs::kSuccess, {}, {})));
			append(c.out, frame(resp));
			break;
		}
		outcome += std::string(", test fault ") + fault_name(*fault);
	} else {
		append(c.out, frame(resp));
	}
	std::fprintf(stderr, "tdx-qgs: request %llu client %llu: %s\n", static_cast<unsigned long long>(n),
		     static_cast<unsigned long long>(c.id), outcome.c_str());
}

void QgsServer::take_messages(Client &c)
{
	std::size_t off = 0;
	while (!c.close_after) {
		const BytesView rest(c.in.data() + off, c.in.size() - off);
		const FrameInfo f = peek_frame(rest, kMaxRequest);
		if (f.status == FrameStatus::kNeedMore)
			break;
		if (f.status == FrameStatus::kTooLarge) {
			/* The rest of the stream cannot be followed: answer, then close. */
			const std::uint64_t n = ++messages_;
			std::fprintf(stderr, "tdx-qgs: request %llu client %llu: invalid-size (length prefix %u over %u), closing\n",
				     static_cast<unsigned long long>(n), static_cast<unsigned long long>(c.id),
				     f.message_len, kMaxRequest);
			append(c.out, frame(build_response(qgs::kErrorInvalidSize, {}, {})));
			c.close_after = true;
			off = c.in.size();
			break;
		}
		handle_message(c, rest.subspan(qgs::kLengthPrefix, f.message_len));
		off += qgs::kLengthPrefix + f.message_len;
	}
	c.in.erase(c.in.begin(), c.in.begin() + static_cast<std::ptrdiff_t>(std::min(off, c.in.size())));
}

void QgsServer::read_client(Client &c)
{
	/* at most two requests' worth at a time: take_messages() works through them first */
	if (read_available(c.fd.get(), &c.in, c.in.size() + 2 * kMaxRequest) == IoStatus::kClosed)
		c.eof = true;
	take_messages(c);
	if (c.eof && !c.in.empty() && !c.close_after) {
		std::fprintf(stderr, "tdx-qgs: client %llu: closed in the middle of a message (%zu bytes), dropped\n",
			     static_cast<unsigned long long>(c.id), c.in.size());
		c.in.clear();
	}
}

void QgsServer::write_client(Client &c)
{
	std::size_t sent = 0;
	if (send_pending(c.fd.get(), c.out.data(), c.out.size(), &sent) == IoStatus::kClosed) {
		/* The client is gone: what it was owed goes nowhere. */
		c.out.clear();
		c.close_after = true;
		return;
	}
	c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(sent));
}

void QgsServer::run(int stop_fd)
{
	std::vector<pollfd> fds;
	for (;;) {
		fds.clear();
		fds.push_back({listen_fd_.get(), POLLIN, 0});
		fds.push_back({stop_fd, POLLIN, 0});
		for (auto &[key, c] : clients_) {
			short ev = c.eof || c.close_after ? 0 : POLLIN;
			if (!c.out.empty())
				ev |= POLLOUT;
			fds.push_back({key, ev, 0});
		}
		if (poll(fds.data(), fds.size(), -1) < 0) {
			if (errno == EINTR)
				continue;
			std::perror("tdx-qgs: poll");
			return;
		}
		if (fds[1].revents)
			return;
		for (std::size_t i = 2; i < fds.size(); i++) {
			if (!fds[i].revents)
				continue;
			Client &c = clients_.at(fds[i].fd);
			if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
				read_client(c);
			write_client(c);
		}
		for (auto it = clients_.begin(); it != clients_.end();) {
			Client &c = it->second;
			const bool done = (c.close_after || c.eof) && c.out.empty();
			it = done ? clients_.erase(it) : std::next(it);
		}
		if (fds[0].revents)
			accept_clients();
	}
}

} // namespace quote_service
