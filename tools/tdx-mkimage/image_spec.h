// SPDX-License-Identifier: GPL-2.0
// tdx-mkimage's input: the manifest file ({"module": ..., "sigstruct": ...}, docs/module-image.md)
// turned into a module image (manifest pages, then filler pages) and a sigstruct spec.
#pragma once

#include <string>

#include <module-image/module_image.h>

namespace mkimage {

struct ImageSpec {
	std::string module_json; /* the "module" object as the manifest page carries it */
	module_image::ModuleVersion version;
	module_image::SigstructSpec sigstruct;
};

/* Parse and check a manifest file's text; error code "bad-manifest". */
module_image::Result<ImageSpec> parse_image_spec(const std::string &text);

/* The module image: the manifest pages, then deterministic filler up to `pages` in all. */
module_image::Bytes module_image_of(const std::string &module_json, std::size_t pages);

} // namespace mkimage
