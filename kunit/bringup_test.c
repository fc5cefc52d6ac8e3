// SPDX-License-Identifier: GPL-2.0
/*
 * The bring-up sequence against the real emulator, a step at a time: each step's SEAMCALLs are
 * seen in the emulator's own per-leaf counters. Cleanup (a registered action) leaves TDX up.
 */
#include <linux/cpumask.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

/* Leaf numbers (ABI.md section 1). */
enum {
	SYS_KEY_CONFIG = 31,
	SYS_INIT = 33,
	SYS_LP_INIT = 35,
	SYS_TDMR_INIT = 36,
	SYS_RDALL = 37,
	SYS_CONFIG = 45,
	EXT_MEM_ADD = 61,
	SYS_DISABLE = 69,
	QUOTE_INIT = 100,
};

static void leave_tdx_up(void *unused)
{
	tdx_kunit_ensure_up();
}

static int bringup_init(struct kunit *test)
{
	if (!tdx_kunit_emu_active())
		kunit_skip(test, "tdx_host is not using the emulator");
	return kunit_add_action(test, leave_tdx_up, NULL);
}

struct step_expect {
	const char *name;
	unsigned int leaf;
	u64 min, max; /* calls of leaf this step makes */
};

static void steps_make_their_seamcalls(struct kunit *test)
{
	unsigned int cpus = num_online_cpus();
	unsigned int pkgs = tdx_kunit_nr_packages();
	u64 disables = tdx_kunit_emu_leaf_calls(SYS_DISABLE);
	struct step_expect steps[] = {
		{ "SYS.INIT", SYS_INIT, 1, 1 },
		{ "LP.INIT on every CPU", SYS_LP_INIT, cpus, cpus },
		{ "metadata via SYS.RDALL", SYS_RDALL, 1, 16 },
		{ "TDMRs and PAMTs (no SEAMCALL)", SYS_RDALL, 0, 0 },
		{ "SYS.CONFIG", SYS_CONFIG, 1, 1 },
		{ "KEY.CONFIG per package", SYS_KEY_CONFIG, pkgs, pkgs },
		{ "TDMR.INIT", SYS_TDMR_INIT, 1, 1 << 20 },
		/* A list of up to 512 pool pages per EXT.MEM.ADD (resumable); none without EXT. */
		{ "extensions", EXT_MEM_ADD, 0, 1 << 20 },
		/* QUOTE.INIT until done (resumable), only when QUOTE was configured. */
		{ "quoting", QUOTE_INIT, 0, 1 << 16 },
	};
	unsigned int i;

	KUNIT_ASSERT_EQ(test, tdx_kunit_nr_steps(), (unsigned int)ARRAY_SIZE(steps));
	KUNIT_ASSERT_EQ(test, tdx_kunit_restart(), 0);
	/* Tearing the running TDX down took SYS.DISABLE. */
	KUNIT_EXPECT_GT(test, tdx_kunit_emu_leaf_calls(SYS_DISABLE), disables);

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		u64 before = tdx_kunit_emu_leaf_calls(steps[i].leaf);
		u64 made;

		KUNIT_ASSERT_EQ_MSG(test, tdx_kunit_run_step(i), 0, "step %s", steps[i].name);
		made = tdx_kunit_emu_leaf_calls(steps[i].leaf) - before;
		KUNIT_EXPECT_GE_MSG(test, made, steps[i].min, "step %s", steps[i].name);
		KUNIT_EXPECT_LE_MSG(test, made, steps[i].max, "step %s", steps[i].name);
		if (steps[i].leaf == EXT_MEM_ADD)
			KUNIT_EXPECT_GE(test, made, DIV_ROUND_UP(tdx_kunit_ext_pool_pages(), 512));
	}
	KUNIT_EXPECT_GE(test, tdx_kunit_emu_leaf_calls(SYS_TDMR_INIT), (u64)tdx_kunit_nr_tdmrs());
}

static void steps_out_of_order(struct kunit *test)
{
	u64 disables;

	KUNIT_ASSERT_EQ(test, tdx_kunit_restart(), 0);
	/* LP.INIT before SYS.INIT: the module refuses, the core reports an error. */
	KUNIT_EXPECT_NE(test, tdx_kunit_run_step(1), 0);
	KUNIT_EXPECT_EQ(test, tdx_kunit_run_step(0), 0);
	/*
	 * SYS.INIT again finds the module initialized (as after kexec): the core disables it and
	 * initializes it afresh rather than failing.
	 */
	disables = tdx_kunit_emu_leaf_calls(SYS_DISABLE);
	KUNIT_EXPECT_EQ(test, tdx_kunit_run_step(0), 0);
	KUNIT_EXPECT_GT(test, tdx_kunit_emu_leaf_calls(SYS_DISABLE), disables);
	KUNIT_EXPECT_EQ(test, tdx_kunit_run_step(99), -EINVAL);
}

static void restart_then_full_bring_up(struct kunit *test)
{
	u64 inits = tdx_kunit_emu_leaf_calls(SYS_INIT);

	KUNIT_ASSERT_EQ(test, tdx_kunit_restart(), 0);
	KUNIT_ASSERT_EQ(test, tdx_kunit_ensure_up(), 0);
	KUNIT_EXPECT_EQ(test, tdx_kunit_emu_leaf_calls(SYS_INIT), inits + 1);
	KUNIT_EXPECT_GE(test, tdx_kunit_nr_tdmrs(), 1U);
}

static struct kunit_case tdx_bringup_cases[] = {
	KUNIT_CASE(steps_make_their_seamcalls),
	KUNIT_CASE(steps_out_of_order),
	KUNIT_CASE(restart_then_full_bring_up),
	{}
};

struct kunit_suite tdx_bringup_suite = {
	.name = "tdx_bringup",
	.init = bringup_init,
	.test_cases = tdx_bringup_cases,
};
