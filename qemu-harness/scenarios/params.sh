# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# params: the module parameters. Bad values are refused with a clear error before any SEAMCALL;
# seamcall=hw refuses to load on a CPU without TDX (this guest); auto finds the emulator.

tdx_ensure_unloaded
# On the hw backend's boots (TDX_SEAMCALL=hw) the SEAMCALL trap goes first: these checks are about
# a guest without TDX, whose emulator device is free (the next tdx_insmod loads the trap again).
if [ "${TDX_SEAMCALL:-emu}" = hw ] && grep -q '^tdx_seamcall_trap ' /proc/modules; then
	rmmod tdx_seamcall_trap || note "rmmod tdx_seamcall_trap failed"
fi
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

dmesg -c >/dev/null
check_fails "seamcall=bogus is refused" insmod "$TDX_KO" seamcall=bogus
check "the error names the parameter" kernel_log_has 'seamcall=bogus: expected auto, hw or emu'
check_fails "seamcall_timeout_ms=0 is refused" insmod "$TDX_KO" seamcall=emu seamcall_timeout_ms=0
# A wait with interrupts off must stay below the soft-lockup (20 s) and RCU-stall (21 s) limits.
check_fails "seamcall_timeout_ms above the bound is refused" insmod "$TDX_KO" seamcall=emu seamcall_timeout_ms=10001
check "the error names the bound" kernel_log_has 'seamcall_timeout_ms.*10000'
check "no SEAMCALL was made for bad parameters" expect_count sys.init 0

check_fails "seamcall=hw refuses a CPU without TDX" insmod "$TDX_KO" seamcall=hw
check "hw refusal says why" kernel_log_has 'no TDX: the CPU does not report TDX'
check "hw mode never touched the emulator" expect_count sys.init 0
check "no tdx_host device after refusals" tdx_gone

check "seamcall=auto picks the emulator" insmod "$TDX_KO"
check "auto: the log names the emulator backend" kernel_log_has 'SEAMCALL backend: emu'
check "auto: TDX is up" tdx_version_ok

# debugfs bench_sys_rd: bad counts are refused, a good one runs and reports.
BENCH=/sys/kernel/debug/tdx_host/bench_sys_rd
check_fails "bench_sys_rd refuses 0 calls" sh -c "echo 0 > $BENCH"
check_fails "bench_sys_rd refuses a non-number" sh -c "echo lots > $BENCH"
check_fails "bench_sys_rd refuses more than 2^20 calls" sh -c "echo 2000000 > $BENCH"
check "bench_sys_rd runs 100 calls" sh -c "echo 100 > $BENCH"
check "bench_sys_rd reports them" expect_match "$(cat "$BENCH")" '^calls=100 rt_median_ns=[1-9][0-9]* rt_p99_ns=[0-9]+ svc_median_ns=[0-9]+ svc_p99_ns=[0-9]+$'

check "rmmod" tdx_rmmod
check "bench_sys_rd is gone with the module" path_absent "$BENCH"
check "dmesg clean" dmesg_clean
