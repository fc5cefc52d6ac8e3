// SPDX-License-Identifier: GPL-2.0
// Every image Intel publishes through the emulator's P-SEAMLDR, when TDX_MODULE_BINARIES names a
// checkout of intel/confidential-computing.tdx.tdx-module.binaries (never committed here; skipped
// without it). Each *.blob is installed as a runtime update over a running module it may replace
// (same major SVN, the same minor SVN, a CPU of its CPUID table): the signer (Intel's production
// one), the RSA signature and the hash are accepted and the module reports the file's version.
// The same image with one flipped module byte is EBADHASH after the old module's memory was
// modified (no module left), and with one flipped signature byte EBADSIG with the old module
// intact (ABI.md §4).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <tdx/abi/leaves.h>

#include "seamldr_support.h"

namespace seam_emu::test {
namespace {

namespace fs = std::filesystem;
namespace mi = module_image;
namespace sl = seamldr_status;

/* A published blob as the P-SEAMLDR is given it: its sigstruct and its module pages. */
TestImage parts_of(const fs::path &path)
{
	std::ifstream in(path, std::ios::binary);
	const std::vector<u8> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	TestImage img;
	auto layout = mi::parse_blob(blob);
	EXPECT_TRUE(layout) << (layout ? "" : layout.error().to_string());
	if (!layout)
		return img;
	img.sig = mi::blob_sigstruct(blob, layout.value());
	img.pages.assign(blob.begin() + layout.value().module_offset, blob.end());
	return img;
}

/*
 * One emulator for one blob: its platform has the first CPU of the image's table and its running
 * module the image's version line and SVNs, so the image is an update the P-SEAMLDR may install.
 * A fixture of its own per image (the profile differs), driven from the test's body.
 */
class OneImage : public UpdateTest {
public:
	OneImage(const mi::PublishedImage &p, const std::string &dir)
		: UpdateTest(default_profile_with([&p](Profile &prof) {
			  prof.cpu_signature = p.sigstruct.cpuid_table_size ? p.sigstruct.cpuid_table[0] : 0;
			  prof.svn = {p.sigstruct.major_svn, p.sigstruct.minor_svn};
			  prof.module.major = p.major;
			  prof.module.minor = p.minor;
			  prof.module.update = 0;
		  }))
	{
		emu_.set_module_binaries(dir);
	}
	void TestBody() override {}

