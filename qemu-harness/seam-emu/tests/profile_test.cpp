// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace seam_emu::test {
namespace {

using json = nlohmann::json;

json default_json()
{
	std::ifstream in(profile_path("default.json"));
	std::stringstream ss;
	ss << in.rdbuf();
	return json::parse(ss.str());
}

std::string parse_error(const json &j)
{
	ProfileResult r = parse_profile(j.dump());
	EXPECT_FALSE(r.profile.has_value()) << j.dump();
	return r.error;
}

TEST(Profile, DefaultHasRequiredFeatures)
{
	Profile p = default_profile();
	EXPECT_TRUE(p.tdx_features0 & features0::kNoRbpMod);
	EXPECT_TRUE(p.tdx_features0 & features0::kTdPreserving);
	EXPECT_FALSE(p.tdx_features0 & features0::kExt);
	EXPECT_FALSE(p.tdx_features0 & features0::kQuote);
	EXPECT_EQ(p.module.major, 1);
	EXPECT_EQ(p.module.minor, 5);
	EXPECT_EQ(p.module.update, 6);
	EXPECT_EQ(p.module.build_num, 744);
	EXPECT_EQ(p.module.build_date, 20240229u);
	EXPECT_EQ(p.lps, 2u);
	EXPECT_EQ(p.packages, 1u);
	EXPECT_EQ(p.tdx_keyid_start, 32u);
	EXPECT_EQ(p.nr_tdx_keyids, 32u);
	EXPECT_EQ(p.tdmr.max_tdmrs, 64);
	EXPECT_EQ(p.tdmr.max_reserved_per_tdmr, 16);
	EXPECT_EQ(p.tdmr.pamt_entry_size[0], 16);
	EXPECT_EQ(p.work_budget.tdmr_init_bytes, 256 * kMiB);
	EXPECT_EQ(p.work_budget.sys_disable_steps, 2u);
	EXPECT_EQ(p.td.tdvps_base_size, 20480);
}

TEST(Profile, NoRbpModProfileDiffersOnlyInBit18)
{
	ProfileResult r = load_profile(profile_path("no-rbp-mod.json"));
	ASSERT_TRUE(r.profile) << r.error;
	Profile d = default_profile();
	EXPECT_FALSE(r.profile->tdx_features0 & features0::kNoRbpMod);
	EXPECT_EQ(r.profile->tdx_features0 | features0::kNoRbpMod, d.tdx_features0);
}

TEST(Profile, Errors)
{
	EXPECT_NE(parse_profile("{").error.find("not valid JSON"), std::string::npos);
	EXPECT_FALSE(load_profile("/nonexistent/profile.json").profile);

	json j = default_json();
	j.erase("lps");
	EXPECT_NE(parse_error(j).find("missing key \"lps\""), std::string::npos);

	j = default_json();
	j["colour"] = "blue";
	EXPECT_NE(parse_error(j).find("unknown key \"colour\""), std::string::npos);

	j = default_json();
	j["tdmr"]["pamt_entry_size"]["512g"] = 16;
	EXPECT_NE(parse_error(j).find("unknown key"), std::string::npos);

	for (const char *bad : {"40002", "0x", "0xZZ", "0x12345678901234567"}) {
		j = default_json();
		j["tdx_features0"] = bad;
		EXPECT_NE(parse_error(j).find("tdx_features0"), std::string::npos) << bad;
	}
	j = default_json();
	j["tdx_features0"] = 262146;
	EXPECT_NE(parse_error(j).find("hex string"), std::string::npos);

	j = default_json();
	j["lps"] = 3;
	j["packages"] = 2;
	EXPECT_NE(parse_error(j).find("not a multiple"), std::string::npos);

	j = default_json();
	j["lps"] = -1;
	EXPECT_NE(parse_error(j).find("non-negative"), std::string::npos);

	j = default_json();
	j["module"]["major"] = 70000;
	EXPECT_NE(parse_error(j).find("larger than"), std::string::npos);

	j = default_json();
	j["work_budget"]["tdmr_init_bytes"] = 1000;
	EXPECT_NE(parse_error(j).find("multiple of 4096"), std::string::npos);

	j = default_json();
	j["work_budget"]["sys_disable_steps"] = 0;
	EXPECT_NE(parse_error(j).find("sys_disable_steps"), std::string::npos);

	j = default_json();
	j["handoff"]["min_update_hv"] = 2;
	EXPECT_NE(parse_error(j).find("min_update_hv"), std::string::npos);

	j = default_json();
	j["handoff"]["no_downgrade"] = 1;
	EXPECT_NE(parse_error(j).find("true or false"), std::string::npos);

	j = default_json();
	j["keyids"]["tdx_start"] = 0;
	EXPECT_NE(parse_error(j).find("KeyID 0"), std::string::npos);

	j = default_json();
	j["tdmr"]["max_tdmrs"] = 0;
	EXPECT_NE(parse_error(j).find("max_tdmrs"), std::string::npos);

	j = default_json();
	j["td"] = 5;
	EXPECT_NE(parse_error(j).find("must be an object"), std::string::npos);
}

TEST(Profile, CommentsAreTolerated)
{
	std::string text = default_json().dump(2);
	text.insert(text.find('\n') + 1, "  // resumable-operation budgets and such\n");
	ProfileResult r = parse_profile(text);
	EXPECT_TRUE(r.profile) << r.error;
}

TEST(Profile, Topology)
{
	Profile p = default_profile();
	p.lps = 8;
	p.packages = 2;
	EXPECT_TRUE(check_topology(p).empty());
	EXPECT_EQ(p.package_of(3), 0u);
	EXPECT_EQ(p.package_of(4), 1u);
	p.packages = 3;
	EXPECT_FALSE(check_topology(p).empty());
	p.lps = 0;
	EXPECT_FALSE(check_topology(p).empty());
}

} // namespace
} // namespace seam_emu::test
