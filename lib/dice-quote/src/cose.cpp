// SPDX-License-Identifier: GPL-2.0
// Producing quotes: COSE_Sign1 (RFC 9052) with ES384, wrapped in a CWT tag (docs/quote-format.md §1).
#include "cose.h"

#include <new>

#include "cbor_util.h"
#include "chain.h"
#include "ossl.h"

namespace dice_quote {

using cbor::Item;

Result<Bytes> sig_structure(BytesView protected_header, BytesView payload)
{
	Item a(cbor_new_definite_array(4));
	Item ctx(cbor_build_string("Signature1"));
	Item prot(cbor_build_bytestring(protected_header.data(), protected_header.size()));
	Item aad(cbor_build_bytestring(nullptr, 0));
	Item pay(cbor_build_bytestring(payload.data(), payload.size()));
	if (!a || !ctx || !prot || !aad || !pay || !cbor_array_push(a.get(), ctx.get()) ||
	    !cbor_array_push(a.get(), prot.get()) || !cbor_array_push(a.get(), aad.get()) ||
	    !cbor_array_push(a.get(), pay.get()))
		return make_error(ErrorCode::kOutOfMemory, "building the Sig_structure failed");
	Bytes out = cbor::serialize(a.get());
	if (out.empty())
		return make_error(ErrorCode::kOutOfMemory, "encoding the Sig_structure failed");
	return out;
}

Result<Bytes> es384_sign(EVP_PKEY *key, BytesView message)
{
	ossl::MdCtx md(EVP_MD_CTX_new());
	size_t len = 0;
	if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
	    EVP_DigestSign(md.get(), nullptr, &len, message.data(), message.size()) != 1)
		return ossl::crypto_error("ES384 sign");
	Bytes der(len);
	if (EVP_DigestSign(md.get(), der.data(), &len, message.data(), message.size()) != 1)
		return ossl::crypto_error("ES384 sign");
	const unsigned char *p = der.data();
	ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
	if (!sig)
		return ossl::crypto_error("ECDSA signature decoding");
	const BIGNUM *r = nullptr, *s = nullptr;
	ECDSA_SIG_get0(sig.get(), &r, &s);
	Bytes out(kEs384SignatureBytes);
	if (BN_bn2binpad(r, out.data(), 48) != 48 || BN_bn2binpad(s, out.data() + 48, 48) != 48)
		return ossl::crypto_error("ECDSA r||s");
	return out;
}

Status es384_verify(EVP_PKEY *key, BytesView message, BytesView signature)
{
	if (signature.size() != kEs384SignatureBytes)
		return make_error(ErrorCode::kBadSignatureLength, "the signature is not 96 bytes");
	ossl::EcdsaSig sig(ECDSA_SIG_new());
	ossl::Bn r(BN_bin2bn(signature.data(), 48, nullptr));
	ossl::Bn s(BN_bin2bn(signature.data() + 48, 48, nullptr));
	if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
		return ossl::crypto_error("ECDSA signature");
	r.release();
	s.release();
	unsigned char *der = nullptr;
	const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
	if (der_len <= 0)
		return ossl::crypto_error("ECDSA signature encoding");
	Bytes der_sig(der, der + der_len);
	OPENSSL_free(der);

	ossl::MdCtx md(EVP_MD_CTX_new());
	if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha384(), nullptr, key) != 1)
		return ossl::crypto_error("ES384 verify");
	const int ok = EVP_DigestVerify(md.get(), der_sig.data(), der_sig.size(), message.data(), message.size());
	ERR_clear_error();
	if (ok != 1)
		return make_error(ErrorCode::kBadSignature,
				  "the ES384 signature over the Sig_structure does not verify with the quoting key");
	return Ok{};
}

