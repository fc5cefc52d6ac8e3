// SPDX-License-Identifier: GPL-2.0
// The selection rules of ABI.md §11 over test images in Intel's layout (and flat): each rule
// excludes an image that is otherwise the newest candidate, the newest candidate wins, the
// boundaries of each rule, --allow-debug, a named version, a directory without mapping_file.json.
#include <functional>

#include <gtest/gtest.h>

#include "fixtures.h"
#include "select.h"

namespace tdx_update::test {
namespace {

using module_image::version_string;

constexpr std::uint32_t kCpu = 0x806f8; /* stepping 8 */

class Selection : public ::testing::Test {
protected:
	std::vector<PublishedImage> index(const std::vector<ImageDef> &defs, bool flat = false)
	{
		(flat ? write_flat_dir : write_intel_tree)(dir_.path(), defs);
		auto images = module_image::index_published(dir_.path().string());
		EXPECT_TRUE(images.ok()) << images.error().to_string();
		return images.ok() ? images.value() : std::vector<PublishedImage>{};
	}

	static Running running(const std::string &module = "1.5.06", const std::string &seamldr = "1.5.00")
	{
		Running r;
		r.module = *module_image::parse_version(module);
		if (!seamldr.empty())
			r.seamldr = module_image::parse_version(seamldr);
		return r;
	}

	static std::string newest(const Selector &sel, const std::vector<PublishedImage> &images)
	{
		const PublishedImage *img = sel.newest(images);
		return img ? version_string(version_of(*img)) : "none";
	}

	/* The refusal of the image of `version`, or "candidate". */
	static std::string verdict(const Selector &sel, const std::vector<PublishedImage> &images,
				   const std::string &version)
	{
		for (const PublishedImage &img : images)
			if (version_string(version_of(img)) == version)
				return sel.refusal(img).value_or("candidate");
		return "absent";
	}

