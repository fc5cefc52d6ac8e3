// SPDX-License-Identifier: GPL-2.0
// What the tdx-module-update tests share: test-signed images laid out like Intel's module-binaries
// repository (or flat), a fake sysfs tree of the running versions, and the tool run in-process.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.h" /* lib/module-image/tests: the test key, module_of, TempDir, write_file */

namespace tdx_update::test {

namespace fs = std::filesystem;
using module_image::Bytes;
using module_image::test::TempDir;
using module_image::test::write_file;

/* One image of a test directory. */
struct ImageDef {
	std::string version;                          /* x.y.zz: the file name's */
	std::vector<std::uint32_t> cpuid = {0x806f8}; /* the sigstruct's CPUID table */
	bool debug = false;
	/* Its mapping_file.json entry (written when `mapped`). */
	bool mapped = true;
	std::vector<std::string> min_seamldr = {"1.5.00", "2.0.00"};
	std::string min_td_preserving = "1.5.01";
};

/* A v1 blob (the published format), signed with the project's test key, different per version. */
Bytes blob_for(const ImageDef &def);

/* joined_files/<major.minor>/tdx_module_<x.y.zz>.blob and mapping_file.json (the mapped ones). */
void write_intel_tree(const fs::path &dir, const std::vector<ImageDef> &defs);
/* <dir>/tdx_module_<x.y.zz>.blob, no mapping_file.json. */
void write_flat_dir(const fs::path &dir, const std::vector<ImageDef> &defs);

/* The running versions, as the upstream sysfs files show them. */
struct Machine {
	std::string module = "1.5.06";
	std::string seamldr = "1.5.00";
	std::string remaining = "3";
};
inline constexpr const char *kTdxHost = "sys/devices/faux/tdx_host";
inline constexpr const char *kFwUpload = "sys/class/firmware/tdx_module";
/* <root>/sys/devices/faux/tdx_host/{version,seamldr_version,num_remaining_updates}. */
void write_sysfs(const fs::path &root, const Machine &m = {});

/* The tool run in-process (under the sanitizers), as the program would be. */
struct ToolRun {
	int code = -1;
	std::string out, err;
};
ToolRun run_tool(const std::vector<std::string> &args, bool tty = false);

/* The lines of `text` that start with `prefix`. */
std::vector<std::string> lines_starting(const std::string &text, const std::string &prefix);
/* The last line of `text`. */
std::string last_line(const std::string &text);

} // namespace tdx_update::test
