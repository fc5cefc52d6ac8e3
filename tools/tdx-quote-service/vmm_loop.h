// SPDX-License-Identifier: GPL-2.0
// tdx-quote-vmm's poll loop: exits from the device, one QGS connection per request in flight,
// many requests at once, each ended exactly once (a status in the TD's buffer and DONE).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "fdutil.h"
#include "quote_device.h"
#include "vmm_logic.h"

namespace quote_service {

struct VmmConfig {
	std::string qgs_path;
	int qgs_timeout_ms = 30000;
	/* Return after this many requests ended (0: never). */
	std::uint64_t once = 0;
	/* TEST ONLY (--test-probe-rules): before each DONE, try what the UAPI refuses (a MEM write
	 * over the status of the request in flight, a DONE with status IN_FLIGHT) and print the
	 * kernel's answers as a "probe id=N status_write=ERRNO done_in_flight=ERRNO" line. */
	bool probe_rules = false;
};

class Vmm {
public:
	/* done lines go to out. */
	Vmm(QuoteDevice &device, VmmConfig config, std::FILE *out);
	/* Until stop_fd (-1: none) is readable or --once is reached; requests still in flight then
	 * end SERVICE_UNAVAILABLE. */
	void run(int stop_fd);
	std::uint64_t ended() const { return ended_; }

private:
	struct Request {
		kvm_tdx_quote_exit exit{};
		enum class Phase { kConnect, kSend, kReceive } phase = Phase::kConnect;
		Fd fd;
		Bytes out; /* the framed GET_QUOTE_REQ */
		std::size_t sent = 0;
		Bytes in;
		std::int64_t deadline = 0;
		std::int64_t retry_at = 0; /* kConnect without fd: when to try again */
	};

	void read_exit();
	void take_exit(const kvm_tdx_quote_exit &e);
	/* Before RESUME: writes out_len 0 and status ERROR (when there is a header), RESUMEs. */
	void reject(const kvm_tdx_quote_exit &e, const ExitDecision &d);
	/* These return true when the request ended (the caller forgets it). */
	bool try_connect(Request &r);
	bool step(Request &r, short revents);
	bool receive(Request &r);
	bool end(Request &r, const QgsOutcome &o);
	bool finish(Request &r, const Completion &c);
	/* Writes c's quote, then out_len into the buffer. Returns c as written (a failed write
	 * turns it into ERROR with out_len 0). */
	Completion write_payload(const kvm_tdx_quote_exit &e, Completion c);
	void print_done(const kvm_tdx_quote_exit &e, std::uint64_t status, std::uint32_t out_len);
	void probe_rules(const kvm_tdx_quote_exit &e);
	void count_ended();
	short events(const Request &r) const;

	QuoteDevice &device_;
	VmmConfig config_;
	std::FILE *out_;
	std::map<std::uint64_t, Request> inflight_;
	std::uint64_t ended_ = 0;
	std::int64_t device_retry_at_ = 0; /* after a device read error */
	int last_device_errno_ = 0;
};

} // namespace quote_service
