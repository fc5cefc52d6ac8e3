// SPDX-License-Identifier: GPL-2.0
// module-image: every parse_blob error code from a crafted blob, the sigstruct signed and verified
// (every verification failure reached on purpose), the manifest, and the index of a directory laid
// out like Intel's module-binaries repository.
#include <cstring>
#include <functional>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "test_util.h"

namespace module_image::test {
namespace {

constexpr std::uint16_t kV1 = abi::kImageVersionV1;
constexpr std::uint16_t kV2 = abi::kImageVersionV2;

void put16(Bytes &b, std::size_t at, std::uint16_t v)
{
	std::memcpy(b.data() + at, &v, sizeof(v));
}
void put32(Bytes &b, std::size_t at, std::uint32_t v)
{
	std::memcpy(b.data() + at, &v, sizeof(v));
}

/* The blob after `edit`, with its checksum made right again so only the edit is wrong. */
Bytes edited(Bytes b, const std::function<void(Bytes &)> &edit)
{
	edit(b);
	set_blob_checksum(b);
	return b;
}

std::string code_of(std::span<const std::uint8_t> blob)
{
	auto r = parse_blob(blob);
	return r ? "ok" : r.error().code;
}

/* ---- parse_blob -------------------------------------------------------------------------------- */

TEST(ParseBlob, AcceptsV1)
{
	for (std::uint32_t padding : {0u, 2u}) {
		const Bytes module = module_of(3);
		const abi::Sigstruct s = signed_for(module);
		const Bytes blob = make_blob(kV1, s, module, padding);
		auto r = parse_blob(blob);
		ASSERT_TRUE(r) << r.error().to_string();
		EXPECT_EQ(r.value().format, kV1);
		EXPECT_EQ(r.value().sigstruct_offset, 0x1000u);
		EXPECT_EQ(r.value().module_offset, 0x2000u + padding * kPage);
		EXPECT_EQ(r.value().module_pages, 3u);
		EXPECT_EQ(blob.size(), r.value().module_offset + 3 * kPage);
		EXPECT_EQ(std::memcmp(&s, blob.data() + 0x1000, sizeof(s)), 0);
		const abi::Sigstruct back = blob_sigstruct(blob, r.value());
		EXPECT_EQ(std::memcmp(&s, &back, sizeof(s)), 0);
		EXPECT_TRUE(std::equal(module.begin(), module.end(), blob.begin() + std::ptrdiff_t(r.value().module_offset)));
		EXPECT_EQ(abi::image_word_sum(blob.data(), blob.size()), 0);
	}
}

TEST(ParseBlob, AcceptsV2)
{
	const Bytes blob = blob_of(kV2, 3);
	auto r = parse_blob(blob);
	ASSERT_TRUE(r) << r.error().to_string();
	EXPECT_EQ(r.value().format, kV2);
	EXPECT_EQ(r.value().sigstruct_offset, kPage);
	EXPECT_EQ(r.value().module_offset, 2 * kPage);
	EXPECT_EQ(r.value().module_pages, 3u);
	EXPECT_EQ(blob.size(), 5 * kPage);
}

TEST(ParseBlob, AcceptsTheLargestAndSmallestModules)
{
	for (std::uint16_t f : {kV1, kV2}) {
		EXPECT_EQ(code_of(blob_of(f, 1)), "ok");
		EXPECT_EQ(code_of(blob_of(f, abi::kImageMaxModulePages)), "ok");
	}
}

TEST(ParseBlob, V2ChecksumZeroIsNotChecked)
{
	Bytes b = blob_of(kV2);
	put16(b, 2, 0);
	b[b.size() - 1] ^= 0x55;
	ASSERT_NE(abi::image_word_sum(b.data(), b.size()), 0);
	EXPECT_EQ(code_of(b), "ok");
}

TEST(ParseBlob, Truncated)
{
	for (std::uint16_t f : {kV1, kV2}) {
		const Bytes good = blob_of(f);
		EXPECT_EQ(code_of(std::span(good).first(0)), "truncated");
		EXPECT_EQ(code_of(std::span(good).first(kPage - 1)), "truncated");
		/* The last page missing, the length field untouched. */
		EXPECT_EQ(code_of(edited(good, [](Bytes &b) { b.erase(b.end() - kPage, b.end()); })), "truncated");
		EXPECT_EQ(code_of(edited(good, [](Bytes &b) { b.erase(b.end() - 2, b.end()); })), "truncated");
	}
}

TEST(ParseBlob, BadVersion)
{
	for (std::uint16_t f : {kV1, kV2})
		for (std::uint16_t v : {0x0, 0x101, 0x1, 0x300, 0x2})
			EXPECT_EQ(code_of(edited(blob_of(f), [v](Bytes &b) { put16(b, 0, v); })), "bad-version") << v;
}

TEST(ParseBlob, BadSignatureString)
{
	EXPECT_EQ(code_of(edited(blob_of(kV1), [](Bytes &b) { b[15] = 'C'; })), "bad-signature-string");
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) { b[4] = 't'; })), "bad-signature-string");
	/* Each format's string at the other's place. */
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) { put16(b, 0, kV1); })), "bad-signature-string");
	EXPECT_EQ(code_of(edited(blob_of(kV1), [](Bytes &b) { put16(b, 0, kV2); })), "bad-signature-string");
}

