// SPDX-License-Identifier: GPL-2.0
// The sigstruct (ABI.md §4): RSA-3072 EMSA-PKCS1-v1.5 SHA-384 signing and verification with
// OpenSSL 3's EVP interface, signer identity, and the checks the P-SEAMLDR makes of the sigstruct
// itself. The sigstruct stores the modulus and the signature little-endian; OpenSSL's byte
// strings are big-endian, hence the reversals below.
#include <algorithm>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <module-image/module_image.h>

#include "ossl.h"

namespace module_image {

namespace abi = tdx::abi;

struct SigningKey {
	ossl::Pkey pkey;
	std::array<std::uint8_t, abi::kSigstructRsaBytes> modulus_le{};
};

void SigningKeyDeleter::operator()(SigningKey *k) const
{
	delete k;
}

namespace {

/* SHA-384 of keys/test-signer.pem's modulus as a sigstruct stores it (a test compares them). */
constexpr Digest48 kTestSignerId = {
	0x08, 0x21, 0x9e, 0x6b, 0xe0, 0x76, 0x21, 0x81, 0x1b, 0x25, 0x47, 0xe2, 0xa8, 0xec, 0x42, 0x6b,
	0xce, 0x82, 0xe3, 0x13, 0xf5, 0x26, 0xa7, 0xb6, 0x81, 0xf2, 0x11, 0x58, 0x02, 0x23, 0xc0, 0x3f,
	0xa0, 0xa4, 0x80, 0x2a, 0x2b, 0x83, 0x0e, 0x16, 0x20, 0x7a, 0x35, 0x7a, 0x7e, 0x0d, 0x70, 0x3c,
};

using RsaBytes = std::array<std::uint8_t, abi::kSigstructRsaBytes>;

Error crypto_error(const std::string &what)
{
	return Error{"crypto-error", what + ": " + ossl::last_error()};
}

/* What the signature covers: header (128 bytes) || body (1148 bytes from offset 900). */
struct SignedParts {
	std::span<const std::uint8_t> header, body;
};

SignedParts signed_parts(const abi::Sigstruct &s)
{
	auto *p = reinterpret_cast<const std::uint8_t *>(&s);
	return {{p, abi::kSigstructHeaderBytes}, {p + abi::kSigstructBodyOffset, abi::kSigstructBodyBytes}};
}

/* The PKCS#1 v1.5 / SHA-384 operation on an EVP_MD_CTX, for signing (sign) or verifying. */
bool digest_init(EVP_MD_CTX *ctx, EVP_PKEY *pkey, bool sign)
{
	EVP_PKEY_CTX *pctx = nullptr;
	int ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, "SHA384", nullptr, nullptr, pkey, nullptr)
		      : EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA384", nullptr, nullptr, pkey, nullptr);
	return ok == 1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
}

bool digest_update(EVP_MD_CTX *ctx, const SignedParts &parts, bool sign)
{
	auto update = sign ? EVP_DigestSignUpdate : EVP_DigestVerifyUpdate;
	return update(ctx, parts.header.data(), parts.header.size()) == 1 &&
	       update(ctx, parts.body.data(), parts.body.size()) == 1;
}

/* An RSA public key from the sigstruct's little-endian modulus and its exponent. */
ossl::Pkey public_key(const abi::Sigstruct &s)
{
	ossl::Bn n(BN_lebin2bn(s.modulus, sizeof(s.modulus), nullptr));
	ossl::Bn e(BN_new());
	ossl::ParamBld bld(OSSL_PARAM_BLD_new());
	if (!n || !e || !bld || BN_set_word(e.get(), s.exponent) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
		return nullptr;
	ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
	ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
	EVP_PKEY *pkey = nullptr;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
	    EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
		return nullptr;
	return ossl::Pkey(pkey);
}

Error bad_sigstruct(const char *field, std::uint64_t value)
{
	char buf[96];
	std::snprintf(buf, sizeof(buf), "%s is 0x%llx", field, static_cast<unsigned long long>(value));
	return Error{"bad-sigstruct", buf};
}

/* The fixed fields of a sigstruct (ABI.md §4), in layout order. */
std::optional<Error> check_constants(const abi::Sigstruct &s)
{
	struct Want {
		const char *field;
		std::uint64_t value, want;
	};
	const Want wants[] = {
		{"header_type", s.header_type, abi::kSigstructHeaderType},
		{"header_length", s.header_length, abi::kSigstructHeaderLength},
		{"header_version", s.header_version, abi::kSigstructHeaderVersion},
		{"module_type (bits other than 31)", s.module_type & ~abi::kSigstructModuleTypeDebug, 0},
		{"module_vendor", s.module_vendor, abi::kSigstructVendorIntel},
		{"size", s.size, abi::kSigstructSizeDwords},
		{"key_size", s.key_size, abi::kSigstructKeySizeDwords},
		{"modulus_size", s.modulus_size, abi::kSigstructModulusSizeDwords},
		{"exponent_size", s.exponent_size, abi::kSigstructExponentSizeDwords},
		{"exponent", s.exponent, abi::kSigstructExponent},
		{"attributes", s.attributes, 0},
	};
	for (const Want &w : wants)
		if (w.value != w.want)
			return bad_sigstruct(w.field, w.value);
	if (s.cpuid_table_size > abi::kSigstructMaxCpuidEntries)
		return bad_sigstruct("cpuid_table_size", s.cpuid_table_size);
	return std::nullopt;
}

} // namespace

Digest48 sha384(std::span<const std::uint8_t> data)
{
	Digest48 d{};
	unsigned int len = 0;
	/* Cannot fail short of memory exhaustion; the digest stays zero then. */
	(void)EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha384(), nullptr);
	return d;
}

