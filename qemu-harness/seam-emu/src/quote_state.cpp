// SPDX-License-Identifier: GPL-2.0
#include "quote_state.h"

#include <cstdio>
#include <cstdlib>

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/rand.h>

namespace seam_emu {

Module::QuoteState::QuoteState() : root_seed_(kRootSeedBytes)
{
	/* Without entropy there is no platform secret: nothing sensible can go on. */
	if (RAND_bytes(root_seed_.data(), int(root_seed_.size())) != 1) {
		std::fprintf(stderr, "seam-emu: RAND_bytes failed: no DICE root seed\n");
		std::abort();
	}
}

namespace {

bool same_inputs(const dice_quote::ChainInputs &a, const dice_quote::ChainInputs &b)
{
	return a.root_seed == b.root_seed && a.platform_measurement == b.platform_measurement &&
	       a.module_measurement == b.module_measurement && a.module_svn == b.module_svn;
}

} // namespace

std::shared_ptr<const dice_quote::DiceChain> Module::QuoteState::chain_for(const dice_quote::ChainInputs &in)
{
	if (chain && same_inputs(chain->inputs(), in))
		return chain;
	if (qe_chain && same_inputs(qe_chain->inputs(), in))
		return qe_chain;
	auto made = dice_quote::DiceChain::create(in);
	if (!made)
		return nullptr;
	note_root(made.value());
	qe_chain = std::make_shared<const dice_quote::DiceChain>(std::move(made.value()));
	return qe_chain;
}

EventFd::EventFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

EventFd::~EventFd()
{
	if (fd_ >= 0)
		close(fd_);
}

void EventFd::signal() const
{
	const u64 one = 1;
	if (fd_ >= 0 && write(fd_, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already huge, it is readable anyway. */
	}
}

namespace {

/* On a thread of its own, which it may leave at SCHED_IDLE. */
bool probe_idle_reversible()
{
	bool ok = false;
	std::thread probe([&ok] {
		sched_param p{};
		ok = pthread_setschedparam(pthread_self(), SCHED_IDLE, &p) == 0 &&
		     pthread_setschedparam(pthread_self(), SCHED_OTHER, &p) == 0;
	});
	probe.join();
	return ok;
}

} // namespace

Signer::~Signer()
{
	{
		std::lock_guard<std::mutex> g(mu_);
		stop_ = true;
	}
	cv_.notify_one();
	if (thread_.joinable())
		thread_.join();
}

std::future<dice_quote::Result<dice_quote::Bytes>> Signer::submit(Job job, std::shared_ptr<const EventFd> done_fd)
{
	std::packaged_task<dice_quote::Result<dice_quote::Bytes>()> task(std::move(job));
	auto done = task.get_future();
	{
		std::unique_lock<std::mutex> lk(mu_);
		jobs_.push_back({std::move(task), std::move(done_fd)});
		if (!thread_.joinable()) {
			lk.unlock();
			const bool reversible = probe_idle_reversible();
			lk.lock();
			if (!thread_.joinable()) {
				idle_reversible_ = reversible;
				thread_ = std::thread([this] { loop(); });
				/* Here rather than in loop(): policy() tells it as soon as submit() returns. */
				apply_policy(thread_.native_handle());
			}
		}
	}
	cv_.notify_one();
	return done;
}

void Signer::hold(bool on)
{
	{
		std::lock_guard<std::mutex> g(mu_);
		held_ = on;
	}
	cv_.notify_one();
}

bool Signer::held() const
{
	std::lock_guard<std::mutex> g(mu_);
	return held_;
}

bool Signer::idle_is_reversible() const
{
	std::lock_guard<std::mutex> g(mu_);
	return idle_reversible_;
}

void Signer::apply_policy(pthread_t t) const
{
	/* Best effort: a policy the host refuses leaves the one before. */
	sched_param p{};
	(void)pthread_setschedparam(t, urgent_ > 0 || !idle_reversible_ ? SCHED_OTHER : SCHED_IDLE, &p);
}

void Signer::urgent(int delta)
{
	std::lock_guard<std::mutex> g(mu_);
	const bool was = urgent_ > 0;
	urgent_ += delta;
	/* Before the thread started, submit() applies it. */
	if (was != (urgent_ > 0) && thread_.joinable())
		apply_policy(thread_.native_handle());
}

int Signer::policy() const
{
	std::lock_guard<std::mutex> g(mu_);
	if (!thread_.joinable())
		return -1;
	int policy = -1;
	sched_param p{};
	if (pthread_getschedparam(const_cast<std::thread &>(thread_).native_handle(), &policy, &p) != 0)
		return -1;
	return policy;
}

void Signer::loop()
{
	std::unique_lock<std::mutex> lk(mu_);
	for (;;) {
		cv_.wait(lk, [this] { return stop_ || (!held_ && !jobs_.empty()); });
		/* Jobs still queued at the end are done too: their futures are waited for. */
		if (jobs_.empty())
			return;
		Queued job = std::move(jobs_.front());
		jobs_.pop_front();
		lk.unlock();
		job.task();
		/* After the future is ready: a waiter woken by it finds the result there. */
		if (job.done)
			job.done->signal();
		lk.lock();
	}
}

void Module::QuoteStateDeleter::operator()(QuoteState *q) const { delete q; }

Module::QuoteStatePtr Module::make_quote_state() { return QuoteStatePtr(new QuoteState()); }

} // namespace seam_emu
