// SPDX-License-Identifier: GPL-2.0
// An index of a checkout of Intel's module-binaries repository (ABI.md §11):
// joined_files/<major.minor>/tdx_module_<x.y.zz>.blob next to mapping_file.json, or a flat
// directory of *.blob (with or without a mapping_file.json).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include <module-image/module_image.h>

namespace module_image {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char *kJoinedDir = "joined_files";
constexpr const char *kMappingFile = "mapping_file.json";

struct MappingEntry {
	std::optional<std::uint64_t> tdx_features0;
	std::optional<std::string> min_module_version_for_td_preserving;
	std::vector<std::string> min_seamldr_versions;
};
using Mapping = std::map<ModuleVersion, MappingEntry>;

Error mapping_error(const std::string &path, const std::string &what)
{
	return Error{"bad-mapping-file", path + ": " + what};
}

/* One element of "tdx_module_releases"; `where` names it in messages. */
Result<MappingEntry> parse_mapping_entry(const json &e, const std::string &where)
{
	MappingEntry m;
	if (auto it = e.find("tdx_feature0"); it != e.end()) {
		auto v = it->is_string() ? parse_hex(it->get<std::string>()) : std::nullopt;
		if (!v)
			return Error{"", where + ": tdx_feature0 is not a hex string \"0x...\" of at most 16 digits"};
		m.tdx_features0 = v;
	}
	if (auto it = e.find("min_module_version_for_td_preserving"); it != e.end()) {
		if (!it->is_string() || !parse_version(it->get<std::string>()))
			return Error{"", where + ": min_module_version_for_td_preserving is not a version string"};
		m.min_module_version_for_td_preserving = it->get<std::string>();
	}
	if (auto it = e.find("min_seamldr_versions"); it != e.end()) {
		if (!it->is_array())
			return Error{"", where + ": min_seamldr_versions is not an array"};
		for (const json &v : *it) {
			if (!v.is_string() || !parse_version(v.get<std::string>()))
				return Error{"", where + ": min_seamldr_versions holds a non-version " + v.dump()};
			m.min_seamldr_versions.push_back(v.get<std::string>());
		}
	}
	return m;
}

Result<Mapping> read_mapping(const fs::path &path)
{
	auto text = read_file(path.string());
	if (!text)
		return text.error();
	const json doc = json::parse(text.value().begin(), text.value().end(), nullptr, false);
	if (doc.is_discarded())
		return mapping_error(path.string(), "not valid JSON");
	if (!doc.is_object() || !doc.contains("tdx_module_releases") || !doc["tdx_module_releases"].is_array())
		return mapping_error(path.string(), "no \"tdx_module_releases\" array");
	Mapping mapping;
	std::size_t i = 0;
	for (const json &e : doc["tdx_module_releases"]) {
		const std::string where = "tdx_module_releases[" + std::to_string(i++) + "]";
		if (!e.is_object() || !e.contains("version") || !e["version"].is_string())
			return mapping_error(path.string(), where + " has no \"version\" string");
		const auto version = parse_version(e["version"].get<std::string>());
		if (!version)
			return mapping_error(path.string(), where + ": version " + e["version"].dump() +
								    " is not major.minor.update");
		auto entry = parse_mapping_entry(e, where);
		if (!entry)
			return mapping_error(path.string(), entry.error().message);
		if (!mapping.emplace(*version, std::move(entry.value())).second)
			return mapping_error(path.string(), where + ": version " + e["version"].dump() + " listed twice");
	}
	return mapping;
}

/* tdx_module_<x.y.zz>.blob */
std::optional<ModuleVersion> version_from_name(const std::string &name)
{
	const std::string prefix = "tdx_module_", suffix = ".blob";
	if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
		return std::nullopt;
	return parse_version(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

/* A test-signed image's own version, from its manifest's module object. */
std::optional<ModuleVersion> version_from_manifest(std::span<const std::uint8_t> module)
{
	const auto text = read_manifest(module);
	if (!text)
		return std::nullopt;
	const json j = json::parse(*text, nullptr, false, true);
	ModuleVersion v;
	for (auto [key, field] : {std::pair{"major", &v.major}, {"minor", &v.minor}, {"update", &v.update}}) {
		if (!j.is_object() || !j.contains(key) || !j[key].is_number_unsigned() || j[key].get<std::uint64_t>() > 0xFFFF)
			return std::nullopt;
		*field = j[key].get<std::uint16_t>();
	}
	return v;
}

Result<PublishedImage> index_blob(const fs::path &path, const std::optional<std::string> &major_minor_dir)
{
	auto bytes = read_file(path.string());
	if (!bytes)
		return bytes.error();
	const Bytes &blob = bytes.value();
	auto layout = parse_blob(blob);
	if (!layout)
		return Error{layout.error().code, path.string() + ": " + layout.error().message};

	PublishedImage img;
	img.path = path.string();
	img.sigstruct = blob_sigstruct(blob, layout.value());
	std::copy(std::begin(img.sigstruct.seamhash), std::end(img.sigstruct.seamhash), img.seamhash.begin());
	const auto module = std::span(blob).subspan(layout.value().module_offset);
	auto version = version_from_name(path.filename().string());
	if (!version && !major_minor_dir)
		version = version_from_manifest(module);
	if (!version)
		return Error{"bad-file-name", path.string() + ": no version in the name (tdx_module_<major>.<minor>.<update>.blob)" +
						      (major_minor_dir ? "" : " nor in an emulator manifest")};
	if (major_minor_dir && *major_minor_dir != std::to_string(version->major) + "." + std::to_string(version->minor))
		return Error{"bad-file-name", path.string() + ": version " + version_string(*version) +
						      " lies under " + kJoinedDir + "/" + *major_minor_dir};
	img.major = version->major;
	img.minor = version->minor;
	img.update = version->update;
	return img;
}

/* The entries of a directory, without the exceptions directory_iterator's increment throws. */
Result<std::vector<fs::directory_entry>> entries(const fs::path &dir)
{
	std::vector<fs::directory_entry> out;
	std::error_code ec;
	for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
		out.push_back(*it);
	if (ec)
		return Error{"io-error", dir.string() + ": " + ec.message()};
	return out;
}

using BlobPaths = std::vector<std::pair<fs::path, std::optional<std::string>>>;

/* The blobs to index, each with its <major.minor> directory: joined_files/<major.minor>/<name>.blob
 * when joined_files exists, else <root>/<name>.blob (no such directory). */
Result<BlobPaths> list_blobs(const fs::path &root)
{
	std::error_code ec;
	const fs::path joined = root / kJoinedDir;
	const bool is_joined = fs::is_directory(joined, ec);
	std::vector<fs::path> dirs;
	if (is_joined) {
		auto subdirs = entries(joined);
		if (!subdirs)
			return subdirs.error();
		for (const auto &d : subdirs.value())
			if (d.is_directory(ec))
				dirs.push_back(d.path());
	} else {
		dirs.push_back(root);
	}
	BlobPaths out;
	for (const fs::path &d : dirs) {
		auto files = entries(d);
		if (!files)
			return files.error();
		for (const auto &f : files.value())
			if (f.is_regular_file(ec) && f.path().extension() == ".blob")
				out.emplace_back(f.path(), is_joined ? std::optional(d.filename().string()) : std::nullopt);
	}
	return out;
}

} // namespace

std::optional<ModuleVersion> parse_version(const std::string &text)
{
	ModuleVersion v;
	std::uint16_t *fields[] = {&v.major, &v.minor, &v.update};
	std::size_t at = 0;
	for (int i = 0; i < 3; i++) {
		if (i > 0 && (at >= text.size() || text[at++] != '.'))
			return std::nullopt;
		std::uint32_t n = 0;
		std::size_t digits = 0;
		for (; at < text.size() && text[at] >= '0' && text[at] <= '9' && digits < 6; at++, digits++)
			n = n * 10 + std::uint32_t(text[at] - '0');
		if (digits == 0 || n > 0xFFFF)
			return std::nullopt;
		*fields[i] = static_cast<std::uint16_t>(n);
	}
	if (at != text.size())
		return std::nullopt;
	return v;
}

std::optional<std::uint64_t> parse_hex(const std::string &s)
{
	if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return std::nullopt;
	std::uint64_t v = 0;
	for (std::size_t i = 2; i < s.size(); i++) {
		const char c = s[i];
		const int d = c >= '0' && c <= '9' ? c - '0'
			      : c >= 'a' && c <= 'f' ? c - 'a' + 10
			      : c >= 'A' && c <= 'F' ? c - 'A' + 10
						     : -1;
		if (d < 0)
			return std::nullopt;
		v = v << 4 | std::uint64_t(d);
	}
	return v;
}

std::string version_string(const ModuleVersion &v)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "%u.%u.%02u", v.major, v.minor, v.update);
	return buf;
}