namespace testing {

Bytes encode_protected(std::int64_t alg)
{
	Item m(cbor_new_definite_map(1));
	Item k(cbor::build_int(kHeaderAlg));
	Item v(cbor::build_int(alg));
	if (!m || !k || !v || !cbor_map_add(m.get(), cbor_pair{k.get(), v.get()}))
		return {};
	return cbor::serialize(m.get());
}

Bytes encode_unprotected(const std::vector<Bytes> &certs)
{
	Item m(cbor_new_definite_map(1));
	Item k(cbor::build_int(kHeaderX5Chain));
	Item a(cbor_new_definite_array(certs.size()));
	if (!m || !k || !a)
		return {};
	for (const auto &c : certs) {
		Item b(cbor_build_bytestring(c.data(), c.size()));
		if (!b || !cbor_array_push(a.get(), b.get()))
			return {};
	}
	if (!cbor_map_add(m.get(), cbor_pair{k.get(), a.get()}))
		return {};
	return cbor::serialize(m.get());
}

Result<Bytes> sign_sig_structure(const DiceChain &chain, BytesView protected_header, BytesView payload)
{
	auto tbs = sig_structure(protected_header, payload);
	if (!tbs)
		return tbs.error();
	return es384_sign(chain.state().keys[kQuoting].get(), tbs.value());
}

Result<Bytes> assemble_quote(const DiceChain &chain, const CoseParts &parts)
{
	try {
		Bytes signature;
		if (parts.signature) {
			signature = *parts.signature;
		} else {
			auto sig = sign_sig_structure(chain, parts.protected_header, parts.payload);
			if (!sig)
				return sig.error();
			signature = std::move(sig.value());
		}
		cbor_load_result r;
		Item unprot(cbor_load(parts.unprotected_header.data(), parts.unprotected_header.size(), &r));
		if (!unprot || r.error.code != CBOR_ERR_NONE)
			return make_error(ErrorCode::kInvalidArgument, "the unprotected header is not CBOR");
		Item a(cbor_new_definite_array(4));
		Item prot(cbor_build_bytestring(parts.protected_header.data(), parts.protected_header.size()));
		Item pay(cbor_build_bytestring(parts.payload.data(), parts.payload.size()));
		Item sig(cbor_build_bytestring(signature.data(), signature.size()));
		if (!a || !prot || !pay || !sig || !cbor_array_push(a.get(), prot.get()) ||
		    !cbor_array_push(a.get(), unprot.get()) || !cbor_array_push(a.get(), pay.get()) ||
		    !cbor_array_push(a.get(), sig.get()))
			return make_error(ErrorCode::kOutOfMemory, "building the COSE_Sign1 failed");
		Item top = std::move(a);
		if (parts.cose_tag)
			top.reset(cbor_build_tag(kTagCoseSign1, top.get()));
		if (top && parts.cwt_tag)
			top.reset(cbor_build_tag(kTagCwt, top.get()));
		Bytes out = top ? cbor::serialize(top.get()) : Bytes{};
		if (out.empty())
			return make_error(ErrorCode::kOutOfMemory, "encoding the quote failed");
		return out;
	} catch (const std::bad_alloc &) {
		return make_error(ErrorCode::kOutOfMemory, "out of memory assembling the quote");
	}
}

} // namespace testing

Result<Bytes> make_quote(const DiceChain &chain, const QuoteClaims &claims)
{
	const ChainInputs &in = chain.inputs();
	if (claims.platform.current.digest != in.platform_measurement)
		return make_error(ErrorCode::kInvalidArgument,
				  "the current platform digest is not the chain's platform measurement");
	if (claims.seam.current.mrseam != in.module_measurement)
		return make_error(ErrorCode::kInvalidArgument, "the current MRSEAM is not the chain's module measurement");
	if (claims.seam.current.tee_tcb_svn != in.module_svn)
		return make_error(ErrorCode::kInvalidArgument, "the current TEE_TCB_SVN is not the chain's module SVN");
	try {
		auto payload = testing::encode_claims(claims);
		if (!payload)
			return payload.error();
		testing::CoseParts parts;
		parts.protected_header = testing::encode_protected(kAlgEs384);
		parts.unprotected_header = testing::encode_unprotected(chain.chain_der());
		parts.payload = std::move(payload.value());
		if (parts.protected_header.empty() || parts.unprotected_header.empty())
			return make_error(ErrorCode::kOutOfMemory, "encoding the COSE headers failed");
		return testing::assemble_quote(chain, parts);
	} catch (const std::bad_alloc &) {
		return make_error(ErrorCode::kOutOfMemory, "out of memory making the quote");
	}
}

} // namespace dice_quote
