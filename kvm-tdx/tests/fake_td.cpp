// SPDX-License-Identifier: GPL-2.0
#include "fake_td.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

using fake::kPage;

int fake::live_quotes = 0;

namespace {

/* Calls fn(page or nullptr, offset in page, byte count, offset in the caller's buffer) per page. */
template <class Fn> bool each_chunk(uint64_t gpa, uint64_t len, Fn fn)
{
	uint64_t done = 0;
	while (done < len) {
		const uint64_t at = gpa + done;
		const uint64_t off = at % kPage;
		const uint64_t n = std::min(len - done, kPage - off);
		if (!fn(at / kPage, off, n, done))
			return false;
		done += n;
	}
	return true;
}

bool shared_range(const kvm_tdx_quote_td *td, uint64_t gpa, uint64_t len)
{
	return each_chunk(gpa, len, [&](uint64_t pfn, uint64_t, uint64_t, uint64_t) {
		auto it = td->pages.find(pfn);
		return it != td->pages.end() && it->second.shared;
	});
}

} // namespace

void kvm_tdx_quote_td::map(uint64_t gpa, uint64_t len, bool shared, bool backed, uint8_t fill)
{
	for (uint64_t p = gpa / kPage; p < (gpa + len + kPage - 1) / kPage; p++) {
		fake::Page &pg = pages[p];
		pg.shared = shared;
		pg.backed = backed;
		pg.bytes.fill(fill);
	}
}

bool kvm_tdx_quote_td::peek(uint64_t gpa, void *buf, uint64_t len) const
{
	return each_chunk(gpa, len, [&](uint64_t pfn, uint64_t off, uint64_t n, uint64_t done) {
		auto it = pages.find(pfn);
		if (it == pages.end() || !it->second.backed)
			return false;
		std::memcpy(static_cast<uint8_t *>(buf) + done, it->second.bytes.data() + off, n);
		return true;
	});
}

bool kvm_tdx_quote_td::poke(uint64_t gpa, const void *buf, uint64_t len)
{
	return each_chunk(gpa, len, [&](uint64_t pfn, uint64_t off, uint64_t n, uint64_t done) {
		auto it = pages.find(pfn);
		if (it == pages.end() || !it->second.backed)
			return false;
		std::memcpy(it->second.bytes.data() + off, static_cast<const uint8_t *>(buf) + done, n);
		return true;
	});
}

std::vector<fake::Access> kvm_tdx_quote_td::writes() const
{
	std::vector<fake::Access> w;
	std::copy_if(accesses.begin(), accesses.end(), std::back_inserter(w), [](const fake::Access &a) { return a.write; });
	return w;
}

extern "C" {

int kq_range_shared(kvm_tdx_quote_td *td, u64 gpa, u64 len)
{
	if (len == 0 || gpa + len < gpa) {
		td->contract_violations++;
		return 0;
	}
	return shared_range(td, gpa, len);
}

int kq_read(kvm_tdx_quote_td *td, u64 gpa, void *buf, u64 len)
{
	td->accesses.push_back({false, gpa, len});
	if (len && !shared_range(td, gpa, len))
		td->contract_violations++;
	return td->peek(gpa, buf, len) ? 0 : -EFAULT;
}

int kq_write(kvm_tdx_quote_td *td, u64 gpa, const void *buf, u64 len)
{
	td->accesses.push_back({true, gpa, len});
	if (len && !shared_range(td, gpa, len))
		td->contract_violations++;
	return td->poke(gpa, buf, len) ? 0 : -EFAULT;
}

int kq_generate_quote(kvm_tdx_quote_td *td, u64 report_gpa, u32 in_len, void **quote, u32 *quote_len)
{
	td->generate_calls++;
	td->report_gpa = report_gpa;
	td->report.assign(in_len, 0);
	/* As the glue does: the TDREPORT is read out of the TD's buffer first. */
	if (kq_read(td, report_gpa, td->report.data(), in_len) != 0)
		return -EFAULT;
	if (td->quote_errno)
		return -td->quote_errno;
	auto *copy = new uint8_t[td->quote.size() + 1];
	std::copy(td->quote.begin(), td->quote.end(), copy);
	fake::live_quotes++;
	*quote = copy;
	*quote_len = static_cast<u32>(td->quote.size());
	return 0;
}

void kq_free_quote(void *quote)
{
	if (quote)
		fake::live_quotes--;
	delete[] static_cast<uint8_t *>(quote);
}

} // extern "C"