TEST(ParseBlob, BadLength)
{
	for (std::uint16_t f : {kV1, kV2}) /* a page appended, the header unchanged */
		EXPECT_EQ(code_of(edited(blob_of(f), [](Bytes &b) { b.resize(b.size() + kPage); })), "bad-length");
	/* v1: length and size agree but the module part is not whole pages. */
	EXPECT_EQ(code_of(edited(blob_of(kV1), [](Bytes &b) {
			  b.resize(b.size() + 64);
			  put32(b, 16, std::uint32_t(b.size()));
		  })),
		  "bad-length");
	/* v2: no sigstruct page, no module page. */
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) { put32(b, 12, 0); })), "bad-length");
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) {
			  put32(b, 16, 0);
			  b.resize(2 * kPage);
		  })),
		  "bad-length");
}

TEST(ParseBlob, BadOffset)
{
	const Bytes good = blob_of(kV1, 2, 1); /* module at 0x3000, file 0x5000 */
	for (std::uint32_t off : {0x2800u, 0x2001u, 0x1000u, 0x0u, 0x5000u, 0x6000u, 0xFFFFF000u})
		EXPECT_EQ(code_of(edited(good, [off](Bytes &b) { put32(b, 4, off); })), "bad-offset") << off;
	EXPECT_EQ(code_of(edited(good, [](Bytes &b) { put32(b, 4, 0x2000); })), "ok");
	EXPECT_EQ(code_of(edited(good, [](Bytes &b) { put32(b, 4, 0x4000); })), "ok");
}

TEST(ParseBlob, TooManyPages)
{
	EXPECT_EQ(code_of(blob_of(kV1, abi::kImageMaxModulePages + 1)), "too-many-pages");
	EXPECT_EQ(code_of(blob_of(kV2, abi::kImageMaxModulePages + 1)), "too-many-pages");
	/* v2's counts are checked before the size they imply. */
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) { put32(b, 16, 497); })), "too-many-pages");
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) { put32(b, 16, 0xFFFFFFFF); })), "too-many-pages");
	EXPECT_EQ(code_of(edited(blob_of(kV2), [](Bytes &b) {
			  put32(b, 12, 2);
			  b.insert(b.begin() + 2 * kPage, kPage, 0);
		  })),
		  "too-many-pages");
}

