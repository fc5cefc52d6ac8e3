// SPDX-License-Identifier: GPL-2.0
// dice-quote: chain derivation, quote round trip, and every verifier failure reached on purpose.
#include <algorithm>
#include <functional>
#include <set>

#include <cbor.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <dice-quote/dice_quote.h>
#include <dice-quote/testing.h>

#include "chain.h"
#include "tcb_info.h"

namespace dice_quote {
namespace {

using testing::ChainFault;
using testing::ClaimEdits;
using testing::CoseParts;

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t seed)
{
	std::array<std::uint8_t, N> a{};
	for (std::size_t i = 0; i < N; i++)
		a[i] = static_cast<std::uint8_t>(seed + i * 7);
	return a;
}

ChainInputs inputs(std::uint8_t seed = 1, std::uint8_t platform = 2, std::uint8_t mrseam = 3, std::uint8_t svn = 4)
{
	ChainInputs in;
	in.root_seed.assign(32, seed);
	in.platform_measurement = filled<48>(platform);
	in.module_measurement = filled<48>(mrseam);
	in.module_svn = filled<16>(svn);
	return in;
}

TdMeasurements td(std::uint8_t s)
{
	TdMeasurements m;
	m.attributes = filled<8>(s);
	m.mrtd = filled<48>(s + 1);
	m.xfam = filled<8>(s + 2);
	m.mrconfigid = filled<48>(s + 3);
	m.mrowner = filled<48>(s + 4);
	m.mrownerconfig = filled<48>(s + 5);
	for (int i = 0; i < 4; i++)
		m.rtmr[i] = filled<48>(static_cast<std::uint8_t>(s + 6 + i));
	m.mrservicetd = filled<48>(s + 10);
	return m;
}

/* Claims whose current platform/module values are the chain's; origin from an older module. */
QuoteClaims claims_for(const ChainInputs &in)
{
	QuoteClaims c;
	c.report_data = filled<64>(0x40);
	c.platform.origin = {in.platform_measurement, filled<16>(9)};
	c.platform.current = c.platform.origin;
	c.seam.origin = {filled<8>(0), filled<48>(0x70), filled<48>(0x71), filled<16>(1)};
	c.seam.current = {filled<8>(0), in.module_measurement, filled<48>(0x71), in.module_svn};
	c.td.origin = td(0x20);
	c.td.current = td(0x20);
	c.td.current.rtmr[2] = filled<48>(0x99);
	return c;
}

std::vector<std::uint8_t> encode(cbor_item_t *item)
{
	unsigned char *buf = nullptr;
	size_t cap = 0;
	const size_t len = cbor_serialize_alloc(item, &buf, &cap);
	std::vector<std::uint8_t> out(buf, buf + len);
	free(buf);
	cbor_decref(&item);
	return out;
}

Bytes cbor_int(std::int64_t v)
{
	return encode(v < 0 ? cbor_build_negint64(static_cast<std::uint64_t>(-1 - v)) : cbor_build_uint64(static_cast<std::uint64_t>(v)));
}

Bytes cbor_bytes(std::size_t n, std::uint8_t fill = 0)
{
	Bytes b(n, fill);
	return encode(cbor_build_bytestring(b.data(), b.size()));
}

Bytes cbor_text(const char *s)
{
	return encode(cbor_build_string(s));
}

class QuoteTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		in_ = inputs();
		auto c = DiceChain::create(in_);
		ASSERT_TRUE(c.ok()) << c.error().to_string();
		chain_.emplace(std::move(c.value()));
		claims_ = claims_for(in_);
		root_ = chain_->root_pem();
		ASSERT_FALSE(root_.empty());
	}

	Bytes quote()
	{
		auto q = make_quote(*chain_, claims_);
		EXPECT_TRUE(q.ok()) << q.error().to_string();
		return q.ok() ? q.value() : Bytes{};
	}

	CoseParts parts(const ClaimEdits &edits = {})
	{
		CoseParts p;
		p.protected_header = testing::encode_protected(-35);
		p.unprotected_header = testing::encode_unprotected(chain_->chain_der());
		auto payload = testing::encode_claims(claims_, edits);
		EXPECT_TRUE(payload.ok());
		p.payload = payload.value();
		return p;
	}

	Bytes assembled(const CoseParts &p)
	{
		auto q = testing::assemble_quote(*chain_, p);
		EXPECT_TRUE(q.ok()) << q.error().to_string();
		return q.ok() ? q.value() : Bytes{};
	}

	/* The verifier's error code for a quote (0 when it verifies). */
	int code_of(const Bytes &q, std::optional<ReportData> rd = std::nullopt, const std::string *root = nullptr)
	{
		auto r = verify_quote(q, root ? *root : root_, rd);
		if (r.ok())
			return 0;
		EXPECT_FALSE(r.error().message.empty());
		last_message_ = r.error().message;
		return static_cast<int>(r.error().code);
	}

	int edited(const ClaimEdits &e) { return code_of(assembled(parts(e))); }

	ChainInputs in_;
	std::optional<DiceChain> chain_;
	QuoteClaims claims_;
	std::string root_;
	std::string last_message_;
};

