/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fake glue behind kvm_tdx_tests: what core.h asks of kvm_tdx_quote.ko's C glue, for one
 * simulated TD. Guest memory is a map of 4 KiB pages; each is shared or private and backed or
 * not (a page missing from the map is neither). Quotes come from a configurable stand-in for
 * tdx_host's quoting, which records the TDREPORT it was given.
 */
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "core.h"

namespace fake {

inline constexpr uint64_t kPage = 4096;

struct Page {
	bool shared = true;
	bool backed = true; /* false: mapped shared but without memory (reads and writes fault) */
	std::array<uint8_t, kPage> bytes{};
};

/* One kq_read or kq_write the core made, in order. */
struct Access {
	bool write;
	uint64_t gpa, len;
	bool operator==(const Access &) const = default;
};

/* Quotes kq_generate_quote handed out and kq_free_quote has not freed yet (any TD). */
extern int live_quotes;

} // namespace fake

/* The TD the core is handed (opaque to it). */
struct kvm_tdx_quote_td {
	std::map<uint64_t, fake::Page> pages; /* by GPA >> 12 */

	/* kq_generate_quote: quote_errno != 0 fails with -quote_errno, else hands out a copy of quote. */
	int quote_errno = 0;
	std::vector<uint8_t> quote;

	/* observations */
	std::vector<fake::Access> accesses;
	int generate_calls = 0;
	uint64_t report_gpa = 0;
	std::vector<uint8_t> report; /* what kq_generate_quote was asked to quote */
	/*
	 * Calls the glue's contract rules out (include/tdx/kvm_tdx_quote.h's ops): a read or write of
	 * a range that is not all shared, range_shared() of an empty or wrapping range.
	 */
	int contract_violations = 0;

	/* [gpa, gpa + len) as pages of one kind (filled with fill). */
	void map(uint64_t gpa, uint64_t len, bool shared, bool backed = true, uint8_t fill = 0);
	/* Direct access for the test (no observation); false when a byte is not backed. */
	bool peek(uint64_t gpa, void *buf, uint64_t len) const;
	bool poke(uint64_t gpa, const void *buf, uint64_t len);
	std::vector<fake::Access> writes() const;
};
