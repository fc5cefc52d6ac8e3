// SPDX-License-Identifier: GPL-2.0
// Calls on several LPs at once: the module's locks, held through `hold`, and what other LPs see.
#include <future>
#include <thread>

#include <tdx/abi/leaves.h>

#include "test_support.h"

namespace seam_emu::test {
namespace {

/*
 * A SEAMCALL on its own thread that stops inside `hold` (the leaf's work done, its module locks
 * still taken) until release(): no sleeping, no timing.
 */
class HeldCall {
public:
	HeldCall(Module &m, u32 lp, u64 rax_in, RegBlock in = {}) : regs_(in)
	{
		std::future<void> go = go_.get_future();
		thread_ = std::thread([this, &m, lp, rax_in, go = std::move(go)]() mutable {
			bool held = false;
			status_ = m.seamcall(lp, rax_in, regs_, [&] {
				held = true;
				inside_.set_value();
				go.wait();
			});
			if (!held) /* a model bug; do not hang the test */
				inside_.set_value();
		});
		inside_.get_future().wait();
	}
	~HeldCall()
	{
		if (thread_.joinable())
			finish();
	}
	/* Let the call leave the module; its status. */
	u64 finish()
	{
		go_.set_value();
		thread_.join();
		return status_;
	}
	const RegBlock &regs() const { return regs_; }

private:
	RegBlock regs_;
	std::promise<void> inside_, go_;
	std::thread thread_;
	u64 status_ = ~0ull;
};

RegBlock rcx_only(u64 rcx)
{
	RegBlock r{};
	r.rcx = rcx;
	return r;
}

class Concurrency : public ModelTest {
protected:
	static Profile four_lps()
	{
		Profile p = default_profile();
		p.lps = 4;
		p.packages = 2; /* LPs 0, 1 in package 0; 2, 3 in package 1 */
		return p;
	}
	Concurrency() : ModelTest(64 * kMiB, four_lps()) {}

	bool global_lock_free()
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		return m_->global_lock().free();
	}
};

TEST_F(Concurrency, HoldRunsOutsideTheStateMutex)
{
	RegBlock r{};
	bool could_lock = false;
	EXPECT_EQ(m_->seamcall(0, rax(leaf::kSysInit), r,
			       [&] {
				       std::unique_lock<std::mutex> l(m_->state_mutex(), std::try_to_lock);
				       could_lock = l.owns_lock();
			       }),
		  status::kSuccess);
	EXPECT_TRUE(could_lock);
	/* The three-argument form still works. */
	EXPECT_EQ(m_->seamcall(0, rax(leaf::kSysLpInit), r), status::kSuccess);
}

TEST_F(Concurrency, SysInitExclusiveAgainstLpInit)
{
	HeldCall init(*m_, 0, rax(leaf::kSysInit));
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSysBusy); /* shared vs exclusive */
	EXPECT_EQ(call(2, leaf::kSysInit), status::kSysBusy);   /* the lock comes before the state check */
	EXPECT_EQ(init.finish(), status::kSuccess);
	EXPECT_TRUE(global_lock_free());
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSuccess);
}

TEST_F(Concurrency, LpInitsShareTheLockAndKeepConfigOut)
{
	sys_init();
	HeldCall a(*m_, 0, rax(leaf::kSysLpInit));
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSuccess); /* shared with shared */
	EXPECT_EQ(call(2, leaf::kSysLpInit), status::kSuccess);
	EXPECT_EQ(call(3, leaf::kSysLpInit), status::kSuccess);
	write_layout(mem_, one_tdmr_layout(profile_), profile_);
	TdmrLayout l = one_tdmr_layout(profile_);
	EXPECT_EQ(call(3, leaf::kSysConfig, l.array_pa, 1, 32), status::kSysBusy);
	EXPECT_EQ(a.finish(), status::kSuccess);
	EXPECT_EQ(config(l), status::kSuccess);
}

