# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# harnesscheck: the harness's own gates can fail. Each predicate that other scenarios use as a
# gate is shown failing on a planted condition (and passing without it), so a gate that silently
# always passes is caught here. Run it last in its boot: it clears the kernel log at the end.
# On the distro kernel (no lockdep, no kmemleak) it also shows the "not built in" branches.

plant() { # a line in the kernel log, as the kernel would print it
	echo "<4>$*" >/dev/kmsg
}

tdx_ensure_unloaded
dmesg -c >/dev/null

# lockdep_active: the "not built in" branch on a kernel without lockdep, and debug_locks parsed.
if [ ! -e /proc/lockdep_stats ]; then
	check_fails "lockdep_active fails without lockdep" lockdep_active
else
	check "lockdep_active passes while lockdep runs" lockdep_active
fi
printf ' debug_locks:                             0\n' >/tmp/lockdep_off
printf ' debug_locks:                             1\n' >/tmp/lockdep_on
check_fails "lockdep_active fails when debug_locks is 0" env LOCKDEP_STATS=/tmp/lockdep_off sh -c '. /lib/harness/lib.sh; lockdep_active'
check "lockdep_active passes when debug_locks is 1" env LOCKDEP_STATS=/tmp/lockdep_on sh -c '. /lib/harness/lib.sh; lockdep_active'
check_fails "lockdep_active fails when the stats have no debug_locks" env LOCKDEP_STATS=/dev/null sh -c '. /lib/harness/lib.sh; lockdep_active'

# kmemleak_on: refused where kmemleak is absent or off.
if [ ! -e /sys/kernel/debug/kmemleak ]; then
	check_fails "kmemleak_on fails without kmemleak" kmemleak_on
else
	check "kmemleak_on passes while kmemleak runs" kmemleak_on
fi

# no_lockup_reports / guest_alive: a planted soft-lockup and RCU-stall report fail both.
check "no_lockup_reports passes on a clean log" no_lockup_reports
check "guest_alive passes on a clean log" guest_alive
plant "watchdog: harnesscheck planted: soft lockup - CPU#0 stuck for 23s!"
check_fails "no_lockup_reports fails on a soft lockup report" no_lockup_reports
check_fails "guest_alive fails on a soft lockup report" guest_alive
dmesg -c >/dev/null
plant "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks (harnesscheck planted)"
check_fails "no_lockup_reports fails on an RCU stall report" no_lockup_reports
dmesg -c >/dev/null

# dmesg_clean: a planted warning fails it.
check "dmesg_clean passes on a clean log" dmesg_clean
plant "WARNING: harnesscheck planted warning"
check_fails "dmesg_clean fails on a WARNING line" dmesg_clean
dmesg -c >/dev/null
check "dmesg clean again" dmesg_clean
