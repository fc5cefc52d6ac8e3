// SPDX-License-Identifier: GPL-2.0
// The TCG DICE TcbInfo certificate extension (OID 2.23.133.5.4.1), the fields this project fills
// (docs/quote-format.md §3).
#pragma once

#include <optional>
#include <string>

#include <dice-quote/claims.h>
#include <dice-quote/result.h>

namespace dice_quote {

inline constexpr const char *kTcbInfoOid = "2.23.133.5.4.1";
inline constexpr const char *kSha384Oid = "2.16.840.1.101.3.4.2.2";

struct TcbInfo {
	std::string vendor;       /* [0] */
	std::string model;        /* [1] */
	std::optional<Svn16> svn; /* [3]: the 16 bytes as an unsigned big-endian INTEGER */
	long layer = 0;           /* [4] */
	Digest48 fwid_sha384{};   /* [6]: exactly one FWID {sha384, digest} */
};

Result<Bytes> encode_tcb_info(const TcbInfo &info);
/* Strict: the fields above only, one SHA-384 FWID, no trailing bytes; kBadTcbInfo otherwise. */
Result<TcbInfo> decode_tcb_info(BytesView der);

} // namespace dice_quote
