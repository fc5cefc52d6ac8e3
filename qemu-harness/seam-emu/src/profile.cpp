// SPDX-License-Identifier: GPL-2.0
#include "profile.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace seam_emu {

namespace {

using json = nlohmann::json;

/* A parse failure carries its message up to parse_profile(). */
struct ProfileError {
	std::string msg;
};

void only_keys(const json &obj, const std::string &where, std::set<std::string> allowed)
{
	if (!obj.is_object())
		throw ProfileError{where + ": must be an object"};
	for (auto it = obj.begin(); it != obj.end(); ++it)
		if (!allowed.count(it.key()))
			throw ProfileError{where + ": unknown key \"" + it.key() + "\""};
	for (const auto &k : allowed)
		if (!obj.contains(k))
			throw ProfileError{where + ": missing key \"" + k + "\""};
}

u64 get_uint(const json &obj, const std::string &where, const std::string &key, u64 max)
{
	const json &v = obj.at(key);
	if (!v.is_number_unsigned())
		throw ProfileError{where + "." + key + ": must be a non-negative integer"};
	u64 x = v.get<u64>();
	if (x > max)
		throw ProfileError{where + "." + key + ": " + std::to_string(x) + " is larger than " +
				   std::to_string(max)};
	return x;
}

u64 get_hex(const json &obj, const std::string &key)
{
	const json &v = obj.at(key);
	if (!v.is_string())
		throw ProfileError{key + ": must be a hex string such as \"0x40002\""};
	std::string s = v.get<std::string>();
	if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		throw ProfileError{key + ": \"" + s + "\" is not 0x followed by 1-16 hex digits"};
	u64 x = 0;
	for (size_t i = 2; i < s.size(); i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			throw ProfileError{key + ": \"" + s + "\" has a non-hex digit"};
		x = (x << 4) | d;
	}
	return x;
}

Profile parse(const json &j)
{
	Profile p;
	only_keys(j, "profile",
		  {"module", "tdx_features0", "lps", "packages", "keyids", "tdmr", "handoff", "td", "work_budget"});

	const json &m = j.at("module");
	only_keys(m, "module", {"major", "minor", "update", "build_num", "build_date"});
	p.module.major = get_uint(m, "module", "major", 0xFFFF);
	p.module.minor = get_uint(m, "module", "minor", 0xFFFF);
	p.module.update = get_uint(m, "module", "update", 0xFFFF);
	p.module.build_num = get_uint(m, "module", "build_num", 0xFFFF);
	p.module.build_date = get_uint(m, "module", "build_date", 0xFFFFFFFF);

	p.tdx_features0 = get_hex(j, "tdx_features0");
	p.lps = get_uint(j, "profile", "lps", 4096);
	p.packages = get_uint(j, "profile", "packages", 64);

	const json &k = j.at("keyids");
	only_keys(k, "keyids", {"tdx_start", "nr_tdx"});
	p.tdx_keyid_start = get_uint(k, "keyids", "tdx_start", 0xFFFF);
	p.nr_tdx_keyids = get_uint(k, "keyids", "nr_tdx", 0xFFFF);
	if (p.tdx_keyid_start == 0)
		throw ProfileError{"keyids.tdx_start: KeyID 0 is the TME key, never a TDX KeyID"};
	if (p.nr_tdx_keyids == 0)
		throw ProfileError{"keyids.nr_tdx: must be at least 1"};
	if (p.tdx_keyid_start + p.nr_tdx_keyids > 0x10000)
		throw ProfileError{"keyids: range does not fit in 16-bit KeyIDs"};

	const json &t = j.at("tdmr");
	only_keys(t, "tdmr", {"max_tdmrs", "max_reserved_per_tdmr", "pamt_entry_size"});
	p.tdmr.max_tdmrs = get_uint(t, "tdmr", "max_tdmrs", 0xFFFF);
	p.tdmr.max_reserved_per_tdmr = get_uint(t, "tdmr", "max_reserved_per_tdmr", 0xFFFF);
	if (p.tdmr.max_tdmrs == 0 || p.tdmr.max_tdmrs > 512)
		throw ProfileError{"tdmr.max_tdmrs: must be 1..512 (one page of TDMR addresses)"};
	if (p.tdmr.max_reserved_per_tdmr == 0 || p.tdmr.max_reserved_per_tdmr > 253)
		throw ProfileError{"tdmr.max_reserved_per_tdmr: must be 1..253 (TDMR_INFO within a page)"};
	const json &e = t.at("pamt_entry_size");
	only_keys(e, "tdmr.pamt_entry_size", {"4k", "2m", "1g"});
	const char *names[3] = {"4k", "2m", "1g"};
	for (int i = 0; i < 3; i++) {
		p.tdmr.pamt_entry_size[i] = get_uint(e, "tdmr.pamt_entry_size", names[i], 4096);
		if (p.tdmr.pamt_entry_size[i] == 0)
			throw ProfileError{std::string("tdmr.pamt_entry_size.") + names[i] + ": must be > 0"};
	}

	const json &h = j.at("handoff");
	only_keys(h, "handoff", {"module_hv", "min_update_hv", "no_downgrade", "num_handoff_pages"});
	p.handoff.module_hv = get_uint(h, "handoff", "module_hv", 0xFFFF);
	p.handoff.min_update_hv = get_uint(h, "handoff", "min_update_hv", 0xFFFF);
	if (!h.at("no_downgrade").is_boolean())
		throw ProfileError{"handoff.no_downgrade: must be true or false"};
	p.handoff.no_downgrade = h.at("no_downgrade").get<bool>();
	p.handoff.num_handoff_pages = get_uint(h, "handoff", "num_handoff_pages", 0xFFFF);
	if (p.handoff.min_update_hv > p.handoff.module_hv)
		throw ProfileError{"handoff: min_update_hv is larger than module_hv"};

	const json &d = j.at("td");
	only_keys(d, "td", {"tdr_base_size", "tdcs_base_size", "tdvps_base_size"});
	p.td.tdr_base_size = get_uint(d, "td", "tdr_base_size", 0xFFFF);
	p.td.tdcs_base_size = get_uint(d, "td", "tdcs_base_size", 0xFFFF);
	p.td.tdvps_base_size = get_uint(d, "td", "tdvps_base_size", 0xFFFF);

	const json &w = j.at("work_budget");
	only_keys(w, "work_budget", {"tdmr_init_bytes", "sys_disable_steps"});
	p.work_budget.tdmr_init_bytes = get_uint(w, "work_budget", "tdmr_init_bytes", ~0ull);
	if (p.work_budget.tdmr_init_bytes == 0 || p.work_budget.tdmr_init_bytes % kPageSize)
		throw ProfileError{"work_budget.tdmr_init_bytes: must be a non-zero multiple of 4096"};
	p.work_budget.sys_disable_steps = get_uint(w, "work_budget", "sys_disable_steps", 1000000);
	if (p.work_budget.sys_disable_steps == 0)
		throw ProfileError{"work_budget.sys_disable_steps: must be at least 1"};

	std::string topo = check_topology(p);
	if (!topo.empty())
		throw ProfileError{topo};
	return p;
}

} // namespace

std::string check_topology(const Profile &p)
{
	if (p.lps == 0)
		return "lps: must be at least 1";
	if (p.packages == 0)
		return "packages: must be at least 1";
	if (p.lps % p.packages)
		return "lps (" + std::to_string(p.lps) + ") is not a multiple of packages (" +
		       std::to_string(p.packages) + ")";
	return {};
}

ProfileResult parse_profile(const std::string &json_text)
{
	json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
	if (j.is_discarded())
		return {std::nullopt, "profile is not valid JSON"};
	try {
		return {parse(j), {}};
	} catch (const ProfileError &e) {
		return {std::nullopt, e.msg};
	} catch (const json::exception &e) {
		return {std::nullopt, std::string("profile: ") + e.what()};
	}
}

ProfileResult load_profile(const std::string &path)
{
	std::ifstream in(path);
	if (!in)
		return {std::nullopt, "cannot open profile " + path};
	std::stringstream ss;
	ss << in.rdbuf();
	ProfileResult r = parse_profile(ss.str());
	if (!r.profile)
		r.error = path + ": " + r.error;
	return r;
}

} // namespace seam_emu
