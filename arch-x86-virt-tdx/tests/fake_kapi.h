/* SPDX-License-Identifier: GPL-2.0 */
/* The fake kernel behind the host tests: CPUs, RAM map, allocation accounting and failures. */
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fake {

struct Kernel {
	unsigned nr_cpus = 2;
	unsigned cpus_per_package = 2;
	std::vector<bool> offline; /* by CPU; missing = online */
	std::vector<std::pair<uint64_t, uint64_t>> ram = {{0x1000, 0x9f000}, {0x100000, 0x7ffe0000}};
	int fail_alloc_at = 0; /* the Nth allocation (kzalloc or pages) from now fails; 0 = never */
	int ram_walk_error = 0;
	void *mailbox = nullptr; /* what kapi_emu_mailbox hands out; nullptr = no device */
	size_t mailbox_size = 0;

	/* observations */
	long live_allocs = 0;
	long total_allocs = 0;
	int wbinvd_calls = 0;
	int cpus_lock_depth = 0;
	unsigned current_cpu = 0;
	std::vector<std::string> log;

	bool log_contains(const std::string &s) const;
};

/* The one fake kernel; reset() between tests. */
Kernel &kernel();
void reset();

} // namespace fake
