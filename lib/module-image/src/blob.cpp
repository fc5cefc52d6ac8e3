// SPDX-License-Identifier: GPL-2.0
// The blob header checks of ABI.md §5 (the kernel makes the same ones before an update) and the
// blob builder.
//
// Which check answers which code; the checks run in this order and the first failure is reported,
// so a blob with one defect gets that defect's code:
//
//   both formats
//     file shorter than the 4 KiB header                         truncated
//     version neither 0x100 nor 0x200                            bad-version
//     "TDX-BLOB" missing (at 8 in v1, at 4 in v2)                bad-signature-string
//   v1 (0x100)
//     length > file size (the file ends early)                   truncated
//     length < file size (bytes after the image)                 bad-length
//     reserved0 or header bytes 24..4095 not zero                reserved-not-zero
//     offset_of_module not 4 KiB aligned, < 0x2000 or >= size    bad-offset
//     module part (size - offset) not a whole number of pages    bad-length
//     more than 496 module pages                                 too-many-pages
//     16-bit LE word sum of the whole file not 0                 bad-checksum
//   v2 (0x200)
//     header bytes 20..4095 not zero                             reserved-not-zero
//     sigstruct_nr_pages > 1 or module_nr_pages > 496            too-many-pages
//     sigstruct_nr_pages == 0 or module_nr_pages == 0            bad-length
//     file size < 4096 * (1 + sig + mod) (the file ends early)   truncated
//     file size > 4096 * (1 + sig + mod) (bytes after the image) bad-length
//     checksum != 0 and the word sum of the whole file not 0     bad-checksum
#include <algorithm>
#include <cstdio>
#include <cstring>

#include <module-image/module_image.h>

