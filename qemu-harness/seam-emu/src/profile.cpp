// SPDX-License-Identifier: GPL-2.0
#include "profile.h"

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <tdx/abi/metadata.h>

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

u64 get_hex(const json &obj, const std::string &where, const std::string &key, u64 max)
{
	const std::string name = where + "." + key;
	const json &v = obj.at(key);
	if (!v.is_string())
		throw ProfileError{name + ": must be a hex string such as \"0x40002\""};
	std::string s = v.get<std::string>();
	if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		throw ProfileError{name + ": \"" + s + "\" is not 0x followed by 1-16 hex digits"};
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
			throw ProfileError{name + ": \"" + s + "\" has a non-hex digit"};
		x = (x << 4) | d;
	}
	if (x > max)
		throw ProfileError{name + ": \"" + s + "\" is larger than " + std::to_string(max)};
	return x;
}

bool get_bool(const json &obj, const std::string &where, const std::string &key)
{
	const json &v = obj.at(key);
	if (!v.is_boolean())
		throw ProfileError{where + "." + key + ": must be true or false"};
	return v.get<bool>();
}

Platform parse_platform(const json &j)
{
	const std::string w = "platform";
	Platform p;
	only_keys(j, w, {"lps", "packages", "keyids", "cpu", "errata", "seamldr"});
	p.lps = get_uint(j, w, "lps", 4096);
	p.packages = get_uint(j, w, "packages", 64);

	const json &k = j.at("keyids");
	only_keys(k, w + ".keyids", {"tdx_start", "nr_tdx"});
	p.tdx_keyid_start = get_uint(k, w + ".keyids", "tdx_start", 0xFFFF);
	p.nr_tdx_keyids = get_uint(k, w + ".keyids", "nr_tdx", 0xFFFF);
	if (p.tdx_keyid_start == 0)
		throw ProfileError{"platform.keyids.tdx_start: KeyID 0 is the TME key, never a TDX KeyID"};
	if (p.nr_tdx_keyids == 0)
		throw ProfileError{"platform.keyids.nr_tdx: must be at least 1"};
	if (p.tdx_keyid_start + p.nr_tdx_keyids > 0x10000)
		throw ProfileError{"platform.keyids: range does not fit in 16-bit KeyIDs"};

	const json &c = j.at("cpu");
	only_keys(c, w + ".cpu", {"signature"});
	p.cpu_signature = u32(get_hex(c, w + ".cpu", "signature", 0xFFFFFFFF));

	const json &e = j.at("errata");
	only_keys(e, w + ".errata", {"seamret_invalidates_vmcs", "partial_write_machine_check"});
	p.errata.seamret_invalidates_vmcs = get_bool(e, w + ".errata", "seamret_invalidates_vmcs");
	p.errata.partial_write_machine_check = get_bool(e, w + ".errata", "partial_write_machine_check");

	const std::string ws = w + ".seamldr";
	const json &s = j.at("seamldr");
	only_keys(s, ws, {"major", "minor", "update", "build_num", "build_date", "num_remaining_updates", "debug"});
	p.seamldr.major = get_uint(s, ws, "major", 0xFFFF);
	p.seamldr.minor = get_uint(s, ws, "minor", 0xFFFF);
	p.seamldr.update = get_uint(s, ws, "update", 0xFFFF);
	p.seamldr.build_num = get_uint(s, ws, "build_num", 0xFFFF);
	p.seamldr.build_date = get_uint(s, ws, "build_date", 0xFFFFFFFF);
	p.seamldr.num_remaining_updates = get_uint(s, ws, "num_remaining_updates", 0xFFFFFFFF);
	p.seamldr.debug = get_bool(s, ws, "debug");

	std::string topo = check_topology(p);
	if (!topo.empty())
		throw ProfileError{"platform: " + topo};
	return p;
}

/*
 * "ext" and "quote" describe features the image reports: each is present exactly when its
 * TDX_FEATURES0 bit is set (so default images carry neither and a switch never lacks its numbers).
 */