TEST(ParseBlob, ReservedNotZero)
{
	for (std::size_t at : {20u, 23u, 24u, 100u, 4095u})
		EXPECT_EQ(code_of(edited(blob_of(kV1), [at](Bytes &b) { b[at] = 1; })), "reserved-not-zero") << at;
	for (std::size_t at : {20u, 21u, 2000u, 4095u})
		EXPECT_EQ(code_of(edited(blob_of(kV2), [at](Bytes &b) { b[at] = 0x80; })), "reserved-not-zero") << at;
}

TEST(ParseBlob, BadChecksum)
{
	for (std::uint16_t f : {kV1, kV2}) {
		Bytes b = blob_of(f);
		ASSERT_NE(b[2] | b[3], 0) << "the checksum must be non-zero to be checked in v2";
		Bytes field = b;
		put16(field, 2, std::uint16_t(field[2] + 1));
		EXPECT_EQ(code_of(field), "bad-checksum");
		Bytes body = b;
		body[body.size() - 100] ^= 1; /* a module byte */
		EXPECT_EQ(code_of(body), "bad-checksum");
		Bytes sig = b;
		sig[kPage + 600] ^= 0x10; /* a sigstruct byte */
		EXPECT_EQ(code_of(sig), "bad-checksum");
	}
}

/* ---- the sigstruct ------------------------------------------------------------------------------ */

const Digest48 kTestOnly[] = {test_signer_id()};

std::string verify_code(const abi::Sigstruct &s, std::span<const Digest48> trusted = kTestOnly)
{
	auto r = verify_sigstruct(s, trusted);
	return r ? "ok" : r.error().code;
}

TEST(Sigstruct, SignAndVerify)
{
	const Bytes module = module_of(4);
	const abi::Sigstruct s = signed_for(module);
	EXPECT_EQ(verify_code(s), "ok");
	const Digest48 both[] = {intel_signer_id(), test_signer_id()};
	EXPECT_EQ(verify_code(s, both), "ok");
	EXPECT_TRUE(verify_seamhash(s, module));

	EXPECT_EQ(signer_id(s), signer_id(test_key()));
	EXPECT_EQ(signer_id(test_key()), test_signer_id()) << "kTestSignerId does not match keys/test-signer.pem";
	EXPECT_NE(signer_id(other_key()), test_signer_id());
	EXPECT_EQ(sha384(module), Digest48(std::to_array(s.seamhash)));
}

TEST(Sigstruct, FieldsFromTheSpec)
{
	SigstructSpec sp = spec();
	sp.debug = true;
	sp.date_bcd = 0x20251231;
	sp.no_downgrade = true;
	sp.cpuid_table = {0x806f8, 0xa06d3};
	auto r = make_sigstruct(sp, module_of(1), test_key());
	ASSERT_TRUE(r);
	const abi::Sigstruct &s = r.value();
	EXPECT_EQ(s.header_type, 6u);
	EXPECT_EQ(s.header_length, 0xE1u);
	EXPECT_EQ(s.header_version, 0x10000u);
	EXPECT_EQ(s.module_type, 0x80000000u);
	EXPECT_EQ(s.module_vendor, 0x8086u);
	EXPECT_EQ(s.date, 0x20251231u);
	EXPECT_EQ(s.size, 0x200u);
	EXPECT_EQ(s.key_size, 0x60u);
	EXPECT_EQ(s.modulus_size, 0x60u);
	EXPECT_EQ(s.exponent_size, 1u);
	EXPECT_EQ(s.exponent, 65537u);
	EXPECT_EQ(s.major_svn, 1);
	EXPECT_EQ(s.minor_svn, 6);
	EXPECT_EQ(s.module_hv, 3);
	EXPECT_EQ(s.min_update_hv, 1);
	EXPECT_EQ(s.no_downgrade, 1);
	EXPECT_EQ(s.num_handoff_pages, 2);
	ASSERT_EQ(s.cpuid_table_size, 2u);
	EXPECT_EQ(s.cpuid_table[0], 0x806f0u);
	EXPECT_EQ(s.cpuid_table[1], 0xa06d0u);
	EXPECT_TRUE(sigstruct_is_debug(s));
	EXPECT_EQ(verify_code(s), "ok") << "a debug-signed sigstruct passes the sigstruct checks";

	EXPECT_TRUE(sigstruct_supports_cpu(s, 0x806f8));
	EXPECT_TRUE(sigstruct_supports_cpu(s, 0x806f0));
	EXPECT_TRUE(sigstruct_supports_cpu(s, 0xa06d1));
	EXPECT_FALSE(sigstruct_supports_cpu(s, 0x806e8));
	EXPECT_FALSE(sigstruct_supports_cpu(s, 0xc06f2));
	EXPECT_FALSE(sigstruct_is_debug(signed_for(module_of(1))));
}

