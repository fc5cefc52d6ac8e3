// SPDX-License-Identifier: GPL-2.0
// The corruptions of tdx-mkimage; each names the check that must refuse it (docs/module-image.md).
#include "corrupt.h"

#include <cstring>

namespace mkimage {

using module_image::BlobLayout;
using module_image::Bytes;
namespace abi = tdx::abi;

namespace {

constexpr std::size_t kPage = abi::kPageSize;

void put16(Bytes &b, std::size_t at, std::uint16_t v)
{
	std::memcpy(b.data() + at, &v, sizeof(v));
}
void put32(Bytes &b, std::size_t at, std::uint32_t v)
{
	std::memcpy(b.data() + at, &v, sizeof(v));
}
std::uint32_t get32(const Bytes &b, std::size_t at)
{
	std::uint32_t v;
	std::memcpy(&v, b.data() + at, sizeof(v));
	return v;
}

bool is_v1(const BlobLayout &l)
{
	return l.format == abi::kImageVersionV1;
}

/* Offsets in the headers (include/tdx/abi/image.h). */
constexpr std::size_t kV1OffsetOfModule = __builtin_offsetof(abi::ImageHeaderV1, offset_of_module);
constexpr std::size_t kV1Length = __builtin_offsetof(abi::ImageHeaderV1, length);
constexpr std::size_t kV2ModulePages = __builtin_offsetof(abi::ImageHeaderV2, module_nr_pages);
constexpr std::size_t kChecksum = __builtin_offsetof(abi::ImageHeaderV1, checksum);

void checksum(Bytes &b, const BlobLayout &)
{
	std::uint16_t v;
	std::memcpy(&v, b.data() + kChecksum, sizeof(v));
	v = static_cast<std::uint16_t>(v + 1);
	put16(b, kChecksum, v ? v : 1); /* never 0: a v2 checksum of 0 is not checked */
}

void signature_string(Bytes &b, const BlobLayout &l)
{
	const std::size_t at = is_v1(l) ? __builtin_offsetof(abi::ImageHeaderV1, signature)
					: __builtin_offsetof(abi::ImageHeaderV2, signature);
	b[at + 7] = 'C'; /* "TDX-BLOC" */
}

void version(Bytes &b, const BlobLayout &)
{
	put16(b, 0, 0x300);
}

void reserved(Bytes &b, const BlobLayout &)
{
	b[kPage - 1] = 1; /* the header's last byte */
}

void truncate(Bytes &b, const BlobLayout &)
{
	b.erase(b.end() - static_cast<std::ptrdiff_t>(kPage), b.end());
}

void oversize(Bytes &b, const BlobLayout &)
{
	b.insert(b.end(), kPage, 0);
}

void too_many_pages(Bytes &b, const BlobLayout &l)
{
	const std::uint32_t pages = abi::kImageMaxModulePages + 1;
	if (!is_v1(l)) {
		put32(b, kV2ModulePages, pages); /* the file keeps its size: the count is checked first */
		return;
	}
	b.resize(l.module_offset + pages * kPage, 0xA5); /* really that many pages */
	put32(b, kV1Length, static_cast<std::uint32_t>(b.size()));
}

void misaligned_offset(Bytes &b, const BlobLayout &)
{
	put32(b, kV1OffsetOfModule, get32(b, kV1OffsetOfModule) + 0x800);
}

void rsa_signature(Bytes &b, const BlobLayout &l)
{
	b[l.sigstruct_offset + __builtin_offsetof(abi::Sigstruct, signature)] ^= 0x01;
}

void sigstruct_header(Bytes &b, const BlobLayout &l)
{
	put32(b, l.sigstruct_offset + __builtin_offsetof(abi::Sigstruct, header_type), abi::kSigstructHeaderType + 1);
}

void hash(Bytes &b, const BlobLayout &)
{
	b[b.size() - kPage / 2] ^= 0x01; /* inside the last module page: the manifest stays readable */
}

constexpr Corruption kCorruptions[] = {
	{"checksum", "checksum field off by one (bad-checksum)", false, checksum},
	{"signature-string", "\"TDX-BLOB\" becomes \"TDX-BLOC\" (bad-signature-string)", false, signature_string},
	{"version", "header version 0x300 (bad-version)", false, version},
	{"reserved", "the header's last reserved byte set (reserved-not-zero)", false, reserved},
	{"truncate", "the last page cut off, header unchanged (truncated)", false, truncate},
	{"oversize", "a zero page appended, header unchanged (bad-length)", false, oversize},
	{"too-many-pages", "497 module pages: v1 really appends them, v2 only says so (too-many-pages)", false,
	 too_many_pages},
	{"misaligned-offset", "v1 only: offset_of_module + 0x800 (bad-offset)", true, misaligned_offset},
	{"rsa-signature", "one signature byte flipped (bad-rsa-signature)", false, rsa_signature},
	{"sigstruct-header", "sigstruct header_type 7, still signed as 6 (bad-sigstruct)", false, sigstruct_header},
	{"hash", "one byte of the last module page flipped after signing (bad-hash)", false, hash},
};

} // namespace

std::span<const Corruption> corruptions()
{
	return kCorruptions;
}

const Corruption *find_corruption(const std::string &name)
{
	for (const Corruption &c : kCorruptions)
		if (name == c.name)
			return &c;
	return nullptr;
}

void corrupt(Bytes &blob, const Corruption &c)
{
	const BlobLayout layout = module_image::parse_blob(blob).value();
	c.apply(blob, layout);
	if (c.apply != checksum)
		module_image::set_blob_checksum(blob);
}

} // namespace mkimage
