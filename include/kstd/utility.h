/* SPDX-License-Identifier: GPL-2.0 */
/* The few <utility>/<type_traits> pieces the core needs, built on compiler builtins. */
#pragma once

#include "types.h"

namespace kstd {

template <class T> struct remove_reference { using type = T; };
template <class T> struct remove_reference<T &> { using type = T; };
template <class T> struct remove_reference<T &&> { using type = T; };
template <class T> using remove_reference_t = typename remove_reference<T>::type;

template <class T> constexpr remove_reference_t<T> &&move(T &&t) noexcept
{
	return static_cast<remove_reference_t<T> &&>(t);
}

template <class T> constexpr T &&forward(remove_reference_t<T> &t) noexcept
{
	return static_cast<T &&>(t);
}
template <class T> constexpr T &&forward(remove_reference_t<T> &&t) noexcept
{
	return static_cast<T &&>(t);
}

template <class T, class U = T> constexpr T exchange(T &obj, U &&v)
{
	T old = move(obj);
	obj = forward<U>(v);
	return old;
}

template <class T> constexpr void swap(T &a, T &b) noexcept
{
	T t = move(a);
	a = move(b);
	b = move(t);
}

template <class T> constexpr const T &min(const T &a, const T &b) { return b < a ? b : a; }
template <class T> constexpr const T &max(const T &a, const T &b) { return a < b ? b : a; }

template <class A, class B> struct is_same { static constexpr bool value = false; };
template <class A> struct is_same<A, A> { static constexpr bool value = true; };
template <class A, class B> inline constexpr bool is_same_v = is_same<A, B>::value;

/* Insertion sort: the core sorts a handful of ranges, never a large array. */
template <class T, class Less> constexpr void sort_small(T *first, usize n, Less less)
{
	for (usize i = 1; i < n; i++) {
		T v = move(first[i]);
		usize j = i;
		for (; j > 0 && less(v, first[j - 1]); j--)
			first[j] = move(first[j - 1]);
		first[j] = move(v);
	}
}

} // namespace kstd

namespace kstd {
/* In-place heapsort: O(n log n), no allocation, for benchmark sample arrays. */
template <class T> void heap_sort(T *a, usize n)
{
	auto sift = [a](usize root, usize end) {
		while (2 * root + 1 < end) {
			usize child = 2 * root + 1;
			if (child + 1 < end && a[child] < a[child + 1])
				child++;
			if (!(a[root] < a[child]))
				return;
			swap(a[root], a[child]);
			root = child;
		}
	};
	for (usize i = n / 2; i-- > 0;)
		sift(i, n);
	for (usize end = n; end > 1; end--) {
		swap(a[0], a[end - 1]);
		sift(0, end - 1);
	}
}
} // namespace kstd
