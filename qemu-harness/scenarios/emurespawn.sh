# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emurespawn: the emulator is killed during a bring-up (LP.INIT on
# CPU 1, in the IPI); insmod fails cleanly; run.sh starts a fresh emulator when asked (a new epoch, a TDX
# module in SYSINIT_PENDING) on the same mailbox, and the next load works against it: the new
# handshake takes the new epoch, and the slot the dead emulator never answered does not block it.

DEATH_TIMEOUT_MS=2000

tdx_ensure_unloaded
emuctl clear >/dev/null

check "death at the 2nd LP.INIT armed" emuctl fault sys.lp.init 2 die || return 0
check_fails "insmod fails when the emulator dies" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS"
check "no module, no tdx_host device" tdx_gone
check "a fresh emulator answers (asked of run.sh)" emu_start_fresh || return 0
check "the fresh emulator's TDX module is SYSINIT_PENDING" emu_state_is SYSINIT_PENDING
emuctl reset-counters >/dev/null
dmesg -c >/dev/null
check "the next load works against the fresh emulator" tdx_insmod seamcall_timeout_ms="$DEATH_TIMEOUT_MS"
check "its version" tdx_version_ok
check "LP.INIT reached every CPU" expect_count sys.lp.init "$(nproc)"
check "rmmod" tdx_rmmod
check "TDX module disabled" tdx_left_disabled
check "the guest is alive" guest_alive
check "dmesg clean" dmesg_clean