TEST(Sigstruct, TooManyCpuidEntries)
{
	SigstructSpec sp = spec();
	sp.cpuid_table.assign(256, 0x806f0);
	auto r = make_sigstruct(sp, module_of(1), test_key());
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, "bad-spec");
	sp.cpuid_table.resize(255);
	EXPECT_TRUE(make_sigstruct(sp, module_of(1), test_key()));
}

/* Each header constant wrong, the sigstruct signed again: the constant check alone refuses it. */
TEST(Sigstruct, BadSigstructForEachConstant)
{
	const std::pair<const char *, std::function<void(abi::Sigstruct &)>> edits[] = {
		{"header_type", [](abi::Sigstruct &s) { s.header_type = 7; }},
		{"header_length", [](abi::Sigstruct &s) { s.header_length = 0xE0; }},
		{"header_version", [](abi::Sigstruct &s) { s.header_version = 0x20000; }},
		{"module_type bit 0", [](abi::Sigstruct &s) { s.module_type = 1; }},
		{"module_type bit 30", [](abi::Sigstruct &s) { s.module_type = abi::kSigstructModuleTypeDebug | 1u << 30; }},
		{"module_vendor", [](abi::Sigstruct &s) { s.module_vendor = 0x1022; }},
		{"size", [](abi::Sigstruct &s) { s.size = 0x100; }},
		{"key_size", [](abi::Sigstruct &s) { s.key_size = 0x40; }},
		{"modulus_size", [](abi::Sigstruct &s) { s.modulus_size = 0x40; }},
		{"exponent_size", [](abi::Sigstruct &s) { s.exponent_size = 2; }},
		{"attributes", [](abi::Sigstruct &s) { s.attributes = 1; }},
		{"cpuid_table_size", [](abi::Sigstruct &s) { s.cpuid_table_size = 256; }},
	};
	const abi::Sigstruct good = signed_for(module_of(1));
	for (const auto &[name, edit] : edits) {
		abi::Sigstruct s = good;
		edit(s);
		ASSERT_TRUE(sign_sigstruct(s, test_key()));
		auto r = verify_sigstruct(s, kTestOnly);
		ASSERT_FALSE(r) << name;
		EXPECT_EQ(r.error().code, "bad-sigstruct") << name;
		EXPECT_NE(r.error().message.find(std::string(name).substr(0, 8)), std::string::npos) << r.error().message;
	}
	/* The exponent: sign_sigstruct writes 65537, so change it afterwards. */
	abi::Sigstruct s = good;
	s.exponent = 3;
	EXPECT_EQ(verify_code(s), "bad-sigstruct");
}

TEST(Sigstruct, UntrustedSigner)
{
	const Bytes module = module_of(2);
	const abi::Sigstruct s = signed_for(module, other_key());
	EXPECT_EQ(verify_code(s), "untrusted-signer");
	const Digest48 intel[] = {intel_signer_id()};
	EXPECT_EQ(verify_code(s, intel), "untrusted-signer");
	EXPECT_EQ(verify_code(s, {}), "untrusted-signer");
	const Digest48 other[] = {test_signer_id(), signer_id(other_key())};
	EXPECT_EQ(verify_code(s, other), "ok") << "the signature itself is good";
}

