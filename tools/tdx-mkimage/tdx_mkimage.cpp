// SPDX-License-Identifier: GPL-2.0
// tdx-mkimage: builds a TDX module image (v1 or v2 blob, docs/module-image.md) signed with a given
// RSA-3072 key from a manifest file, optionally with one defect on purpose; or prints an image.
// Exit 0: done (--print: the image passes every check); 1: usage; 2: invalid input (--print: the
// image fails a check, named in the output).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <module-image/module_image.h>

#include "corrupt.h"
#include "image_spec.h"

using namespace module_image;
namespace abi = tdx::abi;

namespace {

constexpr int kExitUsage = 1;
constexpr int kExitInvalid = 2;

std::string hex(std::span<const std::uint8_t> b)
{
	std::string s;
	char buf[3];
	for (std::uint8_t c : b) {
		std::snprintf(buf, sizeof(buf), "%02x", c);
		s += buf;
	}
	return s;
}

std::string hex(std::uint64_t v)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
	return buf;
}

int fail(const std::string &what, int code = kExitInvalid)
{
	std::cerr << "tdx-mkimage: " << what << "\n";
	return code;
}

struct BuildOptions {
	std::string manifest, key, format, out, corrupt;
	std::size_t module_pages = 0; /* 0: the manifest pages and one filler page */
	std::uint32_t v1_padding_pages = 0;
};

int build(const BuildOptions &o)
{
	const std::uint16_t format = o.format == "v1" ? abi::kImageVersionV1 : abi::kImageVersionV2;
	const mkimage::Corruption *corruption = o.corrupt.empty() ? nullptr : mkimage::find_corruption(o.corrupt);
	if (corruption && corruption->v1_only && format != abi::kImageVersionV1)
		return fail("--corrupt " + o.corrupt + " applies to v1 images only", kExitUsage);
	if (o.v1_padding_pages && format != abi::kImageVersionV1)
		return fail("--v1-padding-pages applies to v1 images only", kExitUsage);

	auto text = read_file(o.manifest);
	if (!text)
		return fail(text.error().to_string());
	auto spec = mkimage::parse_image_spec(std::string(text.value().begin(), text.value().end()));
	if (!spec)
		return fail(o.manifest + ": " + spec.error().to_string());
	const std::size_t manifest_pages_n = manifest_pages(spec.value().module_json).size() / abi::kPageSize;
	const std::size_t pages = o.module_pages ? o.module_pages : manifest_pages_n + 1;
	if (pages < manifest_pages_n)
		return fail("--module-pages " + std::to_string(pages) + " is less than the manifest's " +
			    std::to_string(manifest_pages_n) + " pages");
	auto key = load_signing_key(o.key);
	if (!key)
		return fail(key.error().to_string());

	const Bytes module = mkimage::module_image_of(spec.value().module_json, pages);
	auto sig = make_sigstruct(spec.value().sigstruct, module, *key.value());
	if (!sig)
		return fail(sig.error().to_string());
	Bytes blob = make_blob(format, sig.value(), module, o.v1_padding_pages);
	if (corruption)
		mkimage::corrupt(blob, *corruption);

	std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
	out.write(reinterpret_cast<const char *>(blob.data()), static_cast<std::streamsize>(blob.size()));
	out.close();
	if (!out)
		return fail(o.out + ": cannot write");
	return 0;
}

std::string signer_name(const Digest48 &id)
{
	if (id == intel_signer_id())
		return "Intel production signer";
	if (id == test_signer_id())
		return "project test signer";
	return "unknown signer";
}

void print_header(std::span<const std::uint8_t> blob)
{
	abi::ImageHeaderV1 v1;
	abi::ImageHeaderV2 v2;
	std::memcpy(&v1, blob.data(), sizeof(v1));
	std::memcpy(&v2, blob.data(), sizeof(v2));
	std::cout << "version: " << hex(v1.version) << "\nchecksum: " << hex(v1.checksum) << "\n";
	if (v1.version == abi::kImageVersionV1)
		std::cout << "offset_of_module: " << hex(v1.offset_of_module) << "\nlength: " << v1.length << "\n";
	else if (v2.version == abi::kImageVersionV2)
		std::cout << "sigstruct_nr_pages: " << v2.sigstruct_nr_pages
			  << "\nmodule_nr_pages: " << v2.module_nr_pages << "\n";
}

