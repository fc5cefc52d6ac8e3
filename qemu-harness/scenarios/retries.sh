# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# retries: the statuses the host must retry or work around, injected at real leaves:
# TDX_RND_NO_ENTROPY is retried (up to 10 times, then the load fails), TDX_SYS_BUSY and
# TDX_INTERRUPTED_RESUMABLE from SYS.DISABLE are re-issued until it completes, and a TDX module
# left initialized by an earlier owner (SYS.INIT answers TDX_SYS_INIT_NOT_PENDING) is disabled
# and initialized again.

RND_NO_ENTROPY=0x8000020300000000
SYS_BUSY=0x8000020200000000
INTERRUPTED_RESUMABLE=0x8000000300000000
SYS_INIT_NOT_PENDING=0xC000050000000000

tdx_ensure_unloaded
emuctl clear >/dev/null

arm_n() { # LEAF STATUS COUNT: the leaf's first COUNT calls answer STATUS
	_i=1
	while [ "$_i" -le "$3" ]; do
		emuctl fault "$1" "$_i" status "$2" >/dev/null || { echo "could not arm $1 #$_i"; return 1; }
		_i=$((_i + 1))
	done
}

emuctl reset-counters >/dev/null
check "RND_NO_ENTROPY x3 at SYS.INIT armed" arm_n sys.init "$RND_NO_ENTROPY" 3
check "insmod succeeds: SYS.INIT retried" tdx_insmod
check "SYS.INIT was called 4 times" expect_count sys.init 4
check "version" tdx_version_ok
check "rmmod" tdx_rmmod
emuctl clear >/dev/null

emuctl reset-counters >/dev/null
check "RND_NO_ENTROPY x11 at SYS.INIT armed" arm_n sys.init "$RND_NO_ENTROPY" 11
check_fails "insmod fails after 10 retries" tdx_insmod
check "SYS.INIT was called 11 times (1 + 10 retries)" expect_count sys.init 11
check "no module, no device" tdx_gone
check "the TDX module is still SYSINIT_PENDING" emu_state_is SYSINIT_PENDING
emuctl clear >/dev/null

check "insmod" tdx_insmod || return 0
emuctl reset-counters >/dev/null
arm_disable_retries() {
	emuctl fault sys.disable 1 status "$SYS_BUSY" >/dev/null &&
		emuctl fault sys.disable 2 status "$INTERRUPTED_RESUMABLE" >/dev/null &&
		emuctl fault sys.disable 3 status "$SYS_BUSY" >/dev/null
}
check "SYS_BUSY, INTERRUPTED_RESUMABLE, SYS_BUSY at SYS.DISABLE armed" arm_disable_retries
check "rmmod re-issues SYS.DISABLE until it completes" tdx_rmmod
check "SYS.DISABLE was called at least 4 times" expect_count_min sys.disable 4
check "the TDX module is disabled" tdx_left_disabled
emuctl clear >/dev/null

emuctl reset-counters >/dev/null
dmesg -c >/dev/null
check "SYS_INIT_NOT_PENDING at the first SYS.INIT armed" emuctl fault sys.init 1 status "$SYS_INIT_NOT_PENDING"
check "insmod succeeds: the module was disabled and initialized again" tdx_insmod
check "the log says it was already initialized" kernel_log_has 'already initialized'
check "SYS.DISABLE ran before the second SYS.INIT" expect_count_min sys.disable 1
check "SYS.INIT was called twice" expect_count sys.init 2
check "version" tdx_version_ok
check "rmmod" tdx_rmmod
emuctl clear >/dev/null
check "dmesg clean" dmesg_clean
