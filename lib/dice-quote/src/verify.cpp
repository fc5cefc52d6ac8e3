// SPDX-License-Identifier: GPL-2.0
// Verifying a quote against a pinned root (docs/quote-format.md §5), each check in the documented
// order, each failure with its own code.
#include <new>

#include <openssl/pem.h>

#include "cbor_util.h"
#include "chain.h"
#include "claims_codec.h"
#include "cose.h"
#include "ossl.h"
#include "tcb_info.h"

namespace dice_quote {
namespace {

using cbor::Item;

const char *const kCertRole[kChainLength] = {"the quoting-key certificate (x5chain[0])",
					     "the TDX module certificate (x5chain[1])",
					     "the platform certificate (x5chain[2])"};

bool is_ca(X509 *cert)
{
	int crit = 0;
	ossl::BasicConstraints bc(
		static_cast<BASIC_CONSTRAINTS *>(X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr)));
	ERR_clear_error();
	return bc && bc->ca;
}

bool has_key_usage(X509 *cert, std::uint32_t bit)
{
	return (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) && (X509_get_key_usage(cert) & bit);
}

/* The extension's DER value, or nullopt when absent; kBadTcbInfo when present twice. */
Result<std::optional<Bytes>> tcb_info_ext(X509 *cert)
{
	ossl::Asn1Object oid(OBJ_txt2obj(kTcbInfoOid, 1));
	if (!oid)
		return ossl::crypto_error("TcbInfo OID");
	const int i = X509_get_ext_by_OBJ(cert, oid.get(), -1);
	if (i < 0)
		return std::optional<Bytes>{};
	if (X509_get_ext_by_OBJ(cert, oid.get(), i) >= 0)
		return make_error(ErrorCode::kBadTcbInfo, "DiceTcbInfo: the extension appears twice");
	const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, i));
	const unsigned char *p = ASN1_STRING_get0_data(data);
	return std::optional<Bytes>(Bytes(p, p + ASN1_STRING_length(data)));
}

/* Structure of one certificate: DER, signature algorithm, key, extensions it understands. */
Status check_cert_form(X509 *cert, const std::string &role)
{
	if (X509_get_version(cert) != X509_VERSION_3)
		return make_error(ErrorCode::kBadCertificate, role + " is not an X.509 v3 certificate");
	if (X509_get_signature_nid(cert) != NID_ecdsa_with_SHA384)
		return make_error(ErrorCode::kBadCertificate, role + " is not signed with ecdsa-with-SHA384");
	if (!is_p384(X509_get0_pubkey(cert)))
		return make_error(ErrorCode::kBadCertificate, role + " does not hold a P-384 key");
	if (X509_get_extension_flags(cert) & EXFLAG_INVALID)
		return make_error(ErrorCode::kBadCertificate, role + " has invalid or duplicate extensions");
	ossl::Asn1Object tcb(OBJ_txt2obj(kTcbInfoOid, 1));
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		if (!X509_EXTENSION_get_critical(ext))
			continue;
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
		const int nid = OBJ_obj2nid(obj);
		if (nid != NID_basic_constraints && nid != NID_key_usage && (!tcb || OBJ_cmp(obj, tcb.get()) != 0)) {
			char txt[80];
			OBJ_obj2txt(txt, sizeof(txt), obj, 1);
			return make_error(ErrorCode::kUnknownCriticalExtension,
					  role + " has an unknown critical extension " + txt);
		}
	}
	return Ok{};
}

