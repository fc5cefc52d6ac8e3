// SPDX-License-Identifier: GPL-2.0
#include "fake_device.h"

#include <cerrno>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>

#include <tdx/abi/getquote.h>

namespace quote_service::test {

namespace gq = tdx::abi::getquote;

FakeDevice::FakeDevice() : event_(eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) {}

void FakeDevice::add_td(std::uint32_t td, std::size_t bytes)
{
	std::lock_guard l(mu_);
	memory_[td] = Bytes(bytes, 0xcc);
}

kvm_tdx_quote_exit FakeDevice::get_quote(std::uint64_t id, std::uint32_t td, std::uint64_t gpa,
					 std::uint64_t size, BytesView report, std::uint64_t version)
{
	std::lock_guard l(mu_);
	auto it = memory_.find(td);
	if (it != memory_.end() && gpa + gq::kHeaderSize + report.size() <= it->second.size()) {
		std::uint8_t *p = it->second.data() + gpa;
		store_le64(p + gq::kOffVersion, version);
		store_le64(p + gq::kOffStatus, gq::kStatusInFlight);
		store_le32(p + gq::kOffInLen, static_cast<std::uint32_t>(report.size()));
		store_le32(p + gq::kOffOutLen, 0);
		std::memcpy(p + gq::kOffData, report.data(), report.size());
	}
	kvm_tdx_quote_exit e{};
	e.id = id;
	e.td = td;
	e.exit_reason = KVM_TDX_QUOTE_EXIT_TDX;
	e.nr = KVM_TDX_QUOTE_TDVMCALL_GET_QUOTE;
	e.ret = KVM_TDX_QUOTE_TDVMCALL_SUBFUNC_UNSUPPORTED;
	e.gpa = gpa;
	e.size = size;
	return e;
}

void FakeDevice::queue(const kvm_tdx_quote_exit &e)
{
	std::lock_guard l(mu_);
	queue_.push_back(e);
	state_[e.id] = State::kQueued;
	exits_[e.id] = e;
	const std::uint64_t one = 1;
	(void)!write(event_.get(), &one, sizeof(one));
}

int FakeDevice::read_exit(kvm_tdx_quote_exit *exit)
{
	std::lock_guard l(mu_);
	if (fail_reads_ > 0) {
		fail_reads_--;
		return -fail_errno_;
	}
	std::uint64_t v;
	if (read(event_.get(), &v, sizeof(v)) != sizeof(v))
		return 0;
	*exit = queue_.front();
	queue_.pop_front();
	return 1;
}

int FakeDevice::reply(std::uint64_t id, std::uint32_t op, std::uint64_t ret)
{
	std::lock_guard l(mu_);
	auto it = state_.find(id);
	if (it == state_.end() || it->second == State::kEnded) {
		violations_.push_back("reply to unknown or ended request " + std::to_string(id));
		return -ENOENT;
	}
	replies_[id].push_back({op, ret});
	if (op == KVM_TDX_QUOTE_OP_RESUME && it->second == State::kQueued) {
		it->second = ret == KVM_TDX_QUOTE_TDVMCALL_SUCCESS ? State::kInFlight : State::kEnded;
		return 0;
	}
	if (op == KVM_TDX_QUOTE_OP_DONE && it->second == State::kInFlight && ret != gq::kStatusInFlight) {
		/* As the kernel does: the status ret names, written last (unless the buffer is gone). */
		it->second = State::kEnded;
		const kvm_tdx_quote_exit &e = exits_.at(id);
		if (!fail_writes_ && check_range(e.td, e.gpa + gq::kOffStatus, 8) == 0) {
			store_le64(memory_.at(e.td).data() + e.gpa + gq::kOffStatus, ret);
			writes_.push_back({e.td, e.gpa + gq::kOffStatus, 8});
		}
		return 0;
	}
	violations_.push_back("wrong op " + std::to_string(op) + " for request " + std::to_string(id));
	return -EINVAL;
}

int FakeDevice::check_range(std::uint32_t td, std::uint64_t gpa, std::uint64_t len) const
{
	const auto it = memory_.find(td);
	if (it == memory_.end())
		return -ENOENT;
	if (len == 0 || len > KVM_TDX_QUOTE_MEM_MAX)
		return -EINVAL;
	if (gpa > it->second.size() || len > it->second.size() - gpa)
		return -EFAULT;
	return 0;
}

int FakeDevice::mem_read(std::uint32_t td, std::uint64_t gpa, void *buf, std::uint64_t len)
{
	std::lock_guard l(mu_);
	if (const int rc = check_range(td, gpa, len))
		return rc;
	std::memcpy(buf, memory_.at(td).data() + gpa, len);
	return 0;
}

int FakeDevice::mem_write(std::uint32_t td, std::uint64_t gpa, const void *buf, std::uint64_t len)
{
	std::lock_guard l(mu_);
	if (const int rc = check_range(td, gpa, len))
		return rc;
	for (const auto &[id, st] : state_) {
		const kvm_tdx_quote_exit &e = exits_.at(id);
		if (st == State::kInFlight && e.td == td && gpa < e.gpa + gq::kOffStatus + 8 &&
		    e.gpa + gq::kOffStatus < gpa + len) {
			violations_.push_back("MEM write over the status of request " + std::to_string(id) + " in flight");
			return -EPERM;
		}
	}
	if (fail_writes_)
		return -EFAULT;
	std::memcpy(memory_.at(td).data() + gpa, buf, len);
	writes_.push_back({td, gpa, len});
	return 0;
}

std::vector<FakeDevice::Reply> FakeDevice::replies(std::uint64_t id) const
{
	std::lock_guard l(mu_);
	const auto it = replies_.find(id);
	return it == replies_.end() ? std::vector<Reply>{} : it->second;
}

std::vector<FakeDevice::Write> FakeDevice::writes() const
{
	std::lock_guard l(mu_);
	return writes_;
}

std::vector<std::string> FakeDevice::violations() const
{
	std::lock_guard l(mu_);
	return violations_;
}

Bytes FakeDevice::bytes(std::uint32_t td, std::uint64_t gpa, std::size_t len) const
{
	std::lock_guard l(mu_);
	const Bytes &m = memory_.at(td);
	return Bytes(m.begin() + static_cast<std::ptrdiff_t>(gpa), m.begin() + static_cast<std::ptrdiff_t>(gpa + len));
}

std::uint64_t FakeDevice::load64(std::uint32_t td, std::uint64_t gpa) const
{
	return load_le64(bytes(td, gpa, 8).data());
}

std::uint32_t FakeDevice::load32(std::uint32_t td, std::uint64_t gpa) const
{
	return load_le32(bytes(td, gpa, 4).data());
}

} // namespace quote_service::test
