# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# leakcycle: insmod/rmmod 10 times. MemFree (caches dropped) after the last cycle is within
# 2 MiB of MemFree after the first cycle, so nothing (PAMTs, TDMR arrays, ...) leaks per cycle;
# it ends with the module loaded and TDX up.

LEAK_CYCLES="${LEAK_CYCLES:-10}"
LEAK_TOLERANCE_KB="${LEAK_TOLERANCE_KB:-2048}"

settled_mem_free_kb() {
	drop_caches
	sleep 1
	drop_caches
	mem_free_kb
}

cycle() { # N
	tdx_insmod || { echo "insmod failed in cycle $1"; return 1; }
	tdx_version_ok || return 1
	tdx_rmmod || { echo "rmmod failed in cycle $1"; return 1; }
}

mem_within() { # FIRST LAST
	_lost=$(($1 - $2))
	note "MemFree after the first cycle $1 kB, after the last $2 kB: $_lost kB less"
	[ "$_lost" -le "$LEAK_TOLERANCE_KB" ] || { echo "lost $_lost kB (> $LEAK_TOLERANCE_KB kB)"; return 1; }
}

tdx_ensure_unloaded
emuctl clear >/dev/null

check "cycle 1: insmod + rmmod" cycle 1 || return 0
first="$(settled_mem_free_kb)"
i=2
while [ "$i" -le "$LEAK_CYCLES" ]; do
	check "cycle $i: insmod + rmmod" cycle "$i" || return 0
	i=$((i + 1))
done
last="$(settled_mem_free_kb)"
check "no memory lost over $LEAK_CYCLES cycles" mem_within "$first" "$last"

check "final insmod (TDX left up)" tdx_insmod
check "final version" tdx_version_ok
check "emulator is SYS_READY" emu_state_is SYS_READY
check "dmesg clean" dmesg_clean
