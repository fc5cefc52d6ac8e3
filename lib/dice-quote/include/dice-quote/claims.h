// SPDX-License-Identifier: GPL-2.0
// The claims a quote carries (docs/quote-format.md §4): fixed-size values, bytes exactly as the
// TDREPORT holds them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace dice_quote {

using Bytes = std::vector<std::uint8_t>;
using BytesView = std::span<const std::uint8_t>;
using Digest48 = std::array<std::uint8_t, 48>; /* SHA-384: MRSEAM, MRTD, RTMRs, ... */
using Svn16 = std::array<std::uint8_t, 16>;    /* TEE_TCB_SVN, platform TCB SVN */
using Bytes8 = std::array<std::uint8_t, 8>;    /* ATTRIBUTES, XFAM */
using ReportData = std::array<std::uint8_t, 64>;

/* Submod 2.16.840.1.113741.1.13.2.1.0: the platform below the TDX module (layer 1). */
struct PlatformMeasurements {
	Digest48 digest{};  /* -83: the platform/loader measurement (layer 1 of the DICE chain) */
	Svn16 tcb_svn{};    /* -125: the platform's TCB SVN */
	bool operator==(const PlatformMeasurements &) const = default;
};

/* Submod 2.16.840.1.113741.1.13.2.8.0: the TDX (SEAM) module (layer 2). */
struct SeamMeasurements {
	Bytes8 attributes{};   /* -82: SEAM ATTRIBUTES of TEE_TCB_INFO */
	Digest48 mrseam{};     /* -83 */
	Digest48 mrsignerseam{}; /* -84 */
	Svn16 tee_tcb_svn{};   /* -125 */
	bool operator==(const SeamMeasurements &) const = default;
};

/* Submod 2.16.840.1.113741.1.13.2.4.0: the TD quote body. */
struct TdMeasurements {
	Bytes8 attributes{};     /* -82: TD ATTRIBUTES */
	Digest48 mrtd{};         /* -83 */
	Bytes8 xfam{};           /* -201 */
	Digest48 mrconfigid{};   /* -203 */
	Digest48 mrowner{};      /* -204 */
	Digest48 mrownerconfig{}; /* -205 */
	std::array<Digest48, 4> rtmr{}; /* -206..-209 */
	Digest48 mrservicetd{};  /* -210 */
	bool operator==(const TdMeasurements &) const = default;
};

/*
 * origin: the values when the TD's measurement was finalized (TDH.MR.FINALIZE), for the SEAM and
 * platform submods those of the module and platform running then; current: the values when the
 * TDREPORT being quoted was made. A runtime update changes current (MRSEAM, TEE_TCB_SVN, ...) and
 * keeps origin.
 */
template <class M>
struct OriginCurrent {
	M origin{};
	M current{};
	bool operator==(const OriginCurrent &) const = default;
};

struct QuoteClaims {
	ReportData report_data{}; /* -212 */
	OriginCurrent<PlatformMeasurements> platform;
	OriginCurrent<SeamMeasurements> seam;
	OriginCurrent<TdMeasurements> td;
	bool operator==(const QuoteClaims &) const = default;
};

/* The submod keys (OID text), docs/quote-format.md §4. */
inline constexpr const char *kSubmodPlatform = "2.16.840.1.113741.1.13.2.1.0";
inline constexpr const char *kSubmodTd = "2.16.840.1.113741.1.13.2.4.0";
inline constexpr const char *kSubmodSeam = "2.16.840.1.113741.1.13.2.8.0";

/* Claim labels. */
inline constexpr std::int64_t kLabelReportData = -212;
inline constexpr std::int64_t kLabelSubmods = -11;
inline constexpr std::uint64_t kTagMeasurementMap = 571;
inline constexpr std::int64_t kLabelAttributes = -82;
inline constexpr std::int64_t kLabelDigest = -83;
inline constexpr std::int64_t kLabelMrSignerSeam = -84;
inline constexpr std::int64_t kLabelTeeTcbSvn = -125;
inline constexpr std::int64_t kLabelXfam = -201;
inline constexpr std::int64_t kLabelMrConfigId = -203;
inline constexpr std::int64_t kLabelMrOwner = -204;
inline constexpr std::int64_t kLabelMrOwnerConfig = -205;
inline constexpr std::int64_t kLabelRtmr0 = -206; /* RTMRn = -206 - n */
inline constexpr std::int64_t kLabelMrServiceTd = -210;

} // namespace dice_quote