Result<SigningKeyPtr> load_signing_key(const std::string &pem_path)
{
	ossl::Bio bio(BIO_new_file(pem_path.c_str(), "r"));
	if (!bio)
		return Error{"key-unreadable", pem_path + ": " + ossl::last_error()};
	/* No passphrase prompt: an encrypted key is refused. */
	auto no_passphrase = [](char *, int, int, void *) { return 0; };
	ossl::Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
	if (!pkey)
		return Error{"key-unreadable", pem_path + ": not an unencrypted PEM private key: " + ossl::last_error()};

	BIGNUM *n = nullptr, *e = nullptr;
	bool is_rsa = EVP_PKEY_is_a(pkey.get(), "RSA") == 1 &&
		      EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
		      EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e) == 1;
	ossl::Bn n_owner(n), e_owner(e);
	if (!is_rsa || BN_num_bits(n) != 8 * int(abi::kSigstructRsaBytes) || !BN_is_word(e, abi::kSigstructExponent)) {
		ERR_clear_error();
		return Error{"bad-key", pem_path + ": not an RSA-3072 key with exponent 65537"};
	}
	SigningKeyPtr key(new SigningKey{std::move(pkey), {}});
	if (BN_bn2lebinpad(n, key->modulus_le.data(), int(key->modulus_le.size())) < 0)
		return crypto_error("modulus of " + pem_path);
	return key;
}

Status sign_sigstruct(abi::Sigstruct &s, const SigningKey &key)
{
	std::memcpy(s.modulus, key.modulus_le.data(), sizeof(s.modulus));
	s.exponent = abi::kSigstructExponent;

	ossl::MdCtx ctx(EVP_MD_CTX_new());
	RsaBytes sig_be{};
	std::size_t len = sig_be.size();
	if (!ctx || !digest_init(ctx.get(), key.pkey.get(), true) || !digest_update(ctx.get(), signed_parts(s), true) ||
	    EVP_DigestSignFinal(ctx.get(), sig_be.data(), &len) != 1)
		return crypto_error("RSA-3072 signing");
	if (len != sig_be.size())
		return Error{"crypto-error", "RSA signature of " + std::to_string(len) + " bytes"};
	std::reverse_copy(sig_be.begin(), sig_be.end(), s.signature);
	return Ok{};
}

Digest48 signer_id(const abi::Sigstruct &s)
{
	return sha384({s.modulus, sizeof(s.modulus)});
}

Digest48 signer_id(const SigningKey &key)
{
	return sha384(key.modulus_le);
}

Digest48 intel_signer_id()
{
	Digest48 d;
	std::copy(std::begin(abi::kIntelSignerModulusSha384), std::end(abi::kIntelSignerModulusSha384), d.begin());
	return d;
}