constexpr int C(ErrorCode c)
{
	return static_cast<int>(c);
}

/* ---- chain ---- */

TEST(DiceChain, KeysAreDeterministicPerMeasurement)
{
	auto a = DiceChain::create(inputs());
	auto b = DiceChain::create(inputs());
	ASSERT_TRUE(a.ok() && b.ok());
	for (int l = 0; l < 4; l++) {
		EXPECT_EQ(a.value().public_key(l).size(), 97u);
		EXPECT_EQ(a.value().public_key(l), b.value().public_key(l)) << "layer " << l;
	}
	std::set<Bytes> distinct;
	for (int l = 0; l < 4; l++)
		distinct.insert(a.value().public_key(l));
	EXPECT_EQ(distinct.size(), 4u) << "every layer has its own key";
	EXPECT_TRUE(a.value().public_key(4).empty());
}

TEST(DiceChain, ChangedModuleMeasurementGivesNewModuleAndQuotingKeys)
{
	auto a = DiceChain::create(inputs(1, 2, 3));
	auto b = DiceChain::create(inputs(1, 2, 33));
	ASSERT_TRUE(a.ok() && b.ok());
	EXPECT_EQ(a.value().public_key(0), b.value().public_key(0));
	EXPECT_EQ(a.value().public_key(1), b.value().public_key(1));
	EXPECT_NE(a.value().public_key(2), b.value().public_key(2));
	EXPECT_NE(a.value().public_key(3), b.value().public_key(3));
}

TEST(DiceChain, ChangedPlatformOrSeedGivesNewKeysAbove)
{
	auto a = DiceChain::create(inputs(1, 2, 3));
	auto p = DiceChain::create(inputs(1, 22, 3));
	auto s = DiceChain::create(inputs(11, 2, 3));
	ASSERT_TRUE(a.ok() && p.ok() && s.ok());
	EXPECT_EQ(a.value().public_key(0), p.value().public_key(0));
	for (int l = 1; l < 4; l++)
		EXPECT_NE(a.value().public_key(l), p.value().public_key(l));
	for (int l = 0; l < 4; l++)
		EXPECT_NE(a.value().public_key(l), s.value().public_key(l));
}

TEST(DiceChain, SvnChangesTheCertificateNotTheKeys)
{
	auto a = DiceChain::create(inputs(1, 2, 3, 4));
	auto b = DiceChain::create(inputs(1, 2, 3, 5));
	ASSERT_TRUE(a.ok() && b.ok());
	EXPECT_EQ(a.value().public_key(2), b.value().public_key(2));
}

TEST(DiceChain, ShortSeedIsRefused)
{
	ChainInputs in = inputs();
	in.root_seed.resize(31);
	auto c = DiceChain::create(in);
	ASSERT_FALSE(c.ok());
	EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
}

TEST(DiceChain, CertificatesCarryTheLayersAndTcbInfo)
{
	auto c = DiceChain::create(inputs());
	ASSERT_TRUE(c.ok());
	const auto ders = c.value().chain_der();
	ASSERT_EQ(ders.size(), 3u);
	const unsigned char *p = ders[1].data();
	X509 *module = d2i_X509(nullptr, &p, static_cast<long>(ders[1].size()));
	ASSERT_NE(module, nullptr);
	ASSERT_NE(X509_get_extension_flags(module) & EXFLAG_CA, 0u);
	ASSERT_NE(X509_get_key_usage(module) & KU_KEY_CERT_SIGN, 0u);
	ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
	const int i = X509_get_ext_by_OBJ(module, oid, -1);
	ASSERT_GE(i, 0);
	const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(module, i));
	auto info = decode_tcb_info(BytesView(ASN1_STRING_get0_data(data), ASN1_STRING_length(data)));
	ASSERT_TRUE(info.ok()) << info.error().to_string();
	EXPECT_EQ(info.value().layer, 2);
	EXPECT_EQ(info.value().fwid_sha384, inputs().module_measurement);
	EXPECT_EQ(info.value().svn, inputs().module_svn);
	ASN1_OBJECT_free(oid);
	X509_free(module);
}

/* ---- DiceTcbInfo decoding, on hand-made DER ---- */

Bytes tlv(std::uint8_t tag, const Bytes &content)
{
	Bytes out{tag};
	if (content.size() < 128) {
		out.push_back(static_cast<std::uint8_t>(content.size()));
	} else {
		out.push_back(0x81);
		out.push_back(static_cast<std::uint8_t>(content.size()));
	}
	out.insert(out.end(), content.begin(), content.end());
	return out;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
	Bytes out;
	for (const auto &p : parts)
		out.insert(out.end(), p.begin(), p.end());
	return out;
}

