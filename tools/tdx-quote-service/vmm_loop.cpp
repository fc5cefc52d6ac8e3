// SPDX-License-Identifier: GPL-2.0
#include "vmm_loop.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

namespace quote_service {

namespace {

/* A full QGS backlog (EAGAIN) is tried again this much later, until the request's deadline. */
constexpr int kConnectRetryMs = 10;
/* After a failed read of the device, it is polled again this much later. */
constexpr int kDeviceRetryMs = 100;

void log(const kvm_tdx_quote_exit &e, const std::string &what)
{
	std::fprintf(stderr, "tdx-quote-vmm: id=%llu td=%u: %s\n", static_cast<unsigned long long>(e.id), e.td,
		     what.c_str());
}

} // namespace

Vmm::Vmm(QuoteDevice &device, VmmConfig config, std::FILE *out)
	: device_(device), config_(std::move(config)), out_(out)
{
}

void Vmm::print_done(const kvm_tdx_quote_exit &e, std::uint64_t status, std::uint32_t out_len)
{
	std::fprintf(out_, "done id=%llu td=%u status=0x%llx out_len=%u\n", static_cast<unsigned long long>(e.id),
		     e.td, static_cast<unsigned long long>(status), out_len);
	std::fflush(out_);
}

void Vmm::count_ended()
{
	ended_++;
}

Completion Vmm::write_payload(const kvm_tdx_quote_exit &e, Completion c)
{
	for (std::size_t off = 0; off < c.quote.size();) {
		const std::size_t n = std::min<std::size_t>(c.quote.size() - off, KVM_TDX_QUOTE_MEM_MAX);
		const int rc = device_.mem_write(e.td, e.gpa + gq::kOffData + off, c.quote.data() + off, n);
		if (rc != 0) {
			c = {KVM_TDX_QUOTE_STATUS_ERROR, 0, {}, "writing the quote failed: " + std::string(std::strerror(-rc))};
			break;
		}
		off += n;
	}
	std::uint8_t out_len[4];
	store_le32(out_len, c.out_len);
	if (device_.mem_write(e.td, e.gpa + gq::kOffOutLen, out_len, sizeof(out_len)) != 0 &&
	    c.status == KVM_TDX_QUOTE_STATUS_SUCCESS)
		c = {KVM_TDX_QUOTE_STATUS_ERROR, 0, {}, "writing out_len failed"};
	return c;
}

void Vmm::reject(const kvm_tdx_quote_exit &e, const ExitDecision &d)
{
	/* Before RESUME the vCPU waits and the request is not in flight: the status is ours to write. */
	std::optional<Completion> written;
	if (d.kind == ExitDecision::Kind::kBadHeader) {
		written = write_payload(e, {KVM_TDX_QUOTE_STATUS_ERROR, 0, {}, d.why});
		std::uint8_t status[8];
		store_le64(status, written->status);
		if (const int rc = device_.mem_write(e.td, e.gpa + gq::kOffStatus, status, sizeof(status))) {
			log(e, written->why + "; writing the status failed: " + std::strerror(-rc));
			written.reset();
		}
	}
	const int rc = device_.reply(e.id, KVM_TDX_QUOTE_OP_RESUME, d.resume_ret);
	char ret[32];
	std::snprintf(ret, sizeof(ret), "0x%llx", static_cast<unsigned long long>(d.resume_ret));
	log(e, std::string(d.why) + ": RESUME ret=" + ret + (rc ? std::string(" failed: ") + std::strerror(-rc) : ""));
	if (written)
		print_done(e, written->status, written->out_len);
	count_ended();
}

void Vmm::take_exit(const kvm_tdx_quote_exit &e)
{
	ExitDecision d = decide_exit(e);
	if (d.kind != ExitDecision::Kind::kReadHeader)
		return reject(e, d);
	std::uint8_t hb[gq::kHeaderSize];
	std::optional<gq::Header> header;
	if (device_.mem_read(e.td, e.gpa, hb, sizeof(hb)) == 0)
		header = parse_guest_header(hb);
	d = decide_header(e, header);
	if (d.kind != ExitDecision::Kind::kForward)
		return reject(e, d);
	Bytes report(header->in_len);
	if (device_.mem_read(e.td, e.gpa + gq::kOffData, report.data(), report.size()) != 0)
		return reject(e, {ExitDecision::Kind::kUnreadable, KVM_TDX_QUOTE_TDVMCALL_INVALID_OPERAND,
				  "TDREPORT unreadable"});
	if (inflight_.count(e.id)) {
		log(e, "already in flight: exit ignored");
		return;
	}
	/* The vCPU goes on at once; the status stays IN_FLIGHT (the kernel wrote it) until DONE. */
	const int rc = device_.reply(e.id, KVM_TDX_QUOTE_OP_RESUME, KVM_TDX_QUOTE_TDVMCALL_SUCCESS);
	if (rc != 0) {
		log(e, std::string("RESUME failed, the request is gone: ") + std::strerror(-rc));
		count_ended();
		return;
	}
	Request &r = inflight_[e.id];
	r.exit = e;
	r.out = frame(build_request(report, {}));
	r.deadline = now_ms() + config_.qgs_timeout_ms;
	if (try_connect(r))
		inflight_.erase(e.id);
}

bool Vmm::try_connect(Request &r)
{
	int err = 0;
	Fd fd = unix_connect_nb(config_.qgs_path, &err);
	if (err == 0 || err == EINPROGRESS) {
		r.fd = std::move(fd);
		r.phase = err == 0 ? Request::Phase::kSend : Request::Phase::kConnect;
		return false;
	}
	if (err == EAGAIN) {
		r.retry_at = now_ms() + kConnectRetryMs;
		return false;
	}
	log(r.exit, "connecting to the QGS: " + std::string(std::strerror(err)));
	return end(r, {QgsOutcome::Kind::kConnectFailed});
}

bool Vmm::receive(Request &r)
{
	/* up to one byte past the largest response: anything after the first message is extra */
	const IoStatus io = read_available(r.fd.get(), &r.in, qgs::kLengthPrefix + kMaxResponse + 1);
	const FrameInfo f = peek_frame(r.in, kMaxResponse);
	if (f.status == FrameStatus::kTooLarge)
		return end(r, {QgsOutcome::Kind::kTooLarge});
	if (f.status == FrameStatus::kComplete) {
		const std::size_t whole = qgs::kLengthPrefix + f.message_len;
		std::uint8_t more;
		const bool trailing = r.in.size() > whole || recv(r.fd.get(), &more, 1, MSG_DONTWAIT) > 0;
		r.in.resize(whole);
		r.in.erase(r.in.begin(), r.in.begin() + qgs::kLengthPrefix);
		return end(r, {QgsOutcome::Kind::kResponse, std::move(r.in), trailing});
	}
	return io == IoStatus::kClosed ? end(r, {QgsOutcome::Kind::kClosed}) : false;
}

bool Vmm::step(Request &r, short revents)
{
	if (r.phase == Request::Phase::kConnect) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(r.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
			return end(r, {QgsOutcome::Kind::kConnectFailed});
		r.phase = Request::Phase::kSend;
	}
	if (r.phase == Request::Phase::kSend) {
		switch (send_pending(r.fd.get(), r.out.data(), r.out.size(), &r.sent)) {
		case IoStatus::kDone: break;
		case IoStatus::kWouldBlock: return false;
		case IoStatus::kClosed: return end(r, {QgsOutcome::Kind::kClosed});
		}
		r.phase = Request::Phase::kReceive;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return false;
	return receive(r);
}

bool Vmm::end(Request &r, const QgsOutcome &o)
{
	return finish(r, decide_completion(o, r.exit.size));
}

bool Vmm::finish(Request &r, const Completion &c)
{
	/* The quote and out_len first; DONE carries the status, which the kernel writes last. */
	const Completion written = write_payload(r.exit, c);
	if (config_.probe_rules)
		probe_rules(r.exit);
	const int rc = device_.reply(r.exit.id, KVM_TDX_QUOTE_OP_DONE, written.status);
	std::string what = written.why;
	if (rc != 0)
		what += std::string("; DONE failed: ") + std::strerror(-rc);
	log(r.exit, what);
	if (rc == 0)
		print_done(r.exit, written.status, written.out_len);
	count_ended();
	return true;
}

void Vmm::probe_rules(const kvm_tdx_quote_exit &e)
{
	const auto name = [](int rc) { return rc ? strerrorname_np(-rc) : "OK"; };
	std::uint8_t success[8] = {};
	const int write_rc = device_.mem_write(e.td, e.gpa + gq::kOffStatus, success, sizeof(success));
	const int done_rc = device_.reply(e.id, KVM_TDX_QUOTE_OP_DONE, KVM_TDX_QUOTE_STATUS_IN_FLIGHT);
	std::fprintf(out_, "probe id=%llu status_write=%s done_in_flight=%s\n", static_cast<unsigned long long>(e.id),
		     name(write_rc), name(done_rc));
	std::fflush(out_);
}

short Vmm::events(const Request &r) const
{
	switch (r.phase) {
	case Request::Phase::kConnect:
	case Request::Phase::kSend: return POLLOUT;
	case Request::Phase::kReceive: return POLLIN;
	}
	return 0;
}

void Vmm::read_exit()
{
	kvm_tdx_quote_exit e{};
	const int rc = device_.read_exit(&e);
	if (rc > 0) {
		last_device_errno_ = 0;
		take_exit(e);
	} else if (rc < 0) {
		if (-rc != last_device_errno_)
			std::fprintf(stderr, "tdx-quote-vmm: reading the device: %s (polled again every %d ms)\n",
				     std::strerror(-rc), kDeviceRetryMs);
		last_device_errno_ = -rc;
		device_retry_at_ = now_ms() + kDeviceRetryMs;
	}
}

void Vmm::run(int stop_fd)
{
	std::vector<pollfd> fds;
	std::vector<std::uint64_t> ids;
	auto enough = [this] { return config_.once && ended_ >= config_.once; };
	while (!enough()) {
		std::int64_t now = now_ms();
		std::int64_t wake = -1;
		auto wake_at = [&](std::int64_t t) { wake = wake < 0 ? t : std::min(wake, t); };
		for (auto it = inflight_.begin(); it != inflight_.end();) {
			Request &r = it->second;
			bool ended = false;
			if (now >= r.deadline)
				ended = end(r, {r.phase == Request::Phase::kConnect ? QgsOutcome::Kind::kConnectFailed
										      : QgsOutcome::Kind::kTimeout});
			else if (r.phase == Request::Phase::kConnect && !r.fd && now >= r.retry_at)
				ended = try_connect(r);
			if (!ended) {
				wake_at(r.deadline);
				if (!r.fd)
					wake_at(r.retry_at);
			}
			it = ended ? inflight_.erase(it) : std::next(it);
		}
		if (enough())
			break;
		fds.assign({{stop_fd, POLLIN, 0}, {-1, POLLIN, 0}});
		if (now >= device_retry_at_)
			fds[1].fd = device_.fd();
		else
			wake_at(device_retry_at_);
		ids.assign({0, 0});
		for (auto &[id, r] : inflight_) {
			if (r.fd) {
				fds.push_back({r.fd.get(), events(r), 0});
				ids.push_back(id);
			}
		}
		if (poll(fds.data(), fds.size(), wake < 0 ? -1 : ms_until(wake)) < 0) {
			if (errno == EINTR)
				continue;
			std::perror("tdx-quote-vmm: poll");
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents)
			read_exit();
		for (std::size_t i = 2; i < fds.size(); i++) {
			const auto it = inflight_.find(ids[i]);
			if (fds[i].revents && it != inflight_.end() && step(it->second, fds[i].revents))
				inflight_.erase(it);
		}
	}
	for (auto &[id, r] : inflight_)
		finish(r, {KVM_TDX_QUOTE_STATUS_SERVICE_UNAVAILABLE, 0, {}, "tdx-quote-vmm stopping"});
	inflight_.clear();
}

} // namespace quote_service