Digest48 test_signer_id()
{
	return kTestSignerId;
}

Status verify_sigstruct(const abi::Sigstruct &s, std::span<const Digest48> trusted)
{
	if (auto e = check_constants(s))
		return *e;
	const Digest48 id = signer_id(s);
	if (std::find(trusted.begin(), trusted.end(), id) == trusted.end())
		return Error{"untrusted-signer", "the signer's modulus hash is not among the " +
							 std::to_string(trusted.size()) + " trusted"};

	ossl::Pkey pkey = public_key(s);
	if (!pkey)
		return crypto_error("the sigstruct's RSA public key");
	RsaBytes sig_be;
	std::reverse_copy(std::begin(s.signature), std::end(s.signature), sig_be.begin());
	ossl::MdCtx ctx(EVP_MD_CTX_new());
	if (!ctx || !digest_init(ctx.get(), pkey.get(), false) || !digest_update(ctx.get(), signed_parts(s), false))
		return crypto_error("RSA verification");
	if (EVP_DigestVerifyFinal(ctx.get(), sig_be.data(), sig_be.size()) != 1) {
		ERR_clear_error();
		return Error{"bad-rsa-signature", "the RSA-3072 PKCS#1 v1.5 SHA-384 signature does not verify"};
	}
	return Ok{};
}

Status verify_seamhash(const abi::Sigstruct &s, std::span<const std::uint8_t> module)
{
	const Digest48 h = sha384(module);
	if (!std::equal(h.begin(), h.end(), s.seamhash))
		return Error{"bad-hash", "SHA-384 of the " + std::to_string(module.size()) +
						 "-byte module image differs from the sigstruct's seamhash"};
	return Ok{};
}

bool sigstruct_is_debug(const abi::Sigstruct &s)
{
	return (s.module_type & abi::kSigstructModuleTypeDebug) != 0;
}

bool sigstruct_supports_cpu(const abi::Sigstruct &s, std::uint32_t cpuid_1_eax)
{
	const std::uint32_t fms = cpuid_1_eax & ~abi::kCpuidFmsSteppingMask;
	const std::uint32_t n = std::min<std::uint32_t>(s.cpuid_table_size, abi::kSigstructMaxCpuidEntries);
	for (std::uint32_t i = 0; i < n; i++)
		if ((s.cpuid_table[i] & ~abi::kCpuidFmsSteppingMask) == fms)
			return true;
	return false;
}

Result<abi::Sigstruct> make_sigstruct(const SigstructSpec &spec, std::span<const std::uint8_t> module,
				      const SigningKey &key)
{
	if (spec.cpuid_table.size() > abi::kSigstructMaxCpuidEntries)
		return Error{"bad-spec", std::to_string(spec.cpuid_table.size()) + " CPUID entries (at most 255)"};
	abi::Sigstruct s{};
	s.header_type = abi::kSigstructHeaderType;
	s.header_length = abi::kSigstructHeaderLength;
	s.header_version = abi::kSigstructHeaderVersion;
	s.module_type = spec.debug ? abi::kSigstructModuleTypeDebug : 0;
	s.module_vendor = abi::kSigstructVendorIntel;
	s.date = spec.date_bcd;
	s.size = abi::kSigstructSizeDwords;
	s.key_size = abi::kSigstructKeySizeDwords;
	s.modulus_size = abi::kSigstructModulusSizeDwords;
	s.exponent_size = abi::kSigstructExponentSizeDwords;
	const Digest48 h = sha384(module);
	std::copy(h.begin(), h.end(), s.seamhash);
	s.minor_svn = spec.minor_svn;
	s.major_svn = spec.major_svn;
	s.module_hv = spec.module_hv;
	s.min_update_hv = spec.min_update_hv;
	s.no_downgrade = spec.no_downgrade ? 1 : 0;
	s.num_handoff_pages = spec.num_handoff_pages;
	s.cpuid_table_size = static_cast<std::uint32_t>(spec.cpuid_table.size());
	for (std::size_t i = 0; i < spec.cpuid_table.size(); i++)
		s.cpuid_table[i] = spec.cpuid_table[i] & ~abi::kCpuidFmsSteppingMask;
	if (auto st = sign_sigstruct(s, key); !st)
		return st.error();
	return s;
}

} // namespace module_image