	TempDir dir_;
};

TEST_F(Selection, NewestCandidateWins)
{
	const auto images = index({{"1.5.01"}, {"1.5.06"}, {"1.5.08"}, {"1.5.09"}, {"2.0.02"}});
	const Selector sel(running(), kCpu, Rules{false, true});
	EXPECT_EQ(newest(sel, images), "1.5.09");
	const auto verdicts = sel.judge(images);
	ASSERT_EQ(verdicts.size(), 5u);
	EXPECT_EQ(verdicts[0].refusal.value_or(""), "older than the running 1.5.06");
	EXPECT_EQ(verdicts[1].refusal.value_or(""), "already running (name it with --update to reinstall)");
	EXPECT_FALSE(verdicts[2].refusal);
	EXPECT_FALSE(verdicts[2].newest);
	EXPECT_FALSE(verdicts[3].refusal);
	EXPECT_TRUE(verdicts[3].newest);
	EXPECT_EQ(verdicts[4].refusal.value_or(""), "major.minor 2.0 differs from the running 1.5.06");
}

/* 1.5.09 is made to fail one rule; 1.5.07 stays a candidate and is then the newest. */
struct RuleCase {
	const char *name;
	ImageDef image;
	std::string refusal;
};

void PrintTo(const RuleCase &c, std::ostream *os)
{
	*os << c.name;
}

class EachRule : public Selection, public ::testing::WithParamInterface<RuleCase> {};

TEST_P(EachRule, ExcludesTheNewestImage)
{
	const RuleCase &c = GetParam();
	const auto images = index({{"1.5.07"}, c.image});
	const Selector sel(running(), kCpu, Rules{false, true});
	EXPECT_EQ(verdict(sel, images, c.image.version), c.refusal);
	EXPECT_EQ(newest(sel, images), "1.5.07");
}

ImageDef with(std::string version, const std::function<void(ImageDef &)> &edit = {})
{
	ImageDef d{std::move(version)};
	if (edit)
		edit(d);
	return d;
}

INSTANTIATE_TEST_SUITE_P(
	Rules, EachRule,
	::testing::Values(
		RuleCase{"SeamldrOtherMajorMinor", with("1.5.09", [](ImageDef &d) { d.min_seamldr = {"2.0.00"}; }),
			 "P-SEAMLDR 1.5.00 not supported (needs 2.0.00+ of the same major.minor)"},
		RuleCase{"SeamldrTooOld", with("1.5.09", [](ImageDef &d) { d.min_seamldr = {"1.5.01", "2.0.00"}; }),
			 "P-SEAMLDR 1.5.00 not supported (needs 1.5.01+, 2.0.00+ of the same major.minor)"},
		RuleCase{"CpuNotInTable", with("1.5.09", [](ImageDef &d) { d.cpuid = {0xa06d0, 0xc06f0}; }),
			 "CPU 0x806f0 not in its CPUID table"},
		RuleCase{"DebugSigned", with("1.5.09", [](ImageDef &d) { d.debug = true; }),
			 "debug-signed (allow with --allow-debug)"},
		RuleCase{"OtherMajorMinor", with("1.6.09"), "major.minor 1.6 differs from the running 1.5.06"},
		RuleCase{"Older", with("1.5.05"), "older than the running 1.5.06"},
		RuleCase{"TdPreserving", with("1.5.09", [](ImageDef &d) { d.min_td_preserving = "1.5.07"; }),
			 "preserves TDs only from 1.5.07, running 1.5.06"},
		RuleCase{"NotInMappingFile", with("1.5.09", [](ImageDef &d) { d.mapped = false; }),
			 "not described by mapping_file.json (needs min_seamldr_versions and "
			 "min_module_version_for_td_preserving)"}),
	[](const ::testing::TestParamInfo<RuleCase> &info) { return std::string(info.param.name); });

/* Each rule's boundary is inclusive where ABI.md §11 says so. */
TEST_F(Selection, BoundariesAreCandidates)
{
	const auto images = index({with("1.5.09", [](ImageDef &d) {
		d.min_seamldr = {"1.5.00"};     /* the running P-SEAMLDR itself */
		d.min_td_preserving = "1.5.06"; /* the running module itself */
		d.cpuid = {0x806f0};            /* another stepping of the running CPU */
	})});
	const Selector sel(running(), kCpu, Rules{false, true});
	EXPECT_EQ(verdict(sel, images, "1.5.09"), "candidate");
	/* A later P-SEAMLDR update also qualifies; an earlier one does not. */
	const Selector later_ldr(running("1.5.06", "1.5.04"), kCpu, Rules{false, true});
	EXPECT_EQ(verdict(later_ldr, images, "1.5.09"), "candidate");
	EXPECT_EQ(newest(Selector(running("1.5.06", "1.6.00"), kCpu, Rules{false, true}), images), "none");
}

TEST_F(Selection, AllowDebugMakesDebugImagesCandidates)
{
	const auto images = index({{"1.5.07"}, with("1.5.09", [](ImageDef &d) { d.debug = true; })});
	EXPECT_EQ(newest(Selector(running(), kCpu, Rules{false, true}), images), "1.5.07");
	EXPECT_EQ(newest(Selector(running(), kCpu, Rules{true, true}), images), "1.5.09");
}

TEST_F(Selection, NamedVersion)
{
	const auto images = index({{"1.5.06"}, {"1.5.07"}, with("1.5.08", [](ImageDef &d) { d.debug = true; })});
	const Selector sel(running(), kCpu, Rules{false, true});
	/* The running version is never chosen by itself, but may be named. */
	auto same = sel.named(images, {1, 5, 6});
	ASSERT_TRUE(same.ok()) << same.error().to_string();
	EXPECT_EQ(version_of(*same.value()), (ModuleVersion{1, 5, 6}));
	EXPECT_TRUE(sel.named(images, {1, 5, 7}).ok());
	/* Naming bypasses no other rule. */
	auto debug = sel.named(images, {1, 5, 8});
	ASSERT_FALSE(debug.ok());
	EXPECT_EQ(debug.error().code, "refused");
	EXPECT_NE(debug.error().message.find("debug-signed"), std::string::npos) << debug.error().message;
	auto absent = sel.named(images, {1, 5, 9});
	ASSERT_FALSE(absent.ok());
	EXPECT_EQ(absent.error().code, "no-image");
}

/* Without mapping_file.json nothing limits the P-SEAMLDR or the TD-preserving minimum. */
TEST_F(Selection, FlatDirectoryHasNoMappingLimits)
{
	const auto images = index({{"1.5.07"}, {"1.5.08"}}, true);
	const Selector sel(running("1.5.06", ""), kCpu, Rules{false, false});
	EXPECT_EQ(verdict(sel, images, "1.5.07"), "candidate");
	EXPECT_EQ(newest(sel, images), "1.5.08");
}

/* With mapping_file.json, a P-SEAMLDR version the tool could not read refuses every image. */
TEST_F(Selection, UnknownSeamldrRefusesMappedImages)
{
	const auto images = index({{"1.5.07"}});
	const Selector sel(running("1.5.06", ""), kCpu, Rules{false, true});
	EXPECT_EQ(verdict(sel, images, "1.5.07"), "P-SEAMLDR version unknown");
}

} // namespace
} // namespace tdx_update::test
