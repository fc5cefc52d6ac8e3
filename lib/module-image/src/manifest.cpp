// SPDX-License-Identifier: GPL-2.0
// The emulator manifest at the start of a test-signed module image: "SEAMEMU1", u32 length (LE),
// u32 zero, the JSON, zeros to the end of its last page.
#include <cstring>

#include <module-image/module_image.h>

namespace module_image {

namespace {

constexpr std::size_t kPage = tdx::abi::kPageSize;
constexpr std::size_t kPrefix = sizeof(kManifestMagic) + 2 * sizeof(std::uint32_t);

std::uint32_t le32(const std::uint8_t *p)
{
	return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

} // namespace

Bytes manifest_pages(const std::string &json)
{
	const std::size_t used = kPrefix + json.size();
	Bytes pages((used + kPage - 1) / kPage * kPage, 0);
	std::memcpy(pages.data(), kManifestMagic, sizeof(kManifestMagic));
	const auto len = static_cast<std::uint32_t>(json.size());
	for (int i = 0; i < 4; i++)
		pages[sizeof(kManifestMagic) + i] = static_cast<std::uint8_t>(len >> (8 * i));
	std::memcpy(pages.data() + kPrefix, json.data(), json.size());
	return pages;
}

std::optional<std::string> read_manifest(std::span<const std::uint8_t> module)
{
	if (module.size() < kPrefix || std::memcmp(module.data(), kManifestMagic, sizeof(kManifestMagic)) != 0)
		return std::nullopt;
	const std::uint32_t len = le32(module.data() + sizeof(kManifestMagic));
	const std::uint32_t zero = le32(module.data() + sizeof(kManifestMagic) + 4);
	if (zero != 0 || len > module.size() - kPrefix)
		return std::nullopt;
	return std::string(reinterpret_cast<const char *>(module.data() + kPrefix), len);
}

} // namespace module_image
