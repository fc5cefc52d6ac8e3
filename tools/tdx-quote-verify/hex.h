// SPDX-License-Identifier: GPL-2.0
// Hex strings and files for the quote tools.
#pragma once

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include <dice-quote/claims.h>

namespace quote_tools {

inline std::string to_hex(dice_quote::BytesView b)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	s.reserve(b.size() * 2);
	for (auto c : b) {
		s += digits[c >> 4];
		s += digits[c & 0xf];
	}
	return s;
}

/* Exactly 2*N hex digits (an optional 0x prefix) into N bytes. */
inline std::optional<dice_quote::Bytes> from_hex(std::string s)
{
	if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0)
		s = s.substr(2);
	if (s.size() % 2)
		return std::nullopt;
	dice_quote::Bytes out;
	auto nib = [](char c) -> int {
		if (c >= '0' && c <= '9')
			return c - '0';
		if (c >= 'a' && c <= 'f')
			return c - 'a' + 10;
		if (c >= 'A' && c <= 'F')
			return c - 'A' + 10;
		return -1;
	};
	for (size_t i = 0; i < s.size(); i += 2) {
		const int hi = nib(s[i]), lo = nib(s[i + 1]);
		if (hi < 0 || lo < 0)
			return std::nullopt;
		out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
	}
	return out;
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> fixed_from_hex(const std::string &s)
{
	auto b = from_hex(s);
	if (!b || b->size() != N)
		return std::nullopt;
	std::array<std::uint8_t, N> a{};
	std::copy(b->begin(), b->end(), a.begin());
	return a;
}

inline std::optional<std::string> read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return std::nullopt;
	std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	if (f.bad())
		return std::nullopt;
	return data;
}

inline bool write_file(const std::string &path, const void *data, size_t len)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(static_cast<const char *>(data), static_cast<std::streamsize>(len));
	f.close();
	return static_cast<bool>(f);
}

} // namespace quote_tools
