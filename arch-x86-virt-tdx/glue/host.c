// SPDX-License-Identifier: GPL-2.0
/* kapi for the core's state owner (core.cpp, TdxHost): its lock and the CPU hotplug callback. */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/mutex.h>

#include <kapi/kapi.h>

static DEFINE_MUTEX(tdx_state_lock);

void kapi_state_lock(void)
{
	mutex_lock(&tdx_state_lock);
}

void kapi_state_unlock(void)
{
	mutex_unlock(&tdx_state_lock);
}

int kapi_cpu_present(unsigned int cpu)
{
	return cpu_present(cpu);
}

static kapi_cpuhp_fn tdx_cpuhp_online;
static int tdx_cpuhp_state = -1;

static int tdx_cpuhp_online_cb(unsigned int cpu)
{
	return tdx_cpuhp_online(cpu);
}

int kapi_cpuhp_add(kapi_cpuhp_fn online)
{
	int ret;

	if (tdx_cpuhp_state >= 0)
		return -EBUSY;
	tdx_cpuhp_online = online;
	/* Only CPUs that come online later: the ones online now were brought up already. */
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "x86/tdx_host:online",
					tdx_cpuhp_online_cb, NULL);
	if (ret < 0)
		return ret;
	tdx_cpuhp_state = ret;
	return 0;
}

void kapi_cpuhp_remove(void)
{
	if (tdx_cpuhp_state < 0)
		return;
	cpuhp_remove_state_nocalls(tdx_cpuhp_state);
	tdx_cpuhp_state = -1;
}