TEST(Sigstruct, BadRsaSignature)
{
	const abi::Sigstruct good = signed_for(module_of(1));
	const std::pair<const char *, std::function<void(abi::Sigstruct &)>> edits[] = {
		{"signature byte 0", [](abi::Sigstruct &s) { s.signature[0] ^= 1; }},
		{"signature byte 383", [](abi::Sigstruct &s) { s.signature[383] ^= 0x80; }},
		{"body: minor_svn", [](abi::Sigstruct &s) { s.minor_svn ^= 1; }},
		{"body: seamhash", [](abi::Sigstruct &s) { s.seamhash[47] ^= 1; }},
		{"body: last byte", [](abi::Sigstruct &s) { reinterpret_cast<std::uint8_t *>(&s)[2047] ^= 1; }},
		{"header: date", [](abi::Sigstruct &s) { s.date ^= 1; }},
		{"header: debug bit", [](abi::Sigstruct &s) { s.module_type ^= abi::kSigstructModuleTypeDebug; }},
	};
	for (const auto &[name, edit] : edits) {
		abi::Sigstruct s = good;
		edit(s);
		EXPECT_EQ(verify_code(s), "bad-rsa-signature") << name;
	}
	/* Another modulus that happens to be trusted does not verify the test signer's signature. */
	abi::Sigstruct swapped = good;
	const abi::Sigstruct by_other = signed_for(module_of(1), other_key());
	std::memcpy(swapped.modulus, by_other.modulus, sizeof(swapped.modulus));
	const Digest48 both[] = {test_signer_id(), signer_id(other_key())};
	EXPECT_EQ(verify_code(swapped, both), "bad-rsa-signature");
}

TEST(Sigstruct, BadHash)
{
	const Bytes module = module_of(3);
	const abi::Sigstruct s = signed_for(module);
	ASSERT_TRUE(verify_seamhash(s, module));
	for (std::size_t at : {std::size_t(0), std::size_t(5000), module.size() - 1}) {
		Bytes m = module;
		m[at] ^= 1;
		auto r = verify_seamhash(s, m);
		ASSERT_FALSE(r) << at;
		EXPECT_EQ(r.error().code, "bad-hash");
	}
	Bytes longer = module;
	longer.resize(longer.size() + kPage);
	EXPECT_FALSE(verify_seamhash(s, longer));
	EXPECT_FALSE(verify_seamhash(s, std::span(module).first(module.size() - kPage)));
}

/* ---- keys ----------------------------------------------------------------------------------------- */

std::string key_code(const std::string &path)
{
	auto r = load_signing_key(path);
	return r ? "ok" : r.error().code;
}

void write_pem(const std::filesystem::path &path, EVP_PKEY *pkey)
{
	FILE *f = fopen(path.c_str(), "w");
	ASSERT_NE(f, nullptr);
	EXPECT_EQ(PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr), 1);
	fclose(f);
	EVP_PKEY_free(pkey);
}

