// SPDX-License-Identifier: GPL-2.0
// Which image may replace the running TDX module: the rules of Intel's selection tool (ABI.md §11)
// over an index of a module-binaries checkout or a flat directory (module_image::index_published).
//
// An image is a candidate when
//  - its P-SEAMLDR list (min_seamldr_versions) has a version of the running P-SEAMLDR's
//    major.minor whose update number is <= the running one;
//  - the CPU's CPUID.1.EAX (stepping masked) is in its sigstruct's CPUID table;
//  - it is not debug-signed (unless allowed);
//  - it has the running module's major.minor and a higher update number (the same one only when
//    the user names that version: reinstalling is allowed but never chosen by itself);
//  - min_module_version_for_td_preserving <= the running module's version.
// The newest candidate wins. A directory with mapping_file.json must describe every image there
// with both lists (an image it leaves out has unknown limits, and Intel's tool skips it too); a
// directory without one (test images) has no P-SEAMLDR or TD-preserving limit to check.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "platform.h"

namespace tdx_update {

using module_image::PublishedImage;

struct Rules {
	bool allow_debug = false;
	bool mapping_file = false; /* the directory has mapping_file.json */
};

/* One image's verdict, for --list. */
struct Verdict {
	const PublishedImage *image = nullptr;
	std::optional<std::string> refusal; /* one short reason; unset for a candidate */
	bool newest = false;                /* the candidate --update would choose */
};

class Selector {
public:
	Selector(Running running, std::uint32_t cpuid_1_eax, Rules rules)
		: running_(std::move(running)), cpuid_1_eax_(cpuid_1_eax), rules_(rules)
	{
	}

	/* Why `image` may not replace the running module (the first rule it fails), or nullopt.
	 * `named`: the user asked for this version, which may then be the running one. */
	std::optional<std::string> refusal(const PublishedImage &image, bool named = false) const;

	/* Every image's verdict, in the order given (index_published's: oldest first). */
	std::vector<Verdict> judge(std::span<const PublishedImage> images) const;

	/* The newest candidate, or nullptr. */
	const PublishedImage *newest(std::span<const PublishedImage> images) const;

	/* The image of version `v`, if no rule refuses it ("no-image" / "refused" with the reason). */
	Result<const PublishedImage *> named(std::span<const PublishedImage> images, const ModuleVersion &v) const;

private:
	std::optional<std::string> mapping_refusal(const PublishedImage &image) const;
	std::optional<std::string> seamldr_refusal(const PublishedImage &image) const;
	std::optional<std::string> version_refusal(const PublishedImage &image, bool named) const;

	Running running_;
	std::uint32_t cpuid_1_eax_;
	Rules rules_;
};

ModuleVersion version_of(const PublishedImage &image);

} // namespace tdx_update