const Bytes kSha384OidDer = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
const Bytes kSha256OidDer = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};

Bytes fwid(const Bytes &oid, std::size_t len)
{
	return tlv(0x30, cat({oid, tlv(0x04, Bytes(len, 0xab))}));
}

Bytes tcb(std::initializer_list<Bytes> fields)
{
	return tlv(0x30, cat(fields));
}

const Bytes kVendor = tlv(0x80, {'v'});
const Bytes kModel = tlv(0x81, {'m'});
const Bytes kLayer = tlv(0x84, {0x02});

TEST(TcbInfo, HandMadeMinimalDecodes)
{
	auto t = decode_tcb_info(tcb({kVendor, kModel, kLayer, tlv(0xa6, fwid(kSha384OidDer, 48))}));
	ASSERT_TRUE(t.ok()) << t.error().to_string();
	EXPECT_EQ(t.value().vendor, "v");
	EXPECT_FALSE(t.value().svn.has_value());
}

TEST(TcbInfo, StrictDecoding)
{
	const Bytes ok_fwids = tlv(0xa6, fwid(kSha384OidDer, 48));
	const std::vector<std::pair<const char *, Bytes>> bad = {
		{"garbage", {0x01, 0x02}},
		{"trailing", cat({tcb({kVendor, kModel, kLayer, ok_fwids}), Bytes{0x00}})},
		{"version present", tcb({kVendor, kModel, tlv(0x82, {'1'}), kLayer, ok_fwids})},
		{"no fwids", tcb({kVendor, kModel, kLayer})},
		{"no vendor", tcb({kModel, kLayer, ok_fwids})},
		{"negative layer", tcb({kVendor, kModel, tlv(0x84, {0xff}), ok_fwids})},
		{"negative svn", tcb({kVendor, kModel, tlv(0x83, {0x80}), kLayer, ok_fwids})},
		{"17-byte svn", tcb({kVendor, kModel, tlv(0x83, cat({Bytes{0x01}, Bytes(16, 0)})), kLayer, ok_fwids})},
		{"two fwids", tcb({kVendor, kModel, kLayer,
				   tlv(0xa6, cat({fwid(kSha384OidDer, 48), fwid(kSha384OidDer, 48)}))})},
		{"sha256 fwid", tcb({kVendor, kModel, kLayer, tlv(0xa6, fwid(kSha256OidDer, 48))})},
		{"short digest", tcb({kVendor, kModel, kLayer, tlv(0xa6, fwid(kSha384OidDer, 32))})},
	};
	for (const auto &[name, der] : bad) {
		auto t = decode_tcb_info(der);
		ASSERT_FALSE(t.ok()) << name;
		EXPECT_EQ(t.error().code, ErrorCode::kBadTcbInfo) << name;
	}
}

TEST(TcbInfo, SvnRoundTripsAllSixteenBytes)
{
	TcbInfo in{"tdx-host", "TDX module", filled<16>(0), 2, filled<48>(5)};
	in.svn->at(0) = 0; /* leading zero byte survives the INTEGER */
	auto der = encode_tcb_info(in);
	ASSERT_TRUE(der.ok());
	auto out = decode_tcb_info(der.value());
	ASSERT_TRUE(out.ok());
	EXPECT_EQ(out.value().svn, in.svn);
	EXPECT_EQ(out.value().fwid_sha384, in.fwid_sha384);
}

/* ---- round trip ---- */

TEST_F(QuoteTest, RoundTrip)
{
	const Bytes q = quote();
	auto v = verify_quote(q, root_, claims_.report_data);
	ASSERT_TRUE(v.ok()) << v.error().to_string();
	EXPECT_EQ(v.value().claims, claims_);
	EXPECT_EQ(v.value().chain_der, chain_->chain_der());
	EXPECT_EQ(code_of(q), 0) << "REPORTDATA is optional";
}

TEST_F(QuoteTest, EnvelopeIsCwtAroundCoseSign1)
{
	const Bytes q = quote();
	ASSERT_GE(q.size(), 4u);
	EXPECT_EQ(q[0], 0xd8); /* tag, 1-byte value */
	EXPECT_EQ(q[1], 61);
	EXPECT_EQ(q[2], 0xd2); /* tag 18 */
	EXPECT_EQ(q[3], 0x84); /* array(4) */
}

