# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# make bench: SEAMCALL round trips through the mailbox next to the emulator's service time, and
# the emulator's CPU use while the guest is idle. Prints BENCH lines that scripts/bench.sh reads.
BENCH_CALLS="${BENCH_CALLS:-20000}"
BENCH_IDLE_S="${BENCH_IDLE_S:-10}"

check "insmod" insmod "$TDX_KO" seamcall=emu
# Warm up, then measure.
echo 1000 >/sys/kernel/debug/tdx_host/bench_sys_rd
check "bench: $BENCH_CALLS SYS.RD round trips" sh -c "echo $BENCH_CALLS > /sys/kernel/debug/tdx_host/bench_sys_rd"
echo "BENCH sysrd $(cat /sys/kernel/debug/tdx_host/bench_sys_rd)"

s0="$(emuctl stats)"
sleep "$BENCH_IDLE_S"
s1="$(emuctl stats)"
echo "BENCH idle cpu_ns0=$(echo "$s0" | json_get cpu_ns) wall_ns0=$(echo "$s0" | json_get wall_ns) cpu_ns1=$(echo "$s1" | json_get cpu_ns) wall_ns1=$(echo "$s1" | json_get wall_ns)"
check "rmmod" rmmod tdx_host
check "kernel log is clean" dmesg_clean
