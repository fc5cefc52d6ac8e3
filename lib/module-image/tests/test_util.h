// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the module-image tests: the committed test keys, module images of chosen
// sizes, temporary directories.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <module-image/module_image.h>

namespace module_image::test {

namespace abi = tdx::abi;
constexpr std::size_t kPage = abi::kPageSize;

inline std::string key_path(const char *name)
{
	return std::string(MODULE_IMAGE_KEYS_DIR) + "/" + name;
}

/* The key, loaded once per process (RSA key loading is slow under the sanitizers). */
inline const SigningKey &test_key()
{
	static SigningKeyPtr key = load_signing_key(key_path("test-signer.pem")).value();
	return *key;
}
inline const SigningKey &other_key()
{
	static SigningKeyPtr key = load_signing_key(key_path("other-signer.pem")).value();
	return *key;
}

/* `pages` pages, different for every seed and page. */
inline Bytes module_of(std::size_t pages, std::uint8_t seed = 1)
{
	Bytes m(pages * kPage);
	for (std::size_t i = 0; i < m.size(); i++)
		m[i] = static_cast<std::uint8_t>(seed + i * 13 + (i >> 12) * 7);
	return m;
}

inline SigstructSpec spec()
{
	SigstructSpec s;
	s.major_svn = 1;
	s.minor_svn = 6;
	s.module_hv = 3;
	s.min_update_hv = 1;
	s.num_handoff_pages = 2;
	s.cpuid_table = {0x806f8, 0xc06f0};
	return s;
}

inline abi::Sigstruct signed_for(std::span<const std::uint8_t> module, const SigningKey &key = test_key())
{
	auto s = make_sigstruct(spec(), module, key);
	EXPECT_TRUE(s.ok()) << s.error().to_string();
	return s.value();
}

/* A valid blob of `pages` module pages. */
inline Bytes blob_of(std::uint16_t format, std::size_t pages = 2, std::uint32_t v1_padding = 0)
{
	const Bytes module = module_of(pages);
	return make_blob(format, signed_for(module), module, v1_padding);
}

class TempDir {
public:
	TempDir()
	{
		std::string templ = (std::filesystem::temp_directory_path() / "module-image-test-XXXXXX").string();
		path_ = mkdtemp(templ.data()) ? templ : std::string();
		EXPECT_FALSE(path_.empty());
	}
	~TempDir()
	{
		std::error_code ec;
		std::filesystem::remove_all(path_, ec);
	}
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
	const std::filesystem::path &path() const { return path_; }

private:
	std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path &p, std::span<const std::uint8_t> data)
{
	std::filesystem::create_directories(p.parent_path());
	std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
}

inline void write_file(const std::filesystem::path &p, const std::string &text)
{
	write_file(p, std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()));
}

} // namespace module_image::test
