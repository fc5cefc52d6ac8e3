# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emudeath_lpinit: the emulator is killed during TDH.SYS.LP.INIT on the second CPU, a SEAMCALL
# made from an IPI (interrupts off). The call must fail when the emulator's heartbeat stops
# (2 s), well before the 10 s timeout, with a clear error; the IPI handler returns, no lockup or
# RCU stall is reported, every CPU still runs tasks, and a later load fails cleanly too. Needs
# -smp 2 or more. Then it asks run.sh for a fresh emulator (emu_start_fresh), for the scenarios
# after it; emurespawn checks that a load works against such a one.

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "two CPUs or more" expect_match "$(nproc --all)" '^([2-9]|[1-9][0-9]+)$' || return 0
check "death at the second LP.INIT armed" emuctl fault sys.lp.init 2 die || return 0
t0="$(date +%s)"
check_fails "insmod fails when the emulator dies in LP.INIT" tdx_insmod seamcall_timeout_ms=10000
out="$LAST_OUT"
took=$(($(date +%s) - t0))
note "insmod returned after ${took} s"
check "it failed with -ETIMEDOUT" expect_match "$out" 'timed out'
check "the log says the heartbeat stopped during LP.INIT on CPU 1" \
	kernel_log_has 'TDH.SYS.LP.INIT on CPU 1: the emulator did not answer and its heartbeat stopped'
check "the log names the failed step" kernel_log_has 'TDH.SYS.LP.INIT on CPU 1 failed'
check "no module, no tdx_host device" tdx_gone
check "the guest is alive: every CPU runs a task, no lockup or stall report" guest_alive
check "no lockup or stall report" no_lockup_reports

t0="$(date +%s)"
check_fails "a second insmod fails cleanly (no emulator)" tdx_insmod seamcall_timeout_ms=10000
note "it returned after $(($(date +%s) - t0)) s"
check "no module, no tdx_host device after it" tdx_gone
check "the guest is still alive" guest_alive
check "dmesg clean" dmesg_clean
# The next scenario of the boot gets an emulator again.
check "a fresh emulator, asked of run.sh, answers" emu_start_fresh
