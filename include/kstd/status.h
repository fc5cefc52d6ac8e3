/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Status: success or a negative Linux errno. Result<T>: a T or a failed Status. TRY(expr)
 * returns the failed Status of expr from the enclosing function, else yields its value.
 */
#pragma once

#include "errno.h"
#include "new.h"
#include "utility.h"

namespace kstd {

class [[nodiscard]] Status {
public:
	constexpr Status() = default;
	static constexpr Status ok() { return Status(); }
	/* errno: a positive errno value, stored negated as the kernel returns it. */
	static constexpr Status from_errno(int errno_value) { return Status(-errno_value); }
	static constexpr Status from_kernel(int ret) { return Status(ret < 0 ? ret : 0); }

	constexpr bool is_ok() const { return code_ == 0; }
	constexpr bool is_error() const { return code_ != 0; }
	/* The kernel-style return value: 0 or -errno. */
	constexpr int to_kernel() const { return code_; }
	constexpr int errno_value() const { return -code_; }
	constexpr bool operator==(const Status &o) const = default;

private:
	constexpr explicit Status(int code) : code_(code) {}
	int code_ = 0;
};

inline constexpr Status error(int errno_value) { return Status::from_errno(errno_value); }

template <class T> class [[nodiscard]] Result {
public:
	Result(const T &v) : has_(true) { new (&storage_) T(v); }
	Result(T &&v) : has_(true) { new (&storage_) T(move(v)); }
	Result(Status s) : status_(s.is_ok() ? error(err::kEINVAL) : s) {}
	Result(const Result &) = delete;
	Result &operator=(const Result &) = delete;
	Result(Result &&o) : status_(o.status_), has_(o.has_)
	{
		if (has_)
			new (&storage_) T(move(o.value()));
	}
	~Result()
	{
		if (has_)
			value().~T();
	}

	bool is_ok() const { return has_; }
	bool is_error() const { return !has_; }
	Status status() const { return status_; }
	T &value() { return *reinterpret_cast<T *>(&storage_); }
	const T &value() const { return *reinterpret_cast<const T *>(&storage_); }
	T release_value() { return move(value()); }

private:
	Status status_{};
	bool has_ = false;
	alignas(T) unsigned char storage_[sizeof(T)];
};

namespace detail {
inline Status status_of(Status s) { return s; }
template <class T> Status status_of(const Result<T> &r) { return r.status(); }
inline void value_of(Status) {}
template <class T> T value_of(Result<T> &r) { return r.release_value(); }
inline bool failed(Status s) { return s.is_error(); }
template <class T> bool failed(const Result<T> &r) { return r.is_error(); }
} // namespace detail

} // namespace kstd

/* GNU statement expression: the kernel's compilers (gcc, clang) both support it. */
#define TRY(expr)                                                                                  \
	({                                                                                         \
		auto _try_result = (expr);                                                         \
		if (::kstd::detail::failed(_try_result))                                           \
			return ::kstd::detail::status_of(_try_result);                             \
		::kstd::detail::value_of(_try_result);                                             \
	})
