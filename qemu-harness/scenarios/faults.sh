# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# faults: a failure injected at each bring-up leaf (at its first call, its second and its last
# where it is called more than once) makes insmod fail cleanly: no device, module not loaded,
# the TDX module disabled again (SYSINIT_PENDING through SYS.DISABLE); with the fault cleared, the next insmod succeeds. A delay
# shorter than the SEAMCALL timeout is only a delay. (SYS.DISABLE failing during rmmod is
# rmmodfault.sh: it may leave the TDX module enabled, so it gets a boot of its own.)

# TDX_OPERAND_INVALID on operand RCX: not the operand-RAX form, which for SYS.RDALL means "leaf not
# supported" and makes the module read its metadata field by field (tested below).
FAULT_STATUS=0xC000010000000001
LEAF_UNSUPPORTED=0xC000010000000000
BRINGUP_LEAVES="sys.init sys.lp.init sys.rdall sys.config sys.key.config sys.tdmr.init"

tdx_ensure_unloaded
emuctl clear >/dev/null

# A clean bring-up first, to learn how often each leaf is called.
emuctl reset-counters >/dev/null
check "baseline insmod" tdx_insmod || return 0
check "baseline version" tdx_version_ok
baseline="$(emuctl counters)"
note "baseline counters: $baseline"
check "baseline rmmod" tdx_rmmod || return 0

calls_of() { # LEAF-NAME: calls in the baseline bring-up ("ok sys.init=1 sys.lp.init=2 ...")
	for _kv in $baseline; do
		case "$_kv" in "$1="*) echo "${_kv#*=}"; return 0 ;; esac
	done
	echo 0
}

# nth_values COUNT: 1, 2 and COUNT, without repeats, up to COUNT.
nth_values() {
	_v=1
	[ "$1" -ge 2 ] && _v="$_v 2"
	[ "$1" -ge 3 ] && _v="$_v $1"
	echo "$_v"
}

fault_hit() { # LEAF NTH: the leaf was called at least NTH times (the fault was reached)
	expect_count_min "$1" "$2"
}

one_fault() { # LEAF NTH
	_t="$1#$2"
	emuctl reset-counters >/dev/null
	check "$_t: fault armed" emuctl fault "$1" "$2" status "$FAULT_STATUS" || return 0
	check_fails "$_t: insmod fails" tdx_insmod
	check "$_t: the fault was reached" fault_hit "$1" "$2"
	check "$_t: no module, no tdx_host device" tdx_gone
	if [ "$1" = sys.init ]; then
		# SYS.INIT itself failed: nothing was initialized, so nothing is disabled.
		check "$_t: TDX module still SYSINIT_PENDING" emu_state_is SYSINIT_PENDING
		check "$_t: no SYS.DISABLE needed" expect_count sys.disable 0
	else
		check "$_t: TDX module disabled again (SYS.DISABLE, SYSINIT_PENDING)" tdx_left_disabled
	fi
	if grep -q '^tdx_host ' /proc/modules; then
		tdx_rmmod
	fi
	emuctl clear >/dev/null
	check "$_t: insmod succeeds once cleared" tdx_insmod
	check "$_t: version after recovery" tdx_version_ok
	check "$_t: rmmod" tdx_rmmod
}

for leaf in $BRINGUP_LEAVES; do
	n="$(calls_of "$leaf")"
	if [ "$n" -eq 0 ]; then
		check "$leaf is called by bring-up" false
		continue
	fi
	for nth in $(nth_values "$n"); do
		one_fault "$leaf" "$nth"
	done
done

# A module without SYS.RDALL: the metadata is read with SYS.RD, field by field.
emuctl reset-counters >/dev/null
check "no RDALL: fault armed" emuctl fault sys.rdall 1 status "$LEAF_UNSUPPORTED"
check "no RDALL: insmod succeeds" tdx_insmod
check "no RDALL: metadata read with SYS.RD" expect_count_min sys.rd 14
check "no RDALL: version" tdx_version_ok
check "no RDALL: rmmod" tdx_rmmod
emuctl reset-counters >/dev/null
check "no RDALL + SYS.RD failure: faults armed" emuctl fault sys.rdall 1 status "$LEAF_UNSUPPORTED"
check "no RDALL + SYS.RD failure: SYS.RD fault armed" emuctl fault sys.rd 5 status "$FAULT_STATUS"
check_fails "no RDALL + SYS.RD failure: insmod fails" tdx_insmod
check "no RDALL + SYS.RD failure: no device" tdx_gone
check "no RDALL + SYS.RD failure: TDX module disabled again" tdx_left_disabled
emuctl clear >/dev/null

# A delay well below the SEAMCALL timeout slows bring-up down but does not fail it.
emuctl reset-counters >/dev/null
check "delay: 1000 ms on SYS.INIT armed" emuctl fault sys.init 1 delay 1000
t0="$(date +%s)"
check "delay: insmod succeeds (seamcall_timeout_ms=5000)" tdx_insmod seamcall_timeout_ms=5000
note "insmod took $(($(date +%s) - t0)) s"
check "delay: version" tdx_version_ok
check "delay: rmmod" tdx_rmmod
emuctl clear >/dev/null

check "dmesg clean" dmesg_clean
