// SPDX-License-Identifier: GPL-2.0
// The TDX module's own locks, as modelled state: every acquire is a try, as in the module.
#pragma once

#include <vector>

#include <tdx/abi/types.h>

namespace seam_emu {

using namespace tdx::abi;

/*
 * These are not host synchronization: all of them live under Module::state_mutex(). They record
 * who holds what so that a leaf on another LP meets the contention the real module would report
 * (TDX_SYS_BUSY, TDX_OPERAND_BUSY); nothing ever waits on them.
 */

/* The module's shared/exclusive lock (sharex_lock_t): many sharers or one exclusive holder. */
class SharexLock {
public:
	bool try_shared()
	{
		if (exclusive_)
			return false;
		sharers_++;
		return true;
	}
	bool try_exclusive()
	{
		if (exclusive_ || sharers_)
			return false;
		exclusive_ = true;
		return true;
	}
	void release_shared() { sharers_--; }
	void release_exclusive() { exclusive_ = false; }
	bool exclusive() const { return exclusive_; }
	unsigned sharers() const { return sharers_; }
	bool free() const { return !exclusive_ && !sharers_; }

private:
	bool exclusive_ = false;
	unsigned sharers_ = 0;
};

/* The module's mutex_lock_t: one holder. */
class MutexLock {
public:
	bool try_lock()
	{
		if (held_)
			return false;
		held_ = true;
		return true;
	}
	void unlock() { held_ = false; }
	bool held() const { return held_; }

private:
	bool held_ = false;
};

/* The locks one SEAMCALL took; released together when it leaves the module, last taken first. */
class HeldLocks {
public:
	HeldLocks() = default;
	HeldLocks(const HeldLocks &) = delete;
	HeldLocks &operator=(const HeldLocks &) = delete;

	[[nodiscard]] bool shared(SharexLock &l) { return l.try_shared() && note(&l, nullptr, false); }
	[[nodiscard]] bool exclusive(SharexLock &l) { return l.try_exclusive() && note(&l, nullptr, true); }
	[[nodiscard]] bool lock(MutexLock &m) { return m.try_lock() && note(nullptr, &m, false); }

	void release_all()
	{
		for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
			if (it->mutex)
				it->mutex->unlock();
			else if (it->exclusive)
				it->sharex->release_exclusive();
			else
				it->sharex->release_shared();
		}
		held_.clear();
	}
	bool empty() const { return held_.empty(); }

private:
	struct Held {
		SharexLock *sharex;
		MutexLock *mutex;
		bool exclusive;
	};
	bool note(SharexLock *s, MutexLock *m, bool excl)
	{
		held_.push_back({s, m, excl});
		return true;
	}
	std::vector<Held> held_;
};

} // namespace seam_emu
