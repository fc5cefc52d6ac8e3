// SPDX-License-Identifier: GPL-2.0
/*
 * A runtime update's image (ABI.md §4, §5): the kernel's header checks on v1 and v2 blobs built
 * here byte by byte (a header, a 2 KiB sigstruct in its page, N module pages, the v1 checksum
 * fixed), one refusal code per damage, the page-count limits and the counts that would wrap in
 * 32 bits, and SEAMLDR.INSTALL's seamldr_params built through a fake page-frame lookup.
 */
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <tdx/abi/image.h>
#include <tdx/abi/seamldr.h>

#include "update_image.h"

using namespace tdx;
using Bytes = std::vector<u8>;

namespace {

constexpr u64 kPage = 4096;
constexpr u32 kMaxPages = tdx::abi::kImageMaxModulePages;

void put16(Bytes &b, u64 off, u16 v)
{
	b[off] = u8(v);
	b[off + 1] = u8(v >> 8);
}

void put32(Bytes &b, u64 off, u32 v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = u8(v >> (8 * i));
}

/* The word sum of everything but the checksum, negated into the checksum: the file sums to 0. */
void fix_checksum(Bytes &b)
{
	put16(b, 2, 0);
	put16(b, 2, u16(-tdx::abi::image_word_sum(b.data(), b.size())));
}

/* A sigstruct page (2 KiB of non-zero bytes, zeros after) and module pages that differ from each other. */
void fill_parts(Bytes &b, u64 sigstruct, u64 module)
{
	for (u64 i = 0; i < tdx::abi::kSigstructSize; i++)
		b[sigstruct + i] = u8(i * 7 + 1);
	for (u64 i = module; i < b.size(); i++)
		b[i] = u8((i / kPage) * 13 + i);
}

/* v1: header, sigstruct page, `padding` zero pages, `pages` module pages; checksum fixed. */
Bytes make_v1(u32 pages, u32 padding = 0)
{
	const u64 module = (2 + u64(padding)) * kPage;
	Bytes b(module + pages * kPage);
	put16(b, 0, tdx::abi::kImageVersionV1);
	put32(b, 4, u32(module));
	std::memcpy(&b[8], "TDX-BLOB", 8);
	put32(b, 16, u32(b.size()));
	fill_parts(b, 0x1000, module);
	fix_checksum(b);
	return b;
}

/* v2: header, one sigstruct page, `pages` module pages; with the checksum filled in or left 0. */
Bytes make_v2(u32 pages, bool checksum = false)
{
	Bytes b((2 + u64(pages)) * kPage);
	put16(b, 0, tdx::abi::kImageVersionV2);
	std::memcpy(&b[4], "TDX-BLOB", 8);
	put32(b, 12, 1);
	put32(b, 16, pages);
	fill_parts(b, 0x1000, 0x2000);
	if (checksum)
		fix_checksum(b);
	return b;
}

Result<ImageLayout> validate(const Bytes &b, ImageRefusal *why = nullptr)
{
	return validate_image(Span<const u8>(b.data(), b.size()), why);
}

/* The refusal's code for b, or "accepted". */
std::string verdict(const Bytes &b)
{
	ImageRefusal why;
	Result<ImageLayout> r = validate(b, &why);
	if (r.is_ok())
		return "accepted";
	EXPECT_EQ(r.status(), kstd::error(kstd::err::kEINVAL));
	EXPECT_NE(std::string(why.message), "") << why.code_name();
	return why.code_name();
}

/* The same damage with the v1 checksum made right again, so only the damage itself is refused. */
template <class Damage> std::string verdict_v1(Bytes b, Damage damage)
{
	damage(b);
	fix_checksum(b);
	return verdict(b);
}

void expect_layout(const Bytes &b, u16 format, u64 sigstruct, u64 module, u32 pages)
{
	ImageRefusal why;
	Result<ImageLayout> r = validate(b, &why);
	ASSERT_TRUE(r.is_ok()) << why.code_name() << ": " << why.message;
	EXPECT_EQ(r.value().format, format);
	EXPECT_EQ(r.value().size, b.size());
	EXPECT_EQ(r.value().sigstruct_offset, sigstruct);
	EXPECT_EQ(r.value().module_offset, module);
	EXPECT_EQ(r.value().module_pages, pages);
}

} // namespace

/* ---- codes -------------------------------------------------------------------------------------- */

