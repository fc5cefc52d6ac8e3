// SPDX-License-Identifier: GPL-2.0
#include "phys_mem.h"

#include <sanitizer/asan_interface.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>

#include "seam-emu/src/guest_memory.h"

namespace fake {

namespace {

constexpr uint64_t kPage = 4096;
/* The page allocator leaves the first MiB alone, as the kernel mostly does. */
constexpr uint64_t kLowReserved = 1ull << 20;

uint8_t *g_base;      /* kMaxPhysBytes, mapped once for the whole run */
uint64_t g_bytes = kDefaultPhysBytes;
std::unique_ptr<seam_emu::GuestMemory> g_mem;
std::map<uint64_t, uint64_t> g_runs; /* allocated: pa -> pages */
uint64_t g_poisoned_end;             /* offset into the mapping below which freed runs may be poisoned */

[[noreturn]] void die(const char *what)
{
	fprintf(stderr, "fake physical memory: %s\n", what);
	abort();
}

uint8_t *base()
{
	if (!g_base) {
		void *p = mmap(nullptr, kMaxPhysBytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			die("mmap failed");
		g_base = static_cast<uint8_t *>(p);
	}
	return g_base;
}

} // namespace

const seam_emu::GuestMemory &phys_memory()
{
	if (!g_mem)
		g_mem = std::make_unique<seam_emu::GuestMemory>(base(), g_bytes);
	return *g_mem;
}

void set_phys_bytes(uint64_t bytes)
{
	if (!g_runs.empty())
		die("resized while pages are allocated");
	if (bytes % kPage || bytes > kMaxPhysBytes)
		die("bad size");
	g_bytes = bytes;
	g_mem.reset();
}

uint64_t phys_bytes() { return g_bytes; }

uint64_t phys_addr_of(const void *va)
{
	auto *p = static_cast<const uint8_t *>(va);
	if (!g_base || p < g_base || p >= g_base + g_bytes)
		return ~0ull;
	/* The RAM ranges lie back to back in the mapping. */
	uint64_t off = uint64_t(p - g_base), at = 0;
	for (const auto &r : phys_memory().ranges()) {
		if (off < at + r.size)
			return r.base + (off - at);
		at += r.size;
	}
	return ~0ull;
}

void *phys_ptr(uint64_t pa, uint64_t len) { return phys_memory().ptr(pa, len); }

void *phys_alloc(uint64_t nr_pages)
{
	if (!nr_pages)
		return nullptr;
	const uint64_t bytes = nr_pages * kPage;
	for (const auto &r : phys_memory().ranges()) {
		uint64_t pos = std::max(r.base, kLowReserved);
		auto it = g_runs.lower_bound(pos);
		if (it != g_runs.begin())
			pos = std::max(pos, std::prev(it)->first + std::prev(it)->second * kPage);
		for (; pos + bytes <= r.end(); ++it) {
			if (it == g_runs.end() || it->first >= pos + bytes) {
				g_runs.emplace(pos, nr_pages);
				auto *va = static_cast<uint8_t *>(phys_ptr(pos, bytes));
				ASAN_UNPOISON_MEMORY_REGION(va, bytes);
				memset(va, 0, bytes);
				return va;
			}
			pos = std::max(pos, it->first + it->second * kPage);
		}
	}
	return nullptr;
}

bool phys_free(void *va, uint64_t nr_pages)
{
	auto it = g_runs.find(phys_addr_of(va));
	if (it == g_runs.end() || it->second != nr_pages)
		return false;
	g_runs.erase(it);
	ASAN_POISON_MEMORY_REGION(va, nr_pages * kPage);
	g_poisoned_end = std::max(g_poisoned_end, uint64_t(static_cast<uint8_t *>(va) - g_base) + nr_pages * kPage);
	return true;
}

uint64_t phys_pages_in_use()
{
	uint64_t n = 0;
	for (const auto &[pa, pages] : g_runs)
		n += pages;
	return n;
}

void phys_reset()
{
	if (g_base) {
		ASAN_UNPOISON_MEMORY_REGION(g_base, g_poisoned_end);
		/* Every page back to zero (and to the kernel: the mapping stays lazily backed). */
		madvise(g_base, kMaxPhysBytes, MADV_DONTNEED);
	}
	g_poisoned_end = 0;
	g_runs.clear();
	g_bytes = kDefaultPhysBytes;
	g_mem.reset();
}

} // namespace fake
