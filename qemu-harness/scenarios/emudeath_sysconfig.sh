# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emudeath_sysconfig: the emulator is killed during TDH.SYS.CONFIG, a process-context SEAMCALL
# that hands the TDX module pages by physical address (the TDMR_INFO array, its PA array, the
# PAMTs). The call fails when the heartbeat stops, with a clear error; every page the call was
# given stays with the TDX module (the log says how much), nothing is freed under the emulator
# (KASAN clean on the debug kernel), no lockup report, every CPU still runs tasks, and a later
# load fails cleanly. Then it asks run.sh for a fresh emulator, for the scenarios after it.

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "death at SYS.CONFIG armed" emuctl fault sys.config 1 die || return 0
check_fails "insmod fails when the emulator dies in SYS.CONFIG" tdx_insmod
check "it failed with -ETIMEDOUT" expect_match "$LAST_OUT" 'timed out'
check "the log says the heartbeat stopped during SYS.CONFIG" \
	kernel_log_has 'TDH.SYS.CONFIG on CPU [0-9]+: the emulator did not answer and its heartbeat stopped'
check "the TDMR_INFO pages stay with the TDX module" \
	kernel_log_has 'TDH.SYS.CONFIG did not complete: [0-9]+ KiB of TDMR_INFO stay with the TDX module'
check "so do the PAMTs" kernel_log_has 'could not be disabled: [0-9]+ KiB of PAMT stay with it'
check "no module, no tdx_host device" tdx_gone
check "the guest is alive: every CPU runs a task, no lockup or stall report" guest_alive
check_fails "a second insmod fails cleanly (no emulator)" tdx_insmod
check "no module, no tdx_host device after it" tdx_gone
check "dmesg clean" dmesg_clean
# The next scenario of the boot gets an emulator again.
check "a fresh emulator, asked of run.sh, answers" emu_start_fresh
