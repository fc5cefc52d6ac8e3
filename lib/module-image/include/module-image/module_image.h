// SPDX-License-Identifier: GPL-2.0
// TDX module images on the host side (docs/module-image.md): the blob formats v1/v2 of ABI.md §5,
// the sigstruct of ABI.md §4 (RSA-3072 PKCS#1 v1.5 SHA-384 signing and verification, signer
// trust by the SHA-384 of the modulus), the emulator manifest that test-signed images carry, and
// an index of a checkout of Intel's module-binaries repository (ABI.md §11). Used by
// tools/tdx-mkimage, tools/tdx-module-update and the emulator's P-SEAMLDR. OpenSSL 3 and
// nlohmann-json; nothing throws past this API.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <tdx/abi/image.h>
#include <tdx/abi/seamldr.h>

namespace module_image {

using Bytes = std::vector<std::uint8_t>;
using Digest48 = std::array<std::uint8_t, 48>;

/* One reason per failure, stable short names for tests and tools. */
struct Error {
	std::string code;    /* e.g. "bad-checksum", "untrusted-signer" */
	std::string message; /* what was found */
	std::string to_string() const { return code + ": " + message; }
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
struct Ok {};
using Status = Result<Ok>;

Digest48 sha384(std::span<const std::uint8_t> data);

/* A whole file ("io-error" when it cannot be read). */
Result<Bytes> read_file(const std::string &path);

/* "0x" (or "0X") and 1..16 hex digits, as mapping_file.json and the manifests write numbers. */
std::optional<std::uint64_t> parse_hex(const std::string &text);

/* ---- blobs ----------------------------------------------------------------------------------- */

/* Where the parts of a valid blob are. */
struct BlobLayout {
	std::uint16_t format = 0;           /* tdx::abi::kImageVersionV1 or kImageVersionV2 */
	std::size_t sigstruct_offset = 0;   /* 2048 bytes there */
	std::size_t module_offset = 0;      /* 4 KiB aligned */
	std::size_t module_pages = 0;       /* 1 .. kImageMaxModulePages */
};

/*
 * The header checks the kernel makes before an update (ABI.md §5), the same rules and the same
 * error codes: "truncated", "bad-version", "bad-signature-string", "bad-length", "bad-offset",
 * "too-many-pages", "reserved-not-zero", "bad-checksum" (which check gives which, and their
 * order: src/blob.cpp and docs/module-image.md).
 */
Result<BlobLayout> parse_blob(std::span<const std::uint8_t> blob);

/* The sigstruct of a blob parse_blob accepted. */
tdx::abi::Sigstruct blob_sigstruct(std::span<const std::uint8_t> blob, const BlobLayout &layout);

/* Set the checksum field (bytes 2..3, both formats) so that the word sum of the whole blob is 0. */
void set_blob_checksum(std::span<std::uint8_t> blob);

/* ---- sigstruct ------------------------------------------------------------------------------- */

/*
 * An RSA-3072 signing key (unencrypted PEM, PKCS#8 or traditional), e = 65537. Errors:
 * "key-unreadable" (no such file, not a PEM private key), "bad-key" (not RSA-3072 with e = 65537).
 */
struct SigningKey;
struct SigningKeyDeleter {
	void operator()(SigningKey *) const;
};
using SigningKeyPtr = std::unique_ptr<SigningKey, SigningKeyDeleter>;
Result<SigningKeyPtr> load_signing_key(const std::string &pem_path);

/*
 * Fill the sigstruct's modulus, exponent and signature: RSA-3072, EMSA-PKCS1-v1.5 with SHA-384
 * over header (128 bytes) || body (1148 bytes from offset 900); modulus and signature stored
 * little-endian. Every other field is taken as given. Error: "crypto-error".
 */
Status sign_sigstruct(tdx::abi::Sigstruct &s, const SigningKey &key);

/* SHA-384 of the sigstruct's modulus, as stored: the signer's identity. */
Digest48 signer_id(const tdx::abi::Sigstruct &s);
Digest48 signer_id(const SigningKey &key);
/* Intel's production signer (ABI.md §4). */
Digest48 intel_signer_id();
/* The project's test signer, lib/module-image/keys/test-signer.pem (a committed test key). */
Digest48 test_signer_id();

/*
 * What the P-SEAMLDR checks of the sigstruct itself: the header constants (header_type/length/
 * version, vendor, sizes, exponent, module_type only bit 31, attributes 0, cpuid_table_size <= 255)
 * → "bad-sigstruct"; the signer among `trusted` → "untrusted-signer"; the RSA signature →
 * "bad-rsa-signature".
 */
Status verify_sigstruct(const tdx::abi::Sigstruct &s, std::span<const Digest48> trusted);

/* The module image against the sigstruct's seamhash → "bad-hash". */
Status verify_seamhash(const tdx::abi::Sigstruct &s, std::span<const std::uint8_t> module);

bool sigstruct_is_debug(const tdx::abi::Sigstruct &s);
/* CPUID.1.EAX (stepping masked) in the sigstruct's table. */
bool sigstruct_supports_cpu(const tdx::abi::Sigstruct &s, std::uint32_t cpuid_1_eax);

/* ---- the emulator manifest of test-signed images --------------------------------------------- */

/*
 * The first module page of a test-signed image: the magic "SEAMEMU1", a u32 length (little-endian),
 * a u32 zero, then that many bytes of JSON (the "module" object of an emulator profile,
 * qemu-harness/seam-emu/profiles/README.md), zero-padded to the page end. Manifests longer than a
 * page continue in the next pages (length counts all of it).
 */
inline constexpr char kManifestMagic[8] = {'S', 'E', 'A', 'M', 'E', 'M', 'U', '1'};
Bytes manifest_pages(const std::string &json);
/* The manifest JSON of a module image, or nullopt when it has none (an Intel image). */
std::optional<std::string> read_manifest(std::span<const std::uint8_t> module);

/* ---- building images (tools/tdx-mkimage, tests) ---------------------------------------------- */

struct SigstructSpec {
	std::uint8_t major_svn = 0, minor_svn = 0;
	bool debug = false;
	std::uint32_t date_bcd = 0x20260101;
	std::uint16_t module_hv = 0, min_update_hv = 0;
	bool no_downgrade = false;
	std::uint16_t num_handoff_pages = 1;
	std::vector<std::uint32_t> cpuid_table; /* CPUID.1.EAX values, stepping masked */
};

/*
 * A signed sigstruct for this module image (seamhash = SHA-384 of `module`), the header constants
 * of ABI.md §4, module_type bit 31 when debug, the CPUID entries stepping-masked; the fields the
 * spec does not name stay zero. Errors: "bad-spec" (more than 255 CPUID entries), "crypto-error".
 */
Result<tdx::abi::Sigstruct> make_sigstruct(const SigstructSpec &spec, std::span<const std::uint8_t> module,
					   const SigningKey &key);

/*
 * A v1 or v2 blob around a sigstruct and a module image (a whole number of pages); v1 puts
 * `v1_padding_pages` zero pages between the sigstruct page and the module. The checksum is set in
 * both formats (set_blob_checksum). The page count is not limited (tests build too-large blobs);
 * an unknown format or a module that is not a whole number of pages gives an empty result.
 */
Bytes make_blob(std::uint16_t format, const tdx::abi::Sigstruct &s, std::span<const std::uint8_t> module,
		std::uint32_t v1_padding_pages = 0);

/* ---- a checkout of Intel's module-binaries repository ---------------------------------------- */

/* A version "major.minor.update" (update printed with two digits, as sysfs does). */
struct ModuleVersion {
	std::uint16_t major = 0, minor = 0, update = 0;
	auto operator<=>(const ModuleVersion &) const = default;
};
/* "1.5.06" (also "1.5.6"); nullopt unless three decimal numbers of at most 16 bits. */
std::optional<ModuleVersion> parse_version(const std::string &text);
std::string version_string(const ModuleVersion &v);

struct PublishedImage {
	std::string path;     /* joined_files/<major.minor>/tdx_module_<x.y.zz>.blob, or a flat file */
	std::uint16_t major = 0, minor = 0, update = 0; /* from the file name */
	std::optional<std::uint64_t> tdx_features0;      /* from mapping_file.json */
	std::optional<std::string> min_module_version_for_td_preserving;
	std::vector<std::string> min_seamldr_versions;
	Digest48 seamhash{};  /* from its sigstruct */
	tdx::abi::Sigstruct sigstruct{}; /* all of it: CPUID table, debug bit, SVNs for the selection rules */
};

/*
 * Every blob of such a checkout (or flat directory) with what mapping_file.json says of it, sorted
 * by version. The version comes from the file name (tdx_module_<x.y.zz>.blob; in joined_files it
 * must match its <major.minor> directory); a flat directory's blob named otherwise takes it from
 * its emulator manifest. mapping_file.json is optional; entries are matched by "version".
 * Errors: "io-error", "bad-mapping-file" (not JSON, no tdx_module_releases array, an entry
 * without a version, a field of the wrong type, tdx_feature0 not "0x<hex>", a version twice),
 * "bad-file-name", and parse_blob's codes for a blob it refuses (the path in the message).
 */
Result<std::vector<PublishedImage>> index_published(const std::string &dir);

} // namespace module_image
