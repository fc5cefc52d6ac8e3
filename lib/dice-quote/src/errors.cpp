// SPDX-License-Identifier: GPL-2.0
#include <dice-quote/result.h>

namespace dice_quote {

const char *error_code_name(ErrorCode code)
{
	switch (code) {
	case ErrorCode::kInvalidArgument: return "invalid-argument";
	case ErrorCode::kOutOfMemory: return "out-of-memory";
	case ErrorCode::kCrypto: return "crypto-failure";
	case ErrorCode::kBadRoot: return "bad-trusted-root";
	case ErrorCode::kTruncated: return "truncated";
	case ErrorCode::kCborMalformed: return "cbor-malformed";
	case ErrorCode::kTrailingBytes: return "trailing-bytes";
	case ErrorCode::kNotCwt: return "not-cwt";
	case ErrorCode::kNotCoseSign1: return "not-cose-sign1";
	case ErrorCode::kBadProtectedHeader: return "bad-protected-header";
	case ErrorCode::kUnsupportedAlg: return "unsupported-alg";
	case ErrorCode::kBadUnprotectedHeader: return "bad-unprotected-header";
	case ErrorCode::kBadSignatureLength: return "bad-signature-length";
	case ErrorCode::kBadCertificate: return "bad-certificate";
	case ErrorCode::kUnknownCriticalExtension: return "unknown-critical-extension";
	case ErrorCode::kChainNameMismatch: return "chain-name-mismatch";
	case ErrorCode::kChainSignature: return "chain-signature-invalid";
	case ErrorCode::kIssuerNotCa: return "issuer-not-ca";
	case ErrorCode::kIssuerNoKeyCertSign: return "issuer-no-keycertsign";
	case ErrorCode::kLeafIsCa: return "leaf-is-ca";
	case ErrorCode::kLeafNoDigitalSignature: return "leaf-no-digitalsignature";
	case ErrorCode::kUntrustedRoot: return "untrusted-root";
	case ErrorCode::kBadSignature: return "signature-invalid";
	case ErrorCode::kBadTcbInfo: return "bad-tcbinfo";
	case ErrorCode::kTcbInfoMismatch: return "tcbinfo-mismatch";
	case ErrorCode::kBadPayload: return "bad-payload";
	case ErrorCode::kDuplicateKey: return "duplicate-key";
	case ErrorCode::kMissingClaim: return "missing-claim";
	case ErrorCode::kUnknownClaim: return "unknown-claim";
	case ErrorCode::kBadClaimType: return "bad-claim-type";
	case ErrorCode::kBadClaimLength: return "bad-claim-length";
	case ErrorCode::kReportDataMismatch: return "report-data-mismatch";
	}
	return "unknown-error";
}

std::string Error::to_string() const
{
	return std::string(error_code_name(code)) + ": " + message;
}

} // namespace dice_quote
