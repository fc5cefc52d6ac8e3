// SPDX-License-Identifier: GPL-2.0
#include "quote_device.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace quote_service {

bool KvmTdxQuoteDevice::open(const std::string &path, std::string *err)
{
	fd_.reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
	if (!fd_) {
		*err = path + ": " + std::strerror(errno);
		return false;
	}
	return true;
}

int KvmTdxQuoteDevice::read_exit(kvm_tdx_quote_exit *exit)
{
	for (;;) {
		const ssize_t n = ::read(fd_.get(), exit, sizeof(*exit));
		if (n == static_cast<ssize_t>(sizeof(*exit)))
			return 1;
		if (n >= 0)
			return n == 0 ? 0 : -EIO; /* a short record: not this UAPI */
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -errno;
	}
}

int KvmTdxQuoteDevice::reply(std::uint64_t id, std::uint32_t op, std::uint64_t ret)
{
	const kvm_tdx_quote_reply r{id, op, 0, ret};
	for (;;) {
		const ssize_t n = ::write(fd_.get(), &r, sizeof(r));
		if (n == static_cast<ssize_t>(sizeof(r)))
			return 0;
		if (n >= 0)
			return -EIO;
		if (errno != EINTR)
			return -errno;
	}
}

int KvmTdxQuoteDevice::mem(std::uint32_t td, std::uint32_t flags, std::uint64_t gpa, const void *buf,
			   std::uint64_t len)
{
	kvm_tdx_quote_mem m{td, flags, gpa, len, reinterpret_cast<std::uintptr_t>(buf)};
	return ioctl(fd_.get(), KVM_TDX_QUOTE_MEM, &m) == 0 ? 0 : -errno;
}

int KvmTdxQuoteDevice::mem_read(std::uint32_t td, std::uint64_t gpa, void *buf, std::uint64_t len)
{
	return mem(td, 0, gpa, buf, len);
}

int KvmTdxQuoteDevice::mem_write(std::uint32_t td, std::uint64_t gpa, const void *buf, std::uint64_t len)
{
	return mem(td, KVM_TDX_QUOTE_MEM_WRITE, gpa, buf, len);
}

} // namespace quote_service