TEST_F(QuoteTest, RuntimeUpdateKeepsOriginChangesCurrent)
{
	ChainInputs updated = inputs(1, 2, 77, 8);
	auto c2 = DiceChain::create(updated);
	ASSERT_TRUE(c2.ok());
	QuoteClaims cl = claims_;
	cl.seam.current.mrseam = updated.module_measurement;
	cl.seam.current.tee_tcb_svn = updated.module_svn;
	auto q = make_quote(c2.value(), cl);
	ASSERT_TRUE(q.ok());
	auto v = verify_quote(q.value(), c2.value().root_pem(), cl.report_data);
	ASSERT_TRUE(v.ok()) << v.error().to_string();
	EXPECT_EQ(v.value().claims.seam.origin, claims_.seam.origin);
	EXPECT_EQ(v.value().claims.seam.current.mrseam, updated.module_measurement);
	EXPECT_EQ(c2.value().root_pem() == root_, false) << "ECDSA certificates differ byte-wise";
	/* The same seed gives the same root key, so the old pinned root still verifies. */
	EXPECT_EQ(code_of(q.value(), cl.report_data), 0);
}

TEST_F(QuoteTest, MakeQuoteRefusesClaimsTheChainDoesNotVouchFor)
{
	QuoteClaims a = claims_, b = claims_, c = claims_;
	a.platform.current.digest[0] ^= 1;
	b.seam.current.mrseam[0] ^= 1;
	c.seam.current.tee_tcb_svn[0] ^= 1;
	for (const auto &cl : {a, b, c}) {
		auto q = make_quote(*chain_, cl);
		ASSERT_FALSE(q.ok());
		EXPECT_EQ(q.error().code, ErrorCode::kInvalidArgument);
	}
}

/* ---- the tamper cases of the issue ---- */

TEST_F(QuoteTest, FlippedPayloadByte)
{
	Bytes q = quote();
	auto payload = testing::encode_claims(claims_);
	ASSERT_TRUE(payload.ok());
	auto at = std::search(q.begin(), q.end(), payload.value().begin(), payload.value().end());
	ASSERT_NE(at, q.end());
	at[static_cast<long>(payload.value().size() / 2)] ^= 0x01;
	EXPECT_EQ(code_of(q, claims_.report_data), C(ErrorCode::kBadSignature)) << last_message_;
}

TEST_F(QuoteTest, FlippedSignatureByte)
{
	Bytes q = quote();
	q[q.size() - 10] ^= 0x80;
	EXPECT_EQ(code_of(q, claims_.report_data), C(ErrorCode::kBadSignature));
}

TEST_F(QuoteTest, WrongRoot)
{
	auto other = DiceChain::create(inputs(9));
	ASSERT_TRUE(other.ok());
	const std::string pem = other.value().root_pem();
	EXPECT_EQ(code_of(quote(), claims_.report_data, &pem), C(ErrorCode::kUntrustedRoot)) << last_message_;
}

TEST_F(QuoteTest, PlatformCertificateOfAnotherChain)
{
	/* Layer 2's issuer names this chain's platform key (serialNumber), not the other one's. */
	auto other = DiceChain::create(inputs(9));
	ASSERT_TRUE(other.ok());
	CoseParts p = parts();
	auto mixed = chain_->chain_der();
	mixed[2] = other.value().chain_der()[2]; /* platform cert of another root */
	p.unprotected_header = testing::encode_unprotected(mixed);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kChainNameMismatch)) << last_message_;
}

TEST_F(QuoteTest, WrongReportData)
{
	ReportData rd = claims_.report_data;
	rd[63] ^= 1;
	EXPECT_EQ(code_of(quote(), rd), C(ErrorCode::kReportDataMismatch));
}

TEST_F(QuoteTest, TruncatedQuote)
{
	const Bytes q = quote();
	for (std::size_t len : {q.size() - 1, q.size() / 2, std::size_t{3}, std::size_t{1}, std::size_t{0}}) {
		Bytes t(q.begin(), q.begin() + static_cast<long>(len));
		EXPECT_EQ(code_of(t), C(ErrorCode::kTruncated)) << len;
	}
}

TEST_F(QuoteTest, TrailingBytes)
{
	Bytes q = quote();
	q.push_back(0x00);
	EXPECT_EQ(code_of(q), C(ErrorCode::kTrailingBytes));
}

TEST_F(QuoteTest, NonCaIssuer)
{
	auto bad = testing::create_chain_with_fault(in_, ChainFault::kModuleNotCa);
	ASSERT_TRUE(bad.ok());
	auto q = make_quote(bad.value(), claims_);
	ASSERT_TRUE(q.ok());
	const std::string pem = bad.value().root_pem();
	EXPECT_EQ(code_of(q.value(), std::nullopt, &pem), C(ErrorCode::kIssuerNotCa)) << last_message_;
}

TEST_F(QuoteTest, WrongAlg)
{
	CoseParts p = parts();
	p.protected_header = testing::encode_protected(-7); /* ES256 */
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kUnsupportedAlg));
}

TEST_F(QuoteTest, MissingClaims)
{
	const std::string s = "-11/";
	for (const std::string &path :
	     {std::string("-212"), std::string("-11"), s + kSubmodSeam, s + kSubmodTd + "/origin",
	      s + kSubmodPlatform + "/current/-125", s + kSubmodTd + "/current/-208", s + kSubmodSeam + "/origin/-84"}) {
		ClaimEdits e;
		e.remove.push_back(path);
		EXPECT_EQ(edited(e), C(ErrorCode::kMissingClaim)) << path << ": " << last_message_;
	}
}

