// SPDX-License-Identifier: GPL-2.0
/* Image validation and seamldr_params for a runtime update (see update_image.h). */
#include "update_image.h"

namespace tdx {

namespace {

using Code = ImageRefusalCode;

/* Indexed by ImageRefusalCode; the same strings as lib/module-image's. */
constexpr const char *kRefusalCodes[] = {
	"truncated",  "bad-version",    "bad-signature-string", "bad-length",
	"bad-offset", "too-many-pages", "reserved-not-zero",    "bad-checksum",
};
static_assert(sizeof(kRefusalCodes) / sizeof(kRefusalCodes[0]) == usize(Code::kCount));

/* Both formats start with the version, so it is read before the format is known. */
static_assert(__builtin_offsetof(abi::ImageHeaderV1, version) == 0);
static_assert(__builtin_offsetof(abi::ImageHeaderV2, version) == 0);
static_assert(abi::kImageMaxModulePages == abi::kSeamldrMaxModulePages);
/*
 * v2's size is computed in 64 bits from two u32 page counts: (1 + 2^32 + 2^32) pages is below
 * 2^45 bytes, so it cannot wrap whatever the header says (in 32 bits it would).
 */
static_assert(1 + 2 * u64(~u32(0)) <= ~0ull / kPageSize);

/* An image refused: why, for the caller's log line; -EINVAL, which fw_upload calls firmware-invalid. */
Status refuse(ImageRefusal *why, Code code, const char *message)
{
	if (why)
		*why = {code, message};
	return error(err::kEINVAL);
}

bool all_zero(const u8 *p, usize n)
{
	for (usize i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

bool has_signature(const char (&sig)[sizeof(abi::kImageSignature)])
{
	return __builtin_memcmp(sig, abi::kImageSignature, sizeof(abi::kImageSignature)) == 0;
}

/* The blob's whole-file word sum is 0 (its size is even: a whole number of pages by now). */
bool word_sum_is_zero(Span<const u8> blob)
{
	return abi::image_word_sum(blob.data(), blob.size()) == 0;
}

/*
 * v1: the sigstruct at a fixed 4 KiB, the module from offset_of_module to the end of the file,
 * whose size the header repeats (length).
 */
Result<ImageLayout> validate_v1(Span<const u8> blob, ImageRefusal *why)
{
	const auto &h = *reinterpret_cast<const abi::ImageHeaderV1 *>(blob.data());
	const u64 size = blob.size();
	if (!has_signature(h.signature))
		return refuse(why, Code::kBadSignatureString, "no \"TDX-BLOB\" at offset 8 of the v1 header");
	if (h.length > size)
		return refuse(why, Code::kTruncated, "the file is shorter than the header's length");
	if (h.length < size)
		return refuse(why, Code::kBadLength, "the file is longer than the header's length");
	if (h.reserved0 || !all_zero(h.reserved, sizeof(h.reserved)))
		return refuse(why, Code::kReservedNotZero, "a reserved byte of the v1 header is not zero");

	const u64 module = h.offset_of_module;
	if (!is_aligned(module, kPageSize))
		return refuse(why, Code::kBadOffset, "offset_of_module is not 4 KiB aligned");
	/* The header's page and the sigstruct's page come first. */
	if (module < abi::kImageV1MinModuleOffset)
		return refuse(why, Code::kBadOffset, "offset_of_module is below 8 KiB");
	if (module >= size)
		return refuse(why, Code::kBadOffset, "offset_of_module is not before the end of the file");
	/* The P-SEAMLDR takes the module by whole pages: the tail must be one. */
	if (!is_aligned(size, kPageSize))
		return refuse(why, Code::kBadLength, "the module is not a whole number of 4 KiB pages");
	const u64 pages = (size - module) / kPageSize;
	if (pages > abi::kImageMaxModulePages)
		return refuse(why, Code::kTooManyPages, "more than 496 module pages");

	if (!word_sum_is_zero(blob))
		return refuse(why, Code::kBadChecksum, "the 16-bit word sum of the file is not 0");
	return ImageLayout{abi::kImageVersionV1, size, abi::kImageV1SigstructOffset, module, u32(pages)};
}

/*
 * v2: the header's page counts say everything: one sigstruct page right after the header, then the
 * module pages, and nothing else. The counts are checked before the size they imply.
 */
Result<ImageLayout> validate_v2(Span<const u8> blob, ImageRefusal *why)
{
	const auto &h = *reinterpret_cast<const abi::ImageHeaderV2 *>(blob.data());
	const u64 size = blob.size();
	if (!has_signature(h.signature))
		return refuse(why, Code::kBadSignatureString, "no \"TDX-BLOB\" at offset 4 of the v2 header");
	if (!all_zero(h.reserved, sizeof(h.reserved)))
		return refuse(why, Code::kReservedNotZero, "a reserved byte of the v2 header is not zero");
	/* The sigstruct (2 KiB) fits one page; one seamldr_params page names at most 496 module pages. */
	if (h.sigstruct_nr_pages > abi::kImageV2MaxSigstructPages)
		return refuse(why, Code::kTooManyPages, "sigstruct_nr_pages is above 1");
	if (h.module_nr_pages > abi::kImageMaxModulePages)
		return refuse(why, Code::kTooManyPages, "module_nr_pages is above 496");
	/* SEAMLDR.INSTALL needs both a sigstruct and a module: a file without one is too short for it. */
	if (!h.sigstruct_nr_pages)
		return refuse(why, Code::kBadLength, "sigstruct_nr_pages is 0");
	if (!h.module_nr_pages)
		return refuse(why, Code::kBadLength, "module_nr_pages is 0");

	const u64 sig_bytes = u64(h.sigstruct_nr_pages) * kPageSize;
	const u64 expected = abi::kImageHeaderSize + sig_bytes + u64(h.module_nr_pages) * kPageSize;
	if (size < expected)
		return refuse(why, Code::kTruncated, "the file is shorter than the header's page counts");
	if (size > expected)
		return refuse(why, Code::kBadLength, "the file is longer than the header's page counts");

	/* Upstream Linux never checks it: 0 means "not computed", any other value must be right. */
	if (h.checksum && !word_sum_is_zero(blob))
		return refuse(why, Code::kBadChecksum, "the 16-bit word sum of the file is not 0");
	return ImageLayout{abi::kImageVersionV2, size, abi::kImageHeaderSize, abi::kImageHeaderSize + sig_bytes,
			   h.module_nr_pages};
}

/* Each part must start a page of the blob: the P-SEAMLDR is given pages, not byte addresses. */
Status check_page_aligned(const ImageLayout &l, ImageRefusal *why)
{
	if (!is_aligned(l.sigstruct_offset, kPageSize))
		return refuse(why, Code::kBadOffset, "the sigstruct does not start a page of the blob");
	if (!is_aligned(l.module_offset, kPageSize))
		return refuse(why, Code::kBadOffset, "the module does not start a page of the blob");
	return Status::ok();
}

/*
 * A layout not made by validate_image (a caller's own) could send the P-SEAMLDR to pages past the
 * blob: the parts must be header, sigstruct, module to the end, in that order. Written so that no
 * offset, however large, wraps.
 */
Status check_parts_in_blob(const ImageLayout &l, ImageRefusal *why)
{
	if (!l.module_pages || l.module_pages > abi::kSeamldrMaxModulePages)
		return refuse(why, Code::kTooManyPages, "module pages outside 1..496");
	const bool in_order = l.sigstruct_offset >= abi::kImageHeaderSize && l.module_offset >= l.sigstruct_offset &&
			      l.module_offset - l.sigstruct_offset >= abi::kSigstructSize && l.module_offset <= l.size;
	if (!in_order || l.size - l.module_offset != u64(l.module_pages) * kPageSize)
		return refuse(why, Code::kBadOffset, "the sigstruct and module pages do not lie within the blob");
	return Status::ok();
}

u64 page_pa(PfnOfByteOffset pfn_of, const void *ctx, u64 offset)
{
	return Pfn(pfn_of(ctx, offset)).addr().value();
}

} // namespace

const char *image_refusal_code(ImageRefusalCode code)
{
	return code < Code::kCount ? kRefusalCodes[usize(code)] : "unknown";
}

Result<ImageLayout> validate_image(Span<const u8> blob, ImageRefusal *why)
{
	/* Every field of either header lies in its first 4 KiB: nothing is read before it is there. */
	if (blob.size() < abi::kImageHeaderSize)
		return refuse(why, Code::kTruncated, "shorter than the 4 KiB header");
	switch (reinterpret_cast<const abi::ImageHeaderV1 *>(blob.data())->version) {
	case abi::kImageVersionV1:
		return validate_v1(blob, why);
	case abi::kImageVersionV2:
		return validate_v2(blob, why);
	default:
		return refuse(why, Code::kBadVersion, "the header's version is neither 0x100 nor 0x200");
	}
}

Status build_seamldr_params(const ImageLayout &layout, PfnOfByteOffset pfn_of, const void *ctx,
			    abi::SeamldrParams *out, ImageRefusal *why)
{
	__builtin_memset(out, 0, sizeof(*out));
	TRY(check_page_aligned(layout, why));
	TRY(check_parts_in_blob(layout, why));

	out->version = abi::kSeamldrParamsVersion;
	out->scenario = abi::kSeamldrScenarioUpdate;
	out->sigstruct_pa = page_pa(pfn_of, ctx, layout.sigstruct_offset);
	out->num_module_pages = layout.module_pages;
	for (u32 i = 0; i < layout.module_pages; i++)
		out->module_page_pa[i] = page_pa(pfn_of, ctx, layout.module_offset + u64(i) * kPageSize);
	return Status::ok();
}

} // namespace tdx
