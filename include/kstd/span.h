/* SPDX-License-Identifier: GPL-2.0 */
/* A bounds-checked view of contiguous objects, and a fixed-capacity inline array. */
#pragma once

#include "types.h"
#include "utility.h"

extern "C" [[noreturn]] void kapi_bug(const char *what);

namespace kstd {

template <class T> class Span {
public:
	constexpr Span() = default;
	constexpr Span(T *data, usize size) : data_(data), size_(size) {}
	template <usize N> constexpr Span(T (&a)[N]) : data_(a), size_(N) {}

	constexpr T *data() const { return data_; }
	constexpr usize size() const { return size_; }
	constexpr bool empty() const { return size_ == 0; }
	constexpr T *begin() const { return data_; }
	constexpr T *end() const { return data_ + size_; }
	T &operator[](usize i) const
	{
		if (i >= size_)
			kapi_bug("kstd::Span index out of range");
		return data_[i];
	}
	constexpr Span subspan(usize off, usize n) const
	{
		return off > size_ ? Span() : Span(data_ + off, min(n, size_ - off));
	}

private:
	T *data_ = nullptr;
	usize size_ = 0;
};

/* Up to N objects stored inline; push_back fails (returns false) when full. */
template <class T, usize N> class Array {
public:
	constexpr usize size() const { return size_; }
	constexpr usize capacity() const { return N; }
	constexpr bool empty() const { return size_ == 0; }
	constexpr bool full() const { return size_ == N; }
	[[nodiscard]] bool push_back(const T &v)
	{
		if (size_ == N)
			return false;
		items_[size_++] = v;
		return true;
	}
	void clear() { size_ = 0; }
	void truncate(usize n) { size_ = min(n, size_); }
	T &operator[](usize i) { return span()[i]; }
	const T &operator[](usize i) const { return cspan()[i]; }
	T *begin() { return items_; }
	T *end() { return items_ + size_; }
	const T *begin() const { return items_; }
	const T *end() const { return items_ + size_; }
	Span<T> span() { return Span<T>(items_, size_); }
	Span<const T> cspan() const { return Span<const T>(items_, size_); }

private:
	T items_[N] = {};
	usize size_ = 0;
};

} // namespace kstd
