# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# make bench (one boot of it): SEAMCALL round trips through the mailbox next to the emulator's
# service time, then the emulator's CPU use and wake-ups while the guest idles. Prints BENCH lines
# that scripts/bench.sh reads; the checks only say the measurement ran, never whether it was fast.
BENCH_CALLS="${BENCH_CALLS:-20000}"
BENCH_IDLE_S="${BENCH_IDLE_S:-10}"

bench_stats() { # N: the emulator's stats as " cpu_nsN=.. wall_nsN=.. wakeupsN=.."
	_bs="$(emuctl stats)" || { echo "$_bs"; return 1; }
	for _k in cpu_ns wall_ns wakeups; do
		_v="$(kv_get "$_k" "$_bs")" || { echo "no $_k in '$_bs'"; return 1; }
		printf ' %s%s=%s' "$_k" "$1" "$_v"
	done
}

check "insmod" insmod "$TDX_KO" seamcall=emu || return 0
# Warm up, then measure.
echo 1000 >/sys/kernel/debug/tdx_host/bench_sys_rd
b0="$(bench_stats 0)"
check "bench: $BENCH_CALLS SYS.RD round trips" sh -c "echo $BENCH_CALLS > /sys/kernel/debug/tdx_host/bench_sys_rd"
b1="$(bench_stats 1)"
# Wake-ups during the calls: a call that finds its slot thread asleep rings the doorbell.
echo "BENCH sysrd smp=$(nproc) $(cat /sys/kernel/debug/tdx_host/bench_sys_rd)$b0$b1"

# Idle: the module loaded, nothing calling. Two stats replies around a sleep.
sleep 1
s0="$(bench_stats 0)"
check "emulator stats before the idle window" expect_match "$s0" 'wakeups0=[0-9]+$'
sleep "$BENCH_IDLE_S"
s1="$(bench_stats 1)"
check "emulator stats after the idle window" expect_match "$s1" 'wakeups1=[0-9]+$'
echo "BENCH idle smp=$(nproc)$s0$s1"
check "rmmod" rmmod tdx_host
check "kernel log is clean" dmesg_clean
