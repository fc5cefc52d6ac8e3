// SPDX-License-Identifier: GPL-2.0
// The DICE layering (docs/quote-format.md §2-3): keys derived with HKDF-SHA384 from the root seed
// and each layer's measurement, one X.509 certificate per layer.
#include "chain.h"

#include <cstdio>
#include <new>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "tcb_info.h"

namespace dice_quote {
namespace {

using testing::ChainFault;

constexpr const char *kCurve = "secp384r1";
constexpr const char *kOrg = "tdx-host";
constexpr const char *kVendor = "tdx-host";
constexpr const char *kNotBefore = "20240101000000Z";
constexpr const char *kNotAfter = "99991231235959Z"; /* RFC 5280 4.1.2.5: no well-defined expiry */
constexpr std::size_t kCdiBytes = 48;
constexpr std::size_t kScalarSeedBytes = 64; /* 16 bytes beyond the order's size: negligible bias */

Result<Bytes> hkdf_sha384(BytesView ikm, BytesView salt, std::string_view info, std::size_t len)
{
	ossl::Kdf kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
	ossl::KdfCtx ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
	if (!ctx)
		return ossl::crypto_error("HKDF unavailable");
	OSSL_PARAM params[5];
	int n = 0;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char *>("SHA384"), 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t *>(ikm.data()), ikm.size());
	if (!salt.empty()) /* absent salt: RFC 5869's HashLen zero bytes */
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t *>(salt.data()), salt.size());
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char *>(info.data()), info.size());
	params[n] = OSSL_PARAM_construct_end();
	Bytes out(len);
	if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
		return ossl::crypto_error("HKDF-SHA384");
	return out;
}

/* A P-384 key pair whose private scalar is d = (OS2IP(okm) mod (n - 1)) + 1. */
Result<ossl::Pkey> derive_p384_key(BytesView cdi, std::string_view label)
{
	auto okm = hkdf_sha384(cdi, {}, std::string("tdx-host DICE key ") + std::string(label), kScalarSeedBytes);
	if (!okm)
		return okm.error();
	ossl::EcGroup group(EC_GROUP_new_by_curve_name(NID_secp384r1));
	ossl::BnCtx bnctx(BN_CTX_new());
	ossl::Bn d(BN_bin2bn(okm.value().data(), static_cast<int>(okm.value().size()), nullptr));
	ossl::Bn order_minus_1(group ? BN_dup(EC_GROUP_get0_order(group.get())) : nullptr);
	OPENSSL_cleanse(okm.value().data(), okm.value().size());
	if (!group || !bnctx || !d || !order_minus_1 || !BN_sub_word(order_minus_1.get(), 1) ||
	    !BN_mod(d.get(), d.get(), order_minus_1.get(), bnctx.get()) || !BN_add_word(d.get(), 1))
		return ossl::crypto_error("P-384 scalar");
	ossl::EcPoint pub(EC_POINT_new(group.get()));
	unsigned char point[97];
	if (!pub || !EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, bnctx.get()) ||
	    EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point),
			       bnctx.get()) != sizeof(point))
		return ossl::crypto_error("P-384 public point");

	ossl::ParamBld bld(OSSL_PARAM_BLD_new());
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
		return ossl::crypto_error("key parameters");
	ossl::Params params(OSSL_PARAM_BLD_to_param(bld.get()));
	ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
	EVP_PKEY *key = nullptr;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
	    EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1)
		return ossl::crypto_error("EVP_PKEY from the derived scalar");
	return ossl::Pkey(key);
}

Result<Bytes> derive_cdi(BytesView parent, const Digest48 &measurement, std::string_view label)
{
	return hkdf_sha384(parent, measurement, std::string("tdx-host DICE CDI ") + std::string(label), kCdiBytes);
}

std::string hex(BytesView b)
{
	std::string s;
	char buf[3];
	for (auto c : b) {
		std::snprintf(buf, sizeof(buf), "%02x", c);
		s += buf;
	}
	return s;
}

struct CertSpec {
	Layer layer;
	const char *cn;
	bool ca;
	const char *key_usage;
	std::optional<TcbInfo> tcb_info;
};

ossl::X509Name subject_name(const char *cn, const EVP_PKEY *key)
{
	/* serialNumber: the key's identity, so that a new measurement (new key) is a new name. */
	const Bytes point = ec_public_point(key);
	const Digest48 id = sha384(point);
	const std::string sn = hex(BytesView(id.data(), 20));
	ossl::X509Name name(X509_NAME_new());
	auto add = [&](const char *field, const std::string &v) {
		return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
						  reinterpret_cast<const unsigned char *>(v.c_str()), -1, -1, 0) == 1;
	};
	if (!name || point.empty() || !add("O", kOrg) || !add("CN", cn) || !add("serialNumber", sn))
		return nullptr;
	return name;
}