TEST_F(QuoteTest, WrongClaimLengths)
{
	const std::string s = "-11/";
	const std::vector<std::pair<std::string, Bytes>> cases = {
		{"-212", cbor_bytes(63)},
		{s + kSubmodTd + "/current/-83", cbor_bytes(47)},
		{s + kSubmodTd + "/origin/-201", cbor_bytes(9)},
		{s + kSubmodSeam + "/current/-82", cbor_bytes(0)},
		{s + kSubmodSeam + "/current/-125", encode(cbor_new_definite_array(0))},
	};
	for (const auto &[path, value] : cases) {
		ClaimEdits e;
		e.replace[path] = value;
		EXPECT_EQ(edited(e), C(ErrorCode::kBadClaimLength)) << path << ": " << last_message_;
	}
}

TEST_F(QuoteTest, WrongClaimTypes)
{
	const std::string s = "-11/";
	cbor_item_t *svn = cbor_new_definite_array(16);
	for (int i = 0; i < 16; i++)
		cbor_array_push(svn, cbor_move(cbor_build_uint16(i == 3 ? 256 : 1)));
	const std::vector<std::pair<std::string, Bytes>> cases = {
		{"-212", cbor_text("not bytes")},
		{"-11", cbor_bytes(3)},
		{s + kSubmodTd, cbor_int(4)},
		{s + kSubmodTd + "/current", cbor_bytes(1)}, /* not a tag */
		{s + kSubmodSeam + "/origin/-125", encode(svn)},
		{s + kSubmodPlatform + "/origin/-125", cbor_bytes(16)},
	};
	for (const auto &[path, value] : cases) {
		ClaimEdits e;
		e.replace[path] = value;
		EXPECT_EQ(edited(e), C(ErrorCode::kBadClaimType)) << path << ": " << last_message_;
	}
	ClaimEdits untagged;
	untagged.untagged_measurements = true;
	EXPECT_EQ(edited(untagged), C(ErrorCode::kBadClaimType)) << last_message_;
}

TEST_F(QuoteTest, UnknownClaims)
{
	const std::string s = "-11/";
	const std::vector<std::tuple<std::string, Bytes, Bytes>> cases = {
		{"", cbor_int(-1), cbor_int(0)},
		{"", cbor_text("report_data"), cbor_int(0)},
		{"-11", cbor_text("2.16.840.1.113741.1.13.2.7.0"), cbor_int(0)}, /* service TD: not defined */
		{"-11", cbor_int(8), cbor_int(0)},
		{s + kSubmodTd, cbor_text("previous"), cbor_int(0)},
		{s + kSubmodTd + "/current", cbor_int(-84), cbor_bytes(48)}, /* MRSIGNERSEAM is not a TD claim */
		{s + kSubmodPlatform + "/origin", cbor_int(-82), cbor_bytes(8)},
	};
	for (const auto &c : cases) {
		ClaimEdits e;
		e.extra.push_back(c);
		EXPECT_EQ(edited(e), C(ErrorCode::kUnknownClaim)) << std::get<0>(c) << ": " << last_message_;
	}
}

TEST_F(QuoteTest, DuplicateClaims)
{
	for (const std::string &path : {std::string(""), std::string("-11/") + kSubmodSeam + "/current"}) {
		ClaimEdits e;
		e.extra.emplace_back(path, cbor_int(path.empty() ? -212 : -83), cbor_bytes(path.empty() ? 64 : 48));
		EXPECT_EQ(edited(e), C(ErrorCode::kDuplicateKey)) << path << ": " << last_message_;
	}
	ClaimEdits e;
	e.extra.emplace_back("-11", cbor_text(kSubmodTd), cbor_int(0));
	EXPECT_EQ(edited(e), C(ErrorCode::kDuplicateKey)) << last_message_;
}

/* ---- envelope ---- */

TEST_F(QuoteTest, MalformedCbor)
{
	EXPECT_EQ(code_of(Bytes{0xff}), C(ErrorCode::kCborMalformed));
	EXPECT_EQ(code_of(Bytes{0x1c}), C(ErrorCode::kCborMalformed)); /* reserved additional info */
	EXPECT_EQ(code_of(Bytes{0xdc, 0x00}), C(ErrorCode::kCborMalformed)); /* reserved, in a tag head */
	Bytes q = quote();
	ASSERT_EQ(q[3], 0x84);
	q[3] = 0x9f; /* indefinite-length array */
	q.push_back(0xff);
	EXPECT_EQ(code_of(q), C(ErrorCode::kCborMalformed)) << last_message_;
}