TEST(ImageRefusal, CodeStrings)
{
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kTruncated), "truncated");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kBadVersion), "bad-version");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kBadSignatureString), "bad-signature-string");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kBadLength), "bad-length");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kBadOffset), "bad-offset");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kTooManyPages), "too-many-pages");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kReservedNotZero), "reserved-not-zero");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kBadChecksum), "bad-checksum");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode::kCount), "unknown");
	EXPECT_STREQ(image_refusal_code(ImageRefusalCode(200)), "unknown");
}

/* ---- accepted images ---------------------------------------------------------------------------- */

TEST(ValidateImage, AcceptsV1)
{
	expect_layout(make_v1(1), 0x100, 0x1000, 0x2000, 1);
	expect_layout(make_v1(3), 0x100, 0x1000, 0x2000, 3);
	/* Zero pages between the sigstruct's page and the module (offset_of_module = 8 KiB + N * 4 KiB). */
	expect_layout(make_v1(2, 1), 0x100, 0x1000, 0x3000, 2);
	expect_layout(make_v1(1, 5), 0x100, 0x1000, 0x7000, 1);
}

TEST(ValidateImage, AcceptsV2WithAndWithoutChecksum)
{
	expect_layout(make_v2(1), 0x200, 0x1000, 0x2000, 1);
	expect_layout(make_v2(4), 0x200, 0x1000, 0x2000, 4);
	Bytes b = make_v2(4, /*checksum=*/true);
	ASSERT_NE(b[2] | b[3], 0); /* the test's point: a non-zero checksum that is right */
	expect_layout(b, 0x200, 0x1000, 0x2000, 4);
}

TEST(ValidateImage, RefusalOutputIsOptionalAndUntouchedOnSuccess)
{
	EXPECT_TRUE(validate(make_v1(1)).is_ok());
	EXPECT_TRUE(validate(Bytes(10)).is_error());
	ImageRefusal why{ImageRefusalCode::kBadChecksum, "before"};
	EXPECT_TRUE(validate(make_v2(1), &why).is_ok());
	EXPECT_STREQ(why.message, "before");
}

/* ---- one test per refusal code ------------------------------------------------------------------ */

TEST(ValidateImage, Truncated)
{
	EXPECT_EQ(verdict(Bytes{}), "truncated");
	EXPECT_EQ(verdict(Bytes{0x00, 0x01}), "truncated"); /* a v1 version, nothing else */
	Bytes header = make_v1(1);
	header.resize(kPage - 1);
	EXPECT_EQ(verdict(header), "truncated");
	/* v1: the last page missing, length still the full size. */
	Bytes v1 = make_v1(3);
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { b.resize(b.size() - kPage); }), "truncated");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { b.resize(b.size() - 2); }), "truncated");
	/* v2: fewer pages than the counts say. */
	Bytes v2 = make_v2(3);
	v2.resize(v2.size() - kPage);
	EXPECT_EQ(verdict(v2), "truncated");
	v2.resize(kPage); /* the header alone */
	EXPECT_EQ(verdict(v2), "truncated");
}

TEST(ValidateImage, BadVersion)
{
	for (u16 version : {0x000, 0x001, 0x002, 0x0FF, 0x101, 0x1FF, 0x201, 0x300, 0xFFFF}) {
		Bytes b = make_v1(1);
		put16(b, 0, version);
		fix_checksum(b);
		EXPECT_EQ(verdict(b), "bad-version") << std::hex << version;
	}
}

TEST(ValidateImage, BadSignatureString)
{
	Bytes v1 = make_v1(1);
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { b[15] = 'C'; }), "bad-signature-string");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { b[8] = 't'; }), "bad-signature-string");
	/* A v1 header with the string where v2 has it. */
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) {
			  std::memset(&b[4], 0, 16);
			  std::memcpy(&b[4], "TDX-BLOB", 8);
		  }),
		  "bad-signature-string");
	Bytes v2 = make_v2(1);
	v2[11] = 'b';
	EXPECT_EQ(verdict(v2), "bad-signature-string");
	/* A v2 version on a v1 layout. */
	Bytes mixed = make_v1(1);
	put16(mixed, 0, tdx::abi::kImageVersionV2);
	EXPECT_EQ(verdict(mixed), "bad-signature-string");
}