Result<ossl::X509Ptr> parse_root(std::string_view pem)
{
	ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
	ossl::X509Ptr root(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
	ERR_clear_error();
	if (!root)
		return make_error(ErrorCode::kBadRoot, "the trusted root is not a PEM certificate");
	auto form = check_cert_form(root.get(), "the trusted root");
	if (!form)
		return make_error(ErrorCode::kBadRoot, form.error().message);
	if (X509_NAME_cmp(X509_get_issuer_name(root.get()), X509_get_subject_name(root.get())) != 0 ||
	    X509_verify(root.get(), X509_get0_pubkey(root.get())) != 1) {
		ERR_clear_error();
		return make_error(ErrorCode::kBadRoot, "the trusted root is not self-signed");
	}
	if (!is_ca(root.get()) || !has_key_usage(root.get(), KU_KEY_CERT_SIGN))
		return make_error(ErrorCode::kBadRoot, "the trusted root is not a CA with keyCertSign");
	return root;
}

/* cert was issued by issuer: names, issuer's CA flag and keyCertSign, signature. */
Status check_issued(X509 *cert, const std::string &role, X509 *issuer, const std::string &issuer_role)
{
	if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0)
		return make_error(ErrorCode::kChainNameMismatch,
				  role + ": its issuer name is not the subject of " + issuer_role);
	if (!is_ca(issuer))
		return make_error(ErrorCode::kIssuerNotCa, issuer_role + " issues " + role +
								   " but is not a CA (basicConstraints cA=TRUE)");
	if (!has_key_usage(issuer, KU_KEY_CERT_SIGN))
		return make_error(ErrorCode::kIssuerNoKeyCertSign,
				  issuer_role + " issues " + role + " but its keyUsage lacks keyCertSign");
	const int ok = X509_verify(cert, X509_get0_pubkey(issuer));
	ERR_clear_error();
	if (ok != 1)
		return make_error(ErrorCode::kChainSignature, role + " is not signed by " + issuer_role);
	return Ok{};
}

Status check_chain(const std::vector<ossl::X509Ptr> &certs, X509 *root)
{
	for (size_t i = 0; i < certs.size(); i++)
		TRY_STATUS(check_cert_form(certs[i].get(), kCertRole[i]));
	X509 *leaf = certs[0].get();
	if (is_ca(leaf))
		return make_error(ErrorCode::kLeafIsCa, std::string(kCertRole[0]) + " claims to be a CA");
	if (!has_key_usage(leaf, KU_DIGITAL_SIGNATURE))
		return make_error(ErrorCode::kLeafNoDigitalSignature,
				  std::string(kCertRole[0]) + " lacks keyUsage digitalSignature");
	for (size_t i = 0; i + 1 < certs.size(); i++)
		TRY_STATUS(check_issued(certs[i].get(), kCertRole[i], certs[i + 1].get(), kCertRole[i + 1]));
	auto last = check_issued(certs.back().get(), kCertRole[certs.size() - 1], root, "the trusted root");
	if (!last)
		return make_error(ErrorCode::kUntrustedRoot,
				  "the chain does not end at the trusted root: " + last.error().message);
	return Ok{};
}

/* The layer certificates vouch for the current measurements the claims carry. */
Status check_tcb_info(X509 *cert, const std::string &role, long layer, const char *model,
		      const Digest48 &digest, const std::optional<Svn16> &svn)
{
	auto ext = tcb_info_ext(cert);
	if (!ext)
		return ext.error();
	if (!ext.value())
		return make_error(ErrorCode::kBadTcbInfo, role + " has no DiceTcbInfo extension");
	auto info = decode_tcb_info(*ext.value());
	if (!info)
		return make_error(ErrorCode::kBadTcbInfo, role + ": " + info.error().message);
	const TcbInfo &t = info.value();
	if (t.vendor != "tdx-host" || t.model != model || t.layer != layer || t.svn.has_value() != svn.has_value())
		return make_error(ErrorCode::kBadTcbInfo, role + ": DiceTcbInfo vendor/model/layer/svn presence "
								   "are not the format's (vendor \"tdx-host\", model \"" +
								   model + "\", layer " + std::to_string(layer) + ")");
	if (t.fwid_sha384 != digest)
		return make_error(ErrorCode::kTcbInfoMismatch,
				  role + ": the DiceTcbInfo digest is not the claims' current " +
					  (layer == 1 ? "platform digest" : "MRSEAM"));
	if (svn && *t.svn != *svn)
		return make_error(ErrorCode::kTcbInfoMismatch,
				  role + ": the DiceTcbInfo svn is not the claims' current TEE_TCB_SVN");
	return Ok{};
}

struct CoseSign1 {
	Item array; /* keeps the borrowed items alive */
	const cbor_item_t *prot = nullptr, *unprot = nullptr, *payload = nullptr, *sig = nullptr;
};

/*
 * The leading tag heads (major type 6) of the quote, read here because Debian 12's libcbor 0.8
 * rejects the one-byte tags 6..20, COSE_Sign1's 18 among them (PJK/libcbor#307, fixed upstream
 * later): values in *tags, returns the offset of the tagged item, or an error for a head cut short
 * or with a reserved length.
 */
