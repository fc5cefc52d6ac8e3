# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# bigmem: an 8 GiB q35 guest (RAM [0, 2 GiB) and [4 GiB, 10 GiB)), whose TDX module takes
# BIGMEM_MAX_TDMRS TDMRs (4: profiles/max-tdmrs-4.json, the default; 64: default.json).
# - On a kernel with CONFIG_CONTIG_ALLOC (Debian's) tdx_host covers RAM as Linux does, one TDMR
#   per run of 1 GiB regions: [0, 2 GiB) and [4 GiB, 10 GiB), whose PAMTs (8 MiB and 24 MiB at
#   4K) are physically contiguous memory found with alloc_contig_range. TDMRs of at most 1 GiB
#   would need 8.
# - Without it no run above 4 MiB exists: tdx_host falls back to 8 TDMRs of 1 GiB when the module
#   has 8 or more, else the load fails naming both numbers. BIGMEM_NO_CONTIG=1 takes this branch
#   on any kernel: the test build of tdx_host is loaded with test_no_contig_alloc=1, which makes it
#   behave as on a kernel without CONFIG_CONTIG_ALLOC. Otherwise the branch follows /proc/kallsyms.
# The emulator's SYS.CONFIG checks every PAMT size exactly (TDMR size / page size x 16 bytes, page
# granular), and that no PAMT lies in usable TDMR memory.
#   run.sh --ram 8192 --profile qemu-harness/seam-emu/profiles/max-tdmrs-4.json --scenario bigmem
#   run.sh --ram 8192 --env BIGMEM_MAX_TDMRS=64 --scenario bigmem
#   run.sh --ram 8192 --module build/kmod/debug-test/tdx_host.ko \
#     --env BIGMEM_MAX_TDMRS=64 --env BIGMEM_NO_CONTIG=1 --scenario bigmem

BIGMEM_MAX_TDMRS="${BIGMEM_MAX_TDMRS:-4}"
BIGMEM_NO_CONTIG="${BIGMEM_NO_CONTIG:-0}"

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

# Page-ledger lines (one per unload or failed load) in the kernel log so far.
ledger_lines() {
	dmesg | grep -c 'tdx_host: [0-9]* pages still held'
}

# The newest page-ledger line came after the first N and says nothing is held or abandoned.
ledger_clean_since() { # N
	_ll="$(dmesg | grep -o 'tdx_host: [0-9]* pages still held, [0-9]* abandoned to the TDX module' | tail -n 1)"
	[ "$(ledger_lines)" -gt "$1" ] || { echo "no new page-ledger line in the kernel log (last: '$_ll')"; return 1; }
	note "$_ll"
	expect_eq "$_ll" "tdx_host: 0 pages still held, 0 abandoned to the TDX module"
}

no_fallback() {
	if dmesg | grep 'tdx_host: trying'; then
		return 1
	fi
}

# TDMR I the emulator was given is [BASE, BASE + SIZE) (hex as the emulator prints them).
tdmr_is() { # I BASE SIZE
	expect_eq "$(state_field "tdmr_list.$1.base") $(state_field "tdmr_list.$1.size")" "$2 $3"
}

# The emulator was given N TDMRs, each of 1 GiB.
all_tdmrs_1g() { # N
	_i=0
	while [ "$_i" -lt "$1" ]; do
		_sz="$(state_field "tdmr_list.$_i.size")" || return 1
		[ "$_sz" = 0x40000000 ] || { echo "TDMR $_i is $_sz bytes"; return 1; }
		_i=$((_i + 1))
	done
}

# Unload, and check the TDX module was disabled and every page came back.
unload_clean() {
	_uc_lines="$(ledger_lines)" # (lib.sh's helpers use _n)
	tdx_rmmod || return 1
	tdx_gone || return 1
	tdx_left_disabled || return 1
	ledger_clean_since "$_uc_lines"
}

# tdx_host as this run wants it: with test_no_contig_alloc=1 under BIGMEM_NO_CONTIG=1 (the test
# build only: the module users install refuses the parameter).
bigmem_insmod() {
	if [ "$BIGMEM_NO_CONTIG" = 1 ]; then
		tdx_insmod test_no_contig_alloc=1 || return 1
		expect_eq "$(cat /sys/module/tdx_host/parameters/test_no_contig_alloc)" Y
	else
		tdx_insmod
	fi
}

check "the guest has RAM above 4 GiB up to 10 GiB" \
	grep -q '^100000000-27fffffff : System RAM' /proc/iomem || return 0
