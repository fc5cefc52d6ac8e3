/* SPDX-License-Identifier: GPL-2.0 */
/* The fake kernel behind the host tests: CPUs, RAM map, allocation accounting and failures. */
#pragma once

#include <cstdint>
#include <functional>
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
	uint64_t max_contig_pages = 0; /* larger page runs are refused (fragmentation); 0 = no limit */
	int ram_walk_error = 0;
	void *mailbox = nullptr; /* the emulator device kapi_emu_get hands out; nullptr = none */
	size_t mailbox_size = 0;
	void *emu_regs = nullptr; /* its registers: an opaque token here */
	/*
	 * Runs inside every kapi_ktime_ns(), on the caller's thread: a fake emulator driven by the
	 * clock reads of a waiting call is deterministic (no thread scheduling involved).
	 */
	std::function<void()> on_clock;
	/* Runs inside every kapi_wbinvd_on_all_cpus(), after it is counted: where a flush falls. */
	std::function<void()> on_wbinvd;

	/* observations */
	long live_allocs = 0;
	long total_allocs = 0;
	int contig_refused = 0; /* page runs refused for max_contig_pages */
	int wbinvd_calls = 0;
	int cpus_lock_depth = 0;
	unsigned current_cpu = 0;
	std::vector<std::string> log;
	bool emu_in_use = false; /* between kapi_emu_get and kapi_emu_put */
	int irq_depth = 0;        /* kapi_local_irq_save nesting */
	int watchdog_touches = 0;
	/* What kapi_irq_pending() answers: an interrupt pending at the CPU. */
	bool irq_pending = false;
	int irq_reads = 0; /* kapi_irq_pending calls: each reads the local APIC */
	/* The local APIC timer: runs out at fake-clock ns timer_at (0: not armed), counting down
	 * once every timer_ns_per_count ns. */
	uint64_t timer_at = 0;
	uint64_t timer_ns_per_count = 16;
	int timer_reads = 0; /* kapi_lapic_timer_count and _initial calls */
	unsigned timer_irqs = 0; /* what kapi_timer_irqs() answers: timer interrupts taken */
	unsigned cpuid_1_eax = 0x806F8; /* the emulator profiles' platform */
	struct Ring {
		unsigned value;
		int irq_depth; /* interrupts were off (> 0) when the doorbell was rung */
	};
	std::vector<Ring> doorbell_rings;
	long clock_reads_irqs_on = 0; /* kapi_ktime_ns with interrupts on */
	long clock_reads_irqs_off = 0;

	bool log_contains(const std::string &s) const;
};

/* Depth of the state lock and of the quote lock (0 or 1: neither is recursive). */
extern int g_state_lock_depth;
extern int g_quote_lock_depth;

/* The one fake kernel; reset() between tests. */
Kernel &kernel();
void reset();

/*
 * The fake clock: every kapi_ktime_ns() advances it by the step (1 us unless set; reset()
 * restores it). clock_reads() may be read from another thread (a fake emulator).
 */
void set_clock_step(uint64_t ns);
uint64_t clock_reads();
/* The fake clock's reading now (without advancing it). */
uint64_t now_ns();

} // namespace fake
