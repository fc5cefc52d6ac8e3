# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# cpuhotplug: LP.INIT must reach every logical CPU the TDX module counts, so a CPU that is offline
# at load makes the load fail with a message naming it (and TDX is disabled again); with every CPU
# online the load works; a CPU taken offline and back online while TDX is up leaves it working, and
# later bring-ups (LP.INIT on every CPU again) work too. Needs at least 2 CPUs.

CPU1=/sys/devices/system/cpu/cpu1/online

set_online() { # 0|1
	echo "$1" >"$CPU1" || { echo "could not write $1 to $CPU1"; return 1; }
	expect_eq "$(cat "$CPU1")" "$1"
}

tdx_ensure_unloaded
emuctl clear >/dev/null
check "CPU 1 can be hotplugged" path_exists "$CPU1" || return 0

check "CPU 1 taken offline" set_online 0 || return 0
dmesg -c >/dev/null
emuctl reset-counters >/dev/null
check_fails "insmod fails while CPU 1 is offline" tdx_insmod
check "the log names the offline CPU" kernel_log_has 'CPU 1 is offline'
check "no module, no device" tdx_gone
check "TDX module disabled again" tdx_left_disabled
check "CPU 1 back online" set_online 1 || return 0

emuctl reset-counters >/dev/null
check "insmod with every CPU online" tdx_insmod || return 0
check "LP.INIT ran on every CPU" expect_count sys.lp.init "$(nproc)"
check "CPU 1 offline while TDX is up" set_online 0
check "TDX is still up with CPU 1 offline" tdx_version_ok
check "CPU 1 online again" set_online 1
check "TDX is still up after the hotplug cycle" tdx_version_ok
check "the hotplug callback needed no second LP.INIT (the TDX module keeps it)" expect_count sys.lp.init "$(nproc)"
check "rmmod after the hotplug cycle" tdx_rmmod
check "TDX module disabled" tdx_left_disabled

emuctl reset-counters >/dev/null
check "a new bring-up after the hotplug cycle" tdx_insmod
check "its LP.INIT reached CPU 1 again" expect_count sys.lp.init "$(nproc)"
check "its version" tdx_version_ok
check "rmmod" tdx_rmmod
check "the guest is alive" guest_alive
check "dmesg clean" dmesg_clean