TEST_F(QuoteTest, MissingTags)
{
	CoseParts p = parts();
	p.cwt_tag = false;
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kNotCwt));
	p = parts();
	p.cose_tag = false;
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kNotCoseSign1));
}

TEST_F(QuoteTest, NotACoseSign1Array)
{
	cbor_item_t *a = cbor_new_definite_array(3);
	for (int i = 0; i < 3; i++)
		cbor_array_push(a, cbor_move(cbor_build_bytestring(nullptr, 0)));
	EXPECT_EQ(code_of(encode(cbor_build_tag(61, cbor_move(cbor_build_tag(18, cbor_move(a)))))),
		  C(ErrorCode::kNotCoseSign1));
	CoseParts p = parts();
	p.unprotected_header = cbor_bytes(2); /* not a map */
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kNotCoseSign1));
}

TEST_F(QuoteTest, BadProtectedHeader)
{
	CoseParts p = parts();
	p.protected_header = cbor_bytes(1);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadProtectedHeader));
	cbor_item_t *m = cbor_new_definite_map(2);
	cbor_map_add(m, cbor_pair{cbor_move(cbor_build_uint8(1)), cbor_move(cbor_build_negint8(34))});
	cbor_map_add(m, cbor_pair{cbor_move(cbor_build_uint8(4)), cbor_move(cbor_build_bytestring(nullptr, 0))});
	p.protected_header = encode(m); /* alg plus kid: nothing but alg allowed */
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadProtectedHeader));
	p.protected_header = cat({testing::encode_protected(-35), Bytes{0x00}});
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadProtectedHeader));
}

TEST_F(QuoteTest, BadUnprotectedHeader)
{
	CoseParts p = parts();
	auto chain = chain_->chain_der();
	chain.push_back(chain_->root_der()); /* the root is not carried */
	p.unprotected_header = testing::encode_unprotected(chain);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadUnprotectedHeader)) << last_message_;

	cbor_item_t *m = cbor_new_definite_map(1); /* x5bag (32) instead of x5chain */
	cbor_map_add(m, cbor_pair{cbor_move(cbor_build_uint8(32)), cbor_move(cbor_new_definite_array(0))});
	p.unprotected_header = encode(m);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadUnprotectedHeader));

	cbor_item_t *a = cbor_new_definite_array(3);
	for (int i = 0; i < 3; i++)
		cbor_array_push(a, cbor_move(cbor_build_uint8(0)));
	m = cbor_new_definite_map(1);
	cbor_map_add(m, cbor_pair{cbor_move(cbor_build_uint8(33)), cbor_move(a)});
	p.unprotected_header = encode(m);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadUnprotectedHeader));
}

TEST_F(QuoteTest, BadCertificateBytes)
{
	CoseParts p = parts();
	auto chain = chain_->chain_der();
	chain[1].push_back(0x00); /* trailing byte after the DER */
	p.unprotected_header = testing::encode_unprotected(chain);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadCertificate)) << last_message_;
	chain = chain_->chain_der();
	chain[0] = {0x30, 0x03, 0x02, 0x01, 0x01};
	p.unprotected_header = testing::encode_unprotected(chain);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadCertificate));
}

TEST_F(QuoteTest, SignatureLength)
{
	CoseParts p = parts();
	p.signature = Bytes(95, 1);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadSignatureLength));
	p.signature = Bytes(104, 1); /* DER-shaped lengths are not r||s */
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadSignatureLength));
}

TEST_F(QuoteTest, SignatureOfAnotherKey)
{
	auto other = DiceChain::create(inputs(5));
	ASSERT_TRUE(other.ok());
	CoseParts p = parts();
	auto sig = testing::sign_sig_structure(other.value(), p.protected_header, p.payload);
	ASSERT_TRUE(sig.ok());
	p.signature = sig.value();
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadSignature));
}

TEST_F(QuoteTest, BadPayload)
{
	CoseParts p = parts();
	p.payload = cbor_bytes(4);
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadPayload));
	p.payload = cat({parts().payload, Bytes{0x00}});
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadPayload));
	p.payload = {0xa1, 0x20};
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadPayload)); /* truncated map */
	p.payload = {0xbf, 0xff};
	EXPECT_EQ(code_of(assembled(p)), C(ErrorCode::kBadPayload)); /* indefinite map */
}

/* ---- chain defects ---- */

