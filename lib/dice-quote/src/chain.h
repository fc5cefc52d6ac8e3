// SPDX-License-Identifier: GPL-2.0
// Inside of DiceChain: the derived keys and the certificates, indexed by layer.
#pragma once

#include <array>

#include <dice-quote/dice_quote.h>
#include <dice-quote/testing.h>

#include "ossl.h"

namespace dice_quote {

enum Layer : int { kRoot = 0, kPlatform = 1, kModule = 2, kQuoting = 3 };

struct ChainState {
	ChainInputs inputs;
	std::array<ossl::Pkey, 4> keys;
	std::array<ossl::X509Ptr, 4> certs;
};

/* Creates chains; the fault is testing::ChainFault::kNone outside the tests. */
struct ChainBuilder {
	static Result<DiceChain> build(const ChainInputs &inputs, testing::ChainFault fault);
};

/* DER of a certificate; empty on failure. */
Bytes cert_der(X509 *cert);
/* SHA-384 of the data. */
Digest48 sha384(BytesView data);
/* The uncompressed SEC1 point of an EC key; empty on failure. */
Bytes ec_public_point(const EVP_PKEY *key);
/* Whether the key is an EC key on P-384. */
bool is_p384(const EVP_PKEY *key);

} // namespace dice_quote