TEST(SigningKey, Refusals)
{
	TempDir dir;
	EXPECT_EQ(key_code(key_path("test-signer.pem")), "ok");
	EXPECT_EQ(key_code((dir.path() / "missing.pem").string()), "key-unreadable");
	write_file(dir.path() / "junk.pem", std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
	EXPECT_EQ(key_code((dir.path() / "junk.pem").string()), "key-unreadable");
	write_pem(dir.path() / "rsa2048.pem", EVP_RSA_gen(2048));
	EXPECT_EQ(key_code((dir.path() / "rsa2048.pem").string()), "bad-key");
	write_pem(dir.path() / "p384.pem", EVP_EC_gen("P-384"));
	EXPECT_EQ(key_code((dir.path() / "p384.pem").string()), "bad-key");
}

/* ---- manifest ------------------------------------------------------------------------------------- */

TEST(Manifest, RoundTrip)
{
	const std::size_t prefix = 16;
	for (std::size_t len : {std::size_t(2), std::size_t(300), kPage - prefix, kPage - prefix + 1, 3 * kPage + 5}) {
		std::string json = "{\"k\":\"" + std::string(len - std::min<std::size_t>(len, 8), 'x') + "\"}";
		json.resize(len, ' ');
		const Bytes pages = manifest_pages(json);
		EXPECT_EQ(pages.size(), (prefix + len + kPage - 1) / kPage * kPage) << len;
		EXPECT_EQ(std::memcmp(pages.data(), "SEAMEMU1", 8), 0);
		std::uint32_t stored, zero;
		std::memcpy(&stored, pages.data() + 8, 4);
		std::memcpy(&zero, pages.data() + 12, 4);
		EXPECT_EQ(stored, len);
		EXPECT_EQ(zero, 0u);
		EXPECT_TRUE(std::all_of(pages.begin() + std::ptrdiff_t(prefix + len), pages.end(), [](auto b) { return b == 0; }));

		Bytes module = pages;
		const Bytes filler = module_of(2);
		module.insert(module.end(), filler.begin(), filler.end());
		EXPECT_EQ(read_manifest(module), json) << len;
		EXPECT_EQ(read_manifest(pages), json) << len;
	}
}

TEST(Manifest, Absent)
{
	EXPECT_EQ(read_manifest({}), std::nullopt);
	EXPECT_EQ(read_manifest(module_of(1)), std::nullopt);
	EXPECT_EQ(read_manifest(Bytes(kPage, 0)), std::nullopt);
	Bytes short_one = manifest_pages("{}");
	EXPECT_EQ(read_manifest(std::span(short_one).first(15)), std::nullopt);
	Bytes too_long = manifest_pages("{}");
	put32(too_long, 8, std::uint32_t(kPage - 15));
	EXPECT_EQ(read_manifest(too_long), std::nullopt);
	put32(too_long, 8, std::uint32_t(kPage - 16));
	EXPECT_TRUE(read_manifest(too_long).has_value());
	Bytes nonzero = manifest_pages("{}");
	nonzero[12] = 1;
	EXPECT_EQ(read_manifest(nonzero), std::nullopt);
}

/* ---- versions and the published-image index ------------------------------------------------------- */

TEST(Version, ParseAndPrint)
{
	EXPECT_EQ(parse_version("1.5.06"), (ModuleVersion{1, 5, 6}));
	EXPECT_EQ(parse_version("2.0.8"), (ModuleVersion{2, 0, 8}));
	EXPECT_EQ(parse_version("65535.0.100"), (ModuleVersion{65535, 0, 100}));
	for (const char *bad : {"", "1.5", "1.5.06.1", "1.5.x", "65536.0.0", " 1.5.06", "1..5", "-1.5.6"})
		EXPECT_EQ(parse_version(bad), std::nullopt) << bad;
	EXPECT_EQ(version_string({1, 5, 6}), "1.5.06");
	EXPECT_EQ(version_string({2, 0, 108}), "2.0.108");
	EXPECT_LT((ModuleVersion{1, 5, 16}), (ModuleVersion{2, 0, 2}));
}

TEST(Hex, Parse)
{
	EXPECT_EQ(parse_hex("0x1F"), 0x1Fu);
	EXPECT_EQ(parse_hex("0X0"), 0u);
	EXPECT_EQ(parse_hex("0x2E1F0FBF"), 0x2E1F0FBFu);
	EXPECT_EQ(parse_hex("0xFFFFFFFFFFFFFFFF"), ~0ull);
	for (const char *bad : {"", "0x", "1F", "x1F", "0x1G", "0x-1", " 0x1", "0x10000000000000000"})
		EXPECT_EQ(parse_hex(bad), std::nullopt) << bad;
}

const char *kMapping = R"({
  "Header": {"Info": "test", "Version": "1.0"},
  "tdx_module_releases": [
    {"version": "1.5.06", "min_module_version_for_td_preserving": "1.5.01",
     "min_seamldr_versions": ["1.5.00", "2.0.00"], "tdx_feature0": "0x2E1F0FBF"},
    {"version": "1.5.08", "min_module_version_for_td_preserving": "1.5.01",
     "min_seamldr_versions": ["1.5.00"], "tdx_feature0": "0x22E1F0FBF", "future_key": 1},
    {"version": "1.5.99", "tdx_feature0": "0x1"}
  ]
})";