void print_sigstruct(const abi::Sigstruct &s)
{
	std::cout << "sigstruct:\n"
		  << "  header_type: " << s.header_type << "\n  header_length: " << hex(s.header_length)
		  << "\n  header_version: " << hex(s.header_version) << "\n  module_type: " << hex(s.module_type)
		  << (sigstruct_is_debug(s) ? " (debug-signed)" : " (production)")
		  << "\n  module_vendor: " << hex(s.module_vendor) << "\n  date: " << hex(s.date)
		  << "\n  size: " << hex(s.size) << "\n  key_size: " << hex(s.key_size)
		  << "\n  modulus_size: " << hex(s.modulus_size) << "\n  exponent_size: " << s.exponent_size
		  << "\n  exponent: " << s.exponent << "\n  seamhash: " << hex({s.seamhash, sizeof(s.seamhash)})
		  << "\n  major_svn: " << unsigned(s.major_svn) << "\n  minor_svn: " << unsigned(s.minor_svn)
		  << "\n  attributes: " << hex(s.attributes) << "\n  module_hv: " << s.module_hv
		  << "\n  min_update_hv: " << s.min_update_hv << "\n  no_downgrade: " << unsigned(s.no_downgrade)
		  << "\n  num_handoff_pages: " << s.num_handoff_pages << "\n  cpuid_table:";
	for (std::uint32_t i = 0; i < std::min<std::uint32_t>(s.cpuid_table_size, abi::kSigstructMaxCpuidEntries); i++)
		std::cout << " " << hex(s.cpuid_table[i]);
	const Digest48 id = signer_id(s);
	std::cout << "\nsigner_id: " << hex(id) << " (" << signer_name(id) << ")\n";
}

/* One "check" line; false when it failed. */
bool print_check(const char *name, const Status &st)
{
	std::cout << "check " << name << ": " << (st ? "ok" : st.error().to_string()) << "\n";
	return st.ok();
}

int print(const std::string &path)
{
	auto bytes = read_file(path);
	if (!bytes)
		return fail(bytes.error().to_string());
	const Bytes &blob = bytes.value();
	std::cout << "file: " << path << " (" << blob.size() << " bytes)\n";
	auto layout = parse_blob(blob);
	if (blob.size() >= abi::kImageHeaderSize)
		print_header(blob);
	if (!layout) {
		print_check("header", layout.error());
		return kExitInvalid;
	}
	print_check("header", Ok{});
	const BlobLayout &l = layout.value();
	std::cout << "format: v" << (l.format >> 8) << "\nsigstruct_offset: " << hex(l.sigstruct_offset)
		  << "\nmodule_offset: " << hex(l.module_offset) << "\nmodule_pages: " << l.module_pages << "\n";
	const abi::Sigstruct s = blob_sigstruct(blob, l);
	const auto module = std::span(blob).subspan(l.module_offset);
	print_sigstruct(s);
	const Digest48 trusted[] = {intel_signer_id(), test_signer_id()};
	bool ok = print_check("sigstruct", verify_sigstruct(s, trusted));
	ok = print_check("seamhash", verify_seamhash(s, module)) && ok;
	const auto manifest = read_manifest(module);
	if (!manifest) {
		std::cout << "manifest: no manifest\n";
	} else {
		const auto j = nlohmann::json::parse(*manifest, nullptr, false);
		std::cout << "manifest: " << (j.is_discarded() ? *manifest + " (not valid JSON)" : j.dump(2)) << "\n";
	}
	return ok ? 0 : kExitInvalid;
}

std::string corruption_help()
{
	std::string s = "Put one defect into the finished image (the checksum is fixed afterwards, except for "
			"'checksum'):";
	for (const auto &c : mkimage::corruptions())
		s += std::string("\n  ") + c.name + ": " + c.what;
	return s;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Build a signed TDX module image (v1/v2 blob with an emulator manifest), or print one.\n"
		     "Exit status: 0 done, 1 usage, 2 invalid input (--print: a check failed)."};
	BuildOptions o;
	std::string print_path;
	auto *print_opt = app.add_option("--print", print_path, "Print an image's header, sigstruct, signer and manifest, and check it")
				  ->check(CLI::ExistingFile);
	auto *manifest = app.add_option("--manifest", o.manifest, "Manifest file: {\"module\": {...}, \"sigstruct\": {...}}")
				 ->check(CLI::ExistingFile);
	auto *key = app.add_option("--key", o.key, "RSA-3072 signing key (PEM), e.g. lib/module-image/keys/test-signer.pem");
	auto *format = app.add_option("--format", o.format, "Blob format")->check(CLI::IsMember({"v1", "v2"}));
	auto *out = app.add_option("-o,--output", o.out, "Output file");
	auto *pages = app.add_option("--module-pages", o.module_pages,
				     "Module pages in all: the manifest pages, then filler (default: manifest pages + 1)")
			      ->check(CLI::Range(std::size_t(1), std::size_t(abi::kImageMaxModulePages)));
	auto *padding = app.add_option("--v1-padding-pages", o.v1_padding_pages,
				       "v1: zero pages between the sigstruct page and the module (default 0)")
				->check(CLI::Range(0u, 1024u));
	std::vector<std::string> names;
	for (const auto &c : mkimage::corruptions())
		names.push_back(c.name);
	auto *corrupt = app.add_option("--corrupt", o.corrupt, corruption_help())->check(CLI::IsMember(names));
	for (auto *opt : {manifest, key, format, out, pages, padding, corrupt})
		print_opt->excludes(opt);

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e) == 0 ? 0 : kExitUsage;
	}
	if (!print_path.empty())
		return print(print_path);
	for (auto *required : {manifest, key, format, out})
		if (required->count() == 0)
			return fail(required->get_name() + " is required (or --print FILE)\n" + app.help(), kExitUsage);
	return build(o);
}