TEST_F(QuoteTest, EachChainDefectHasItsReason)
{
	const std::vector<std::pair<ChainFault, ErrorCode>> cases = {
		{ChainFault::kModuleNotCa, ErrorCode::kIssuerNotCa},
		{ChainFault::kModuleNoKeyCertSign, ErrorCode::kIssuerNoKeyCertSign},
		{ChainFault::kModuleNoTcbInfo, ErrorCode::kBadTcbInfo},
		{ChainFault::kModuleWrongIssuerName, ErrorCode::kChainNameMismatch},
		{ChainFault::kModuleSignedByRoot, ErrorCode::kChainSignature},
		{ChainFault::kPlatformUnknownCritical, ErrorCode::kUnknownCriticalExtension},
		{ChainFault::kLeafIsCa, ErrorCode::kLeafIsCa},
		{ChainFault::kLeafNoDigitalSignature, ErrorCode::kLeafNoDigitalSignature},
	};
	for (const auto &[fault, code] : cases) {
		auto c = testing::create_chain_with_fault(in_, fault);
		ASSERT_TRUE(c.ok()) << c.error().to_string();
		auto q = make_quote(c.value(), claims_);
		ASSERT_TRUE(q.ok());
		const std::string pem = c.value().root_pem();
		EXPECT_EQ(code_of(q.value(), std::nullopt, &pem), C(code))
			<< static_cast<int>(fault) << ": " << last_message_;
	}
}

TEST_F(QuoteTest, TcbInfoMustMatchTheCurrentClaims)
{
	QuoteClaims saved = claims_;
	claims_.seam.current.mrseam[5] ^= 1;
	EXPECT_EQ(code_of(assembled(parts())), C(ErrorCode::kTcbInfoMismatch)) << last_message_;
	claims_ = saved;
	claims_.seam.current.tee_tcb_svn[15] ^= 1;
	EXPECT_EQ(code_of(assembled(parts())), C(ErrorCode::kTcbInfoMismatch)) << last_message_;
	claims_ = saved;
	claims_.platform.current.digest[0] ^= 1;
	EXPECT_EQ(code_of(assembled(parts())), C(ErrorCode::kTcbInfoMismatch)) << last_message_;
	claims_ = saved;
	claims_.seam.origin.mrseam[0] ^= 1; /* origin is not vouched for by the certificates */
	EXPECT_EQ(code_of(assembled(parts())), 0) << last_message_;
}

/* ---- certificate form, on certificates edited and re-signed by the right issuer ---- */

Bytes resign(const Bytes &der, EVP_PKEY *signer, const EVP_MD *md, const std::function<void(X509 *)> &edit)
{
	const unsigned char *p = der.data();
	X509 *cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
	EXPECT_NE(cert, nullptr);
	if (!cert)
		return {};
	edit(cert);
	EXPECT_GT(X509_sign(cert, signer, md), 0);
	unsigned char *out = nullptr;
	const int len = i2d_X509(cert, &out);
	Bytes b(out, out + len);
	OPENSSL_free(out);
	X509_free(cert);
	return b;
}

void add_ext(X509 *cert, const char *oid, bool critical, const Bytes &der)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *data = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(data, der.data(), static_cast<int>(der.size()));
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, critical, data);
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(data);
	ASN1_OBJECT_free(obj);
}

void replace_tcb_info(X509 *cert, const TcbInfo &info)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(kTcbInfoOid, 1);
	X509_EXTENSION_free(X509_delete_ext(cert, X509_get_ext_by_OBJ(cert, obj, -1)));
	ASN1_OBJECT_free(obj);
	auto der = encode_tcb_info(info);
	ASSERT_TRUE(der.ok());
	add_ext(cert, kTcbInfoOid, true, der.value());
}

EVP_PKEY *p256_key()
{
	return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
}

class CertFormTest : public QuoteTest {
protected:
	/* The verifier's code for the chain with x5chain[index] edited and re-signed by its issuer. */
	int with_edited(int index, const std::function<void(X509 *)> &edit, const EVP_MD *md = EVP_sha384())
	{
		auto chain = chain_->chain_der();
		EVP_PKEY *issuer = chain_->state().keys[kQuoting - index - 1].get();
		chain[static_cast<size_t>(index)] = resign(chain[static_cast<size_t>(index)], issuer, md, edit);
		CoseParts p = parts();
		p.unprotected_header = testing::encode_unprotected(chain);
		return code_of(assembled(p));
	}
};

TEST_F(CertFormTest, ResignedUneditedStillVerifies)
{
	EXPECT_EQ(with_edited(1, [](X509 *) {}), 0) << last_message_;
}

TEST_F(CertFormTest, EachDefectOfFormHasItsReason)
{
	EXPECT_EQ(with_edited(0, [](X509 *) {}, EVP_sha256()), C(ErrorCode::kBadCertificate)) << last_message_;
	EXPECT_EQ(with_edited(0, [](X509 *c) { X509_set_version(c, X509_VERSION_1); }), C(ErrorCode::kBadCertificate))
		<< last_message_;
	EVP_PKEY *k = p256_key();
	ASSERT_NE(k, nullptr);
	EXPECT_EQ(with_edited(0, [k](X509 *c) { X509_set_pubkey(c, k); }), C(ErrorCode::kBadCertificate))
		<< last_message_;
	EVP_PKEY_free(k);
	EXPECT_EQ(with_edited(1,
			      [](X509 *c) {
				      X509_EXTENSION *bc = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints,
									       "critical,CA:TRUE");
				      X509_add_ext(c, bc, -1); /* twice */
				      X509_EXTENSION_free(bc);
			      }),
		  C(ErrorCode::kBadCertificate))
		<< last_message_;
}

