// SPDX-License-Identifier: GPL-2.0
// The claims map (COSE payload) to and from CBOR, docs/quote-format.md §4.
#pragma once

#include <dice-quote/claims.h>
#include <dice-quote/result.h>
#include <dice-quote/testing.h>

namespace dice_quote {

/* Strict: every key required, none unknown, no duplicates, exact types and lengths. */
Result<QuoteClaims> decode_claims(BytesView payload);

} // namespace dice_quote
