# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# leakcycle: insmod/rmmod 10 times. Two measures of a leak:
# - the module's page ledger: every rmmod logs "tdx_host: N pages still held, M abandoned to the
#   TDX module", counting every page tdx_host took for the TDX module (PAMTs, TDMR_INFO arrays,
#   metadata pages); after each rmmod both must be 0 (a clean unload abandons nothing), so even
#   one page lost in one cycle fails;
# - free memory after the last cycle against after the second, within LEAK_TOLERANCE_KB: this one
#   also sees memory the ledger does not count (slab, vmalloc), coarsely (see below).
# It ends with the module loaded and TDX up.
#
# Free memory is MemFree plus the pages parked on the per-CPU free lists (/proc/zoneinfo "count":
# MemFree alone moved by up to 1 MB with nothing leaked, as those lists fill and drain), caches
# dropped, the highest of 3 readings a second apart. The first two cycles are a warm-up: the
# kernel keeps some of what the first loads and unloads allocate (kworkers, slab and percpu
# chunks, on the debug kernel KASAN's quarantine): up to ~0.5 MB measured between cycles 2 and 3,
# and ~4 MB after cycle 1 on the debug kernel. Measured after cycle 2 vs after cycle 10 (smp 4 in
# 2 packages, 1 GiB, TCG): Debian's kernel <= 480 kB less in 4 runs (once warm, its readings agree
# within ~150 kB); the debug kernel (KASAN, kmemleak) up to 1.4 MB less, its readings spread over
# 2.3 MB. So the tolerance is 1024 kB without KASAN, twice the worst measurement, which still
# fails a leak of 128 kB a cycle (a leaked TDMR table, ~75 kB, is below it: the debug kernel's
# kmemleak check finds that one), and 3072 kB with KASAN, where kmemleak checks slab and vmalloc
# objects exactly.

LEAK_CYCLES="${LEAK_CYCLES:-10}"
# A KASAN kernel exports the __asan_* checks to modules (the boot log is cleared per scenario).
if grep -q ' __asan_load8$' /proc/kallsyms; then
	LEAK_TOLERANCE_KB="${LEAK_TOLERANCE_KB:-3072}"
else
	LEAK_TOLERANCE_KB="${LEAK_TOLERANCE_KB:-1024}"
fi

# kB on the per-CPU free lists of every zone.
pcp_free_kb() {
	awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo
}

# The highest of 3 readings of MemFree + per-CPU free lists, caches dropped before each.
settled_free_kb() {
	_best=0
	for _k in 1 2 3; do
		drop_caches
		sleep 1
		drop_caches
		_f=$(($(mem_free_kb) + $(pcp_free_kb)))
		[ "$_f" -le "$_best" ] || _best=$_f
	done
	echo "$_best"
}

# Page-ledger lines in the kernel log so far (one per unload or failed load).
ledger_lines() {
	dmesg | grep -c 'tdx_host: [0-9]* pages still held'
}

# The newest ledger line is new since the first N and says nothing is held or abandoned.
ledger_clean_since() { # N
	_ll="$(dmesg | grep -o 'tdx_host: [0-9]* pages still held, [0-9]* abandoned to the TDX module' | tail -n 1)"
	[ "$(ledger_lines)" -gt "$1" ] || { echo "rmmod logged no page-ledger line (last: '$_ll')"; return 1; }
	expect_eq "$_ll" "tdx_host: 0 pages still held, 0 abandoned to the TDX module"
}

cycle() { # N
	_cy_lines="$(ledger_lines)" # (lib.sh's helpers use _n)
	tdx_insmod || { echo "insmod failed in cycle $1"; return 1; }
	tdx_version_ok || return 1
	tdx_rmmod || { echo "rmmod failed in cycle $1"; return 1; }
	ledger_clean_since "$_cy_lines" || { echo "cycle $1"; return 1; }
}

mem_within() { # FIRST LAST
	_lost=$(($1 - $2))
	note "free memory after cycle 2 $1 kB, after cycle $LEAK_CYCLES $2 kB: $_lost kB less (tolerance $LEAK_TOLERANCE_KB kB)"
	[ "$_lost" -le "$LEAK_TOLERANCE_KB" ] || { echo "lost $_lost kB (> $LEAK_TOLERANCE_KB kB)"; return 1; }
}

tdx_ensure_unloaded
emuctl clear >/dev/null
ledger_base="$(ledger_lines)"

i=1
while [ "$i" -le "$LEAK_CYCLES" ]; do
	check "cycle $i: insmod + rmmod, 0 pages held after" cycle "$i" || return 0
	[ "$i" -ne 2 ] || first="$(settled_free_kb)"
	i=$((i + 1))
done
last="$(settled_free_kb)"
check "no memory lost over cycles 3..$LEAK_CYCLES" mem_within "$first" "$last"
check "page-ledger lines: one per rmmod" expect_eq "$(($(ledger_lines) - ledger_base))" "$LEAK_CYCLES"

check "final insmod (TDX left up)" tdx_insmod
check "final version" tdx_version_ok
check "emulator is SYS_READY" emu_state_is SYS_READY
check "dmesg clean" dmesg_clean
