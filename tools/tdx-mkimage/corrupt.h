// SPDX-License-Identifier: GPL-2.0
// tdx-mkimage --corrupt NAME: one defect put into a finished image on purpose, for tests.
#pragma once

#include <span>
#include <string>

#include <module-image/module_image.h>

namespace mkimage {

struct Corruption {
	const char *name;
	const char *what; /* for --help */
	bool v1_only;
	/* Applied to a valid blob; the blob's checksum is made right again afterwards unless the
	 * corruption is the checksum itself, so that the image has exactly this one defect. */
	void (*apply)(module_image::Bytes &blob, const module_image::BlobLayout &layout);
};

std::span<const Corruption> corruptions();
const Corruption *find_corruption(const std::string &name);

/* Apply `c` to a blob parse_blob accepted. */
void corrupt(module_image::Bytes &blob, const Corruption &c);

} // namespace mkimage
