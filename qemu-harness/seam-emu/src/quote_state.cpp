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
		std::lock_guard<std::mutex> g(mu_);
		jobs_.push_back({std::move(task), std::move(done_fd)});
		if (!thread_.joinable())
			thread_ = std::thread([this] { loop(); });
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

void Signer::loop()
{
	/* Best effort: without it the signatures are made at normal priority. */
	sched_param p{};
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &p);
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