std::set<std::string> image_keys(const json &m, const std::string &w, bool manifest)
{
	std::set<std::string> keys = {"major",   "minor", "update", "build_num",  "build_date",
				      "tdx_features0", "tdmr", "handoff", "td", "work_budget"};
	/* A manifest's SVNs are its sigstruct's: it may leave them out. */
	if (!manifest || (m.is_object() && m.contains("svn")))
		keys.insert("svn");
	if (!m.is_object() || !m.contains("tdx_features0"))
		return keys; /* only_keys() reports it */
	const u64 f = get_hex(m, w, "tdx_features0", ~0ull);
	if ((f & features0::kQuote) && !(f & features0::kExt))
		throw ProfileError{w + ".tdx_features0: QUOTE (bit 50) is an extension and needs EXT (bit 39)"};
	const struct {
		const char *key;
		u64 bit;
		const char *name;
	} opt[] = {{"ext", features0::kExt, "EXT (bit 39)"}, {"quote", features0::kQuote, "QUOTE (bit 50)"}};
	for (const auto &o : opt) {
		if ((f & o.bit) && !m.contains(o.key))
			throw ProfileError{w + "." + o.key + ": required when tdx_features0 has " + o.name};
		if (!(f & o.bit) && m.contains(o.key))
			throw ProfileError{w + "." + o.key + ": only for an image whose tdx_features0 has " + o.name};
		if (f & o.bit)
			keys.insert(o.key);
	}
	return keys;
}

void parse_ext(const json &m, const std::string &w, ModuleImage *p)
{
	if (p->tdx_features0 & features0::kExt) {
		const std::string we = w + ".ext";
		const json &e = m.at("ext");
		only_keys(e, we, {"required", "pool_pages", "init_budget_pages", "mem_add_budget_entries"});
		p->ext.required = get_bool(e, we, "required");
		p->ext.pool_pages = get_uint(e, we, "pool_pages", 0xFFFFFFFF);
		p->ext.init_budget_pages = get_uint(e, we, "init_budget_pages", 0xFFFFFFFF);
		if (p->ext.init_budget_pages == 0)
			throw ProfileError{we + ".init_budget_pages: must be at least 1"};
		p->ext.mem_add_budget_entries = get_uint(e, we, "mem_add_budget_entries", 512);
		if (p->ext.mem_add_budget_entries == 0)
			throw ProfileError{we + ".mem_add_budget_entries: must be 1..512 (entries of one list page)"};
	}
	if (p->tdx_features0 & features0::kQuote) {
		const std::string wq = w + ".quote";
		const json &q = m.at("quote");
		only_keys(q, wq, {"max_quote_size", "init_steps", "get_budget_pages", "sign_budget_us"});
		const struct {
			const char *key;
			u32 *value;
		} counts[] = {{"max_quote_size", &p->quote.max_quote_size},
			      {"init_steps", &p->quote.init_steps},
			      {"get_budget_pages", &p->quote.get_budget_pages}};
		for (const auto &k : counts) {
			*k.value = u32(get_uint(q, wq, k.key, 0xFFFFFFFF));
			if (*k.value == 0)
				throw ProfileError{wq + "." + k.key + ": must be at least 1"};
		}
		/* Up to a second: a longer wait would be a call that never lets its CPU go. */
		p->quote.sign_budget_us = u32(get_uint(q, wq, "sign_budget_us", 1000000));
	}
}