bool add_conf_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	ossl::X509Ext ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
	return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool add_der_ext(X509 *cert, const char *oid, bool critical, BytesView der)
{
	ossl::Asn1Object obj(OBJ_txt2obj(oid, 1));
	ossl::Asn1Octets data(ASN1_OCTET_STRING_new());
	if (!obj || !data || !ASN1_OCTET_STRING_set(data.get(), der.data(), static_cast<int>(der.size())))
		return false;
	ossl::X509Ext ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, data.get()));
	return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result<ossl::X509Ptr> make_cert(const CertSpec &spec, EVP_PKEY *subject_key, X509 *issuer, EVP_PKEY *issuer_key,
				ChainFault fault)
{
	ossl::X509Ptr cert(X509_new());
	ossl::X509Name subject = subject_name(spec.cn, subject_key);
	if (!cert || !subject || !X509_set_version(cert.get(), X509_VERSION_3) ||
	    !X509_set_subject_name(cert.get(), subject.get()))
		return ossl::crypto_error("certificate subject");

	ossl::X509Name issuer_name(X509_NAME_dup(issuer ? X509_get_subject_name(issuer) : subject.get()));
	if (!issuer_name ||
	    (spec.layer == kModule && fault == ChainFault::kModuleWrongIssuerName &&
	     !X509_NAME_add_entry_by_txt(issuer_name.get(), "OU", MBSTRING_UTF8,
					 reinterpret_cast<const unsigned char *>("not the issuer"), -1, -1, 0)) ||
	    !X509_set_issuer_name(cert.get(), issuer_name.get()))
		return ossl::crypto_error("certificate issuer");

	/* Serial: the first 16 bytes of SHA-384(public point), made positive and non-zero. */
	Digest48 id = sha384(ec_public_point(subject_key));
	id[0] = static_cast<std::uint8_t>((id[0] & 0x7f) | 0x01);
	ossl::Bn serial_bn(BN_bin2bn(id.data(), 16, nullptr));
	if (!serial_bn || !BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())))
		return ossl::crypto_error("certificate serial");

	if (!ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), kNotBefore) ||
	    !ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), kNotAfter) ||
	    !X509_set_pubkey(cert.get(), subject_key))
		return ossl::crypto_error("certificate validity or key");

	bool ca = spec.ca;
	const char *ku = spec.key_usage;
	if (spec.layer == kModule && fault == ChainFault::kModuleNotCa)
		ca = false;
	if (spec.layer == kModule && fault == ChainFault::kModuleNoKeyCertSign)
		ku = "critical,digitalSignature";
	if (spec.layer == kQuoting && fault == ChainFault::kLeafIsCa)
		ca = true;
	if (spec.layer == kQuoting && fault == ChainFault::kLeafNoDigitalSignature)
		ku = "critical,keyCertSign";

	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
	if (!add_conf_ext(cert.get(), &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
	    !add_conf_ext(cert.get(), &ctx, NID_key_usage, ku) ||
	    !add_conf_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
	    (issuer && !add_conf_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always")))
		return ossl::crypto_error("certificate extensions");

	if (spec.tcb_info && !(spec.layer == kModule && fault == ChainFault::kModuleNoTcbInfo)) {
		auto der = encode_tcb_info(*spec.tcb_info);
		if (!der)
			return der.error();
		if (!add_der_ext(cert.get(), kTcbInfoOid, true, der.value()))
			return ossl::crypto_error("DiceTcbInfo extension");
	}
	if (spec.layer == kPlatform && fault == ChainFault::kPlatformUnknownCritical) {
		const std::uint8_t junk[] = {0x05, 0x00};
		if (!add_der_ext(cert.get(), "1.3.6.1.4.1.55555.1", true, junk))
			return ossl::crypto_error("test extension");
	}

	if (X509_sign(cert.get(), issuer_key, EVP_sha384()) <= 0)
		return ossl::crypto_error("certificate signature");
	return cert;
}

} // namespace

Digest48 sha384(BytesView data)
{
	Digest48 out{};
	unsigned int len = 0;
	if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha384(), nullptr) != 1)
		ERR_clear_error(); /* only on allocation failure; the zero digest then fails later checks */
	return out;
}

Bytes ec_public_point(const EVP_PKEY *key)
{
	Bytes point(97);
	size_t len = 0;
	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1) {
		ERR_clear_error();
		return {};
	}
	point.resize(len);
	return point;
}

bool is_p384(const EVP_PKEY *key)
{
	char group[32];
	size_t len = 0;
	if (!key || !EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
		ERR_clear_error();
		return false;
	}
	return std::string_view(group, len) == kCurve;
}

