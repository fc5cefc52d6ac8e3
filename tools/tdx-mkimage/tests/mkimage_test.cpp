// SPDX-License-Identifier: GPL-2.0
// tdx-mkimage run as a program: valid v1/v2 images, every --corrupt refused by the library with its
// documented code, untrusted signing, manifest-driven sigstruct fields, --print, exit codes.
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace module_image::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExample = std::string(MKIMAGE_EXAMPLES_DIR) + "/ext-quote-1.5.07.json";

struct ToolRun {
	int status = -1;
	std::string output; /* stdout and stderr */
};

ToolRun run(const std::string &args)
{
	ToolRun r;
	FILE *p = popen((std::string(TDX_MKIMAGE) + " " + args + " 2>&1").c_str(), "r");
	if (!p)
		return r;
	char buf[4096];
	for (std::size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;)
		r.output.append(buf, n);
	const int st = pclose(p);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

class MkImage : public ::testing::Test {
protected:
	/* Build into the temp dir; returns the file's bytes (empty when the tool failed). */
	Bytes build(const std::string &args, const std::string &key = "test-signer.pem", int want_status = 0)
	{
		const fs::path out = dir_.path() / "out.blob";
		fs::remove(out);
		ToolRun r = run("--manifest " + manifest_ + " --key " + key_path(key.c_str()) + " -o " + out.string() + " " + args);
		EXPECT_EQ(r.status, want_status) << args << "\n" << r.output;
		if (r.status != 0)
			return {};
		auto bytes = read_file(out.string());
		EXPECT_TRUE(bytes.ok());
		return bytes.ok() ? bytes.value() : Bytes{};
	}

	/* A manifest file made from the example with `edit` applied to its JSON. */
	void edit_manifest(const std::function<void(json &)> &edit)
	{
		json j = json::parse(read_text(kExample), nullptr, true, true);
		edit(j);
		manifest_ = (dir_.path() / "manifest.json").string();
		write_file(manifest_, j.dump());
	}

	static std::string read_text(const std::string &path)
	{
		const Bytes b = read_file(path).value();
		return std::string(b.begin(), b.end());
	}

	TempDir dir_;
	std::string manifest_ = kExample;
};

const Digest48 kTrusted[] = {intel_signer_id(), test_signer_id()};

struct Parts {
	BlobLayout layout;
	abi::Sigstruct sigstruct;
	std::span<const std::uint8_t> module;
};

Parts parts(const Bytes &blob)
{
	auto l = parse_blob(blob);
	EXPECT_TRUE(l) << l.error().to_string();
	return {l.value(), blob_sigstruct(blob, l.value()), std::span(blob).subspan(l.value().module_offset)};
}

TEST_F(MkImage, BuildsValidImages)
{
	const json example = json::parse(read_text(kExample), nullptr, true, true);
	for (const char *format : {"v1", "v2"}) {
		SCOPED_TRACE(format);
		const Bytes blob = build(std::string("--format ") + format);
		ASSERT_FALSE(blob.empty());
		const Parts p = parts(blob);
		EXPECT_EQ(p.layout.format, format == std::string("v1") ? abi::kImageVersionV1 : abi::kImageVersionV2);
		EXPECT_EQ(p.layout.module_pages, 2u) << "one manifest page and one filler page by default";
		EXPECT_TRUE(verify_sigstruct(p.sigstruct, kTrusted));
		EXPECT_EQ(signer_id(p.sigstruct), test_signer_id());
		EXPECT_TRUE(verify_seamhash(p.sigstruct, p.module));

		const auto manifest = read_manifest(p.module);
		ASSERT_TRUE(manifest.has_value());
		EXPECT_EQ(json::parse(*manifest), example["module"]);

		const abi::Sigstruct &s = p.sigstruct;
		EXPECT_EQ(s.major_svn, 1);
		EXPECT_EQ(s.minor_svn, 7);
		EXPECT_EQ(s.date, 0x20250301u);
		EXPECT_FALSE(sigstruct_is_debug(s));
		EXPECT_EQ(s.module_hv, 1);
		EXPECT_EQ(s.min_update_hv, 0);
		EXPECT_EQ(s.no_downgrade, 0);
		EXPECT_EQ(s.num_handoff_pages, 1);
		ASSERT_EQ(s.cpuid_table_size, 2u);
		EXPECT_EQ(s.cpuid_table[0], 0x806f0u);
		EXPECT_EQ(s.cpuid_table[1], 0xc06f0u);
		EXPECT_TRUE(sigstruct_supports_cpu(s, 0x806f8));
	}
}

TEST_F(MkImage, PagesPaddingAndDeterminism)
{
	const Bytes a = build("--format v1 --module-pages 10 --v1-padding-pages 3");
	const Parts p = parts(a);
	EXPECT_EQ(p.layout.module_pages, 10u);
	EXPECT_EQ(p.layout.module_offset, 0x2000u + 3 * kPage);
	EXPECT_TRUE(verify_seamhash(p.sigstruct, p.module));
	EXPECT_EQ(build("--format v1 --module-pages 10 --v1-padding-pages 3"), a) << "the same inputs give the same image";
	const Bytes b = build("--format v2 --module-pages 496");
	EXPECT_EQ(parts(b).layout.module_pages, 496u);
	EXPECT_EQ(std::memcmp(parts(b).sigstruct.seamhash, parts(build("--format v1 --module-pages 496")).sigstruct.seamhash, 48), 0);

	build("--format v2 --v1-padding-pages 1", "test-signer.pem", 1);
	build("--format v1 --module-pages 0", "test-signer.pem", 1);
	build("--format v1 --module-pages 497", "test-signer.pem", 1);
	/* A manifest of two pages does not fit one. */
	edit_manifest([](json &j) { j["module"]["padding_for_test"] = std::string(5000, 'p'); });
	EXPECT_EQ(parts(build("--format v2")).layout.module_pages, 3u);
	build("--format v2 --module-pages 1", "test-signer.pem", 2);
}

struct Expected {
	const char *corruption;
	const char *stage; /* header, sigstruct or seamhash: the "check" lines of --print */
	const char *code;
};

const Expected kCorruptions[] = {
	{"checksum", "header", "bad-checksum"},
	{"signature-string", "header", "bad-signature-string"},
	{"version", "header", "bad-version"},
	{"reserved", "header", "reserved-not-zero"},
	{"truncate", "header", "truncated"},
	{"oversize", "header", "bad-length"},
	{"too-many-pages", "header", "too-many-pages"},
	{"misaligned-offset", "header", "bad-offset"},
	{"rsa-signature", "sigstruct", "bad-rsa-signature"},
	{"sigstruct-header", "sigstruct", "bad-sigstruct"},
	{"hash", "seamhash", "bad-hash"},
};

/* The first check that refuses the blob, as "stage: code", or "ok". */
std::string first_failure(const Bytes &blob)
{
	auto l = parse_blob(blob);
	if (!l)
		return "header: " + l.error().code;
	const abi::Sigstruct s = blob_sigstruct(blob, l.value());
	if (auto v = verify_sigstruct(s, kTrusted); !v)
		return "sigstruct: " + v.error().code;
	if (auto h = verify_seamhash(s, std::span(blob).subspan(l.value().module_offset)); !h)
		return "seamhash: " + h.error().code;
	return "ok";
}

TEST_F(MkImage, EveryCorruptionIsRefusedWithItsCode)
{
	for (const char *format : {"v1", "v2"}) {
		for (const Expected &e : kCorruptions) {
			SCOPED_TRACE(std::string(format) + " --corrupt " + e.corruption);
			const bool v1_only = std::string(e.corruption) == "misaligned-offset";
			const std::string args = std::string("--format ") + format + " --corrupt " + e.corruption;
			if (v1_only && format == std::string("v2")) {
				build(args, "test-signer.pem", 1);
				continue;
			}
			const Bytes blob = build(args);
			ASSERT_FALSE(blob.empty());
			EXPECT_EQ(first_failure(blob), std::string(e.stage) + ": " + e.code);

			const fs::path path = dir_.path() / "out.blob";
			ToolRun r = run("--print " + path.string());
			EXPECT_EQ(r.status, 2) << r.output;
			EXPECT_NE(r.output.find(std::string("check ") + e.stage + ": " + e.code), std::string::npos) << r.output;
		}
	}
}

TEST_F(MkImage, HelpListsEveryCorruption)
{
	ToolRun r = run("--help");
	EXPECT_EQ(r.status, 0);
	for (const Expected &e : kCorruptions)
		EXPECT_NE(r.output.find(std::string(e.corruption) + ": "), std::string::npos) << e.corruption;
}

TEST_F(MkImage, UntrustedSigner)
{
	const Bytes blob = build("--format v2", "other-signer.pem");
	EXPECT_EQ(first_failure(blob), "sigstruct: untrusted-signer");
	const Digest48 other[] = {signer_id(other_key())};
	EXPECT_TRUE(verify_sigstruct(parts(blob).sigstruct, other));
}

TEST_F(MkImage, SigstructFieldsFromTheManifest)
{
	edit_manifest([](json &j) {
		j["sigstruct"] = {{"major_svn", 2}, {"minor_svn", 0}, {"debug", true}, {"date", "0x20261231"}, {"cpuid", {"0x906a3"}}};
		j["module"]["handoff"] = {{"module_hv", 5}, {"min_update_hv", 4}, {"no_downgrade", true}, {"num_handoff_pages", 9}};
	});
	const Parts p = parts(build("--format v1"));
	const abi::Sigstruct &s = p.sigstruct;
	EXPECT_EQ(first_failure(build("--format v1")), "ok") << "SVN, debug and CPU are the P-SEAMLDR's checks";
	EXPECT_TRUE(sigstruct_is_debug(s));
	EXPECT_EQ(s.major_svn, 2);
	EXPECT_EQ(s.minor_svn, 0);
	EXPECT_EQ(s.date, 0x20261231u);
	EXPECT_EQ(s.module_hv, 5);
	EXPECT_EQ(s.min_update_hv, 4);
	EXPECT_EQ(s.no_downgrade, 1);
	EXPECT_EQ(s.num_handoff_pages, 9);
	EXPECT_TRUE(sigstruct_supports_cpu(s, 0x906a4));
	EXPECT_FALSE(sigstruct_supports_cpu(s, 0x806f8));
}

TEST_F(MkImage, BadManifests)
{
	const std::pair<const char *, std::function<void(json &)>> edits[] = {
		{"unknown top-level key", [](json &j) { j["extra"] = 1; }},
		{"no sigstruct", [](json &j) { j.erase("sigstruct"); }},
		{"no module", [](json &j) { j.erase("module"); }},
		{"unknown sigstruct key", [](json &j) { j["sigstruct"]["isv"] = 1; }},
		{"missing minor_svn", [](json &j) { j["sigstruct"].erase("minor_svn"); }},
		{"svn too large", [](json &j) { j["sigstruct"]["major_svn"] = 256; }},
		{"debug not bool", [](json &j) { j["sigstruct"]["debug"] = 0; }},
		{"date not BCD", [](json &j) { j["sigstruct"]["date"] = "0x2025013A"; }},
		{"date a number", [](json &j) { j["sigstruct"]["date"] = 20250301; }},
		{"cpuid not hex", [](json &j) { j["sigstruct"]["cpuid"] = {"806f0"}; }},
		{"cpuid too long", [](json &j) { j["sigstruct"]["cpuid"] = std::vector<std::string>(256, "0x806f0"); }},
		{"no handoff", [](json &j) { j["module"].erase("handoff"); }},
		{"no no_downgrade", [](json &j) { j["module"]["handoff"].erase("no_downgrade"); }},
		{"module_hv too large", [](json &j) { j["module"]["handoff"]["module_hv"] = 65536; }},
		{"no update", [](json &j) { j["module"].erase("update"); }},
	};
	for (const auto &[name, edit] : edits) {
		edit_manifest(edit);
		build("--format v1", "test-signer.pem", 2);
		EXPECT_FALSE(fs::exists(dir_.path() / "out.blob")) << name;
	}
	manifest_ = (dir_.path() / "broken.json").string();
	write_file(manifest_, std::string("{\"module\": "));
	build("--format v1", "test-signer.pem", 2);
}

TEST_F(MkImage, UsageAndInputErrors)
{
	const std::string out = (dir_.path() / "x.blob").string();
	const std::string key = key_path("test-signer.pem");
	EXPECT_EQ(run("").status, 1);
	EXPECT_EQ(run("--manifest " + kExample + " --key " + key + " --format v1").status, 1) << "no -o";
	EXPECT_EQ(run("--manifest " + kExample + " --key " + key + " --format v3 -o " + out).status, 1);
	EXPECT_EQ(run("--manifest " + kExample + " --key " + key + " --format v1 -o " + out + " --corrupt nothing").status, 1);
	EXPECT_EQ(run("--manifest " + kExample + " --print " + kExample).status, 1);
	EXPECT_EQ(run("--manifest /nonexistent.json --key " + key + " --format v1 -o " + out).status, 1);
	EXPECT_EQ(run("--manifest " + kExample + " --key /nonexistent.pem --format v1 -o " + out).status, 2);
	EXPECT_EQ(run("--manifest " + kExample + " --key " + kExample + " --format v1 -o " + out).status, 2);
	EXPECT_EQ(run("--manifest " + kExample + " --key " + key + " --format v1 -o /nonexistent/x.blob").status, 2);
}

TEST_F(MkImage, Print)
{
	ASSERT_FALSE(build("--format v1").empty());
	ToolRun r = run("--print " + (dir_.path() / "out.blob").string());
	EXPECT_EQ(r.status, 0) << r.output;
	for (const char *want : {"version: 0x100", "check header: ok", "check sigstruct: ok", "check seamhash: ok",
				 "(project test signer)", "minor_svn: 7", "cpuid_table: 0x806f0 0xc06f0", "\"update\": 7",
				 "module_pages: 2"})
		EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
}

TEST_F(MkImage, PrintIntelBlobs)
{
	const char *intel = std::getenv("TDX_MODULE_BINARIES");
	if (!intel || !*intel)
		GTEST_SKIP() << "TDX_MODULE_BINARIES is not set: Intel's blobs not printed";
	for (const auto &e : fs::recursive_directory_iterator(intel)) {
		if (e.path().extension() != ".blob")
			continue;
		ToolRun i = run("--print " + e.path().string());
		EXPECT_EQ(i.status, 0) << i.output;
		EXPECT_NE(i.output.find("(Intel production signer)"), std::string::npos) << i.output;
		EXPECT_NE(i.output.find("manifest: no manifest"), std::string::npos) << i.output;
	}
}

} // namespace
} // namespace module_image::test
