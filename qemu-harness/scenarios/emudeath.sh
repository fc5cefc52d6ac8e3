# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emudeath: the emulator dies at the first TDMR.INIT of a bring-up. insmod must fail with the
# SEAMCALL timeout error, within bounded time, and the guest must stay alive. The emulator is
# gone afterwards: this must be the last scenario of its boot.

DEATH_TIMEOUT_MS=2000

timeout_reported() { # insmod's output
	if printf '%s\n' "$1" | grep -q 'timed out'; then
		return 0
	fi
	dmesg | grep -E -q 'tdx_host:.*timed out' && return 0
	echo "neither insmod ('$1') nor the kernel log (tdx_host:.*timed out) reports a timeout"
	return 1
}

# On the hw backend (TDX_SEAMCALL=hw) the SEAMCALL trap answers a mailbox that failed as hardware
# without a TDX module does, CF=1: tdx_host sees TDX_SEAMCALL_VMFAILINVALID, and the trap logs why.
vmfail_reported() {
	dmesg | grep -q 'tdx_seamcall_trap:.*no answer from the emulator' ||
		{ echo "the trap did not log the emulator's silence"; return 1; }
	kernel_log_has 'failed: TDX_SEAMCALL_VMFAILINVALID'
}

within() { # SECONDS LIMIT
	[ "$1" -le "$2" ] || { echo "took $1 s (limit $2 s)"; return 1; }
}

quick_ping() {
	export EMUCTL_TIMEOUT=3 # check runs us in a subshell: this does not leak
	emuctl ping
}

tdx_ensure_unloaded
emuctl clear >/dev/null

check "death at the first TDMR.INIT armed" emuctl fault tdmr.init 1 die || return 0
t0="$(date +%s)"
check_fails "insmod fails when the emulator dies" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS"
out="$LAST_OUT"
took=$(($(date +%s) - t0))
if [ "${TDX_SEAMCALL:-emu}" = hw ]; then
	check "the failure is CF=1 (VMfailInvalid) from the trap" vmfail_reported
else
	check "the failure is the timeout" timeout_reported "$out"
fi
check "insmod returned in bounded time" within "$took" 60
check "no module, no tdx_host device" tdx_gone
check "the guest is alive: every CPU runs a task, no lockup report" guest_alive
check_fails "the emulator no longer answers" quick_ping

# Once more with nobody behind the mailbox: fails again, does not hang.
t0="$(date +%s)"
check_fails "a second insmod fails too" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS"
check "it returned in bounded time" within "$(($(date +%s) - t0))" 60
check "no module, no tdx_host device after it" tdx_gone
check "the guest is still alive" guest_alive
check "dmesg clean" dmesg_clean