TEST(ValidateImage, BadLength)
{
	Bytes v1 = make_v1(2);
	/* A page more than the header's length (zeros: the word sum is still 0). */
	Bytes longer = v1;
	longer.resize(longer.size() + kPage);
	EXPECT_EQ(verdict(longer), "bad-length");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 16, u32(b.size() - kPage)); }), "bad-length");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 16, 0); }), "bad-length");
	/* Length and size agree, but the module is not whole pages. */
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) {
			  b.resize(b.size() + 2);
			  put32(b, 16, u32(b.size()));
		  }),
		  "bad-length");
	Bytes v2 = make_v2(2);
	v2.resize(v2.size() + kPage);
	EXPECT_EQ(verdict(v2), "bad-length");
	v2.resize(v2.size() - kPage + 2);
	EXPECT_EQ(verdict(v2), "bad-length");
	/* Nothing to install: no sigstruct, or no module (with the file's size matching the counts). */
	Bytes no_sigstruct = make_v2(3);
	put32(no_sigstruct, 12, 0);
	put32(no_sigstruct, 16, 4);
	EXPECT_EQ(verdict(no_sigstruct), "bad-length");
	Bytes no_module = make_v2(1);
	put32(no_module, 16, 0);
	no_module.resize(2 * kPage);
	EXPECT_EQ(verdict(no_module), "bad-length");
}

TEST(ValidateImage, BadOffset)
{
	Bytes v1 = make_v1(2, 1); /* module at 0x3000, size 0x5000 */
	for (u32 offset : {0x3800u, 0x3001u, 0x2FFFu, 0x1000u, 0x0u, 0x1FFFu}) {
		EXPECT_EQ(verdict_v1(v1, [&](Bytes &b) { put32(b, 4, offset); }), "bad-offset") << std::hex << offset;
	}
	/* At the end, or past it: no module at all. */
	for (u32 offset : {0x5000u, 0x6000u, 0xFFFFF000u, 0xFFFFFFFFu}) {
		EXPECT_EQ(verdict_v1(v1, [&](Bytes &b) { put32(b, 4, offset); }), "bad-offset") << std::hex << offset;
	}
	/* Still valid anywhere in between. */
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 4, 0x2000); }), "accepted");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 4, 0x4000); }), "accepted");
}

TEST(ValidateImage, TooManyPagesV1AtTheLimit)
{
	expect_layout(make_v1(kMaxPages), 0x100, 0x1000, 0x2000, kMaxPages);
	expect_layout(make_v1(kMaxPages - 1, 1), 0x100, 0x1000, 0x3000, kMaxPages - 1);
	EXPECT_EQ(verdict(make_v1(kMaxPages + 1)), "too-many-pages");
	EXPECT_EQ(verdict(make_v1(kMaxPages + 1, 3)), "too-many-pages");
	/* The same file with the module a page later (that page becomes padding) has 496: fine. */
	Bytes b = make_v1(kMaxPages + 1);
	put32(b, 4, 0x3000);
	fix_checksum(b);
	EXPECT_EQ(verdict(b), "accepted");
}

TEST(ValidateImage, TooManyPagesV2)
{
	expect_layout(make_v2(kMaxPages), 0x200, 0x1000, 0x2000, kMaxPages);
	EXPECT_EQ(verdict(make_v2(kMaxPages + 1)), "too-many-pages");
	Bytes b = make_v2(2);
	for (u32 mod : {kMaxPages + 1, 0x80000000u, 0xFFFFFFFFu}) {
		put32(b, 16, mod);
		EXPECT_EQ(verdict(b), "too-many-pages") << "module_nr_pages " << mod;
	}
	put32(b, 16, 2);
	for (u32 sig : {2u, 0xFFFFFFFFu}) {
		put32(b, 12, sig);
		EXPECT_EQ(verdict(b), "too-many-pages") << "sigstruct_nr_pages " << sig;
	}
}

/*
 * Counts whose byte size, computed in 32 bits, wraps to exactly the file's size: they must be
 * refused for what they are, not accepted.
 */
TEST(ValidateImage, V2CountsThatWrapIn32Bits)
{
	Bytes b = make_v2(1); /* 3 pages */
	const u32 pages_in_4g = 1u << 20;
	/* 4096 * (1 + 1 + mod) == 3 pages (mod 2^32) */
	put32(b, 16, pages_in_4g + 1);
	ASSERT_EQ(u32(kPage * (1 + 1 + u64(pages_in_4g) + 1)), u32(b.size()));
	EXPECT_EQ(verdict(b), "too-many-pages");
	/* 4096 * (1 + sig + 1) == 3 pages (mod 2^32), module count valid */
	put32(b, 16, 1);
	put32(b, 12, pages_in_4g + 1);
	EXPECT_EQ(verdict(b), "too-many-pages");
	/* sigstruct_nr_pages near 2^32: 1 + sig + mod wraps a u32 to 3 pages, the file's size. */
	put32(b, 12, 0xFFFFFFFFu);
	put32(b, 16, 3);
	EXPECT_EQ(verdict(b), "too-many-pages");
}