TEST_F(Concurrency, KeyConfigOnePackageAtATime)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	HeldCall pkg0(*m_, 0, rax(leaf::kSysKeyConfig));
	EXPECT_EQ(call(2, leaf::kSysKeyConfig), status::kSysBusy);
	/* Leaves without the global lock run on. */
	EXPECT_EQ(call(3, leaf::kSysRd, 0, field::kMajorVersion), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysLpShutdown), status::kSuccess);
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		EXPECT_TRUE(m_->global_lock().exclusive());
		EXPECT_TRUE(m_->pkg_key_configured(0)); /* the work is done; only the exit is held */
	}
	EXPECT_EQ(pkg0.finish(), status::kSuccess);
	EXPECT_EQ(call(2, leaf::kSysKeyConfig), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
}

TEST_F(Concurrency, TdmrUnderInitIsBusyForOthers)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(two_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	HeldCall t0(*m_, 0, rax(leaf::kSysTdmrInit), rcx_only(0));
	EXPECT_EQ(call(1, leaf::kSysTdmrInit, 0), status::kOperandBusy | kOperandIdRcx);
	EXPECT_EQ(call(2, leaf::kSysTdmrInit, kGiB), status::kSuccess); /* another TDMR */
	EXPECT_TRUE(global_lock_free()); /* TDMR.INIT takes only its TDMR's lock */
	EXPECT_EQ(t0.finish(), status::kSuccess);
	EXPECT_EQ(call(1, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(m_->tdmrs()[0].next_to_init, 512 * kMiB);
}

TEST_F(Concurrency, DisableWaitsForEveryOtherLp)
{
	bring_up();
	/* SYS.RD takes no lock, yet an LP inside the module keeps SYS.DISABLE out. */
	HeldCall rd(*m_, 3, rax(leaf::kSysRd), [] {
		RegBlock r{};
		r.rdx = field::kMajorVersion;
		return r;
	}());
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kSysBusy);
	EXPECT_EQ(m_->disable_progress(), 0u);
	EXPECT_EQ(rd.finish(), status::kSuccess);
	EXPECT_EQ(rd.regs().r8, profile_.module.major);
	EXPECT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	/* A disable in progress holds the lock exclusively while it is inside. */
	HeldCall dis(*m_, 0, rax(leaf::kSysDisable));
	EXPECT_EQ(call(1, leaf::kSysLpInit), status::kSysBusy);
	EXPECT_EQ(dis.finish(), status::kSuccess);
	EXPECT_EQ(m_->state(), SysState::kSysinitPending);
}

TEST_F(Concurrency, ShutdownWaitsForEveryOtherLp)
{
	bring_up();
	HeldCall lps(*m_, 2, rax(leaf::kSysLpShutdown));
	EXPECT_EQ(call(0, leaf::kSysShutdown), status::kSysBusy);
	EXPECT_EQ(m_->state(), SysState::kSysReady);
	EXPECT_EQ(lps.finish(), status::kSuccess);
	HeldCall sd(*m_, 0, rax(leaf::kSysShutdown));
	EXPECT_FALSE(global_lock_free());
	EXPECT_EQ(call(1, leaf::kSysShutdown), status::kSysShutdown); /* the state changed already */
	EXPECT_EQ(sd.finish(), status::kSuccess);
}

TEST_F(Concurrency, CacheWbLockIsPerPackage)
{
	bring_up();
	HeldCall wb(*m_, 0, rax(leaf::kPhymemCacheWb), rcx_only(kCacheWbStart));
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		EXPECT_EQ(m_->keys().kot_lock().sharers(), 1u); /* the key table, shared */
	}
	EXPECT_EQ(call(1, leaf::kPhymemCacheWb, kCacheWbStart), status::kOperandBusy | kOperandIdWbcache);
	EXPECT_EQ(call(2, leaf::kPhymemCacheWb, kCacheWbStart), status::kNoHkidReadyToWbcache);
	EXPECT_EQ(wb.finish(), status::kNoHkidReadyToWbcache);
	EXPECT_EQ(call(1, leaf::kPhymemCacheWb, kCacheWbStart), status::kNoHkidReadyToWbcache);
}

