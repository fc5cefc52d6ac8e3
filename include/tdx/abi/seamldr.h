/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The P-SEAMLDR's interface (ABI.md §1, §4): SEAMLDR.INFO's seamldr_info, SEAMLDR.INSTALL's
 * seamldr_params, and the sigstruct that signs a TDX module image. Little-endian, as x86 lays
 * them out; every offset below is the one ABI.md gives.
 */
#pragma once

#include "types.h"

namespace tdx::abi {

/* ---- SEAMLDR.INFO ---------------------------------------------------------------------------- */

inline constexpr u64 kSeamldrInfoSize = 256;
inline constexpr u64 kSeamldrInfoAlignment = 256;
inline constexpr u32 kSeamldrInfoAttrDebug = 1u << 31;

/*
 * seamldr_info.seam_info: the running TDX module's TCB, laid out as TEE_TCB_INFO begins (project
 * reading of the 128 bytes; ABI.md §4 names the field only). tee_tcb_svn[0] is the module's minor
 * SVN and [1] its major SVN; mrsignerseam is the SHA-384 of the modulus that signed it (the
 * signer id of a sigstruct); valid is non-zero while a module is loaded.
 */
struct SeamInfo {
	u64 valid;
	u8 tee_tcb_svn[16];
	u8 mrseam[48];
	u8 mrsignerseam[48];
	u64 attributes;
} __attribute__((packed));
static_assert(sizeof(SeamInfo) == 128);
inline constexpr unsigned kTeeTcbSvnMinor = 0;
inline constexpr unsigned kTeeTcbSvnMajor = 1;

struct SeamldrInfo {
	u32 version;
	u32 attributes; /* bit 31: a debug P-SEAMLDR */
	u32 vendor_id;
	u32 build_date;
	u16 build_num;
	u16 minor;
	u16 major;
	u16 update;
	u32 acm_x2apicid;
	u32 num_remaining_updates;
	SeamInfo seam_info;
	u8 seam_ready;
	u8 seam_debug;
	u8 p_seam_ready;
	u8 reserved[93];
} __attribute__((packed));
static_assert(sizeof(SeamldrInfo) == kSeamldrInfoSize);
static_assert(__builtin_offsetof(SeamldrInfo, build_num) == 16);
static_assert(__builtin_offsetof(SeamldrInfo, minor) == 18);
static_assert(__builtin_offsetof(SeamldrInfo, major) == 20);
static_assert(__builtin_offsetof(SeamldrInfo, update) == 22);
static_assert(__builtin_offsetof(SeamldrInfo, acm_x2apicid) == 24);
static_assert(__builtin_offsetof(SeamldrInfo, num_remaining_updates) == 28);
static_assert(__builtin_offsetof(SeamldrInfo, seam_info) == 32);
static_assert(__builtin_offsetof(SeamldrInfo, seam_ready) == 160);
static_assert(__builtin_offsetof(SeamldrInfo, seam_debug) == 161);
static_assert(__builtin_offsetof(SeamldrInfo, p_seam_ready) == 162);

/* ---- SEAMLDR.INSTALL -------------------------------------------------------------------------- */

inline constexpr u32 kSeamldrParamsVersion = 0;
inline constexpr u32 kSeamldrScenarioLoad = 0;
inline constexpr u32 kSeamldrScenarioUpdate = 1;
/* The module pages one seamldr_params page can name. */
inline constexpr u64 kSeamldrMaxModulePages = 496;

struct SeamldrParams {
	u32 version;  /* 0 */
	u32 scenario; /* kSeamldrScenarioLoad / kSeamldrScenarioUpdate */
	u64 sigstruct_pa;
	u8 reserved[104];
	u64 num_module_pages;
	u64 module_page_pa[kSeamldrMaxModulePages];
} __attribute__((packed));
static_assert(sizeof(SeamldrParams) == kPageSize);
static_assert(__builtin_offsetof(SeamldrParams, sigstruct_pa) == 8);
static_assert(__builtin_offsetof(SeamldrParams, reserved) == 16);
static_assert(__builtin_offsetof(SeamldrParams, num_module_pages) == 120);
static_assert(__builtin_offsetof(SeamldrParams, module_page_pa) == 128);

/* ---- Sigstruct -------------------------------------------------------------------------------- */

inline constexpr u64 kSigstructSize = 2048;
inline constexpr u32 kSigstructHeaderType = 6;
inline constexpr u32 kSigstructHeaderLength = 0xE1;
inline constexpr u32 kSigstructHeaderVersion = 0x10000;
inline constexpr u32 kSigstructModuleTypeDebug = 1u << 31; /* the only module_type bit allowed */
inline constexpr u32 kSigstructVendorIntel = 0x8086;
inline constexpr u32 kSigstructSizeDwords = 0x200;
inline constexpr u32 kSigstructKeySizeDwords = 0x60;
inline constexpr u32 kSigstructModulusSizeDwords = 0x60;
inline constexpr u32 kSigstructExponentSizeDwords = 1;
inline constexpr u32 kSigstructExponent = 65537;
inline constexpr u64 kSigstructRsaBytes = 384; /* RSA-3072 */
inline constexpr u64 kSigstructSeamhashBytes = 48; /* SHA-384 */
inline constexpr u32 kSigstructMaxCpuidEntries = 255;
/* CPUID.1.EAX as the table holds it: family, model, type; the stepping (bits 3:0) masked. */
inline constexpr u32 kCpuidFmsSteppingMask = 0xF;

/* What the RSA signature covers: the header, then the body. */
inline constexpr u64 kSigstructHeaderBytes = 128;
inline constexpr u64 kSigstructBodyOffset = 900;
inline constexpr u64 kSigstructBodyBytes = kSigstructSize - kSigstructBodyOffset;

/* The signer's identity: SHA-384 of the modulus (little-endian, as stored). Intel's production signer. */
inline constexpr u8 kIntelSignerModulusSha384[48] = {
	0xc8, 0x57, 0x2f, 0x54, 0x88, 0x69, 0xa0, 0xbe, 0xca, 0x19, 0x37, 0x6b, 0x81, 0xc2, 0xdf, 0xfc,
	0x2a, 0x23, 0xb5, 0xa5, 0xf7, 0x1d, 0xa0, 0xb8, 0x75, 0x79, 0xb4, 0x3f, 0x40, 0x8d, 0xaa, 0x1a,
	0x33, 0xba, 0xd9, 0xc1, 0x49, 0xeb, 0x56, 0xc6, 0x34, 0xf8, 0x83, 0x73, 0x79, 0x68, 0xa3, 0x4c,
};

struct Sigstruct {
	/* Header: 128 bytes. */
	u32 header_type;    /* 6 */
	u32 header_length;  /* 0xE1 */
	u32 header_version; /* 0x10000 */
	u32 module_type;    /* bit 31: debug-signed; the other bits zero */
	u32 module_vendor;  /* 0x8086 */
	u32 date;           /* BCD yyyymmdd */
	u32 size;           /* 0x200 dwords */
	u32 key_size;       /* 0x60 dwords */
	u32 modulus_size;   /* 0x60 dwords */
	u32 exponent_size;  /* 1 dword */
	u8 reserved0[88];
	/* Key and signature, little-endian. */
	u8 modulus[kSigstructRsaBytes];
	u32 exponent; /* 65537 */
	u8 signature[kSigstructRsaBytes];
	/* Body: 1148 bytes from offset 900. */
	u8 seamhash[kSigstructSeamhashBytes];
	u8 minor_svn;
	u8 major_svn;
	u64 attributes; /* 0 */
	u32 rip_offset;
	u8 num_stack_pages;
	u8 num_tls_pages;
	u16 num_keyhole_pages;
	u16 num_global_data_pages;
	u16 max_tdmrs;
	u16 max_rsvd_per_tdmr;
	u16 pamt_entry_size_4k;
	u16 pamt_entry_size_2m;
	u16 pamt_entry_size_1g;
	u8 reserved1[6];
	u16 module_hv;
	u16 min_update_hv;
	u8 no_downgrade;
	u8 reserved2;
	u16 num_handoff_pages;
	u32 gdt_idt_offset;
	u32 fault_wrapper_offset;
	u8 reserved3[24];
	u32 cpuid_table_size; /* entries, <= 255 */
	u32 cpuid_table[kSigstructMaxCpuidEntries];
} __attribute__((packed));
static_assert(sizeof(Sigstruct) == kSigstructSize);
static_assert(__builtin_offsetof(Sigstruct, module_type) == 12);
static_assert(__builtin_offsetof(Sigstruct, date) == 20);
static_assert(__builtin_offsetof(Sigstruct, exponent_size) == 36);
static_assert(__builtin_offsetof(Sigstruct, modulus) == kSigstructHeaderBytes);
static_assert(__builtin_offsetof(Sigstruct, exponent) == 512);
static_assert(__builtin_offsetof(Sigstruct, signature) == 516);
static_assert(__builtin_offsetof(Sigstruct, seamhash) == kSigstructBodyOffset);
static_assert(__builtin_offsetof(Sigstruct, minor_svn) == 948);
static_assert(__builtin_offsetof(Sigstruct, major_svn) == 949);
static_assert(__builtin_offsetof(Sigstruct, attributes) == 950);
static_assert(__builtin_offsetof(Sigstruct, module_hv) == 984);
static_assert(__builtin_offsetof(Sigstruct, min_update_hv) == 986);
static_assert(__builtin_offsetof(Sigstruct, no_downgrade) == 988);
static_assert(__builtin_offsetof(Sigstruct, num_handoff_pages) == 990);
static_assert(__builtin_offsetof(Sigstruct, cpuid_table_size) == 1024);
static_assert(__builtin_offsetof(Sigstruct, cpuid_table) == 1028);
static_assert(kSigstructBodyBytes == 1148);

} // namespace tdx::abi