TEST(ValidateImage, V1FieldsThatCouldOverflow)
{
	Bytes v1 = make_v1(1);
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 16, 0xFFFFFFFFu); }), "truncated");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 16, 0xFFFFF000u); }), "truncated");
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) { put32(b, 4, 0xFFFFF000u); }), "bad-offset");
}

TEST(ValidateImage, ReservedNotZeroEveryByte)
{
	Bytes v1 = make_v1(1);
	/* reserved0 at 20 and everything from 24 to the end of the page. */
	for (u64 at = 20; at < kPage; at++)
		ASSERT_EQ(verdict_v1(v1, [&](Bytes &b) { b[at] = 0x80; }), "reserved-not-zero") << "v1 byte " << at;
	Bytes v2 = make_v2(1, /*checksum=*/true);
	for (u64 at = 20; at < kPage; at++) {
		Bytes b = v2;
		b[at] = 0x01;
		fix_checksum(b);
		ASSERT_EQ(verdict(b), "reserved-not-zero") << "v2 byte " << at;
	}
	/* Damage in a field names the field, not the checksum it also breaks. */
	Bytes unsummed = make_v1(1);
	unsummed[4095] = 1;
	EXPECT_EQ(verdict(unsummed), "reserved-not-zero");
}

/* The first failed check names the refusal, in lib/module-image's order (update_image.h). */
TEST(ValidateImage, OrderOfChecks)
{
	Bytes v1 = make_v1(2);
	/* reserved before the offset, the offset before the page count */
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) {
			  b[30] = 1;
			  put32(b, 4, 0x2800);
		  }),
		  "reserved-not-zero");
	EXPECT_EQ(verdict_v1(make_v1(kMaxPages + 1), [](Bytes &b) { put32(b, 4, 0x2800); }), "bad-offset");
	/* the length before everything else of v1 */
	EXPECT_EQ(verdict_v1(v1, [](Bytes &b) {
			  b[30] = 1;
			  put32(b, 16, 0);
		  }),
		  "bad-length");
	/* v2: reserved, then counts, then size */
	Bytes v2 = make_v2(2);
	v2[30] = 1;
	put32(v2, 16, kMaxPages + 1);
	EXPECT_EQ(verdict(v2), "reserved-not-zero");
	v2[30] = 0;
	v2.resize(v2.size() + kPage);
	EXPECT_EQ(verdict(v2), "too-many-pages");
	put32(v2, 16, 0);
	EXPECT_EQ(verdict(v2), "bad-length");
}

TEST(ValidateImage, BadChecksum)
{
	Bytes v1 = make_v1(2);
	Bytes b = v1;
	b[b.size() - 1] ^= 0x40; /* one module bit */
	EXPECT_EQ(verdict(b), "bad-checksum");
	b = v1;
	b[0x1000] ^= 1; /* one sigstruct bit */
	EXPECT_EQ(verdict(b), "bad-checksum");
	b = v1;
	put16(b, 2, u16(b[2] | b[3] << 8) + 1);
	EXPECT_EQ(verdict(b), "bad-checksum");
	/* Two words that change by +1 and -1 keep the sum: the checksum cannot see it, nor should it. */
	b = v1;
	b[0x2000] += 1;
	b[0x2002] -= 1;
	EXPECT_EQ(verdict(b), "accepted");

	/* v2: checked only when the checksum is not 0. */
	Bytes v2 = make_v2(2, /*checksum=*/true);
	v2[v2.size() - 1] ^= 0x40;
	EXPECT_EQ(verdict(v2), "bad-checksum");
	Bytes v2_unsummed = make_v2(2);
	v2_unsummed[v2_unsummed.size() - 1] ^= 0x40;
	EXPECT_EQ(verdict(v2_unsummed), "accepted");
}

/* ---- seamldr_params ----------------------------------------------------------------------------- */

namespace {

/*
 * A vmalloc'ed payload as the fake sees it: every page of the blob at its own, scattered frame
 * (page k at frame 0x40000 + 37 k, backwards from the top), each lookup recorded.
 */
struct FakeFrames {
	u64 blob_pages;
	mutable std::vector<u64> asked;

	u64 pfn(u64 page) const { return 0x40000 + 37 * (blob_pages - 1 - page); }
	u64 pa(u64 offset) const { return pfn(offset / kPage) << 12; }

