// SPDX-License-Identifier: GPL-2.0
/*
 * TDG.VP.VMCALL<GetQuote> as KVM's TDVMCALL handler runs it (ABI.md §9): the request checks, in
 * the order the quoting series gives them, and the in-kernel path's writes. The TD owns the buffer
 * and may change it at any time, so every value is read once, into the kernel, before it is used.
 */
#include "core.h"

#include "tdx/abi/getquote.h"

namespace {

namespace gq = tdx::abi::getquote;
using kstd::u64;
using kstd::u32;

constexpr u64 kPageMask = tdx::abi::kPageSize - 1;

bool page_aligned(u64 v) { return (v & kPageMask) == 0; }

/* The header's fields, read from the TD's buffer (little-endian, as the TD wrote them). */
bool read_header(kvm_tdx_quote_td *td, u64 gpa, gq::Header *h)
{
	return kq_read(td, gpa, h, sizeof(*h)) == 0;
}

bool write_u32(kvm_tdx_quote_td *td, u64 gpa, u32 v) { return kq_write(td, gpa, &v, sizeof(v)) == 0; }

/* The header checks (version, in_len, out_len): the request's own fields, after the GPA checks. */
bool header_ok(const gq::Header &h, u64 size)
{
	if (h.version != gq::kVersion)
		return false;
	if (u64{h.in_len} + gq::kHeaderSize > gq::kMaxInRegion)
		return false;
	return u64{h.out_len} + gq::kHeaderSize <= size;
}

} // namespace

extern "C" int kq_write_status(kvm_tdx_quote_td *td, u64 gpa, u64 status)
{
	return kq_write(td, gpa + gq::kOffStatus, &status, sizeof(status));
}

extern "C" int kq_check_get_quote(kvm_tdx_quote_td *td, unsigned int shared_bit, u64 r12, u64 r13,
				  kq_request *req, u64 *ret)
{
	const u64 shared = u64{1} << shared_bit;
	*ret = gq::kVmcallInvalidOperand;
	/* A private GPA: the TD may only hand the VMM shared memory. */
	if (!(r12 & shared))
		return 0;
	const u64 gpa = r12 & ~shared;
	const u64 size = r13;
	if (size == 0)
		return 0;
	if (!page_aligned(gpa) || !page_aligned(size)) {
		*ret = gq::kVmcallAlignError;
		return 0;
	}
	/* The range wraps, or runs past the GPA space into the shared alias. */
	if (gpa + size < gpa || gpa + size > shared)
		return 0;
	if (!kq_range_shared(td, gpa, size))
		return 0;
	gq::Header h;
	if (!read_header(td, gpa, &h))
		return 0;
	if (!header_ok(h, size)) {
		kq_write_status(td, gpa, gq::kStatusError);
		return 0;
	}
	*req = {gpa, size, h.in_len, h.out_len};
	*ret = gq::kVmcallSuccess;
	return 1;
}

extern "C" u64 kq_in_kernel_quote(kvm_tdx_quote_td *td, const kq_request *req)
{
	void *quote = nullptr;
	u32 len = 0;
	if (kq_generate_quote(td, req->gpa + gq::kOffData, req->in_len, &quote, &len) != 0) {
		/* No quote produced. */
		if (write_u32(td, req->gpa + gq::kOffOutLen, 0))
			kq_write_status(td, req->gpa, gq::kStatusServiceUnavailable);
		return gq::kVmcallInvalidOperand;
	}
	u64 status = gq::kStatusSuccess;
	bool written;
	if (u64{len} + gq::kHeaderSize > req->size) {
		/* The buffer cannot hold it: no part of it is written (out_len 0), as QEMU does. */
		status = gq::kStatusError;
		written = write_u32(td, req->gpa + gq::kOffOutLen, 0);
	} else {
		/* The quote first, then out_len, then status: a TD polling status sees a whole quote. */
		written = kq_write(td, req->gpa + gq::kOffData, quote, len) == 0 &&
			  write_u32(td, req->gpa + gq::kOffOutLen, len);
	}
	kq_free_quote(quote);
	if (!written || kq_write_status(td, req->gpa, status) != 0)
		return gq::kVmcallInvalidOperand;
	return status == gq::kStatusSuccess ? gq::kVmcallSuccess : gq::kVmcallInvalidOperand;
}

extern "C" u64 kq_check_notify_vector(u64 vector)
{
	if (vector < gq::kNotifyVectorMin || vector > gq::kNotifyVectorMax)
		return gq::kVmcallInvalidOperand;
	return gq::kVmcallSuccess;
}

extern "C" int kq_end_in_flight(kvm_tdx_quote_td *td, u64 gpa)
{
	u64 status;
	if (kq_read(td, gpa + gq::kOffStatus, &status, sizeof(status)) != 0 || status != gq::kStatusInFlight)
		return 0;
	return kq_write_status(td, gpa, gq::kStatusServiceUnavailable) == 0;
}
