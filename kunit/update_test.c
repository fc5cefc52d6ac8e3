// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime update window's rendezvous (arch-x86-virt-tdx/update.h) under the kernel's real
 * stop_machine, with steps that make no SEAMCALL: every step runs on the CPUs it should, in order,
 * and a failure at any step, on the lead CPU or another one, stops every CPU at that step.
 */
#include <linux/cpumask.h>
#include <linux/slab.h>

#include <kapi/kunit_hooks.h>

#include "tdx_kunit.h"

#define STEP_SHUTDOWN 1
#define STEP_DONE (TDX_KUNIT_UPDATE_STEPS - 1)

static u64 all_online(void)
{
	u64 mask = 0;
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (cpu < 64)
			mask |= BIT_ULL(cpu);
	return mask;
}

static struct tdx_kunit_rendezvous_run *run_window(struct kunit *test, unsigned int fail_step, unsigned int fail_cpu)
{
	struct tdx_kunit_rendezvous_run *run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, run);
	run->fail_step = fail_step;
	run->fail_cpu = fail_cpu;
	KUNIT_ASSERT_EQ(test, tdx_kunit_rendezvous(run), 0);
	return run;
}

static void every_step_where_it_belongs(struct kunit *test)
{
	struct tdx_kunit_rendezvous_run *run = run_window(test, 0, 0);
	unsigned int s;

	KUNIT_EXPECT_FALSE(test, run->failed);
	KUNIT_EXPECT_EQ(test, run->final_step, STEP_DONE);
	KUNIT_EXPECT_EQ(test, run->nr_cpus, num_online_cpus());
	KUNIT_EXPECT_EQ(test, run->ran[0], 0ULL);
	for (s = STEP_SHUTDOWN; s < STEP_DONE; s++) {
		u64 want = tdx_kunit_update_step_on_every_cpu(s) ? all_online() : BIT_ULL(run->lead_cpu);

		KUNIT_EXPECT_EQ_MSG(test, run->ran[s], want, "step %u", s);
	}
	KUNIT_EXPECT_EQ(test, run->ran[STEP_DONE], 0ULL);
}

static void a_failure_stops_every_cpu(struct kunit *test)
{
	unsigned int s, other = cpumask_last(cpu_online_mask);

	for (s = STEP_SHUTDOWN; s < STEP_DONE; s++) {
		/* On the lead CPU; and on the last online CPU where every CPU runs the step. */
		unsigned int cpus[2] = { cpumask_first(cpu_online_mask), other };
		unsigned int i, t;

		for (i = 0; i < 2; i++) {
			struct tdx_kunit_rendezvous_run *run;

			if (i == 1 && (!tdx_kunit_update_step_on_every_cpu(s) || other == cpus[0]))
				continue;
			run = run_window(test, s, cpus[i]);
			KUNIT_EXPECT_TRUE_MSG(test, run->failed, "step %u cpu %u", s, cpus[i]);
			KUNIT_EXPECT_EQ(test, run->failure_step, s);
			KUNIT_EXPECT_EQ(test, run->failure_cpu, cpus[i]);
			KUNIT_EXPECT_EQ(test, run->failure_err, -EIO);
			KUNIT_EXPECT_NE(test, run->final_step, STEP_DONE);
			/* Nobody went past the failed step. */
			for (t = s + 1; t <= STEP_DONE; t++)
				KUNIT_EXPECT_EQ_MSG(test, run->ran[t], 0ULL, "step %u after a failure at %u", t, s);
		}
	}
}

static struct kunit_case tdx_update_cases[] = {
	KUNIT_CASE(every_step_where_it_belongs),
	KUNIT_CASE(a_failure_stops_every_cpu),
	{}
};

struct kunit_suite tdx_update_suite = {
	.name = "tdx_update",
	.test_cases = tdx_update_cases,
};
