// SPDX-License-Identifier: GPL-2.0
// Errors of the DICE quote library: one code per distinct failure, a message that says what was
// found. Nothing in the library throws past its API; every entry point returns a Result.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dice_quote {

enum class ErrorCode {
	kInvalidArgument = 1, /* bad input to a producing call (seed too short, claims not matching the chain) */
	kOutOfMemory,
	kCrypto,              /* OpenSSL failed where it should not (key derivation, signing) */
	kBadRoot,             /* the trusted root PEM: unparsable, not self-signed, not a P-384 CA */
	kTruncated,           /* the quote ends inside a CBOR item */
	kCborMalformed,       /* not well-formed CBOR, or an indefinite-length item */
	kTrailingBytes,       /* bytes after the quote's single CBOR item */
	kNotCwt,              /* the outer item is not tag 61 */
	kNotCoseSign1,        /* tag 61 does not hold tag 18 around a 4-element array of the right types */
	kBadProtectedHeader,  /* protected header not a bstr holding exactly {1: alg} */
	kUnsupportedAlg,      /* alg is not -35 (ES384) */
	kBadUnprotectedHeader, /* unprotected header not exactly {33: [3 bstr certificates]} */
	kBadSignatureLength,  /* signature bstr is not 96 bytes */
	kBadCertificate,      /* a certificate does not parse, has extra bytes, is not ecdsa-with-SHA384 P-384 */
	kUnknownCriticalExtension,
	kChainNameMismatch,   /* a certificate's issuer is not the next certificate's subject */
	kChainSignature,      /* a certificate is not signed by the next one's key */
	kIssuerNotCa,         /* an issuing certificate lacks basicConstraints cA=TRUE */
	kIssuerNoKeyCertSign, /* an issuing certificate lacks keyUsage keyCertSign */
	kLeafIsCa,            /* the quoting-key certificate claims to be a CA */
	kLeafNoDigitalSignature, /* the quoting-key certificate lacks keyUsage digitalSignature */
	kUntrustedRoot,       /* the last certificate is not issued (name and signature) by the trusted root */
	kBadSignature,        /* the ES384 signature over the Sig_structure does not verify with the leaf key */
	kBadTcbInfo,          /* a layer certificate's DiceTcbInfo extension is missing or malformed */
	kTcbInfoMismatch,     /* a DiceTcbInfo disagrees with the current measurements in the claims */
	kBadPayload,          /* the payload bstr does not hold exactly one CBOR map */
	kDuplicateKey,        /* a map of the claims has the same key twice */
	kMissingClaim,        /* a required key is absent */
	kUnknownClaim,        /* a key the format does not define */
	kBadClaimType,        /* a claim has the wrong CBOR type (or the wrong tag) */
	kBadClaimLength,      /* a byte-string claim or SVN array has the wrong length */
	kReportDataMismatch,  /* report_data is not the expected REPORTDATA */
};

/* Stable short name of a code ("signature-invalid"), for one-line reasons and JSON. */
const char *error_code_name(ErrorCode code);

struct Error {
	ErrorCode code;
	std::string message;

	/* "<name>: <message>" */
	std::string to_string() const;
};

template <class T>
class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error error) : v_(std::move(error)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }
	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	const Error &error() const { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

/* For calls that produce nothing but can fail. */
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorCode code, std::string message)
{
	return Error{code, std::move(message)};
}

} // namespace dice_quote