Result<Bytes> read_file(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	if (!in)
		return Error{"io-error", path + ": cannot open"};
	Bytes data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	if (in.bad())
		return Error{"io-error", path + ": read error"};
	return data;
}

Result<std::vector<PublishedImage>> index_published(const std::string &dir)
{
	const fs::path root(dir);
	std::error_code ec;
	if (!fs::is_directory(root, ec))
		return Error{"io-error", dir + ": not a directory"};
	Mapping mapping;
	if (fs::exists(root / kMappingFile, ec)) {
		auto m = read_mapping(root / kMappingFile);
		if (!m)
			return m.error();
		mapping = std::move(m.value());
	}
	auto blobs = list_blobs(root);
	if (!blobs)
		return blobs.error();

	std::vector<PublishedImage> images;
	for (const auto &[path, major_minor_dir] : blobs.value()) {
		auto img = index_blob(path, major_minor_dir);
		if (!img)
			return img.error();
		if (auto it = mapping.find({img.value().major, img.value().minor, img.value().update}); it != mapping.end()) {
			img.value().tdx_features0 = it->second.tdx_features0;
			img.value().min_module_version_for_td_preserving = it->second.min_module_version_for_td_preserving;
			img.value().min_seamldr_versions = it->second.min_seamldr_versions;
		}
		images.push_back(std::move(img.value()));
	}
	std::sort(images.begin(), images.end(), [](const PublishedImage &a, const PublishedImage &b) {
		return std::tie(a.major, a.minor, a.update, a.path) < std::tie(b.major, b.minor, b.update, b.path);
	});
	return images;
}

} // namespace module_image
