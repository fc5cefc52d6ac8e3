/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guard<Lock>: holds a lock for a scope. A lock class is a thin policy over one C primitive from
 * kapi (see kapi/kapi.h) offering lock() and unlock().
 */
#pragma once

namespace kstd {

template <class Lock> class [[nodiscard]] Guard {
public:
	explicit Guard(Lock &l) : lock_(l) { lock_.lock(); }
	~Guard() { lock_.unlock(); }
	Guard(const Guard &) = delete;
	Guard &operator=(const Guard &) = delete;

private:
	Lock &lock_;
};

} // namespace kstd