/* A blob whose module is `seed`-specific, so every file has its own seamhash. */
Bytes blob_seeded(std::uint8_t seed, std::uint16_t format = kV1)
{
	const Bytes module = module_of(2, seed);
	return make_blob(format, signed_for(module), module);
}

Digest48 seamhash_of(const Bytes &blob)
{
	const abi::Sigstruct s = blob_sigstruct(blob, parse_blob(blob).value());
	return std::to_array(s.seamhash);
}

std::string index_code(const std::filesystem::path &dir)
{
	auto r = index_published(dir.string());
	return r ? "ok" : r.error().code;
}

TEST(IndexPublished, IntelLayout)
{
	TempDir dir;
	const Bytes b106 = blob_seeded(1), b108 = blob_seeded(2, kV2), b202 = blob_seeded(3);
	write_file(dir.path() / "joined_files/1.5/tdx_module_1.5.08.blob", b108);
	write_file(dir.path() / "joined_files/1.5/tdx_module_1.5.06.blob", b106);
	write_file(dir.path() / "joined_files/2.0/tdx_module_2.0.02.blob", b202);
	write_file(dir.path() / "joined_files/2.0/notes.txt", std::string("not a blob"));
	write_file(dir.path() / "separate_files/1.5/1.5.06/tdx_module_1.5.06.bin", std::string("ignored"));
	write_file(dir.path() / "mapping_file.json", std::string(kMapping));

	auto r = index_published(dir.path().string());
	ASSERT_TRUE(r) << r.error().to_string();
	const auto &images = r.value();
	ASSERT_EQ(images.size(), 3u);
	EXPECT_EQ(images[0].path, (dir.path() / "joined_files/1.5/tdx_module_1.5.06.blob").string());
	EXPECT_EQ((ModuleVersion{images[0].major, images[0].minor, images[0].update}), (ModuleVersion{1, 5, 6}));
	EXPECT_EQ(images[0].tdx_features0, 0x2E1F0FBFu);
	EXPECT_EQ(images[0].min_module_version_for_td_preserving, "1.5.01");
	EXPECT_EQ(images[0].min_seamldr_versions, (std::vector<std::string>{"1.5.00", "2.0.00"}));
	EXPECT_EQ(images[0].seamhash, seamhash_of(b106));
	EXPECT_EQ(images[0].sigstruct.cpuid_table_size, 2u);
	EXPECT_EQ(signer_id(images[0].sigstruct), test_signer_id());

	EXPECT_EQ((ModuleVersion{images[1].major, images[1].minor, images[1].update}), (ModuleVersion{1, 5, 8}));
	EXPECT_EQ(images[1].tdx_features0, 0x22E1F0FBFu);
	EXPECT_EQ(images[1].seamhash, seamhash_of(b108));

	EXPECT_EQ((ModuleVersion{images[2].major, images[2].minor, images[2].update}), (ModuleVersion{2, 0, 2}));
	EXPECT_EQ(images[2].tdx_features0, std::nullopt) << "2.0.02 is not in the mapping file";
	EXPECT_EQ(images[2].min_module_version_for_td_preserving, std::nullopt);
	EXPECT_TRUE(images[2].min_seamldr_versions.empty());
	EXPECT_EQ(images[2].seamhash, seamhash_of(b202));
}

