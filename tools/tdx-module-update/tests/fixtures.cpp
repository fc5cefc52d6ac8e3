// SPDX-License-Identifier: GPL-2.0
// Shared test fixtures (fixtures.h).
#include "fixtures.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "cli.h"

namespace tdx_update::test {

namespace {

std::uint8_t seed_of(const std::string &version)
{
	std::uint8_t seed = 0;
	for (char c : version)
		seed = static_cast<std::uint8_t>(seed * 31 + c);
	return seed;
}

std::string major_minor_of(const std::string &version)
{
	return version.substr(0, version.rfind('.'));
}

fs::path blob_name(const std::string &version)
{
	return "tdx_module_" + version + ".blob";
}

} // namespace

Bytes blob_for(const ImageDef &def)
{
	module_image::SigstructSpec spec = module_image::test::spec();
	spec.cpuid_table = def.cpuid;
	spec.debug = def.debug;
	const Bytes module = module_image::test::module_of(2, seed_of(def.version));
	auto s = module_image::make_sigstruct(spec, module, module_image::test::test_key());
	EXPECT_TRUE(s.ok()) << s.error().to_string();
	return module_image::make_blob(tdx::abi::kImageVersionV1, s.value(), module);
}

void write_intel_tree(const fs::path &dir, const std::vector<ImageDef> &defs)
{
	nlohmann::json releases = nlohmann::json::array();
	for (const ImageDef &d : defs) {
		write_file(dir / "joined_files" / major_minor_of(d.version) / blob_name(d.version), blob_for(d));
		if (d.mapped)
			releases.push_back({{"version", d.version},
					    {"min_module_version_for_td_preserving", d.min_td_preserving},
					    {"min_seamldr_versions", d.min_seamldr},
					    {"tdx_feature0", "0xF0FBF"}});
	}
	const nlohmann::json doc = {{"Header", {{"Version", "1.0"}}}, {"tdx_module_releases", releases}};
	write_file(dir / "mapping_file.json", doc.dump(2));
}

void write_flat_dir(const fs::path &dir, const std::vector<ImageDef> &defs)
{
	for (const ImageDef &d : defs)
		write_file(dir / blob_name(d.version), blob_for(d));
}

void write_sysfs(const fs::path &root, const Machine &m)
{
	const fs::path host = root / kTdxHost;
	write_file(host / "version", m.module + "\n");
	write_file(host / "seamldr_version", m.seamldr + "\n");
	write_file(host / "num_remaining_updates", m.remaining + "\n");
}

ToolRun run_tool(const std::vector<std::string> &args, bool tty)
{
	std::vector<const char *> argv{"tdx-module-update"};
	for (const std::string &a : args)
		argv.push_back(a.c_str());
	std::ostringstream out, err;
	ToolRun r;
	r.code = tdx_update::run(int(argv.size()), argv.data(), Console{out, err, tty});
	r.out = out.str();
	r.err = err.str();
	return r;
}

std::vector<std::string> lines_starting(const std::string &text, const std::string &prefix)
{
	std::vector<std::string> out;
	std::istringstream in(text);
	for (std::string line; std::getline(in, line);)
		if (line.starts_with(prefix))
			out.push_back(line);
	return out;
}

std::string last_line(const std::string &text)
{
	std::string t = text;
	while (!t.empty() && t.back() == '\n')
		t.pop_back();
	const auto nl = t.rfind('\n');
	return nl == std::string::npos ? t : t.substr(nl + 1);
}

} // namespace tdx_update::test