Result<std::size_t> peel_tag_heads(BytesView quote, std::vector<std::uint64_t> *tags)
{
	std::size_t pos = 0;
	while (pos < quote.size() && (quote[pos] >> 5) == 6 && tags->size() < 3) {
		const unsigned ai = quote[pos] & 0x1f;
		if (ai >= 28)
			return make_error(ErrorCode::kCborMalformed, "the quote is not well-formed CBOR (reserved tag length at byte " +
									     std::to_string(pos) + ")");
		const std::size_t extra = ai < 24 ? 0 : std::size_t{1} << (ai - 24);
		if (pos + 1 + extra > quote.size())
			return make_error(ErrorCode::kTruncated, "the quote ends inside a tag");
		std::uint64_t v = ai < 24 ? ai : 0;
		for (std::size_t i = 0; i < extra; i++)
			v = (v << 8) | quote[pos + 1 + i];
		tags->push_back(v);
		pos += 1 + extra;
	}
	return pos;
}

Result<CoseSign1> parse_envelope(BytesView quote)
{
	CoseSign1 c;
	std::vector<std::uint64_t> tags;
	auto start = peel_tag_heads(quote, &tags);
	if (!start)
		return start.error();
	const BytesView item = quote.subspan(start.value());
	cbor_load_result r;
	c.array.reset(cbor_load(item.data(), item.size(), &r));
	switch (r.error.code) {
	case CBOR_ERR_NONE:
		break;
	case CBOR_ERR_NOTENOUGHDATA:
	case CBOR_ERR_NODATA:
		return make_error(ErrorCode::kTruncated, "the quote ends inside a CBOR item (" +
								 std::to_string(quote.size()) + " bytes)");
	case CBOR_ERR_MEMERROR:
		return make_error(ErrorCode::kOutOfMemory, "out of memory decoding the quote");
	default:
		return make_error(ErrorCode::kCborMalformed, "the quote is not well-formed CBOR (at byte " +
								     std::to_string(start.value() + r.error.position) + ")");
	}
	if (!c.array)
		return make_error(ErrorCode::kCborMalformed, "the quote is not well-formed CBOR");
	if (r.read != item.size())
		return make_error(ErrorCode::kTrailingBytes, std::to_string(item.size() - r.read) +
								     " bytes follow the quote's CBOR item");
	if (!cbor::all_definite(c.array.get()))
		return make_error(ErrorCode::kCborMalformed, "the quote holds an indefinite-length item");
	if (tags.empty() || tags[0] != kTagCwt)
		return make_error(ErrorCode::kNotCwt, "the quote is not a CWT (tag 61)");
	if (tags.size() != 2 || tags[1] != kTagCoseSign1)
		return make_error(ErrorCode::kNotCoseSign1, "tag 61 does not hold a COSE_Sign1 (tag 18)");
	if (!cbor_isa_array(c.array.get()) || cbor_array_size(c.array.get()) != 4)
		return make_error(ErrorCode::kNotCoseSign1, "the COSE_Sign1 is not an array of 4 items");
	cbor_item_t **h = cbor_array_handle(c.array.get());
	c.prot = h[0], c.unprot = h[1], c.payload = h[2], c.sig = h[3];
	if (!cbor_isa_bytestring(c.prot) || !cbor_isa_map(c.unprot) || !cbor_isa_bytestring(c.payload) ||
	    !cbor_isa_bytestring(c.sig))
		return make_error(ErrorCode::kNotCoseSign1,
				  "the COSE_Sign1 items are not [bstr protected, map unprotected, bstr payload, bstr signature]");
	return c;
}

Status check_protected(BytesView prot)
{
	cbor_load_result r;
	Item m(cbor_load(prot.data(), prot.size(), &r));
	if (!m || r.error.code != CBOR_ERR_NONE || r.read != prot.size() || !cbor_isa_map(m.get()) ||
	    !cbor_map_is_definite(m.get()))
		return make_error(ErrorCode::kBadProtectedHeader, "the protected header is not one definite CBOR map");
	const struct cbor_pair *p = cbor_map_handle(m.get());
	if (cbor_map_size(m.get()) != 1 || cbor::int_value(p[0].key) != kHeaderAlg)
		return make_error(ErrorCode::kBadProtectedHeader,
				  "the protected header must hold exactly the alg (1) parameter");
	const auto alg = cbor::int_value(p[0].value);
	if (alg != kAlgEs384)
		return make_error(ErrorCode::kUnsupportedAlg,
				  "alg is " + (alg ? std::to_string(*alg) : std::string("not an integer")) +
					  ", only -35 (ES384) is accepted");
	return Ok{};
}

