// SPDX-License-Identifier: GPL-2.0
// Test-only hooks: chains with a deliberate defect and quotes assembled from chosen parts, so the
// tests can reach every failure of the verifier. Never used by a producer of real quotes.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <dice-quote/dice_quote.h>

namespace dice_quote::testing {

enum class ChainFault {
	kNone,
	kModuleNotCa,              /* layer 2 with basicConstraints cA=FALSE */
	kModuleNoKeyCertSign,      /* layer 2 keyUsage digitalSignature only */
	kModuleNoTcbInfo,          /* layer 2 without the DiceTcbInfo extension */
	kModuleWrongIssuerName,    /* layer 2's issuer name is not layer 1's subject (still signed by it) */
	kModuleSignedByRoot,       /* layer 2 signed by the root key instead of layer 1's */
	kPlatformUnknownCritical,  /* layer 1 carries an unknown critical extension */
	kLeafIsCa,                 /* layer 3 with cA=TRUE */
	kLeafNoDigitalSignature,   /* layer 3 keyUsage keyCertSign only */
};

Result<DiceChain> create_chain_with_fault(const ChainInputs &inputs, ChainFault fault);

/*
 * Edits applied while encoding the claims map. A path names a map entry: "-212",
 * "-11/2.16.840.1.113741.1.13.2.8.0/current/-83", ...; keys are written as in the format
 * (integers in decimal, text as is). remove drops the entry, replace puts the given encoded CBOR
 * item in its place (the value, or the whole entry for extra), extra adds entries
 * (key item CBOR, value item CBOR) to the map at a path ("" is the top map).
 */
struct ClaimEdits {
	std::vector<std::string> remove;
	std::map<std::string, Bytes> replace;
	std::vector<std::tuple<std::string, Bytes, Bytes>> extra;
	/* Leave the tag 571 off measurement maps. */
	bool untagged_measurements = false;
};

Result<Bytes> encode_claims(const QuoteClaims &claims, const ClaimEdits &edits = {});

/* The protected header {1: alg}, as the bstr's contents. */
Bytes encode_protected(std::int64_t alg);
/* The unprotected header {33: [certs]} as encoded CBOR. */
Bytes encode_unprotected(const std::vector<Bytes> &certs);

struct CoseParts {
	Bytes protected_header;   /* contents of the protected bstr */
	Bytes unprotected_header; /* an encoded CBOR item */
	Bytes payload;            /* contents of the payload bstr */
	std::optional<Bytes> signature; /* default: ES384 by the chain's quoting key */
	bool cwt_tag = true;
	bool cose_tag = true;
};

Result<Bytes> assemble_quote(const DiceChain &chain, const CoseParts &parts);

/* The ES384 signature (r||s) of the chain's quoting key over the Sig_structure. */
Result<Bytes> sign_sig_structure(const DiceChain &chain, BytesView protected_header, BytesView payload);

} // namespace dice_quote::testing
