# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emudeath_rmmod: TDX is up and the emulator dies at the SYS.DISABLE of rmmod. rmmod must still
# complete within bounded time (the call times out, the PAMTs the TDX module may still use are
# left to it and the rest is freed), say so in the log, and the guest must stay alive; a later
# load fails cleanly without an emulator. Then it asks run.sh for a fresh one, for the scenarios
# after it.

DEATH_TIMEOUT_MS=2000

within() { # SECONDS LIMIT
	[ "$1" -le "$2" ] || { echo "took $1 s (limit $2 s)"; return 1; }
}

tdx_ensure_unloaded
emuctl clear >/dev/null

check "insmod" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS" || return 0
check "death at SYS.DISABLE armed" emuctl fault sys.disable 1 die || return 0
t0="$(date +%s)"
check "rmmod completes although the emulator died" rmmod tdx_host
check "rmmod returned in bounded time" within "$(($(date +%s) - t0))" 60
check "module and device are gone" tdx_gone
check "the log says the SEAMCALL timed out" kernel_log_has 'did not answer in 2000 ms'
check "the log says the PAMTs stay with the TDX module" kernel_log_has 'could not be disabled: [0-9]+ KiB of PAMT'
check "the guest is alive: every CPU runs a task, no lockup report" guest_alive
check_fails "a new insmod fails cleanly (no emulator)" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS"
check "still no device" tdx_gone
check "dmesg clean" dmesg_clean
# The next scenario of the boot gets an emulator again.
check "a fresh emulator, asked of run.sh, answers" emu_start_fresh