Bytes cert_der(X509 *cert)
{
	unsigned char *der = nullptr;
	const int len = i2d_X509(cert, &der);
	if (len <= 0) {
		ERR_clear_error();
		return {};
	}
	Bytes out(der, der + len);
	OPENSSL_free(der);
	return out;
}

Result<DiceChain> ChainBuilder::build(const ChainInputs &inputs, ChainFault fault)
{
	if (inputs.root_seed.size() < kMinRootSeedBytes)
		return make_error(ErrorCode::kInvalidArgument,
				  "root seed has " + std::to_string(inputs.root_seed.size()) + " bytes, at least " +
					  std::to_string(kMinRootSeedBytes) + " needed");
	auto st = std::make_unique<ChainState>();
	st->inputs = inputs;

	/* CDIs: UDS = seed; CDI1 = HKDF(UDS, platform); CDI2 = HKDF(CDI1, MRSEAM). */
	auto cdi1 = derive_cdi(inputs.root_seed, inputs.platform_measurement, "platform");
	if (!cdi1)
		return cdi1.error();
	auto cdi2 = derive_cdi(cdi1.value(), inputs.module_measurement, "module");
	if (!cdi2)
		return cdi2.error();
	const std::pair<BytesView, const char *> key_sources[4] = {
		{inputs.root_seed, "root"}, {cdi1.value(), "platform"}, {cdi2.value(), "module"}, {cdi2.value(), "quoting"}};
	for (int l = kRoot; l <= kQuoting; l++) {
		auto key = derive_p384_key(key_sources[l].first, key_sources[l].second);
		if (!key)
			return key.error();
		st->keys[l] = std::move(key.value());
	}
	OPENSSL_cleanse(cdi1.value().data(), cdi1.value().size());
	OPENSSL_cleanse(cdi2.value().data(), cdi2.value().size());

	const CertSpec specs[4] = {
		{kRoot, "tdx-host DICE root", true, "critical,keyCertSign", std::nullopt},
		{kPlatform, "tdx-host DICE layer 1 platform", true, "critical,keyCertSign",
		 TcbInfo{kVendor, "platform", std::nullopt, 1, inputs.platform_measurement}},
		{kModule, "tdx-host DICE layer 2 TDX module", true, "critical,keyCertSign",
		 TcbInfo{kVendor, "TDX module", inputs.module_svn, 2, inputs.module_measurement}},
		{kQuoting, "tdx-host DICE layer 3 quoting key", false, "critical,digitalSignature", std::nullopt},
	};
	for (int l = kRoot; l <= kQuoting; l++) {
		X509 *issuer = l == kRoot ? nullptr : st->certs[l - 1].get();
		int signer = l == kRoot ? kRoot : l - 1;
		if (l == kModule && fault == ChainFault::kModuleSignedByRoot)
			signer = kRoot;
		auto cert = make_cert(specs[l], st->keys[l].get(), issuer, st->keys[signer].get(), fault);
		if (!cert)
			return cert.error();
		st->certs[l] = std::move(cert.value());
	}
	return DiceChain(std::move(st));
}

DiceChain::DiceChain(std::unique_ptr<ChainState> state) : state_(std::move(state)) {}
DiceChain::DiceChain(DiceChain &&) noexcept = default;
DiceChain &DiceChain::operator=(DiceChain &&) noexcept = default;
DiceChain::~DiceChain() = default;

Result<DiceChain> DiceChain::create(const ChainInputs &inputs)
{
	try {
		return ChainBuilder::build(inputs, ChainFault::kNone);
	} catch (const std::bad_alloc &) {
		return make_error(ErrorCode::kOutOfMemory, "out of memory creating the DICE chain");
	}
}

const ChainInputs &DiceChain::inputs() const
{
	return state_->inputs;
}

std::string DiceChain::root_pem() const
{
	ossl::Bio bio(BIO_new(BIO_s_mem()));
	if (!bio || PEM_write_bio_X509(bio.get(), state_->certs[kRoot].get()) != 1) {
		ERR_clear_error();
		return {};
	}
	char *data = nullptr;
	const long len = BIO_get_mem_data(bio.get(), &data);
	return std::string(data, static_cast<size_t>(len));
}

Bytes DiceChain::root_der() const
{
	return cert_der(state_->certs[kRoot].get());
}

std::vector<Bytes> DiceChain::chain_der() const
{
	return {cert_der(state_->certs[kQuoting].get()), cert_der(state_->certs[kModule].get()),
		cert_der(state_->certs[kPlatform].get())};
}

Bytes DiceChain::public_key(int layer) const
{
	if (layer < kRoot || layer > kQuoting)
		return {};
	return ec_public_point(state_->keys[layer].get());
}

namespace testing {

Result<DiceChain> create_chain_with_fault(const ChainInputs &inputs, ChainFault fault)
{
	return ChainBuilder::build(inputs, fault);
}

} // namespace testing
} // namespace dice_quote
