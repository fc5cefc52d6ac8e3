// SPDX-License-Identifier: GPL-2.0
// COSE_Sign1 pieces shared by producing and verifying: the Sig_structure and ES384 r||s.
#pragma once

#include <openssl/evp.h>

#include <dice-quote/claims.h>
#include <dice-quote/result.h>

namespace dice_quote {

inline constexpr std::int64_t kAlgEs384 = -35;
inline constexpr std::int64_t kHeaderAlg = 1;
inline constexpr std::int64_t kHeaderX5Chain = 33;
inline constexpr std::uint64_t kTagCwt = 61;
inline constexpr std::uint64_t kTagCoseSign1 = 18;
inline constexpr std::size_t kEs384SignatureBytes = 96;

/* ["Signature1", protected, h'', payload], encoded. */
Result<Bytes> sig_structure(BytesView protected_header, BytesView payload);
Result<Bytes> es384_sign(EVP_PKEY *key, BytesView message);
/* kBadSignature when r||s does not verify. */
Status es384_verify(EVP_PKEY *key, BytesView message, BytesView signature);

} // namespace dice_quote