TEST_F(CertFormTest, TcbInfoOfTheWrongShape)
{
	const TcbInfo good{"tdx-host", "TDX module", in_.module_svn, 2, in_.module_measurement};
	TcbInfo layer = good, model = good, vendor = good, nosvn = good;
	layer.layer = 3;
	model.model = "platform";
	vendor.vendor = "someone";
	nosvn.svn.reset();
	for (const auto &t : {layer, model, vendor, nosvn})
		EXPECT_EQ(with_edited(1, [&t](X509 *c) { replace_tcb_info(c, t); }), C(ErrorCode::kBadTcbInfo))
			<< last_message_;
	EXPECT_EQ(with_edited(1, [&good](X509 *c) { replace_tcb_info(c, good); }), 0) << last_message_;
	auto good_der = encode_tcb_info(good);
	ASSERT_TRUE(good_der.ok());
	EXPECT_EQ(with_edited(1, [&good_der](X509 *c) { add_ext(c, kTcbInfoOid, true, good_der.value()); }),
		  C(ErrorCode::kBadTcbInfo))
		<< "twice: " << last_message_;
	EXPECT_EQ(with_edited(1, [](X509 *c) { add_ext(c, kTcbInfoOid, true, Bytes{0x30, 0x00}); }),
		  C(ErrorCode::kBadTcbInfo))
		<< last_message_;
	EXPECT_EQ(with_edited(2,
			      [](X509 *c) {
				      ASN1_OBJECT *obj = OBJ_txt2obj(kTcbInfoOid, 1);
				      X509_EXTENSION_free(X509_delete_ext(c, X509_get_ext_by_OBJ(c, obj, -1)));
				      ASN1_OBJECT_free(obj);
				      add_ext(c, kTcbInfoOid, true, Bytes{0x04, 0x00}); /* not a SEQUENCE */
			      }),
		  C(ErrorCode::kBadTcbInfo))
		<< last_message_;
}

TEST_F(QuoteTest, RootOfTheWrongCurveIsRefused)
{
	EVP_PKEY *k = p256_key();
	ASSERT_NE(k, nullptr);
	X509 *root = X509_new();
	X509_set_version(root, X509_VERSION_3);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(root), "CN", MBSTRING_UTF8,
				   reinterpret_cast<const unsigned char *>("p256 root"), -1, -1, 0);
	X509_set_issuer_name(root, X509_get_subject_name(root));
	X509_gmtime_adj(X509_getm_notBefore(root), 0);
	X509_gmtime_adj(X509_getm_notAfter(root), 3600);
	X509_set_pubkey(root, k);
	ASSERT_GT(X509_sign(root, k, EVP_sha384()), 0);
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, root);
	char *data = nullptr;
	const long len = BIO_get_mem_data(bio, &data);
	const std::string pem(data, static_cast<size_t>(len));
	BIO_free(bio);
	X509_free(root);
	EVP_PKEY_free(k);
	EXPECT_EQ(code_of(quote(), std::nullopt, &pem), C(ErrorCode::kBadRoot)) << last_message_;
}

/* ---- trusted root ---- */

TEST_F(QuoteTest, BadTrustedRoot)
{
	const Bytes q = quote();
	const std::string garbage = "not a certificate";
	EXPECT_EQ(code_of(q, std::nullopt, &garbage), C(ErrorCode::kBadRoot));

	/* The platform certificate is a CA but not self-signed. */
	const Bytes der = chain_->chain_der()[2];
	const unsigned char *p = der.data();
	X509 *cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
	ASSERT_NE(cert, nullptr);
	BIO *bio = BIO_new(BIO_s_mem());
	ASSERT_EQ(PEM_write_bio_X509(bio, cert), 1);
	char *data = nullptr;
	const long len = BIO_get_mem_data(bio, &data);
	const std::string pem(data, static_cast<size_t>(len));
	BIO_free(bio);
	X509_free(cert);
	EXPECT_EQ(code_of(q, std::nullopt, &pem), C(ErrorCode::kBadRoot)) << last_message_;
}

TEST(Errors, EveryCodeHasItsOwnName)
{
	std::set<std::string> names;
	for (int c = C(ErrorCode::kInvalidArgument); c <= C(ErrorCode::kReportDataMismatch); c++)
		names.insert(error_code_name(static_cast<ErrorCode>(c)));
	EXPECT_EQ(names.size(), static_cast<size_t>(C(ErrorCode::kReportDataMismatch)));
	EXPECT_EQ(names.count("unknown-error"), 0u);
}

} // namespace
} // namespace dice_quote