	static kapi_u64 lookup(const void *ctx, kapi_u64 offset)
	{
		const auto *f = static_cast<const FakeFrames *>(ctx);
		f->asked.push_back(offset);
		return f->pfn(offset / kPage);
	}
};

/* A page of output, pre-filled with garbage so that what the builder leaves is seen. */
std::unique_ptr<tdx::abi::SeamldrParams> dirty_params()
{
	auto p = std::make_unique<tdx::abi::SeamldrParams>();
	std::memset(p.get(), 0xA5, sizeof(*p));
	return p;
}

bool all_zero(const void *p, size_t n)
{
	const auto *b = static_cast<const u8 *>(p);
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

void expect_params_for(const Bytes &blob)
{
	Result<ImageLayout> r = validate(blob);
	ASSERT_TRUE(r.is_ok());
	const ImageLayout &l = r.value();
	FakeFrames frames{blob.size() / kPage, {}};
	auto p = dirty_params();
	ImageRefusal why;
	ASSERT_TRUE(build_seamldr_params(l, FakeFrames::lookup, &frames, p.get(), &why).is_ok()) << why.message;

	EXPECT_EQ(p->version, 0u);
	EXPECT_EQ(p->scenario, 1u);
	EXPECT_EQ(p->sigstruct_pa, frames.pa(0x1000));
	EXPECT_TRUE(all_zero(p->reserved, sizeof(p->reserved)));
	ASSERT_EQ(p->num_module_pages, l.module_pages);
	for (u32 i = 0; i < l.module_pages; i++)
		EXPECT_EQ(p->module_page_pa[i], frames.pa(l.module_offset + i * kPage)) << "module page " << i;
	for (u64 i = l.module_pages; i < tdx::abi::kSeamldrMaxModulePages; i++)
		EXPECT_EQ(p->module_page_pa[i], 0u) << "entry " << i;
	/* Page starts only, inside the blob: never a lookup of the header or past the end. */
	for (u64 off : frames.asked) {
		EXPECT_EQ(off % kPage, 0u);
		EXPECT_GE(off, kPage);
		EXPECT_LT(off, blob.size());
	}
	EXPECT_EQ(frames.asked.size(), 1 + l.module_pages);
}

} // namespace

TEST(SeamldrParams, FromV1)
{
	expect_params_for(make_v1(1));
	expect_params_for(make_v1(5, 2)); /* the padding pages are not module pages */
}

TEST(SeamldrParams, FromV2)
{
	expect_params_for(make_v2(1));
	expect_params_for(make_v2(7));
}

TEST(SeamldrParams, FullPage)
{
	expect_params_for(make_v1(kMaxPages));
	expect_params_for(make_v2(kMaxPages));
}

namespace {

/* The refusal for a layout made by hand; the output left all zero and no page looked up. */
std::string params_verdict(const ImageLayout &l)
{
	FakeFrames frames{64, {}};
	auto p = dirty_params();
	ImageRefusal why;
	Status s = build_seamldr_params(l, FakeFrames::lookup, &frames, p.get(), &why);
	if (s.is_ok())
		return "built";
	EXPECT_EQ(s, kstd::error(kstd::err::kEINVAL));
	EXPECT_TRUE(all_zero(p.get(), sizeof(*p)));
	EXPECT_TRUE(frames.asked.empty());
	return why.code_name();
}

} // namespace

TEST(SeamldrParams, RefusesMisplacedParts)
{
	const ImageLayout good{0x100, 0x5000, 0x1000, 0x3000, 2};
	EXPECT_EQ(params_verdict(good), "built");

	ImageLayout l = good;
	l.sigstruct_offset = 0x1800;
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.module_offset = 0x3800;
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.module_offset = 0x3004;
	EXPECT_EQ(params_verdict(l), "bad-offset");
	/* Out of order or outside the blob. */
	l = good;
	l.sigstruct_offset = 0; /* the header */
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.module_offset = 0x1000; /* on the sigstruct */
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.size = 0x4000; /* the module's last page past the end */
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.module_offset = ~0ull << 12; /* wraps if added to */
	EXPECT_EQ(params_verdict(l), "bad-offset");
	l = good;
	l.sigstruct_offset = ~0ull << 12;
	EXPECT_EQ(params_verdict(l), "bad-offset");
}

TEST(SeamldrParams, RefusesPageCountsOutsideTheLimits)
{
	ImageLayout l{0x200, 0x2000, 0x1000, 0x2000, 0};
	EXPECT_EQ(params_verdict(l), "too-many-pages");
	l.module_pages = kMaxPages + 1;
	l.size = 0x2000 + u64(l.module_pages) * kPage;
	EXPECT_EQ(params_verdict(l), "too-many-pages");
	l.module_pages = 0xFFFFFFFFu;
	EXPECT_EQ(params_verdict(l), "too-many-pages");
}