TEST(IndexPublished, FlatDirectory)
{
	TempDir dir;
	write_file(dir.path() / "tdx_module_1.5.06.blob", blob_seeded(1));
	/* A test image named freely: its version comes from its manifest. */
	Bytes module = manifest_pages(R"({"major": 1, "minor": 5, "update": 9, "build_num": 1})");
	const Bytes filler = module_of(1);
	module.insert(module.end(), filler.begin(), filler.end());
	write_file(dir.path() / "next.blob", make_blob(kV2, signed_for(module), module));
	write_file(dir.path() / "readme.txt", std::string("x"));

	auto r = index_published(dir.path().string());
	ASSERT_TRUE(r) << r.error().to_string();
	ASSERT_EQ(r.value().size(), 2u);
	EXPECT_EQ(r.value()[0].update, 6);
	EXPECT_EQ(r.value()[0].tdx_features0, std::nullopt) << "no mapping file";
	EXPECT_EQ(r.value()[1].update, 9);
	EXPECT_EQ(r.value()[1].path, (dir.path() / "next.blob").string());

	TempDir empty;
	ASSERT_TRUE(index_published(empty.path().string()));
	EXPECT_TRUE(index_published(empty.path().string()).value().empty());
}

TEST(IndexPublished, Refusals)
{
	{
		TempDir dir; /* no version anywhere */
		write_file(dir.path() / "image.blob", blob_seeded(1));
		EXPECT_EQ(index_code(dir.path()), "bad-file-name");
	}
	{
		TempDir dir; /* a 1.5 image under joined_files/2.0 */
		write_file(dir.path() / "joined_files/2.0/tdx_module_1.5.06.blob", blob_seeded(1));
		EXPECT_EQ(index_code(dir.path()), "bad-file-name");
	}
	{
		TempDir dir; /* a blob the header checks refuse */
		Bytes b = blob_seeded(1);
		b[b.size() - 1] ^= 1;
		write_file(dir.path() / "joined_files/1.5/tdx_module_1.5.06.blob", b);
		auto r = index_published(dir.path().string());
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error().code, "bad-checksum");
		EXPECT_NE(r.error().message.find("tdx_module_1.5.06.blob"), std::string::npos);
	}
	EXPECT_EQ(index_code("/nonexistent/module-binaries"), "io-error");
}

TEST(IndexPublished, MalformedMappingFile)
{
	const char *bad[] = {
		"{",
		"[]",
		R"({"Header": {}})",
		R"({"tdx_module_releases": {}})",
		R"({"tdx_module_releases": [{"tdx_feature0": "0x1"}]})",
		R"({"tdx_module_releases": [{"version": 106}]})",
		R"({"tdx_module_releases": [{"version": "1.5"}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "tdx_feature0": "F0FBF"}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "tdx_feature0": 12345}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "tdx_feature0": "0x12345678901234567"}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "tdx_feature0": "0xG"}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "min_seamldr_versions": "1.5.00"}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "min_seamldr_versions": ["1.5"]}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06", "min_module_version_for_td_preserving": 1}]})",
		R"({"tdx_module_releases": [{"version": "1.5.06"}, {"version": "1.5.6"}]})",
	};
	for (const char *text : bad) {
		TempDir dir;
		write_file(dir.path() / "joined_files/1.5/tdx_module_1.5.06.blob", blob_seeded(1));
		write_file(dir.path() / "mapping_file.json", std::string(text));
		auto r = index_published(dir.path().string());
		ASSERT_FALSE(r) << text;
		EXPECT_EQ(r.error().code, "bad-mapping-file") << text;
		EXPECT_NE(r.error().message.find("mapping_file.json"), std::string::npos) << r.error().message;
	}
}

} // namespace
} // namespace module_image::test
