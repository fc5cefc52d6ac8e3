// SPDX-License-Identifier: GPL-2.0
// /dev/kvm_tdx_quote (include/uapi/linux/kvm_tdx_quote.h) behind a small interface, so the VMM's
// loop also runs against a fake in the tests.
#pragma once

#include <cstdint>
#include <string>

#include <uapi/linux/kvm_tdx_quote.h>

#include "fdutil.h"

namespace quote_service {

class QuoteDevice {
public:
	/* Polled for POLLIN: an exit waits. */
	virtual int fd() const = 0;
	/* One exit: 1, 0 when none waits, -errno on failure. */
	virtual int read_exit(kvm_tdx_quote_exit *exit) = 0;
	/* A reply (OP_RESUME with the TDVMCALL status, or OP_DONE): 0 or -errno. */
	virtual int reply(std::uint64_t id, std::uint32_t op, std::uint64_t ret) = 0;
	/* KVM_TDX_QUOTE_MEM, len <= KVM_TDX_QUOTE_MEM_MAX: 0 or -errno. */
	virtual int mem_read(std::uint32_t td, std::uint64_t gpa, void *buf, std::uint64_t len) = 0;
	virtual int mem_write(std::uint32_t td, std::uint64_t gpa, const void *buf, std::uint64_t len) = 0;

protected:
	~QuoteDevice() = default;
};

class KvmTdxQuoteDevice final : public QuoteDevice {
public:
	bool open(const std::string &path, std::string *err);
	int fd() const override { return fd_.get(); }
	int read_exit(kvm_tdx_quote_exit *exit) override;
	int reply(std::uint64_t id, std::uint32_t op, std::uint64_t ret) override;
	int mem_read(std::uint32_t td, std::uint64_t gpa, void *buf, std::uint64_t len) override;
	int mem_write(std::uint32_t td, std::uint64_t gpa, const void *buf, std::uint64_t len) override;

private:
	int mem(std::uint32_t td, std::uint32_t flags, std::uint64_t gpa, const void *buf, std::uint64_t len);
	Fd fd_;
};

} // namespace quote_service
