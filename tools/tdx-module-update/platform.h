// SPDX-License-Identifier: GPL-2.0
// What tdx-module-update learns of the machine (ABI.md §10): the running TDX module's and
// P-SEAMLDR's versions and the number of updates left, read from sysfs at the upstream paths or at
// the pre-merge paths Intel's own tool (version_select_and_load.py) still uses; the firmware-upload
// directory; the CPU's CPUID.1.EAX. Every sysfs path lies under a root (--sysfs-root) so that
// another machine's data or a test's fake tree can stand in for /sys.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <module-image/module_image.h>

namespace tdx_update {

using module_image::Error;
using module_image::ModuleVersion;
using module_image::Result;
using module_image::Status;

/* A sysfs tree: the live one (empty root) or one under --sysfs-root. */
class Sysfs {
public:
	explicit Sysfs(std::string root = {}) : root_(std::move(root)) {}
	/* `abs` (an absolute path such as "/sys/...") under the root. */
	std::string path(std::string_view abs) const { return root_ + std::string(abs); }
	/* The first of `known` (absolute paths, preferred first) that exists under the root. */
	std::optional<std::string> first_existing(std::span<const char *const> known) const;

private:
	std::string root_;
};

/*
 * One attribute's value: its first line, without the newline. Errors name the path and the
 * errno's text; the code is "busy" for EBUSY (an fw_upload attribute while an upload runs),
 * "no-device" for ENXIO (tdx_host's version without a module), else "io-error".
 */
Result<std::string> read_attr(const std::string &path);
/*
 * Write all of `data` to an existing file (never created: on sysfs a missing attribute is an
 * error), in as many write(2) calls as it takes: sysfs takes at most a page per call, so a
 * firmware image goes in page-sized pieces. Same error codes as read_attr.
 */
Status write_bytes(const std::string &path, std::span<const std::uint8_t> data);
/* A text attribute, as `echo -n text > path` writes it. */
Status write_attr(const std::string &path, std::string_view text);

/* What runs now. The P-SEAMLDR fields are optional: they are 0400 and visible only while runtime
 * update is offered, and --list is still useful without them. */
struct Running {
	ModuleVersion module;
	std::optional<ModuleVersion> seamldr;
	std::string seamldr_unknown; /* why seamldr is unset */
	std::optional<std::uint32_t> num_remaining_updates;
	std::string updates_unknown; /* why num_remaining_updates is unset */
};

/* The running TDX module's version ("io-error", "bad-format"). */
Result<ModuleVersion> read_module_version(const Sysfs &sysfs);
/* All of Running; only the module version is required. */
Result<Running> read_running(const Sysfs &sysfs);

/* /sys/class/firmware/tdx_module (upstream) or .../seamldr_upload (pre-merge), under the root;
 * neither is there when the kernel does not offer runtime update ("no-entry"). */
Result<std::string> find_fw_upload(const Sysfs &sysfs);

/* "0x806f8": how CPUID values are written (mapping files, sigstruct dumps, --cpu-fms). */
std::string hex_string(std::uint32_t v);

/* CPUID.1.EAX of the CPU this runs on (nullopt when the instruction is not there). */
std::optional<std::uint32_t> host_cpuid_1_eax();

} // namespace tdx_update
