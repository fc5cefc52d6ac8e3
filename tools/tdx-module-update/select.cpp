// SPDX-License-Identifier: GPL-2.0
// The selection rules of ABI.md §11 (select.h).
#include "select.h"

namespace tdx_update {

namespace {

using module_image::parse_version;
using module_image::version_string;

std::string major_minor(const ModuleVersion &v)
{
	return std::to_string(v.major) + "." + std::to_string(v.minor);
}

/* "1.5.00+, 2.0.00+" */
std::string list_minimums(const std::vector<std::string> &versions)
{
	std::string out;
	for (const std::string &v : versions)
		out += (out.empty() ? "" : ", ") + v + "+";
	return out;
}

} // namespace

ModuleVersion version_of(const PublishedImage &image)
{
	return {image.major, image.minor, image.update};
}

std::optional<std::string> Selector::mapping_refusal(const PublishedImage &image) const
{
	if (!rules_.mapping_file)
		return std::nullopt;
	if (image.min_seamldr_versions.empty() || !image.min_module_version_for_td_preserving)
		return "not described by mapping_file.json (needs min_seamldr_versions and "
		       "min_module_version_for_td_preserving)";
	return std::nullopt;
}

/* Some minimum of the running P-SEAMLDR's major.minor, at or below its update number. */
std::optional<std::string> Selector::seamldr_refusal(const PublishedImage &image) const
{
	if (image.min_seamldr_versions.empty()) /* no mapping_file.json: no limit */
		return std::nullopt;
	if (!running_.seamldr)
		return std::string("P-SEAMLDR version unknown");
	const ModuleVersion &ldr = *running_.seamldr;
	for (const std::string &text : image.min_seamldr_versions) {
		const auto min = parse_version(text); /* index_published checked the format */
		if (min && min->major == ldr.major && min->minor == ldr.minor && min->update <= ldr.update)
			return std::nullopt;
	}
	return "P-SEAMLDR " + version_string(ldr) + " not supported (needs " +
	       list_minimums(image.min_seamldr_versions) + " of the same major.minor)";
}

std::optional<std::string> Selector::version_refusal(const PublishedImage &image, bool named) const
{
	const ModuleVersion v = version_of(image), &now = running_.module;
	if (v.major != now.major || v.minor != now.minor)
		return "major.minor " + major_minor(v) + " differs from the running " + version_string(now);
	if (v.update < now.update)
		return "older than the running " + version_string(now);
	if (v.update == now.update && !named)
		return std::string("already running (name it with --update to reinstall)");
	if (image.min_module_version_for_td_preserving) {
		const auto min = parse_version(*image.min_module_version_for_td_preserving);
		if (min && now < *min)
			return "preserves TDs only from " + version_string(*min) + ", running " + version_string(now);
	}
	return std::nullopt;
}

std::optional<std::string> Selector::refusal(const PublishedImage &image, bool named) const
{
	if (auto why = mapping_refusal(image))
		return why;
	if (auto why = seamldr_refusal(image))
		return why;
	if (!module_image::sigstruct_supports_cpu(image.sigstruct, cpuid_1_eax_))
		return "CPU " + hex_string(cpuid_1_eax_ & ~tdx::abi::kCpuidFmsSteppingMask) + " not in its CPUID table";
	if (module_image::sigstruct_is_debug(image.sigstruct) && !rules_.allow_debug)
		return std::string("debug-signed (allow with --allow-debug)");
	return version_refusal(image, named);
}

std::vector<Verdict> Selector::judge(std::span<const PublishedImage> images) const
{
	std::vector<Verdict> out;
	for (const PublishedImage &img : images)
		out.push_back(Verdict{&img, refusal(img), false});
	const PublishedImage *best = newest(images);
	for (Verdict &v : out)
		v.newest = v.image == best;
	return out;
}

const PublishedImage *Selector::newest(std::span<const PublishedImage> images) const
{
	const PublishedImage *best = nullptr;
	for (const PublishedImage &img : images)
		if (!refusal(img) && (!best || version_of(*best) < version_of(img)))
			best = &img;
	return best;
}

Result<const PublishedImage *> Selector::named(std::span<const PublishedImage> images, const ModuleVersion &v) const
{
	std::optional<std::string> first_refusal;
	for (const PublishedImage &img : images) {
		if (version_of(img) != v)
			continue;
		auto why = refusal(img, true);
		if (!why)
			return &img;
		if (!first_refusal)
			first_refusal = img.path + ": " + *why;
	}
	if (first_refusal)
		return Error{"refused", *first_refusal};
	return Error{"no-image", "no image of version " + version_string(v)};
}

} // namespace tdx_update