Result<std::vector<ossl::X509Ptr>> parse_x5chain(const cbor_item_t *unprot)
{
	const struct cbor_pair *p = cbor_map_handle(unprot);
	if (cbor_map_size(unprot) != 1 || cbor::int_value(p[0].key) != kHeaderX5Chain)
		return make_error(ErrorCode::kBadUnprotectedHeader,
				  "the unprotected header must hold exactly x5chain (33)");
	const cbor_item_t *a = p[0].value;
	if (!cbor_isa_array(a) || cbor_array_size(a) != kChainLength)
		return make_error(ErrorCode::kBadUnprotectedHeader,
				  "x5chain must be an array of exactly 3 certificates (quoting key, TDX module, platform)");
	std::vector<ossl::X509Ptr> certs;
	cbor_item_t **h = cbor_array_handle(a);
	for (size_t i = 0; i < kChainLength; i++) {
		if (!cbor_isa_bytestring(h[i]))
			return make_error(ErrorCode::kBadUnprotectedHeader, "x5chain entries must be byte strings");
		const BytesView der = cbor::bytes_of(h[i]);
		const unsigned char *q = der.data();
		ossl::X509Ptr c(d2i_X509(nullptr, &q, static_cast<long>(der.size())));
		ERR_clear_error();
		if (!c || q != der.data() + der.size())
			return make_error(ErrorCode::kBadCertificate,
					  std::string(kCertRole[i]) + " is not exactly one DER certificate");
		certs.push_back(std::move(c));
	}
	return certs;
}

Result<VerifiedQuote> verify(BytesView quote, std::string_view root_pem, const std::optional<ReportData> &expected)
{
	auto root = parse_root(root_pem);
	if (!root)
		return root.error();
	auto env = parse_envelope(quote);
	if (!env)
		return env.error();
	const CoseSign1 &c = env.value();
	TRY_STATUS(check_protected(cbor::bytes_of(c.prot)));
	auto certs = parse_x5chain(c.unprot);
	if (!certs)
		return certs.error();
	if (cbor_bytestring_length(c.sig) != kEs384SignatureBytes)
		return make_error(ErrorCode::kBadSignatureLength, "the signature has " +
									  std::to_string(cbor_bytestring_length(c.sig)) +
									  " bytes, ES384 needs 96 (r||s)");
	TRY_STATUS(check_chain(certs.value(), root.value().get()));

	auto tbs = sig_structure(cbor::bytes_of(c.prot), cbor::bytes_of(c.payload));
	if (!tbs)
		return tbs.error();
	TRY_STATUS(es384_verify(X509_get0_pubkey(certs.value()[0].get()), tbs.value(), cbor::bytes_of(c.sig)));

	auto claims = decode_claims(cbor::bytes_of(c.payload));
	if (!claims)
		return claims.error();
	const QuoteClaims &cl = claims.value();
	TRY_STATUS(check_tcb_info(certs.value()[2].get(), kCertRole[2], 1, "platform", cl.platform.current.digest,
				  std::nullopt));
	TRY_STATUS(check_tcb_info(certs.value()[1].get(), kCertRole[1], 2, "TDX module", cl.seam.current.mrseam,
				  cl.seam.current.tee_tcb_svn));
	if (expected && *expected != cl.report_data)
		return make_error(ErrorCode::kReportDataMismatch, "report_data is not the expected REPORTDATA");

	VerifiedQuote out;
	out.claims = cl;
	for (const auto &cert : certs.value())
		out.chain_der.push_back(cert_der(cert.get()));
	return out;
}

} // namespace

Result<VerifiedQuote> verify_quote(BytesView quote, std::string_view trusted_root_pem,
				   const std::optional<ReportData> &expected_report_data)
{
	try {
		return verify(quote, trusted_root_pem, expected_report_data);
	} catch (const std::bad_alloc &) {
		return make_error(ErrorCode::kOutOfMemory, "out of memory verifying the quote");
	}
}

} // namespace dice_quote
