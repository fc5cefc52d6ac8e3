// SPDX-License-Identifier: GPL-2.0
// A stand-in for /dev/kvm_tdx_quote: TDs with flat shared memory, a queue of exits (an eventfd
// makes poll() say POLLIN), replies checked against the UAPI's rules and recorded, MEM writes
// recorded in order, with the status the kernel writes at DONE among them.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fdutil.h"
#include "quote_device.h"
#include "qgs_codec.h"

namespace quote_service::test {

class FakeDevice final : public QuoteDevice {
public:
	struct Reply {
		std::uint32_t op;
		std::uint64_t ret;
	};
	struct Write {
		std::uint32_t td;
		std::uint64_t gpa, len;
	};

	FakeDevice();
	void add_td(std::uint32_t td, std::size_t bytes);
	/* A GetQuote exit for a buffer at gpa with a header (status IN_FLIGHT, as the kernel leaves
	 * it) and the report written into the TD's memory. */
	kvm_tdx_quote_exit get_quote(std::uint64_t id, std::uint32_t td, std::uint64_t gpa, std::uint64_t size,
				     BytesView report, std::uint64_t version = 1);
	void queue(const kvm_tdx_quote_exit &e);
	void fail_reads(int n, int err) { fail_reads_ = n, fail_errno_ = err; }
	void fail_writes(bool on) { fail_writes_ = on; }

	/* What happened, read after the VMM stopped (or under the lock). */
	std::vector<Reply> replies(std::uint64_t id) const;
	std::vector<Write> writes() const;
	std::vector<std::string> violations() const;
	std::uint64_t load64(std::uint32_t td, std::uint64_t gpa) const;
	std::uint32_t load32(std::uint32_t td, std::uint64_t gpa) const;
	Bytes bytes(std::uint32_t td, std::uint64_t gpa, std::size_t len) const;

	int fd() const override { return event_.get(); }
	int read_exit(kvm_tdx_quote_exit *exit) override;
	int reply(std::uint64_t id, std::uint32_t op, std::uint64_t ret) override;
	int mem_read(std::uint32_t td, std::uint64_t gpa, void *buf, std::uint64_t len) override;
	int mem_write(std::uint32_t td, std::uint64_t gpa, const void *buf, std::uint64_t len) override;

private:
	enum class State { kQueued, kInFlight, kEnded };
	int check_range(std::uint32_t td, std::uint64_t gpa, std::uint64_t len) const;

	mutable std::mutex mu_;
	Fd event_;
	std::deque<kvm_tdx_quote_exit> queue_;
	std::map<std::uint32_t, Bytes> memory_;
	std::map<std::uint64_t, State> state_;
	std::map<std::uint64_t, kvm_tdx_quote_exit> exits_;
	std::map<std::uint64_t, std::vector<Reply>> replies_;
	std::vector<Write> writes_;
	std::vector<std::string> violations_;
	int fail_reads_ = 0, fail_errno_ = 0;
	bool fail_writes_ = false;
};

} // namespace quote_service::test
