// SPDX-License-Identifier: GPL-2.0
/*
 * Intel's published module images through the kernel's own checks, when TDX_MODULE_BINARIES names
 * a checkout of intel/confidential-computing.tdx.tdx-module.binaries (never committed here; the
 * tests are skipped without it). Every *.blob under it: validate_image() accepts it with the
 * layout of a v1 blob, build_seamldr_params() names its pages, and preflight() accepts it over a
 * running Intel-signed module it can replace, with the facts the kernel gathers (the sigstruct's
 * RSA signature, the signer's and the module's SHA-384) computed through the same kapi calls.
 * One flipped module byte is a bad checksum, and with the checksum made whole again a bad hash;
 * one flipped signature byte is a bad RSA signature. The separately published parts
 * (separate_files/: a .sigstruct and a .bin per version) joined as a v2 blob, the upstream
 * format, pass too. The gathering of the facts is core.cpp's, written again here (it is private
 * to update_prepare()); preflight() and the kapi calls are the kernel's.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tdx/abi/image.h>
#include <tdx/abi/seamldr.h>

#include "update.h"
#include "update_image.h"

using namespace tdx;

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<u8>;

constexpr u64 kPage = 4096;
constexpr const char kSkip[] =
	"TDX_MODULE_BINARIES is not set (a checkout of Intel's module-binaries repository)";

std::optional<fs::path> binaries_dir()
{
	const char *dir = std::getenv("TDX_MODULE_BINARIES");
	if (!dir || !*dir)
		return std::nullopt;
	return fs::path(dir);
}

/* Every regular file under dir whose name ends in ext, sorted. */
std::vector<fs::path> files_with(const fs::path &dir, const std::string &ext)
{
	std::vector<fs::path> out;
	for (const auto &e : fs::recursive_directory_iterator(dir))
		if (e.is_regular_file() && e.path().extension() == ext)
			out.push_back(e.path());
	std::sort(out.begin(), out.end());
	return out;
}