namespace module_image {

namespace abi = tdx::abi;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the blob and sigstruct layouts are x86's");

namespace {

constexpr std::size_t kPage = abi::kPageSize;
/* The checksum field: the same place in both formats. */
constexpr std::size_t kChecksumOffset = 2;

Error blob_error(const char *code, std::string message)
{
	return Error{code, std::move(message)};
}

std::string hex(std::uint64_t v)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
	return buf;
}

bool all_zero(const std::uint8_t *p, std::size_t n)
{
	return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

std::uint16_t word_sum(std::span<const std::uint8_t> blob)
{
	return abi::image_word_sum(blob.data(), blob.size());
}

Result<BlobLayout> parse_v1(std::span<const std::uint8_t> blob)
{
	abi::ImageHeaderV1 h;
	std::memcpy(&h, blob.data(), sizeof(h));
	const std::size_t size = blob.size();

	if (h.length > size)
		return blob_error("truncated", "length " + std::to_string(h.length) + " but the file has " +
						       std::to_string(size) + " bytes");
	if (h.length < size)
		return blob_error("bad-length", "length " + std::to_string(h.length) + " but the file has " +
							std::to_string(size) + " bytes");
	if (h.reserved0 != 0 || !all_zero(h.reserved, sizeof(h.reserved)))
		return blob_error("reserved-not-zero", "a reserved byte of the v1 header is not zero");
	const std::uint64_t off = h.offset_of_module;
	if (off % kPage != 0 || off < abi::kImageV1MinModuleOffset || off >= size)
		return blob_error("bad-offset", "offset_of_module " + hex(off) +
							" (must be 4 KiB aligned, >= 0x2000 and below the file size " +
							hex(size) + ")");
	if ((size - off) % kPage != 0)
		return blob_error("bad-length", "the module part (" + std::to_string(size - off) +
							" bytes) is not a whole number of pages");
	const std::size_t pages = (size - off) / kPage;
	if (pages > abi::kImageMaxModulePages)
		return blob_error("too-many-pages", std::to_string(pages) + " module pages (at most " +
							    std::to_string(abi::kImageMaxModulePages) + ")");
	if (std::uint16_t sum = word_sum(blob); sum != 0)
		return blob_error("bad-checksum", "the word sum of the file is " + hex(sum) + ", not 0");
	return BlobLayout{abi::kImageVersionV1, abi::kImageV1SigstructOffset, off, pages};
}

Result<BlobLayout> parse_v2(std::span<const std::uint8_t> blob)
{
	abi::ImageHeaderV2 h;
	std::memcpy(&h, blob.data(), sizeof(h));
	const std::size_t size = blob.size();

	if (!all_zero(h.reserved, sizeof(h.reserved)))
		return blob_error("reserved-not-zero", "a reserved byte of the v2 header is not zero");
	if (h.sigstruct_nr_pages > abi::kImageV2MaxSigstructPages || h.module_nr_pages > abi::kImageMaxModulePages)
		return blob_error("too-many-pages", std::to_string(h.sigstruct_nr_pages) + " sigstruct and " +
							    std::to_string(h.module_nr_pages) +
							    " module pages (at most 1 and " +
							    std::to_string(abi::kImageMaxModulePages) + ")");
	if (h.sigstruct_nr_pages == 0 || h.module_nr_pages == 0)
		return blob_error("bad-length", std::to_string(h.sigstruct_nr_pages) + " sigstruct and " +
							std::to_string(h.module_nr_pages) +
							" module pages (both must be at least 1)");
	const std::uint64_t want = kPage * (1ull + h.sigstruct_nr_pages + h.module_nr_pages);
	if (size < want)
		return blob_error("truncated", "the header describes " + std::to_string(want) +
						       " bytes but the file has " + std::to_string(size));
	if (size > want)
		return blob_error("bad-length", "the header describes " + std::to_string(want) +
							" bytes but the file has " + std::to_string(size));
	if (h.checksum != 0)
		if (std::uint16_t sum = word_sum(blob); sum != 0)
			return blob_error("bad-checksum", "the word sum of the file is " + hex(sum) + ", not 0");
	return BlobLayout{abi::kImageVersionV2, kPage, kPage * (1 + h.sigstruct_nr_pages), h.module_nr_pages};
}

} // namespace

Result<BlobLayout> parse_blob(std::span<const std::uint8_t> blob)
{
	if (blob.size() < abi::kImageHeaderSize)
		return blob_error("truncated", std::to_string(blob.size()) + " bytes, shorter than the 4 KiB header");
	const std::uint16_t version = static_cast<std::uint16_t>(blob[0] | blob[1] << 8);
	if (version != abi::kImageVersionV1 && version != abi::kImageVersionV2)
		return blob_error("bad-version", "version " + hex(version) + " (want 0x100 or 0x200)");
	const std::size_t sig_at = version == abi::kImageVersionV1 ? 8 : 4;
	if (std::memcmp(blob.data() + sig_at, abi::kImageSignature, sizeof(abi::kImageSignature)) != 0)
		return blob_error("bad-signature-string", "no \"TDX-BLOB\" at offset " + std::to_string(sig_at));
	return version == abi::kImageVersionV1 ? parse_v1(blob) : parse_v2(blob);
}

abi::Sigstruct blob_sigstruct(std::span<const std::uint8_t> blob, const BlobLayout &layout)
{
	abi::Sigstruct s{};
	if (layout.sigstruct_offset + sizeof(s) <= blob.size())
		std::memcpy(&s, blob.data() + layout.sigstruct_offset, sizeof(s));
	return s;
}

void set_blob_checksum(std::span<std::uint8_t> blob)
{
	if (blob.size() < kChecksumOffset + 2)
		return;
	blob[kChecksumOffset] = blob[kChecksumOffset + 1] = 0;
	const std::uint16_t fix = static_cast<std::uint16_t>(-word_sum(blob));
	blob[kChecksumOffset] = static_cast<std::uint8_t>(fix);
	blob[kChecksumOffset + 1] = static_cast<std::uint8_t>(fix >> 8);
}

Bytes make_blob(std::uint16_t format, const abi::Sigstruct &s, std::span<const std::uint8_t> module,
		std::uint32_t v1_padding_pages)
{
	if (module.size() % kPage != 0 || (format != abi::kImageVersionV1 && format != abi::kImageVersionV2))
		return {};
	const std::size_t module_offset =
		format == abi::kImageVersionV1 ? abi::kImageV1MinModuleOffset + kPage * v1_padding_pages : 2 * kPage;
	Bytes blob(module_offset + module.size(), 0);
	if (format == abi::kImageVersionV1) {
		abi::ImageHeaderV1 h{};
		h.version = abi::kImageVersionV1;
		h.offset_of_module = static_cast<std::uint32_t>(module_offset);
		std::memcpy(h.signature, abi::kImageSignature, sizeof(h.signature));
		h.length = static_cast<std::uint32_t>(blob.size());
		std::memcpy(blob.data(), &h, sizeof(h));
	} else {
		abi::ImageHeaderV2 h{};
		h.version = abi::kImageVersionV2;
		std::memcpy(h.signature, abi::kImageSignature, sizeof(h.signature));
		h.sigstruct_nr_pages = 1;
		h.module_nr_pages = static_cast<std::uint32_t>(module.size() / kPage);
		std::memcpy(blob.data(), &h, sizeof(h));
	}
	std::memcpy(blob.data() + kPage, &s, sizeof(s));
	std::copy(module.begin(), module.end(), blob.begin() + static_cast<std::ptrdiff_t>(module_offset));
	set_blob_checksum(blob);
	return blob;
}

} // namespace module_image
