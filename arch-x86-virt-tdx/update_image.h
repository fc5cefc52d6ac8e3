/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A runtime update's image, before anything stops (ABI.md §4, §5):
 * - validate_image: the fw_upload payload is a v1 (0x100) or v2 (0x200) blob whose header is
 *   exactly right, or it is refused with one reason code and a short message;
 * - build_seamldr_params: SEAMLDR.INSTALL's seamldr_params page for a validated blob, naming the
 *   physical page of the sigstruct and of every module page.
 * Both are pure (no allocation, no logging, no SEAMCALL): the caller logs
 * "update: image refused: <code>: <message>" and answers firmware-invalid. The P-SEAMLDR, not the
 * kernel, checks the sigstruct's signature, the hash, the CPU and the versions.
 *
 * The reason codes, and the order of the checks, are lib/module-image's (the host tools' library)
 * for the same checks, so a test expects the same code from the kernel and from the tools. The
 * first failed check names the refusal; the checksum comes last, so a damaged field names itself
 * rather than the checksum it also breaks.
 *   both      shorter than the 4 KiB header                         truncated
 *             version neither 0x100 nor 0x200                       bad-version
 *             no "TDX-BLOB" (at 8 in v1, at 4 in v2)                bad-signature-string
 *   v1        length > file size (the file ends early)              truncated
 *             length < file size (bytes after the image)            bad-length
 *             reserved0 or header bytes 24..4095 not zero           reserved-not-zero
 *             offset_of_module misaligned, < 8 KiB or >= size       bad-offset
 *             the module part not a whole number of pages           bad-length
 *             more than 496 module pages                            too-many-pages
 *             the file's 16-bit LE word sum not 0                   bad-checksum
 *   v2        header bytes 20..4095 not zero                        reserved-not-zero
 *             sigstruct_nr_pages > 1 or module_nr_pages > 496       too-many-pages
 *             sigstruct_nr_pages or module_nr_pages 0               bad-length
 *             file size < 4096 * (1 + sig + mod)                    truncated
 *             file size > 4096 * (1 + sig + mod)                    bad-length
 *             checksum not 0 and the word sum not 0                 bad-checksum
 *   params    a sigstruct or module part not starting a page        bad-offset
 */
#pragma once

#include <kapi/kapi.h>
#include <kstd/addr.h>
#include <kstd/span.h>
#include <kstd/status.h>
#include <tdx/abi/image.h>
#include <tdx/abi/seamldr.h>

namespace tdx {

using namespace kstd;

enum class ImageRefusalCode : u8 {
	kTruncated,
	kBadVersion,
	kBadSignatureString,
	kBadLength,
	kBadOffset,
	kTooManyPages,
	kReservedNotZero,
	kBadChecksum,
	kCount,
};

/* "truncated", "bad-version", ... (the list above); "unknown" for a value outside the enum. */
const char *image_refusal_code(ImageRefusalCode code);

/* Why an image was refused: its code and what was wrong (both static strings). */
struct ImageRefusal {
	ImageRefusalCode code = ImageRefusalCode::kCount;
	const char *message = "";

	const char *code_name() const { return image_refusal_code(code); }
};

/* Where the parts of a valid blob are, as byte offsets into it. */
struct ImageLayout {
	u16 format = 0;            /* abi::kImageVersionV1 or kImageVersionV2 */
	u64 size = 0;              /* of the whole blob */
	u64 sigstruct_offset = 0;  /* abi::kSigstructSize bytes there */
	u64 module_offset = 0;     /* the module image, to the end of the blob */
	u32 module_pages = 0;      /* 1 .. abi::kImageMaxModulePages */
};

/*
 * The header checks of ABI.md §5. On a refusal: -EINVAL, and *why (when given) says which check
 * failed. blob is the whole payload as fw_upload received it.
 */
Result<ImageLayout> validate_image(Span<const u8> blob, ImageRefusal *why = nullptr);

/*
 * The page frame holding byte `offset` of the blob, ctx being the caller's (the blob's address):
 * the payload is vmalloc'ed, so every 4 KiB of it may be anywhere in physical memory and each page
 * is looked up on its own (the glue's callback is vmalloc_to_pfn(ctx + offset)). A C function
 * type, so the glue's function is passed as it is.
 */
using PfnOfByteOffset = kapi_u64 (*)(const void *ctx, kapi_u64 offset);

/*
 * SEAMLDR.INSTALL's input for an update with the blob layout describes: version 0, scenario
 * update, the sigstruct's page, every module page in order, everything else zero, into the
 * caller's page *out (nothing is allocated here). Refuses (-EINVAL, *why), leaving *out all zero:
 * a sigstruct or module part that does not start a page of the blob (bad-offset), a module page
 * count outside 1..496 (too-many-pages), parts that do not lie in order within the blob (header,
 * sigstruct, module to the end: bad-offset) — a layout from validate_image always passes.
 */
Status build_seamldr_params(const ImageLayout &layout, PfnOfByteOffset pfn_of, const void *ctx,
			    abi::SeamldrParams *out, ImageRefusal *why = nullptr);

} // namespace tdx
