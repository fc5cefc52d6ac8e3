// SPDX-License-Identifier: GPL-2.0
// Intel's published module blobs, when TDX_MODULE_BINARIES names a checkout of
// intel/confidential-computing.tdx.tdx-module.binaries (never committed here): every blob passes
// the header checks, is signed by Intel's production signer (the SHA-384 of the modulus as
// stored), its RSA signature and seamhash verify, and one flipped module byte is refused. Skipped
// without the variable.
#include <cstdlib>
#include <filesystem>

#include "test_util.h"

namespace module_image::test {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> binaries_dir()
{
	const char *dir = std::getenv("TDX_MODULE_BINARIES");
	if (!dir || !*dir)
		return std::nullopt;
	return fs::path(dir);
}

std::vector<fs::path> all_blobs(const fs::path &dir)
{
	std::vector<fs::path> out;
	for (const auto &e : fs::recursive_directory_iterator(dir))
		if (e.is_regular_file() && e.path().extension() == ".blob")
			out.push_back(e.path());
	std::sort(out.begin(), out.end());
	return out;
}

class IntelBlobs : public ::testing::Test {
protected:
	void SetUp() override
	{
		dir_ = binaries_dir();
		if (!dir_)
			GTEST_SKIP() << "TDX_MODULE_BINARIES is not set (a checkout of Intel's module-binaries repository)";
		blobs_ = all_blobs(*dir_);
		ASSERT_FALSE(blobs_.empty()) << "no *.blob under " << *dir_;
	}

	std::optional<fs::path> dir_;
	std::vector<fs::path> blobs_;
};

TEST_F(IntelBlobs, HeaderSignerSignatureAndHash)
{
	const Digest48 intel[] = {intel_signer_id()};
	const Digest48 test_only[] = {test_signer_id()};
	for (const fs::path &path : blobs_) {
		SCOPED_TRACE(path.string());
		auto bytes = read_file(path.string());
		ASSERT_TRUE(bytes) << bytes.error().to_string();
		const Bytes &blob = bytes.value();
		auto layout = parse_blob(blob);
		ASSERT_TRUE(layout) << layout.error().to_string();
		const abi::Sigstruct s = blob_sigstruct(blob, layout.value());
		const auto module = std::span(blob).subspan(layout.value().module_offset);
		EXPECT_EQ(module.size(), layout.value().module_pages * kPage);

		/* The signer id is the SHA-384 of the modulus bytes as the sigstruct stores them. */
		EXPECT_EQ(signer_id(s), intel_signer_id());
		EXPECT_EQ(sha384({s.modulus, sizeof(s.modulus)}), intel_signer_id());
		auto v = verify_sigstruct(s, intel);
		EXPECT_TRUE(v) << v.error().to_string();
		auto h = verify_seamhash(s, module);
		EXPECT_TRUE(h) << h.error().to_string();
		auto untrusted = verify_sigstruct(s, test_only);
		ASSERT_FALSE(untrusted);
		EXPECT_EQ(untrusted.error().code, "untrusted-signer");
		EXPECT_FALSE(sigstruct_is_debug(s));
		EXPECT_EQ(read_manifest(module), std::nullopt) << "Intel images carry no emulator manifest";

		/* One flipped byte in the module: the hash check refuses it, and the v1 word sum too. */
		Bytes flipped = blob;
		flipped[layout.value().module_offset + module.size() / 2] ^= 0x01;
		auto fh = verify_seamhash(s, std::span(flipped).subspan(layout.value().module_offset));
		ASSERT_FALSE(fh);
		EXPECT_EQ(fh.error().code, "bad-hash");
		auto fp = parse_blob(flipped);
		ASSERT_FALSE(fp);
		EXPECT_EQ(fp.error().code, "bad-checksum");

		/* The same parts rebuilt as a v2 blob pass the v2 header checks and still verify. */
		const Bytes v2 = make_blob(abi::kImageVersionV2, s, module);
		auto l2 = parse_blob(v2);
		ASSERT_TRUE(l2) << l2.error().to_string();
		EXPECT_TRUE(verify_seamhash(blob_sigstruct(v2, l2.value()), std::span(v2).subspan(l2.value().module_offset)));
	}
}

TEST_F(IntelBlobs, Index)
{
	if (!fs::is_directory(*dir_ / "joined_files"))
		GTEST_SKIP() << "no joined_files/ (not a checkout of the repository)";
	auto r = index_published(dir_->string());
	ASSERT_TRUE(r) << r.error().to_string();
	std::size_t joined = 0;
	for (const fs::path &p : blobs_)
		joined += p.parent_path().parent_path().filename() == "joined_files";
	EXPECT_EQ(r.value().size(), joined);
	for (const PublishedImage &img : r.value()) {
		SCOPED_TRACE(img.path);
		EXPECT_EQ(fs::path(img.path).filename().string(),
			  "tdx_module_" + version_string({img.major, img.minor, img.update}) + ".blob");
		if (fs::exists(*dir_ / "mapping_file.json")) {
			EXPECT_TRUE(img.tdx_features0.has_value()) << "not in mapping_file.json";
			EXPECT_FALSE(img.min_seamldr_versions.empty());
		}
		EXPECT_EQ(img.seamhash, Digest48(std::to_array(img.sigstruct.seamhash)));
	}
}

} // namespace
} // namespace module_image::test
