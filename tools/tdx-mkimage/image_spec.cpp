// SPDX-License-Identifier: GPL-2.0
// The manifest file of tdx-mkimage: checked as far as the image needs it (the emulator's profile
// parser checks the "module" object completely when it installs the image).
#include "image_spec.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace mkimage {

using module_image::Bytes;
using module_image::Error;
using nlohmann::json;

namespace {

Error bad(const std::string &what)
{
	return Error{"bad-manifest", what};
}

/* An unsigned integer of at most `max` at `obj[key]`. */
std::optional<std::uint64_t> uint_at(const json &obj, const char *key, std::uint64_t max)
{
	if (!obj.contains(key) || !obj[key].is_number_unsigned() || obj[key].get<std::uint64_t>() > max)
		return std::nullopt;
	return obj[key].get<std::uint64_t>();
}

/* A hex string "0x..." of at most 32 bits. */
std::optional<std::uint32_t> hex32(const json &v)
{
	const auto n = v.is_string() ? module_image::parse_hex(v.get<std::string>()) : std::nullopt;
	if (!n || *n > 0xFFFFFFFFu)
		return std::nullopt;
	return static_cast<std::uint32_t>(*n);
}

bool is_bcd_date(std::uint32_t v)
{
	for (int i = 0; i < 8; i++)
		if (((v >> (4 * i)) & 0xF) > 9)
			return false;
	return true;
}

module_image::Status check_keys(const json &obj, const char *where, std::initializer_list<const char *> keys)
{
	for (const char *k : keys)
		if (!obj.contains(k))
			return bad(std::string(where) + " has no \"" + k + "\"");
	for (const auto &[k, v] : obj.items())
		if (std::find_if(keys.begin(), keys.end(), [&](const char *w) { return k == w; }) == keys.end())
			return bad(std::string(where) + ": unknown key \"" + k + "\"");
	return module_image::Ok{};
}

/* The module object: its version and the handoff fields the sigstruct repeats. */
module_image::Status read_module(const json &m, ImageSpec &spec)
{
	if (!m.is_object())
		return bad("\"module\" is not an object");
	std::uint16_t *version[] = {&spec.version.major, &spec.version.minor, &spec.version.update};
	const char *names[] = {"major", "minor", "update"};
	for (int i = 0; i < 3; i++) {
		auto v = uint_at(m, names[i], 0xFFFF);
		if (!v)
			return bad(std::string("module.") + names[i] + " is not a 16-bit unsigned number");
		*version[i] = static_cast<std::uint16_t>(*v);
	}
	if (!m.contains("handoff") || !m["handoff"].is_object())
		return bad("module.handoff is not an object");
	const json &h = m["handoff"];
	auto hv = uint_at(h, "module_hv", 0xFFFF), min_hv = uint_at(h, "min_update_hv", 0xFFFF),
	     pages = uint_at(h, "num_handoff_pages", 0xFFFF);
	if (!hv || !min_hv || !pages || !h.contains("no_downgrade") || !h["no_downgrade"].is_boolean())
		return bad("module.handoff needs module_hv, min_update_hv, num_handoff_pages (u16) and no_downgrade (bool)");
	spec.sigstruct.module_hv = static_cast<std::uint16_t>(*hv);
	spec.sigstruct.min_update_hv = static_cast<std::uint16_t>(*min_hv);
	spec.sigstruct.num_handoff_pages = static_cast<std::uint16_t>(*pages);
	spec.sigstruct.no_downgrade = h["no_downgrade"].get<bool>();
	return module_image::Ok{};
}

module_image::Status read_sigstruct(const json &s, ImageSpec &spec)
{
	if (!s.is_object())
		return bad("\"sigstruct\" is not an object");
	if (auto st = check_keys(s, "sigstruct", {"major_svn", "minor_svn", "debug", "date", "cpuid"}); !st)
		return st;
	auto major = uint_at(s, "major_svn", 0xFF), minor = uint_at(s, "minor_svn", 0xFF);
	if (!major || !minor)
		return bad("sigstruct.major_svn and minor_svn must be numbers 0..255");
	if (!s["debug"].is_boolean())
		return bad("sigstruct.debug is not a bool");
	auto date = hex32(s["date"]);
	if (!date || !is_bcd_date(*date))
		return bad("sigstruct.date is not a BCD date \"0xYYYYMMDD\"");
	if (!s["cpuid"].is_array() || s["cpuid"].size() > tdx::abi::kSigstructMaxCpuidEntries)
		return bad("sigstruct.cpuid is not an array of at most 255 entries");
	spec.sigstruct.major_svn = static_cast<std::uint8_t>(*major);
	spec.sigstruct.minor_svn = static_cast<std::uint8_t>(*minor);
	spec.sigstruct.debug = s["debug"].get<bool>();
	spec.sigstruct.date_bcd = *date;
	for (const json &e : s["cpuid"]) {
		auto fms = hex32(e);
		if (!fms)
			return bad("sigstruct.cpuid holds " + e.dump() + ", not a hex string \"0x...\"");
		spec.sigstruct.cpuid_table.push_back(*fms);
	}
	return module_image::Ok{};
}

} // namespace

module_image::Result<ImageSpec> parse_image_spec(const std::string &text)
{
	const json doc = json::parse(text, nullptr, false, true);
	if (doc.is_discarded())
		return bad("not valid JSON");
	if (!doc.is_object())
		return bad("not a JSON object");
	if (auto st = check_keys(doc, "the manifest file", {"module", "sigstruct"}); !st)
		return st.error();
	ImageSpec spec;
	if (auto st = read_module(doc["module"], spec); !st)
		return st.error();
	if (auto st = read_sigstruct(doc["sigstruct"], spec); !st)
		return st.error();
	spec.module_json = doc["module"].dump();
	return spec;
}

Bytes module_image_of(const std::string &module_json, std::size_t pages)
{
	Bytes image = module_image::manifest_pages(module_json);
	const std::size_t manifest_size = image.size();
	image.resize(std::max(image.size(), pages * tdx::abi::kPageSize));
	/* xorshift64 filler, the same for every build: the image's hash depends on the manifest only. */
	std::uint64_t x = 0x9E3779B97F4A7C15ull;
	for (std::size_t i = manifest_size; i < image.size(); i++) {
		if (i % 8 == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		image[i] = static_cast<std::uint8_t>(x >> (8 * (i % 8)));
	}
	return image;
}

} // namespace mkimage
