// SPDX-License-Identifier: GPL-2.0
// What the emulator runs on and what it runs: the platform and the TDX module image (profiles/README.md).
#pragma once

#include <array>
#include <optional>
#include <string>

#include <tdx/abi/types.h>

namespace seam_emu {

using namespace tdx::abi;

/* The machine: fixed for the emulator's life, whatever module image the P-SEAMLDR installs. */
struct Platform {
	u32 lps = 2;
	u32 packages = 1;
	/* IA32_MKTME_KEYID_PARTITIONING: the TDX private KeyIDs. */
	u32 tdx_keyid_start = 32;
	u32 nr_tdx_keyids = 32;
	u32 cpu_signature = 0x806F8; /* CPUID.1.EAX */
	struct Errata {
		bool seamret_invalidates_vmcs = false; /* IA32_VMX_BASIC bit 60 clear (ABI.md §10) */
		bool partial_write_machine_check = true;
	} errata;
	/* The P-SEAMLDR in the SEAM range (ABI.md §4): what SEAMLDR.INFO reports and what it allows. */
	struct Seamldr {
		u16 major = 1, minor = 5, update = 3;
		u16 build_num = 160;
		u32 build_date = 20240125;
		u32 num_remaining_updates = 16; /* runtime updates left (a LOAD restores this count) */
		bool debug = false;             /* a debug P-SEAMLDR: accepts debug-signed images */
	} seamldr;

	/* Package of an LP: LP i is in package i / (lps / packages). */
	u32 package_of(u32 lp) const { return lp / (lps / packages); }
};

/* One TDX module image: what it reports and how it behaves; the P-SEAMLDR can replace it. */
struct ModuleImage {
	struct Version {
		u16 major = 1, minor = 5, update = 6;
		u16 build_num = 744;
		u32 build_date = 20240229;
	} module; /* the version keys of the profile's "module" object */
	u64 tdx_features0 = 0;
	/*
	 * The image's SEAM SVNs (its sigstruct's major_svn / minor_svn): TEE_TCB_SVN, and what the
	 * P-SEAMLDR compares an update's sigstruct with.
	 */
	struct Svn {
		u8 major = 1, minor = 6;
	} svn;
	/*
	 * Set only for an image the P-SEAMLDR installed: the SHA-384 of its pages (its sigstruct's
	 * seamhash, MRSEAM), its signer (the SHA-384 of the sigstruct's modulus) and whether it was
	 * debug-signed. A profile's image has none of them (it stands for an Intel-signed one).
	 */
	std::optional<std::array<u8, 48>> seamhash;
	std::optional<std::array<u8, 48>> signer;
	bool debug_signed = false;
	struct Tdmr {
		u16 max_tdmrs = 64;
		u16 max_reserved_per_tdmr = 16;
		u16 pamt_entry_size[3] = {16, 16, 16}; /* indexed by PageLevel: 4k, 2m, 1g */
	} tdmr;
	struct Handoff {
		u16 module_hv = 0, min_update_hv = 0;
		bool no_downgrade = false;
		u16 num_handoff_pages = 1;
	} handoff;
	struct Td {
		u16 tdr_base_size = 4096, tdcs_base_size = 16384, tdvps_base_size = 20480;
	} td;
	struct WorkBudget {
		u64 tdmr_init_bytes = 256ull << 20; /* TDMR bytes one TDH.SYS.TDMR.INIT call covers */
		u32 sys_disable_steps = 2;          /* TDH.SYS.DISABLE calls until it completes */
	} work_budget;
	/*
	 * Module extensions (ABI.md §6, §7): the profile's "ext" object, present exactly when
	 * tdx_features0 has EXT (bit 39). Extensions are needed when `required` is set or SYS.CONFIG
	 * enabled an add-on that needs them (QUOTE); then EXT_REQUIRED reads 1 and
	 * MEMORY_POOL_REQUIRED_PAGES reads `pool_pages`, else both read 0.
	 */
	struct Ext {
		bool required = false;
		u32 pool_pages = 0;
		u32 init_budget_pages = 64;      /* pool pages one TDH.EXT.INIT call initializes */
		u32 mem_add_budget_entries = 64; /* HPA list entries one TDH.EXT.MEM.ADD call takes */
	} ext;
	/* The quoting extension: the "quote" object, present exactly when tdx_features0 has QUOTE (bit 50). */
	struct Quote {
		u32 max_quote_size = 8192; /* MAX_QUOTE_SIZE, readable once QUOTE.INIT completed */
		u32 init_steps = 3;        /* TDH.QUOTE.INIT calls until it completes */
		u32 get_budget_pages = 1;  /* quote buffer pages one resumed TDH.QUOTE.GET call writes */
		/*
		 * 0: a request's first TDH.QUOTE.GET signs the quote inside the call. n > 0: the signing
		 * runs beside the calls, each of which waits at most n microseconds for it and answers
		 * INTERRUPTED_RESUMABLE while it is not done, so that no call holds its CPU for the whole
		 * ECDSA P-384 signature (about a millisecond).
		 */
		u32 sign_budget_us = 0;
	} quote;
};

/*
 * A profile file: the platform and the image loaded at start. It is both at once, so code that
 * only needs one part takes a `const Platform &` or `const ModuleImage &` and a Profile converts.
 */
struct Profile : Platform, ModuleImage {
	const Platform &platform() const { return *this; }
	const ModuleImage &image() const { return *this; }
};

struct ProfileResult {
	std::optional<Profile> profile;
	std::string error; /* set when profile is empty */
};

/* Parse and validate a profile; every key is required and unknown keys are refused. */
ProfileResult parse_profile(const std::string &json_text);
ProfileResult load_profile(const std::string &path);

struct ModuleImageResult {
	std::optional<ModuleImage> image;
	std::string error;
};
/*
 * The "module" object of a profile on its own: what a test-signed image carries as its manifest.
 * There "svn" may be left out (the image's sigstruct has the SVNs); everything else is required.
 */
ModuleImageResult parse_module_image(const std::string &json_text);

/* Re-check the LP/package topology after command-line overrides; empty string if fine. */
std::string check_topology(const Platform &p);

} // namespace seam_emu
