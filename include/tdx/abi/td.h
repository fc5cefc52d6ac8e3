/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trust-domain structures the host passes or receives (TDX module ABI; offsets checked against
 * the public TDX module 1.5 source, td_params_t and the TDREPORT_STRUCT of the ABI spec):
 * TD_PARAMS, TDH.MNG.INIT's input, and the 1024-byte TDREPORT a TD obtains with TDG.MR.REPORT.
 */
#pragma once

#include "types.h"

namespace tdx::abi {

inline constexpr u32 kMeasurementBytes = 48; /* SHA-384 */
inline constexpr u32 kReportDataBytes = 64;

/* ---- TD_PARAMS (1024 bytes, 1024-aligned; TDH.MNG.INIT rdx) ---- */
namespace td_params {
inline constexpr u32 kSize = 1024;
inline constexpr u32 kAlign = 1024;
inline constexpr u32 kAttributes = 0;     /* u64 */
inline constexpr u32 kXfam = 8;           /* u64 */
inline constexpr u32 kMaxVcpus = 16;      /* u16 */
inline constexpr u32 kNumL2Vms = 18;      /* u8 */
inline constexpr u32 kMsrConfigCtls = 19; /* u8 */
inline constexpr u32 kEptpControls = 24;  /* u64 */
inline constexpr u32 kConfigFlags = 32;   /* u64 */
inline constexpr u32 kTscFrequency = 40;  /* u16 */
inline constexpr u32 kMrConfigId = 80;    /* 48 bytes */
inline constexpr u32 kMrOwner = 128;      /* 48 bytes */
inline constexpr u32 kMrOwnerConfig = 176; /* 48 bytes */
inline constexpr u32 kIa32ArchCapConfig = 224; /* u64 */
inline constexpr u32 kCpuidConfig = 256;  /* CPUID configuration entries, to the end */
static_assert(kMrConfigId == kTscFrequency + 2 + 38); /* 38 reserved bytes after TSC_FREQUENCY */
static_assert(kMrOwner == kMrConfigId + kMeasurementBytes && kMrOwnerConfig == kMrOwner + kMeasurementBytes);
static_assert(kIa32ArchCapConfig == kMrOwnerConfig + kMeasurementBytes);
static_assert(kCpuidConfig == kIa32ArchCapConfig + 8 + 24);
} // namespace td_params

/* ---- TDREPORT_STRUCT (1024 bytes) ---- */
namespace tdreport {
inline constexpr u32 kSize = 1024;

/* REPORTMACSTRUCT, at offset 0. */
inline constexpr u32 kMacStruct = 0;
inline constexpr u32 kMacStructSize = 256;
inline constexpr u32 kReportType = 0;        /* 4 bytes: type 0x81 (TDX), subtype, version, reserved */
inline constexpr u32 kCpuSvn = 16;           /* 16 bytes */
inline constexpr u32 kTeeTcbInfoHash = 32;   /* SHA-384 of TEE_TCB_INFO */
inline constexpr u32 kTeeInfoHash = 80;      /* SHA-384 of TDINFO */
inline constexpr u32 kReportData = 128;      /* 64 bytes */
inline constexpr u32 kMac = 224;             /* 32 bytes, over REPORTMACSTRUCT bytes [0, 224) */
inline constexpr u32 kMacBytes = 32;
static_assert(kMac + kMacBytes == kMacStructSize);
static_assert(kReportData + kReportDataBytes + 32 == kMac); /* 32 reserved bytes between */

/* TEE_TCB_INFO (239 bytes), at offset 256. */
inline constexpr u32 kTeeTcbInfo = 256;
inline constexpr u32 kTeeTcbInfoSize = 239;
inline constexpr u32 kTcbValid = 0;          /* 8 bytes: which fields are valid */
inline constexpr u32 kTeeTcbSvn = 8;         /* 16 bytes */
inline constexpr u32 kMrSeam = 24;           /* 48 bytes */
inline constexpr u32 kMrSignerSeam = 72;     /* 48 bytes */
inline constexpr u32 kSeamAttributes = 120;  /* 8 bytes */
inline constexpr u32 kTeeTcbSvn2 = 128;      /* 16 bytes */
static_assert(kTeeTcbSvn2 + 16 + 95 == kTeeTcbInfoSize); /* 95 reserved bytes at the end */

/* TDINFO (512 bytes), at offset 512 (17 reserved bytes after TEE_TCB_INFO). */
inline constexpr u32 kTdInfo = 512;
inline constexpr u32 kTdInfoSize = 512;
inline constexpr u32 kTdAttributes = 0;      /* 8 bytes */
inline constexpr u32 kTdXfam = 8;            /* 8 bytes */
inline constexpr u32 kMrTd = 16;             /* 48 bytes */
inline constexpr u32 kTdMrConfigId = 64;
inline constexpr u32 kTdMrOwner = 112;
inline constexpr u32 kTdMrOwnerConfig = 160;
inline constexpr u32 kRtmr0 = 208;           /* RTMR[n] at kRtmr0 + 48 n, n < 4 */
inline constexpr u32 kServTdHash = 400;
inline constexpr u32 kNumRtmrs = 4;
static_assert(kRtmr0 + kNumRtmrs * kMeasurementBytes == kServTdHash);
static_assert(kServTdHash + kMeasurementBytes + 64 == kTdInfoSize); /* 64 reserved bytes */

static_assert(kTeeTcbInfo == kMacStructSize && kTeeTcbInfo + kTeeTcbInfoSize + 17 == kTdInfo);
static_assert(kTdInfo + kTdInfoSize == kSize);

inline constexpr u8 kReportTypeTdx = 0x81;
} // namespace tdreport

} // namespace tdx::abi
