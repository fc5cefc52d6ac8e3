/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement and fallible, tagged allocation. There is no global throwing operator new in the
 * module: objects are created with `new (kstd::kAlloc) T(...)`, which yields nullptr when memory is
 * short (the constructor does not run), and destroyed with kstd::destroy().
 */
#pragma once

#include "types.h"
#include "utility.h"

#if defined(KSTD_HOSTED)
#include <new>
#else
inline void *operator new(kstd::usize, void *p) noexcept { return p; }
inline void *operator new[](kstd::usize, void *p) noexcept { return p; }
#endif

namespace kstd {
struct AllocTag {};
inline constexpr AllocTag kAlloc{};
} // namespace kstd

extern "C" void *kapi_kzalloc(kstd::usize size);
extern "C" void kapi_kfree(const void *p);

inline void *operator new(kstd::usize size, kstd::AllocTag) noexcept { return kapi_kzalloc(size); }
inline void *operator new[](kstd::usize size, kstd::AllocTag) noexcept { return kapi_kzalloc(size); }

namespace kstd {

/* Destroys an object made by new (kAlloc) and frees its memory. */
template <class T> void destroy(T *p)
{
	if (!p)
		return;
	p->~T();
	kapi_kfree(p);
}

/* Owns one heap object made by new (kAlloc); frees it unless release()d. */
template <class T> class Box {
public:
	Box() = default;
	explicit Box(T *p) : p_(p) {}
	Box(const Box &) = delete;
	Box &operator=(const Box &) = delete;
	Box(Box &&o) noexcept : p_(exchange(o.p_, nullptr)) {}
	Box &operator=(Box &&o) noexcept
	{
		if (this != &o) {
			destroy(p_);
			p_ = exchange(o.p_, nullptr);
		}
		return *this;
	}
	~Box() { destroy(p_); }

	T *get() const { return p_; }
	T *operator->() const { return p_; }
	T &operator*() const { return *p_; }
	explicit operator bool() const { return p_ != nullptr; }
	[[nodiscard]] T *release() { return exchange(p_, nullptr); }

private:
	T *p_ = nullptr;
};

} // namespace kstd