check "emulator is SYSINIT_PENDING before insmod" emu_state_is SYSINIT_PENDING

if [ "$BIGMEM_NO_CONTIG" = 1 ]; then
	contig=0
	if grep -q ' alloc_contig_range_noprof$' /proc/kallsyms; then
		note "the kernel has alloc_contig_range; tdx_host is told not to use it (test_no_contig_alloc=1)"
	else
		note "the kernel has no alloc_contig_range; test_no_contig_alloc=1 changes nothing"
	fi
elif grep -q ' alloc_contig_range_noprof$' /proc/kallsyms; then
	contig=1
else
	contig=0
fi

if [ "$contig" = 1 ]; then
	note "the kernel has alloc_contig_range: large TDMRs"
	check "insmod with $BIGMEM_MAX_TDMRS TDMRs for 8 GiB" bigmem_insmod || return 0
	check "sysfs version = profile's" tdx_version_ok
	check "emulator state is SYS_READY" emu_state_is SYS_READY
	check "the emulator got 2 TDMRs" expect_eq "$(state_field tdmrs)" 2
	check "TDMR 0 is [0, 2 GiB)" tdmr_is 0 0x0 0x80000000
	check "TDMR 1 is [4 GiB, 10 GiB)" tdmr_is 1 0x100000000 0x180000000
	check "both TDMRs initialized" expect_eq "$(state_field tdmrs_initialized)" 2
	# 256 MiB of TDMR per TDMR.INIT (work_budget.tdmr_init_bytes): 8 + 24 calls.
	check "TDMR.INIT 32 times" expect_count sys.tdmr.init 32
	# 4K, 2M and 1G PAMTs of 2 GiB (8 MiB + 16 KiB + 4 KiB) and 6 GiB (24 MiB + 48 KiB + 4 KiB).
	check "kernel log: 2 TDMRs, 32840 KiB of PAMT" kernel_log_has 'initialized: 2 TDMRs, 32840 KiB PAMT'
	check "no fallback to smaller TDMRs" no_fallback
	check "rmmod: disabled, every page returned" unload_clean || return 0
	check "insmod again (the PAMT runs are found again)" bigmem_insmod || return 0
	check "version again" tdx_version_ok
	check "rmmod again: every page returned" unload_clean
elif [ "$BIGMEM_MAX_TDMRS" -ge 8 ]; then
	note "no alloc_contig_range: PAMTs of at most 4 MiB, TDMRs of 1 GiB"
	check "insmod with $BIGMEM_MAX_TDMRS TDMRs for 8 GiB" bigmem_insmod || return 0
	check "emulator state is SYS_READY" emu_state_is SYS_READY
	# The 4K PAMT of [4 GiB, 10 GiB) alone is 24 MiB.
	check "the log says why: no contiguous run for the PAMTs of 2 TDMRs" \
		kernel_log_has 'no physically contiguous memory for the PAMTs of 2 TDMRs of up to 6 GiB \(the largest 24576 KiB\)'
	check "every TDMR is 1 GiB (its 4K PAMT 4 MiB, a buddy-sized run)" all_tdmrs_1g 8
	check "the emulator got 8 TDMRs" expect_eq "$(state_field tdmrs)" 8
	check "TDMR 2 is [4 GiB, 5 GiB)" tdmr_is 2 0x100000000 0x40000000
	check "TDMR 7 is [9 GiB, 10 GiB)" tdmr_is 7 0x240000000 0x40000000
	check "the log says it fell back" kernel_log_has 'trying 8 TDMRs of at most 1 GiB'
	# 8 x (4 MiB + 8 KiB + 4 KiB)
	check "kernel log: 8 TDMRs, 32864 KiB of PAMT" kernel_log_has 'initialized: 8 TDMRs, 32864 KiB PAMT'
	check "rmmod: disabled, every page returned" unload_clean
else
	note "no alloc_contig_range: PAMTs of at most 4 MiB, TDMRs of 1 GiB"
	n="$(ledger_lines)"
	check_fails "insmod with $BIGMEM_MAX_TDMRS TDMRs for 8 GiB fails" bigmem_insmod
	check "the log names both numbers" \
		kernel_log_has "memory needs 8 TDMRs, the TDX module supports $BIGMEM_MAX_TDMRS"
	check "nothing left loaded" tdx_gone
	check "TDX module disabled again" tdx_left_disabled
	check "no page held after the failed load" ledger_clean_since "$n"
fi
check "dmesg clean" dmesg_clean
