// SPDX-License-Identifier: GPL-2.0
// The running versions, the firmware-upload directory and the CPU (platform.h).
#include "platform.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tdx_update {

namespace {

/*
 * Where each attribute is, preferred first. The upstream names are Linux 7.2's (ABI.md §10);
 * the others are those of the pre-merge series that Intel's version_select_and_load.py reads
 * (tdx_host/seamldr/, firmware "seamldr_upload"), and of that tool's first release
 * (/sys/devices/virtual/tdx/).
 */
constexpr const char *kModuleVersion[] = {
	"/sys/devices/faux/tdx_host/version",
	"/sys/devices/virtual/tdx/tdx_tsm/version",
};
constexpr const char *kSeamldrVersion[] = {
	"/sys/devices/faux/tdx_host/seamldr_version",
	"/sys/devices/faux/tdx_host/seamldr/version",
	"/sys/devices/virtual/tdx/seamldr/version",
};
constexpr const char *kNumRemainingUpdates[] = {
	"/sys/devices/faux/tdx_host/num_remaining_updates",
	"/sys/devices/faux/tdx_host/seamldr/num_remaining_updates",
};
constexpr const char *kFwUpload[] = {
	"/sys/class/firmware/tdx_module",
	"/sys/class/firmware/seamldr_upload",
};

/* errno as one of read_attr's codes, with the path. */
Error errno_error(const std::string &path, int err)
{
	const char *code = err == EBUSY ? "busy" : err == ENXIO ? "no-device" : "io-error";
	return Error{code, path + ": " + std::strerror(err) + (err == EACCES ? " (run as root)" : "")};
}

/* A file descriptor that closes itself. */
class Fd {
public:
	explicit Fd(int fd) : fd_(fd) {}
	~Fd()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	int get() const { return fd_; }

private:
	int fd_;
};

std::optional<std::uint32_t> parse_u32(const std::string &text)
{
	if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
		return std::nullopt;
	const unsigned long long v = std::stoull(text);
	if (v > UINT32_MAX)
		return std::nullopt;
	return static_cast<std::uint32_t>(v);
}

/* The attribute at the first existing path of `known`, or an error that lists where we looked. */
Result<std::string> read_known(const Sysfs &sysfs, std::span<const char *const> known, const char *what)
{
	const auto path = sysfs.first_existing(known);
	if (!path)
		return Error{"io-error", std::string("no ") + what + " attribute (looked for " + sysfs.path(known[0]) +
						 " and " + std::to_string(known.size() - 1) + " older names)"};
	return read_attr(*path);
}

Result<ModuleVersion> parse_version_attr(const Result<std::string> &text, const char *what)
{
	if (!text)
		return text.error();
	const auto v = module_image::parse_version(text.value());
	if (!v)
		return Error{"bad-format",
			     std::string(what) + " reads \"" + text.value() + "\", not major.minor.update"};
	return *v;
}

} // namespace

std::optional<std::string> Sysfs::first_existing(std::span<const char *const> known) const
{
	struct stat st;
	for (const char *p : known)
		if (::stat(path(p).c_str(), &st) == 0)
			return path(p);
	return std::nullopt;
}

Result<std::string> read_attr(const std::string &path)
{
	Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
	if (fd.get() < 0)
		return errno_error(path, errno);
	/* An attribute is one value on one line: stop at its newline rather than wait for more. */
	std::string text;
	char buf[4096];
	while (text.find('\n') == std::string::npos) {
		const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno_error(path, errno);
		if (n == 0)
			break;
		text.append(buf, std::size_t(n));
	}
	text = text.substr(0, text.find('\n'));
	while (!text.empty() && text.back() == ' ')
		text.pop_back();
	return text;
}

Status write_bytes(const std::string &path, std::span<const std::uint8_t> data)
{
	Fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
	if (fd.get() < 0)
		return errno_error(path, errno);
	while (!data.empty()) {
		const ssize_t n = ::write(fd.get(), data.data(), data.size());
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno_error(path, errno);
		if (n == 0)
			return Error{"io-error", path + ": the write made no progress"};
		data = data.subspan(std::size_t(n));
	}
	return module_image::Ok{};
}

Status write_attr(const std::string &path, std::string_view text)
{
	return write_bytes(path, std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

Result<ModuleVersion> read_module_version(const Sysfs &sysfs)
{
	auto v = parse_version_attr(read_known(sysfs, kModuleVersion, "TDX module version"), "version");
	if (!v && v.error().code == "no-device") /* tdx_host's version reads -ENXIO without a module */
		return Error{"no-device", v.error().message + " (no TDX module is initialized)"};
	return v;
}

Result<Running> read_running(const Sysfs &sysfs)
{
	auto module = read_module_version(sysfs);
	if (!module)
		return module.error();
	Running r;
	r.module = module.value();
	if (auto s = parse_version_attr(read_known(sysfs, kSeamldrVersion, "P-SEAMLDR version"), "seamldr_version"))
		r.seamldr = s.value();
	else
		r.seamldr_unknown = s.error().message;
	if (auto text = read_known(sysfs, kNumRemainingUpdates, "num_remaining_updates"); !text)
		r.updates_unknown = text.error().message;
	else if (auto n = parse_u32(text.value()))
		r.num_remaining_updates = *n;
	else
		r.updates_unknown = "num_remaining_updates reads \"" + text.value() + "\", not a number";
	return r;
}

Result<std::string> find_fw_upload(const Sysfs &sysfs)
{
	if (auto dir = sysfs.first_existing(kFwUpload))
		return *dir;
	return Error{"no-entry", "no firmware-upload entry " + sysfs.path(kFwUpload[0]) +
					 ": runtime update is not offered here (or tdx_host is not loaded)"};
}

std::string hex_string(std::uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%x", v);
	return buf;
}

std::optional<std::uint32_t> host_cpuid_1_eax()
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned eax, ebx, ecx, edx;
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return eax;
#endif
	return std::nullopt;
}

} // namespace tdx_update