	/* Shut down for `img`, the install session: its status, and RDX in *rdx. */
	u64 install(const TestImage &img, u64 *rdx)
	{
		ready();
		put_image(img);
		if (const u64 st = shutdown())
			return st;
		return install_session(rdx);
	}
	std::string why()
	{
		const SeamldrState s = seamldr_state();
		return s.last_failure ? s.last_failure->why : "";
	}
	using UpdateTest::image;
	using UpdateTest::reinit_and_update;
	using UpdateTest::seamldr_state;
	using UpdateTest::state;
	/* A module SEAMCALL that needs no state: VMfailInvalid when no module can be entered. */
	u64 probe() { return serve(1, rax(leaf::kSysRd), 0, field::kMajorVersion); }
};

/* Failures recorded in the running test so far: unchanged over one image means it passed. */
int failures_so_far()
{
	return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

class SeamldrIntelBlobs : public ::testing::Test {
protected:
	void SetUp() override
	{
		const char *dir = std::getenv("TDX_MODULE_BINARIES");
		if (!dir || !*dir)
			GTEST_SKIP() << "TDX_MODULE_BINARIES is not set (a checkout of Intel's module-binaries repository)";
		dir_ = dir;
		auto index = mi::index_published(dir_);
		ASSERT_TRUE(index) << index.error().to_string();
		index_ = index.value();
		for (const auto &e : fs::recursive_directory_iterator(dir_))
			if (e.is_regular_file() && e.path().extension() == ".blob")
				blobs_.push_back(e.path());
		std::sort(blobs_.begin(), blobs_.end());
		ASSERT_FALSE(blobs_.empty()) << "no *.blob under " << dir_;
	}
	/*
	 * check(entry, image) for every blob, which must be in the emulator's index of the checkout
	 * (how it finds an Intel-signed image) and parse; then one line saying for how many of them
	 * everything held.
	 */
	template <class Check> void each_blob(const char *what, Check check)
	{
		size_t passed = 0;
		for (const fs::path &path : blobs_) {
			SCOPED_TRACE(path.string());
			const int before = failures_so_far();
			const auto p = std::find_if(index_.begin(), index_.end(), [&](const mi::PublishedImage &e) {
				return fs::equivalent(e.path, path);
			});
			EXPECT_NE(p, index_.end()) << "not in index_published(" << dir_ << ")";
			const TestImage img = parts_of(path);
			if (p != index_.end() && !img.pages.empty())
				check(*p, img);
			passed += failures_so_far() == before;
		}
		std::cout << "[ counted  ] " << passed << " of " << blobs_.size() << " blobs " << what << "\n";
	}
	std::string dir_;
	std::vector<mi::PublishedImage> index_;
	std::vector<fs::path> blobs_;
};

TEST_F(SeamldrIntelBlobs, EveryBlobIsAcceptedAsAnUpdate)
{
	each_blob("installed by SEAMLDR.INSTALL as an update", [this](const mi::PublishedImage &p, const TestImage &img) {
		EXPECT_EQ(mi::signer_id(img.sig), mi::intel_signer_id());
		OneImage emu(p, dir_);
		u64 rdx = ~0ull;
		EXPECT_EQ(emu.install(img, &rdx), status::kSuccess) << emu.why();
		EXPECT_EQ(rdx, 0u);
		const ModuleImage m = emu.image();
		EXPECT_EQ(m.module.major, p.major);
		EXPECT_EQ(m.module.minor, p.minor);
		EXPECT_EQ(m.module.update, p.update);
		EXPECT_EQ(m.signer, mi::intel_signer_id());
		EXPECT_EQ(m.seamhash, p.seamhash);
		if (p.tdx_features0) {
			EXPECT_EQ(m.tdx_features0, *p.tdx_features0);
		}
		EXPECT_EQ(emu.reinit_and_update(), status::kSuccess);
		EXPECT_EQ(emu.state(), SysState::kSysReady);
	});
}

TEST_F(SeamldrIntelBlobs, OneFlippedByteIsRefused)
{
	each_blob("refused with one flipped byte (module: EBADHASH, no module left; signature: EBADSIG, old "
		  "module intact)",
		  [this](const mi::PublishedImage &p, const TestImage &img) {
			  u64 rdx = ~0ull;
			  {
				  /* The module part: the hash of the copy is checked after the old module is gone. */
				  TestImage bad = img;
				  bad.pages[bad.pages.size() / 2] ^= 0x01;
				  OneImage emu(p, dir_);
				  EXPECT_EQ(emu.install(bad, &rdx), sl::kEBadHash) << emu.why();
				  EXPECT_EQ(rdx, kSeamldrUnrecoverable);
				  EXPECT_FALSE(emu.seamldr_state().module_present);
				  EXPECT_EQ(emu.probe(), kTdxSeamcallVmFailInvalid);
			  }
			  {
				  /* The sigstruct's signature: refused before anything is written. */
				  TestImage bad = img;
				  bad.sig.signature[100] ^= 0x01;
				  OneImage emu(p, dir_);
				  EXPECT_EQ(emu.install(bad, &rdx), sl::kEBadSig) << emu.why();
				  EXPECT_EQ(rdx, kSeamldrRecoverable);
				  EXPECT_TRUE(emu.seamldr_state().module_present);
				  EXPECT_EQ(emu.state(), SysState::kSysShutdown);
				  EXPECT_EQ(emu.probe(), status::kSysShutdown);
			  }
		  });
}

} // namespace
} // namespace seam_emu::test