ModuleImage parse_image(const json &m, bool manifest)
{
	const std::string w = "module";
	ModuleImage p;
	only_keys(m, w, image_keys(m, w, manifest));
	p.module.major = get_uint(m, w, "major", 0xFFFF);
	p.module.minor = get_uint(m, w, "minor", 0xFFFF);
	p.module.update = get_uint(m, w, "update", 0xFFFF);
	p.module.build_num = get_uint(m, w, "build_num", 0xFFFF);
	p.module.build_date = get_uint(m, w, "build_date", 0xFFFFFFFF);
	p.tdx_features0 = get_hex(m, w, "tdx_features0", ~0ull);
	if (m.contains("svn")) {
		const std::string wv = w + ".svn";
		const json &v = m.at("svn");
		only_keys(v, wv, {"major", "minor"});
		p.svn.major = u8(get_uint(v, wv, "major", 0xFF));
		p.svn.minor = u8(get_uint(v, wv, "minor", 0xFF));
	}

	const std::string wt = w + ".tdmr";
	const json &t = m.at("tdmr");
	only_keys(t, wt, {"max_tdmrs", "max_reserved_per_tdmr", "pamt_entry_size"});
	p.tdmr.max_tdmrs = get_uint(t, wt, "max_tdmrs", 0xFFFF);
	p.tdmr.max_reserved_per_tdmr = get_uint(t, wt, "max_reserved_per_tdmr", 0xFFFF);
	if (p.tdmr.max_tdmrs == 0 || p.tdmr.max_tdmrs > 512)
		throw ProfileError{wt + ".max_tdmrs: must be 1..512 (one page of TDMR addresses)"};
	if (p.tdmr.max_reserved_per_tdmr == 0 || p.tdmr.max_reserved_per_tdmr > 253)
		throw ProfileError{wt + ".max_reserved_per_tdmr: must be 1..253 (TDMR_INFO within a page)"};
	const json &e = t.at("pamt_entry_size");
	only_keys(e, wt + ".pamt_entry_size", {"4k", "2m", "1g"});
	const char *names[3] = {"4k", "2m", "1g"};
	for (int i = 0; i < 3; i++) {
		p.tdmr.pamt_entry_size[i] = get_uint(e, wt + ".pamt_entry_size", names[i], 4096);
		if (p.tdmr.pamt_entry_size[i] == 0)
			throw ProfileError{wt + ".pamt_entry_size." + names[i] + ": must be > 0"};
	}

	const std::string wh = w + ".handoff";
	const json &h = m.at("handoff");
	only_keys(h, wh, {"module_hv", "min_update_hv", "no_downgrade", "num_handoff_pages"});
	p.handoff.module_hv = get_uint(h, wh, "module_hv", 0xFFFF);
	p.handoff.min_update_hv = get_uint(h, wh, "min_update_hv", 0xFFFF);
	p.handoff.no_downgrade = get_bool(h, wh, "no_downgrade");
	p.handoff.num_handoff_pages = get_uint(h, wh, "num_handoff_pages", 0xFFFF);
	if (p.handoff.min_update_hv > p.handoff.module_hv)
		throw ProfileError{wh + ": min_update_hv is larger than module_hv"};

	const std::string wd = w + ".td";
	const json &d = m.at("td");
	only_keys(d, wd, {"tdr_base_size", "tdcs_base_size", "tdvps_base_size"});
	p.td.tdr_base_size = get_uint(d, wd, "tdr_base_size", 0xFFFF);
	p.td.tdcs_base_size = get_uint(d, wd, "tdcs_base_size", 0xFFFF);
	p.td.tdvps_base_size = get_uint(d, wd, "tdvps_base_size", 0xFFFF);

	const std::string ww = w + ".work_budget";
	const json &b = m.at("work_budget");
	only_keys(b, ww, {"tdmr_init_bytes", "sys_disable_steps"});
	p.work_budget.tdmr_init_bytes = get_uint(b, ww, "tdmr_init_bytes", ~0ull);
	if (p.work_budget.tdmr_init_bytes == 0 || p.work_budget.tdmr_init_bytes % kPageSize)
		throw ProfileError{ww + ".tdmr_init_bytes: must be a non-zero multiple of 4096"};
	p.work_budget.sys_disable_steps = get_uint(b, ww, "sys_disable_steps", 1000000);
	if (p.work_budget.sys_disable_steps == 0)
		throw ProfileError{ww + ".sys_disable_steps: must be at least 1"};
	parse_ext(m, w, &p);
	return p;
}

Profile parse(const json &j)
{
	only_keys(j, "profile", {"platform", "module"});
	Profile p;
	static_cast<Platform &>(p) = parse_platform(j.at("platform"));
	static_cast<ModuleImage &>(p) = parse_image(j.at("module"), false);
	return p;
}

/* Run a parser over JSON text, turning its exceptions into an error string. */
template <typename T, typename F>
std::pair<std::optional<T>, std::string> parse_text(const std::string &json_text, F parser)
{
	json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
	if (j.is_discarded())
		return {std::nullopt, "not valid JSON"};
	try {
		return {parser(j), {}};
	} catch (const ProfileError &e) {
		return {std::nullopt, e.msg};
	} catch (const json::exception &e) {
		return {std::nullopt, e.what()};
	}
}

} // namespace

std::string check_topology(const Platform &p)
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
	auto [p, err] = parse_text<Profile>(json_text, parse);
	if (!p)
		return {std::nullopt, "profile: " + err};
	return {p, {}};
}

ModuleImageResult parse_module_image(const std::string &json_text)
{
	auto [m, err] = parse_text<ModuleImage>(json_text, [](const json &j) { return parse_image(j, true); });
	if (!m)
		return {std::nullopt, "module image: " + err};
	return {m, {}};
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