TEST_F(Concurrency, FailedLeavesReleaseWhatTheyTook)
{
	/* SYS.INIT refused for its operand still took (and must give back) the exclusive lock. */
	EXPECT_EQ(call(0, leaf::kSysInit, 1), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_TRUE(global_lock_free());
	sys_init();
	EXPECT_EQ(call(0, leaf::kSysInit), status::kSysInitNotPending);
	EXPECT_TRUE(global_lock_free());
	lp_init_all();
	EXPECT_EQ(call(0, leaf::kSysLpInit), status::kSysLpInitDone);
	EXPECT_TRUE(global_lock_free());
}

TEST_F(Concurrency, OneThreadPerLp)
{
	/* Every LP's thread runs its bring-up share at once; every call must succeed. */
	sys_init();
	std::vector<std::thread> threads;
	std::vector<u64> worst(profile_.lps, status::kSuccess);
	for (u32 lp = 0; lp < profile_.lps; lp++)
		threads.emplace_back([&, lp] {
			RegBlock r{};
			u64 st = m_->seamcall(lp, rax(leaf::kSysLpInit), r);
			if (st != status::kSuccess)
				worst[lp] = st;
			for (int i = 0; i < 500; i++) {
				r = {};
				r.rdx = field::kMaxTdmrs;
				st = m_->seamcall(lp, rax(leaf::kSysRd), r);
				if (st != status::kSuccess || r.r8 != profile_.tdmr.max_tdmrs)
					worst[lp] = st ? st : ~0ull;
			}
		});
	for (auto &t : threads)
		t.join();
	for (u32 lp = 0; lp < profile_.lps; lp++)
		EXPECT_EQ(worst[lp], status::kSuccess) << "lp " << lp;
	std::lock_guard<std::mutex> g(m_->state_mutex());
	EXPECT_TRUE(m_->all_lps_initialized());
	EXPECT_TRUE(m_->global_lock().free());
	for (u32 lp = 0; lp < profile_.lps; lp++)
		EXPECT_FALSE(m_->lps().inside(lp));
}

/* Only one LP inside the P-SEAMLDR: any other P-SEAMLDR call fails with CF=1 meanwhile. */
TEST_F(Concurrency, OneLpInsideThePSeamldr)
{
	constexpr u64 kInfo = 0x100000, kParams = 0x200000;
	HeldCall info(*m_, 0, kSeamldrInfo, rcx_only(kInfo));
	EXPECT_EQ(call_rax(1, kSeamldrInfo, rcx_only(kInfo + 256)), kTdxSeamcallVmFailInvalid);
	EXPECT_EQ(call_rax(2, kSeamldrInstall, rcx_only(kParams)), kTdxSeamcallVmFailInvalid);
	{
		std::lock_guard<std::mutex> g(m_->state_mutex());
		EXPECT_TRUE(m_->seamldr().inside && *m_->seamldr().inside == 0);
		EXPECT_EQ(m_->seamldr().install_calls, 0u); /* refused before the P-SEAMLDR ran */
	}
	/* The module is another thing: its leaves run on. */
	EXPECT_EQ(call(3, leaf::kSysInit), status::kSuccess);
	EXPECT_EQ(info.finish(), status::kSuccess);
	EXPECT_EQ(call_rax(1, kSeamldrInfo, rcx_only(kInfo + 256)), status::kSuccess);

	/* An INSTALL held inside: the same, and its open session keeps the module out too. */
	HeldCall install(*m_, 0, kSeamldrInstall, rcx_only(kParams));
	EXPECT_EQ(call_rax(1, kSeamldrInstall, rcx_only(kParams)), kTdxSeamcallVmFailInvalid);
	EXPECT_EQ(call(2, leaf::kSysLpInit), kTdxSeamcallVmFailInvalid);
	EXPECT_EQ(install.finish(), status::kSuccess);
	EXPECT_EQ(install.regs().rdx, 0u);
	EXPECT_EQ(call_rax(1, kSeamldrInstall, rcx_only(kParams)), status::kSuccess);
	EXPECT_EQ(call(2, leaf::kSysLpInit), kTdxSeamcallVmFailInvalid); /* the session is still open */
}

} // namespace
} // namespace seam_emu::test
