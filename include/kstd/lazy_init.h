/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LazyInit<T>: storage for a global object that is constructed explicitly from module init and
 * destroyed from module exit, so the module has no global constructors (.init_array never runs on
 * distro kernels) and no atexit destructors.
 */
#pragma once

#include "new.h"
#include "utility.h"

extern "C" [[noreturn]] void kapi_bug(const char *what);

namespace kstd {

template <class T> class LazyInit {
public:
	constexpr LazyInit() = default;
	LazyInit(const LazyInit &) = delete;
	LazyInit &operator=(const LazyInit &) = delete;

	template <class... Args> T &init(Args &&...args)
	{
		if (alive_)
			kapi_bug("kstd::LazyInit initialized twice");
		T *p = new (storage_) T(forward<Args>(args)...);
		alive_ = true;
		return *p;
	}
	void destroy()
	{
		if (alive_) {
			get().~T();
			alive_ = false;
		}
	}
	bool alive() const { return alive_; }
	T &get()
	{
		if (!alive_)
			kapi_bug("kstd::LazyInit used before init");
		return *reinterpret_cast<T *>(storage_);
	}
	T *operator->() { return &get(); }

private:
	alignas(T) unsigned char storage_[sizeof(T)] = {};
	bool alive_ = false;
};

} // namespace kstd
