// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace seam_emu::test {
namespace {

using json = nlohmann::json;

json load_json(const std::string &name)
{
	std::ifstream in(profile_path(name));
	std::stringstream ss;
	ss << in.rdbuf();
	return json::parse(ss.str(), nullptr, true, /*ignore_comments=*/true);
}

json default_json() { return load_json("default.json"); }

std::string parse_error(const json &j)
{
	ProfileResult r = parse_profile(j.dump());
	EXPECT_FALSE(r.profile.has_value()) << j.dump();
	return r.error;
}

/* Expect the profile to be refused with a message containing `what`. */
#define EXPECT_REFUSED(j, what) EXPECT_NE(parse_error(j).find(what), std::string::npos) << parse_error(j)

TEST(Profile, DefaultValues)
{
	Profile p = default_profile();
	EXPECT_EQ(p.lps, 2u);
	EXPECT_EQ(p.packages, 1u);
	EXPECT_EQ(p.tdx_keyid_start, 32u);
	EXPECT_EQ(p.nr_tdx_keyids, 32u);
	EXPECT_EQ(p.cpu_signature, 0x806F8u);
	EXPECT_FALSE(p.errata.seamret_invalidates_vmcs);
	EXPECT_TRUE(p.errata.partial_write_machine_check);

	EXPECT_TRUE(p.tdx_features0 & features0::kNoRbpMod);
	EXPECT_TRUE(p.tdx_features0 & features0::kTdPreserving);
	EXPECT_FALSE(p.tdx_features0 & features0::kExt);
	EXPECT_FALSE(p.tdx_features0 & features0::kQuote);
	EXPECT_EQ(p.module.major, 1);
	EXPECT_EQ(p.module.minor, 5);
	EXPECT_EQ(p.module.update, 6);
	EXPECT_EQ(p.module.build_num, 744);
	EXPECT_EQ(p.module.build_date, 20240229u);
	EXPECT_EQ(p.tdmr.max_tdmrs, 64);
	EXPECT_EQ(p.tdmr.max_reserved_per_tdmr, 16);
	EXPECT_EQ(p.tdmr.pamt_entry_size[0], 16);
	EXPECT_EQ(p.work_budget.tdmr_init_bytes, 256 * kMiB);
	EXPECT_EQ(p.work_budget.sys_disable_steps, 2u);
	EXPECT_EQ(p.td.tdvps_base_size, 20480);
	EXPECT_EQ(p.svn.major, 1);
	EXPECT_EQ(p.svn.minor, 6);
	EXPECT_FALSE(p.seamhash);
	EXPECT_FALSE(p.signer);
	EXPECT_EQ(p.seamldr.major, 1);
	EXPECT_EQ(p.seamldr.minor, 5);
	EXPECT_EQ(p.seamldr.update, 3);
	EXPECT_EQ(p.seamldr.num_remaining_updates, 16u);
	EXPECT_FALSE(p.seamldr.debug);
}

TEST(Profile, SeamldrAndSvnKeys)
{
	for (const char *k : {"major", "minor", "update", "build_num", "build_date", "num_remaining_updates", "debug"}) {
		json bad = default_json();
		bad["platform"]["seamldr"].erase(k);
		EXPECT_REFUSED(bad, std::string("missing key \"") + k + "\"");
	}
	json bad = default_json();
	bad["platform"]["seamldr"]["debug"] = 1;
	EXPECT_REFUSED(bad, "platform.seamldr.debug: must be true or false");
	bad = default_json();
	bad["module"]["svn"]["major"] = 256;
	EXPECT_REFUSED(bad, "module.svn.major");
	bad = default_json();
	bad["module"].erase("svn");
	EXPECT_REFUSED(bad, "missing key \"svn\""); /* a profile says what it runs */
	/* A manifest may leave the SVNs to its sigstruct. */
	json m = default_json()["module"];
	m.erase("svn");
	ModuleImageResult img = parse_module_image(m.dump());
	ASSERT_TRUE(img.image) << img.error;
	m["svn"] = {{"major", 2}, {"minor", 9}};
	img = parse_module_image(m.dump());
	ASSERT_TRUE(img.image) << img.error;
	EXPECT_EQ(img.image->svn.minor, 9);
	m["svn"]["patch"] = 1;
	EXPECT_NE(parse_module_image(m.dump()).error.find("unknown key \"patch\""), std::string::npos);
}

TEST(Profile, SplitIntoPlatformAndModuleImage)
{
	json j = default_json();
	/* The file has exactly the two parts. */
	EXPECT_EQ(j.size(), 2u);
	EXPECT_TRUE(j["platform"].contains("lps"));
	EXPECT_TRUE(j["module"].contains("tdx_features0"));
	/* run.sh reads the version from module.major/minor/update. */
	EXPECT_EQ(j["module"]["major"], 1);
	EXPECT_EQ(j["module"]["minor"], 5);
	EXPECT_EQ(j["module"]["update"], 6);

	/* Topology and keys belong to the platform; version, features and limits to the image. */
	for (const char *k : {"lps", "packages", "keyids", "cpu", "errata", "seamldr"}) {
		json bad = default_json();
		bad["module"][k] = bad["platform"][k];
		bad["platform"].erase(k);
		EXPECT_FALSE(parse_profile(bad.dump()).profile) << k;
	}
	for (const char *k : {"major", "tdx_features0", "svn", "tdmr", "handoff", "td", "work_budget"}) {
		json bad = default_json();
		bad["platform"][k] = bad["module"][k];
		bad["module"].erase(k);
		EXPECT_FALSE(parse_profile(bad.dump()).profile) << k;
	}

	/* The image parses on its own, the same as inside the profile. */
	ModuleImageResult img = parse_module_image(j["module"].dump());
	ASSERT_TRUE(img.image) << img.error;
	Profile p = default_profile();
	EXPECT_EQ(img.image->tdx_features0, p.tdx_features0);
	EXPECT_EQ(img.image->tdmr.max_tdmrs, p.tdmr.max_tdmrs);
	EXPECT_EQ(img.image->module.build_num, p.module.build_num);
	EXPECT_NE(parse_module_image(j["platform"].dump()).error.find("unknown key"), std::string::npos);
	EXPECT_NE(parse_module_image("[").error.find("not valid JSON"), std::string::npos);

	/* A Module keeps the two apart; the image is the part a P-SEAMLDR will replace. */
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	Module m(p, mem);
	EXPECT_EQ(m.platform().lps, p.lps);
	EXPECT_EQ(m.image().module.update, p.module.update);
	EXPECT_EQ(m.profile().cpu_signature, p.cpu_signature);
}

TEST(Profile, EveryShippedProfileParses)
{
	DIR *d = opendir(SEAM_EMU_PROFILE_DIR);
	ASSERT_NE(d, nullptr);
	int n = 0;
	while (dirent *e = readdir(d)) {
		std::string name = e->d_name;
		if (name.size() < 5 || name.substr(name.size() - 5) != ".json")
			continue;
		ProfileResult r = load_profile(profile_path(name));
		EXPECT_TRUE(r.profile) << name << ": " << r.error;
		n++;
	}
	closedir(d);
	EXPECT_GE(n, 3);
}

TEST(Profile, ShippedVariantsDifferOnlyWhereTheySay)
{
	Profile d = default_profile();
	ProfileResult r = load_profile(profile_path("no-rbp-mod.json"));
	ASSERT_TRUE(r.profile) << r.error;
	EXPECT_FALSE(r.profile->tdx_features0 & features0::kNoRbpMod);
	EXPECT_EQ(r.profile->tdx_features0 | features0::kNoRbpMod, d.tdx_features0);

	json a = default_json(), b = load_json("max-tdmrs-4.json");
	EXPECT_EQ(b["module"]["tdmr"]["max_tdmrs"], 4);
	b["module"]["tdmr"]["max_tdmrs"] = a["module"]["tdmr"]["max_tdmrs"];
	EXPECT_EQ(a, b);
}

TEST(Profile, Errors)
{
	EXPECT_NE(parse_profile("{").error.find("not valid JSON"), std::string::npos);
	EXPECT_FALSE(load_profile("/nonexistent/profile.json").profile);

	json j = default_json();
	j["platform"].erase("lps");
	EXPECT_REFUSED(j, "platform: missing key \"lps\"");

	j = default_json();
	j.erase("module");
	EXPECT_REFUSED(j, "missing key \"module\"");

	j = default_json();
	j["colour"] = "blue";
	EXPECT_REFUSED(j, "unknown key \"colour\"");

	j = default_json();
	j["platform"]["colour"] = "blue";
	EXPECT_REFUSED(j, "platform: unknown key \"colour\"");

	j = default_json();
	j["module"]["tdmr"]["pamt_entry_size"]["512g"] = 16;
	EXPECT_REFUSED(j, "module.tdmr.pamt_entry_size: unknown key");

	for (const char *bad : {"40002", "0x", "0xZZ", "0x12345678901234567"}) {
		j = default_json();
		j["module"]["tdx_features0"] = bad;
		EXPECT_REFUSED(j, "module.tdx_features0");
	}
	j = default_json();
	j["module"]["tdx_features0"] = 262146;
	EXPECT_REFUSED(j, "hex string");

	j = default_json();
	j["platform"]["cpu"]["signature"] = "0x100000000";
	EXPECT_REFUSED(j, "platform.cpu.signature");
	j = default_json();
	j["platform"]["cpu"]["stepping"] = 8;
	EXPECT_REFUSED(j, "platform.cpu: unknown key");

	j = default_json();
	j["platform"]["errata"].erase("seamret_invalidates_vmcs");
	EXPECT_REFUSED(j, "missing key \"seamret_invalidates_vmcs\"");
	j = default_json();
	j["platform"]["errata"]["partial_write_machine_check"] = 1;
	EXPECT_REFUSED(j, "platform.errata.partial_write_machine_check: must be true or false");

	j = default_json();
	j["platform"]["lps"] = 3;
	j["platform"]["packages"] = 2;
	EXPECT_REFUSED(j, "not a multiple");

	j = default_json();
	j["platform"]["lps"] = -1;
	EXPECT_REFUSED(j, "non-negative");

	j = default_json();
	j["module"]["major"] = 70000;
	EXPECT_REFUSED(j, "module.major: 70000 is larger than");

	j = default_json();
	j["module"]["work_budget"]["tdmr_init_bytes"] = 1000;
	EXPECT_REFUSED(j, "multiple of 4096");

	j = default_json();
	j["module"]["work_budget"]["sys_disable_steps"] = 0;
	EXPECT_REFUSED(j, "sys_disable_steps");

	j = default_json();
	j["module"]["handoff"]["min_update_hv"] = 2;
	EXPECT_REFUSED(j, "min_update_hv");

	j = default_json();
	j["module"]["handoff"]["no_downgrade"] = 1;
	EXPECT_REFUSED(j, "true or false");

	j = default_json();
	j["platform"]["keyids"]["tdx_start"] = 0;
	EXPECT_REFUSED(j, "KeyID 0");

	j = default_json();
	j["module"]["tdmr"]["max_tdmrs"] = 0;
	EXPECT_REFUSED(j, "max_tdmrs");

	j = default_json();
	j["module"]["td"] = 5;
	EXPECT_REFUSED(j, "module.td: must be an object");
}

TEST(Profile, ExtensionProfiles)
{
	/* The default image reports neither extensions nor quoting and carries neither object. */
	json d = default_json();
	EXPECT_FALSE(d["module"].contains("ext"));
	EXPECT_FALSE(d["module"].contains("quote"));

	ProfileResult r = load_profile(profile_path("ext-quote.json"));
	ASSERT_TRUE(r.profile) << r.error;
	const Profile &q = *r.profile;
	EXPECT_TRUE(q.tdx_features0 & features0::kExt);
	EXPECT_TRUE(q.tdx_features0 & features0::kQuote);
	EXPECT_EQ(q.tdx_features0 & ~(features0::kExt | features0::kQuote), default_profile().tdx_features0);
	EXPECT_TRUE(q.ext.required);
	EXPECT_EQ(q.ext.pool_pages, 64u);
	EXPECT_EQ(q.ext.init_budget_pages, 64u);
	EXPECT_EQ(q.ext.mem_add_budget_entries, 64u);
	EXPECT_EQ(q.quote.max_quote_size, 16384u);
	EXPECT_EQ(q.quote.init_steps, 3u);
	EXPECT_EQ(q.quote.get_budget_pages, 4u);
	EXPECT_EQ(q.quote.sign_budget_us, 2000u);
	ModuleImageResult img = parse_module_image(load_json("ext-quote.json")["module"].dump());
	ASSERT_TRUE(img.image) << img.error;
	EXPECT_EQ(img.image->ext.pool_pages, 64u);

	r = load_profile(profile_path("ext-only.json"));
	ASSERT_TRUE(r.profile) << r.error;
	EXPECT_TRUE(r.profile->tdx_features0 & features0::kExt);
	EXPECT_FALSE(r.profile->tdx_features0 & features0::kQuote);
	EXPECT_TRUE(r.profile->ext.required);
	EXPECT_EQ(r.profile->ext.pool_pages, 16u);

	/* The pool-size variants are ext-quote.json with another pool_pages, nothing else. */
	for (u32 n : {0u, 1u, 512u, 513u, 12800u}) {
		const std::string name = "ext-quote-pool-" + std::to_string(n) + ".json";
		json a = load_json("ext-quote.json"), b = load_json(name);
		EXPECT_EQ(b["module"]["ext"]["pool_pages"], n) << name;
		b["module"]["ext"]["pool_pages"] = a["module"]["ext"]["pool_pages"];
		EXPECT_EQ(a, b) << name;
	}
}

TEST(Profile, ExtensionErrors)
{
	json j = default_json();
	j["module"]["ext"] = load_json("ext-quote.json")["module"]["ext"];
	EXPECT_REFUSED(j, "module.ext: only for an image whose tdx_features0 has EXT (bit 39)");
	j = load_json("ext-only.json");
	j["module"]["quote"] = json{{"max_quote_size", 4096}};
	EXPECT_REFUSED(j, "module.quote: only for an image whose tdx_features0 has QUOTE (bit 50)");

	j = load_json("ext-quote.json");
	j["module"].erase("ext");
	EXPECT_REFUSED(j, "module.ext: required when tdx_features0 has EXT (bit 39)");
	j = load_json("ext-quote.json");
	j["module"].erase("quote");
	EXPECT_REFUSED(j, "module.quote: required when tdx_features0 has QUOTE (bit 50)");
	j = load_json("ext-quote.json");
	j["module"]["tdx_features0"] = "0x4000000040002"; /* QUOTE without EXT */
	EXPECT_REFUSED(j, "QUOTE (bit 50) is an extension and needs EXT (bit 39)");

	j = load_json("ext-quote.json");
	j["module"]["ext"]["pool_size"] = 3;
	EXPECT_REFUSED(j, "module.ext: unknown key \"pool_size\"");
	j = load_json("ext-quote.json");
	j["module"]["ext"].erase("init_budget_pages");
	EXPECT_REFUSED(j, "module.ext: missing key \"init_budget_pages\"");
	j = load_json("ext-quote.json");
	j["module"]["ext"]["required"] = 1;
	EXPECT_REFUSED(j, "module.ext.required: must be true or false");
	j = load_json("ext-quote.json");
	j["module"]["ext"]["pool_pages"] = 1ull << 32;
	EXPECT_REFUSED(j, "module.ext.pool_pages: 4294967296 is larger than");
	j = load_json("ext-quote.json");
	j["module"]["ext"]["pool_pages"] = -1;
	EXPECT_REFUSED(j, "module.ext.pool_pages: must be a non-negative integer");
	j = load_json("ext-quote.json");
	j["module"]["ext"]["init_budget_pages"] = 0;
	EXPECT_REFUSED(j, "module.ext.init_budget_pages: must be at least 1");
	for (int bad : {0, 513}) {
		j = load_json("ext-quote.json");
		j["module"]["ext"]["mem_add_budget_entries"] = bad;
		EXPECT_REFUSED(j, "module.ext.mem_add_budget_entries");
	}
	j = load_json("ext-quote.json");
	j["module"]["ext"]["mem_add_budget_entries"] = 512;
	EXPECT_TRUE(parse_profile(j.dump()).profile);
	j = load_json("ext-quote.json");
	j["module"]["quote"]["max_quote_size"] = 0;
	EXPECT_REFUSED(j, "module.quote.max_quote_size: must be at least 1");
	j = load_json("ext-quote.json");
	j["module"]["quote"]["format"] = "cwt";
	EXPECT_REFUSED(j, "module.quote: unknown key");
	for (const char *key : {"init_steps", "get_budget_pages"}) {
		j = load_json("ext-quote.json");
		j["module"]["quote"][key] = 0;
		EXPECT_REFUSED(j, std::string("module.quote.") + key + ": must be at least 1");
		j = load_json("ext-quote.json");
		j["module"]["quote"].erase(key);
		EXPECT_REFUSED(j, std::string("module.quote: missing key \"") + key + "\"");
	}
	/* sign_budget_us: 0 (sign inside the call) up to a second; required like the others. */
	j = load_json("ext-quote.json");
	j["module"]["quote"]["sign_budget_us"] = 0;
	ASSERT_TRUE(parse_profile(j.dump()).profile);
	EXPECT_EQ(parse_profile(j.dump()).profile->quote.sign_budget_us, 0u);
	j["module"]["quote"]["sign_budget_us"] = 1000001;
	EXPECT_REFUSED(j, "module.quote.sign_budget_us: 1000001 is larger than 1000000");
	j["module"]["quote"].erase("sign_budget_us");
	EXPECT_REFUSED(j, "module.quote: missing key \"sign_budget_us\"");
	/* The same rules for an image on its own. */
	j = load_json("ext-quote.json");
	j["module"].erase("ext");
	EXPECT_NE(parse_module_image(j["module"].dump()).error.find("module.ext: required"), std::string::npos);
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
