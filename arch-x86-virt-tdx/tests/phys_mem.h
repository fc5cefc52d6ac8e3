/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fake machine's physical memory. One lazily backed anonymous mapping holds its RAM, laid out
 * as seam-emu lays out a q35 guest's RAM (seam_emu::GuestMemory: [0, size) below 2.75 GiB, else
 * [0, 2 GiB) and [4 GiB, ...)). The fake page allocator (kapi_alloc_contig_pages) hands out its
 * pages, kapi_virt_to_phys translates into it, and the TDX module model (model_backend.h) reads
 * and writes the same bytes through a GuestMemory over it, whose RAM ranges are the CMRs.
 *
 * The System RAM the fake kernel reports (fake::Kernel::ram) is separate: tests shape it (holes,
 * RAM outside the CMRs); by default it lies inside the default 2 GiB.
 */
#pragma once

#include <cstdint>

namespace seam_emu {
class GuestMemory;
}

namespace fake {

inline constexpr uint64_t kDefaultPhysBytes = 2ull << 30;
inline constexpr uint64_t kMaxPhysBytes = 16ull << 30;

/*
 * The RAM size: set it before the test allocates pages or makes a model (reset() restores the
 * default). 8 GiB gives a q35 layout with RAM [0, 2 GiB) and [4 GiB, 10 GiB).
 */
void set_phys_bytes(uint64_t bytes);
uint64_t phys_bytes();

/* A GuestMemory over the same bytes (made for the current size). */
const seam_emu::GuestMemory &phys_memory();

/*
 * The page allocator: nr_pages zeroed, physically contiguous pages (the lowest free run from
 * 1 MiB up), or nullptr. Freed runs are poisoned for ASan until allocated again, so a page that
 * reaches the TDX module after the core freed it fails the test.
 */
void *phys_alloc(uint64_t nr_pages);
/* False if va is not the start of a run phys_alloc handed out with that many pages. */
bool phys_free(void *va, uint64_t nr_pages);
/* Pages handed out and not freed. */
uint64_t phys_pages_in_use();

/* The physical address of va, or ~0 if va is not in the fake physical memory. */
uint64_t phys_addr_of(const void *va);
/* Host pointer to [pa, pa + len) (inside one RAM range), or nullptr. */
void *phys_ptr(uint64_t pa, uint64_t len);

/* Back to the default size with nothing allocated and every page zero (fake::reset()). */
void phys_reset();

} // namespace fake