Bytes read_all(const fs::path &p)
{
	std::ifstream in(p, std::ios::binary);
	return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/* The checksum field (at 2 in both formats) set so that the file's 16-bit word sum is 0 again. */
void fix_checksum(Bytes &b)
{
	auto &h = *reinterpret_cast<tdx::abi::ImageHeaderV1 *>(b.data());
	h.checksum = 0;
	h.checksum = u16(-tdx::abi::image_word_sum(b.data(), b.size()));
}

/* The upstream format (v2) of a sigstruct and a module: header, one sigstruct page, the module. */
Bytes join_v2(const Bytes &sigstruct, const Bytes &module)
{
	Bytes b(2 * kPage + module.size());
	auto &h = *reinterpret_cast<tdx::abi::ImageHeaderV2 *>(b.data());
	h.version = tdx::abi::kImageVersionV2;
	std::memcpy(h.signature, tdx::abi::kImageSignature, sizeof(h.signature));
	h.sigstruct_nr_pages = 1;
	h.module_nr_pages = u32(module.size() / kPage);
	std::copy(sigstruct.begin(), sigstruct.end(), b.begin() + kPage);
	std::copy(module.begin(), module.end(), b.begin() + 2 * kPage);
	fix_checksum(b);
	return b;
}

Result<ImageLayout> validate(const Bytes &b, ImageRefusal *why)
{
	return validate_image(Span<const u8>(b.data(), b.size()), why);
}

/* validate_image's verdict: "accepted" or the refusal's code. */
std::string header_verdict(const Bytes &b)
{
	ImageRefusal why;
	return validate(b, &why).is_ok() ? "accepted" : why.code_name();
}

tdx::abi::Sigstruct sigstruct_of(const Bytes &blob, const ImageLayout &l)
{
	tdx::abi::Sigstruct s;
	std::memcpy(&s, blob.data() + l.sigstruct_offset, sizeof(s));
	return s;
}

void reverse_into(u8 *dst, const u8 *src, usize n)
{
	for (usize i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/*
 * What the kernel's update_prepare() gathers for preflight() from the image (core.cpp): the
 * sigstruct's RSA signature over header || body with the key it carries (stored little-endian),
 * the SHA-384 of its modulus as stored, the SHA-384 of the module pages. The platform's side is
 * a running Intel-signed module this image may replace: same SVNs, its handoff version, the
 * first CPU of its table, one update left.
 */
UpdateFacts facts_for(const Bytes &blob, const ImageLayout &l, const tdx::abi::Sigstruct &running)
{
	const tdx::abi::Sigstruct s = sigstruct_of(blob, l);
	UpdateFacts f{}; /* aggregate: SEAMLDR.INFO all zero but what is set here */
	f.seamldr.seam_ready = 1;
	f.seamldr.num_remaining_updates = 1;
	f.seamldr.seam_info.valid = 1;
	f.seamldr.seam_info.tee_tcb_svn[tdx::abi::kTeeTcbSvnMajor] = running.major_svn;
	f.seamldr.seam_info.tee_tcb_svn[tdx::abi::kTeeTcbSvnMinor] = running.minor_svn;
	/* MRSIGNERSEAM stays zero: TEE_TCB_INFO's value for a module Intel signed. */
	f.module_hv = running.module_hv;
	f.cpu_signature = running.cpuid_table_size ? running.cpuid_table[0] : 0;

	const u8 *raw = reinterpret_cast<const u8 *>(&s);
	Bytes signed_part(raw, raw + tdx::abi::kSigstructHeaderBytes);
	signed_part.insert(signed_part.end(), raw + tdx::abi::kSigstructBodyOffset, raw + tdx::abi::kSigstructSize);
	u8 digest[48];
	u8 modulus_be[tdx::abi::kSigstructRsaBytes], signature_be[tdx::abi::kSigstructRsaBytes];
	EXPECT_EQ(kapi_sha384(signed_part.data(), signed_part.size(), digest), 0);
	reverse_into(modulus_be, s.modulus, sizeof(modulus_be));
	reverse_into(signature_be, s.signature, sizeof(signature_be));
	const int r = kapi_rsa_pkcs1_sha384_verify(modulus_be, sizeof(modulus_be), s.exponent, signature_be, digest);
	EXPECT_TRUE(r == 0 || r == -kstd::err::kEKEYREJECTED) << "the check could not be made: " << r;
	f.signature_ok = r == 0;
	EXPECT_EQ(kapi_sha384(s.modulus, sizeof(s.modulus), f.signer_id), 0);
	EXPECT_EQ(kapi_sha384(blob.data() + l.module_offset, u64(l.module_pages) * kPage, f.module_hash), 0);
	return f;
}

/* validate_image's verdict, then (when it accepts) preflight's code, over a running `running`. */
std::string verdict(const Bytes &b, const tdx::abi::Sigstruct &running)
{
	ImageRefusal why;
	Result<ImageLayout> l = validate(b, &why);
	if (l.is_error())
		return why.code_name();
	return update_refusal_code(preflight(sigstruct_of(b, l.value()), facts_for(b, l.value(), running)));
}

/* A fake vmalloc_to_pfn: the blob lies at 1 GiB, each page in place. */
kapi_u64 fake_pfn(const void *, kapi_u64 offset)
{
	return ((u64(1) << 30) + offset) / kPage;
}

/* Failures recorded in the running test so far: unchanged over one image means it passed. */
int failures_so_far()
{
	return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

class KernelIntelBlobs : public ::testing::Test {
protected:
	void SetUp() override
	{
		dir_ = binaries_dir();
		if (!dir_)
			GTEST_SKIP() << kSkip;
		ASSERT_TRUE(fs::is_directory(*dir_)) << *dir_ << " is not a directory";
		blobs_ = files_with(*dir_, ".blob");
		ASSERT_FALSE(blobs_.empty()) << "no *.blob under " << *dir_;
	}
	/*
	 * check(blob, layout) for every blob validate_image() accepts (a refusal fails the test and
	 * skips that blob); then one line saying for how many of them everything held.
	 */
	template <class Check> void each_blob(const char *what, Check check)
	{
		usize passed = 0;
		for (const fs::path &path : blobs_) {
			SCOPED_TRACE(path.string());
			const int before = failures_so_far();
			const Bytes blob = read_all(path);
			ImageRefusal why;
			Result<ImageLayout> r = validate(blob, &why);
			EXPECT_TRUE(r.is_ok()) << why.code_name() << ": " << why.message;
			if (r.is_ok())
				check(blob, r.value());
			passed += failures_so_far() == before;
		}
		std::cout << "[ counted  ] " << passed << " of " << blobs_.size() << " blobs " << what << "\n";
	}
	std::optional<fs::path> dir_;
	std::vector<fs::path> blobs_;
};

TEST_F(KernelIntelBlobs, EveryBlobPassesTheHeaderChecksAndPreflight)
{
	each_blob("accepted (validate_image, build_seamldr_params, preflight)", [](const Bytes &blob,
										   const ImageLayout &l) {
		/* Intel publishes v1: the sigstruct at 4 KiB, the module to the end in whole pages. */
		EXPECT_EQ(l.format, tdx::abi::kImageVersionV1);
		EXPECT_EQ(l.size, blob.size());
		EXPECT_EQ(l.sigstruct_offset, tdx::abi::kImageV1SigstructOffset);
		EXPECT_EQ(u64(l.module_pages) * kPage, blob.size() - l.module_offset);

		auto params = std::make_unique<tdx::abi::SeamldrParams>();
		ImageRefusal why;
		EXPECT_TRUE(build_seamldr_params(l, fake_pfn, blob.data(), params.get(), &why).is_ok())
			<< why.code_name() << ": " << why.message;
		EXPECT_EQ(params->num_module_pages, l.module_pages);
		EXPECT_EQ(params->sigstruct_pa, fake_pfn(nullptr, l.sigstruct_offset) * kPage);
		EXPECT_EQ(params->module_page_pa[l.module_pages - 1], fake_pfn(nullptr, blob.size() - kPage) * kPage);

		const tdx::abi::Sigstruct s = sigstruct_of(blob, l);
		const UpdateFacts f = facts_for(blob, l, s);
		EXPECT_TRUE(f.signature_ok);
		EXPECT_EQ(0, std::memcmp(f.signer_id, tdx::abi::kIntelSignerModulusSha384, sizeof(f.signer_id)))
			<< "not Intel's production signer (ABI.md §4)";
		EXPECT_EQ(verdict(blob, s), "none");
	});
}

TEST_F(KernelIntelBlobs, OneFlippedByteIsRefused)
{
	each_blob("refused with one flipped byte (module: bad-checksum, then bad-hash; signature: "
		  "bad-rsa-signature)",
		  [](const Bytes &blob, const ImageLayout &l) {
			  const tdx::abi::Sigstruct s = sigstruct_of(blob, l);
			  /* A module byte: the v1 word sum first; with the checksum made whole, the hash. */
			  Bytes module_flip = blob;
			  module_flip[l.module_offset + (blob.size() - l.module_offset) / 2] ^= 0x01;
			  EXPECT_EQ(header_verdict(module_flip), "bad-checksum");
			  fix_checksum(module_flip);
			  EXPECT_EQ(verdict(module_flip, s), "bad-hash");

			  /* A signature byte (checksum whole): the RSA signature no longer verifies. */
			  Bytes sig_flip = blob;
			  sig_flip[l.sigstruct_offset + offsetof(tdx::abi::Sigstruct, signature) + 100] ^= 0x01;
			  fix_checksum(sig_flip);
			  EXPECT_EQ(verdict(sig_flip, s), "bad-rsa-signature");

			  /* Over a module the project's test signer signed, Intel's image is someone else's. */
			  UpdateFacts f = facts_for(blob, l, s);
			  std::memset(f.seamldr.seam_info.mrsignerseam, 0x5C, sizeof(f.seamldr.seam_info.mrsignerseam));
			  EXPECT_EQ(preflight(s, f), UpdateRefusal::kUntrustedSigner);
		  });
}

TEST_F(KernelIntelBlobs, SeparatePartsJoinedAsV2PassToo)
{
	const std::vector<fs::path> sigstructs = files_with(*dir_, ".sigstruct");
	usize passed = 0;
	for (const fs::path &sig_path : sigstructs) {
		SCOPED_TRACE(sig_path.string());
		const int before = failures_so_far();
		fs::path bin_path = sig_path;
		bin_path.replace_extension(".bin");
		ASSERT_TRUE(fs::is_regular_file(bin_path)) << "no " << bin_path << " beside it";
		Bytes sig = read_all(sig_path);
		const Bytes module = read_all(bin_path);
		ASSERT_LE(sig.size(), kPage);
		ASSERT_EQ(module.size() % kPage, 0u);
		sig.resize(kPage);
		const Bytes v2 = join_v2(sig, module);
		ImageRefusal why;
		Result<ImageLayout> r = validate(v2, &why);
		ASSERT_TRUE(r.is_ok()) << why.code_name() << ": " << why.message;
		EXPECT_EQ(r.value().format, tdx::abi::kImageVersionV2);
		EXPECT_EQ(r.value().module_pages, module.size() / kPage);
		EXPECT_EQ(verdict(v2, sigstruct_of(v2, r.value())), "none");
		passed += failures_so_far() == before;
	}
	/* Not every layout has them (a flat directory of blobs): nothing to join then. */
	std::cout << "[ counted  ] " << passed << " of " << sigstructs.size()
		  << " separate .sigstruct + .bin pairs accepted as v2 blobs\n";
}

} // namespace
