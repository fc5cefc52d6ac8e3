# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# extpool: module extensions and the quoting add-on through insmod, one module image after another
# in one boot (the emulator's "image NAME" control command loads the module part of a profile
# while the TDX module is in SYSINIT_PENDING):
# - the memory pool: pages added equal MEMORY_POOL_REQUIRED_PAGES exactly, in exactly ceil(n/512)
#   HPA lists, for n = 0, 1, 512, 513 and 12800 (50 MiB); the kernel log names pages and KiB;
# - EXT without QUOTE: no add-on (SYS.CONFIG v0), no quoting leaf; no EXT at all: no extension leaf;
# - a failure injected at each extension leaf fails the load cleanly (SYS.DISABLE, nothing left),
#   one at QUOTE.INIT only disables quoting (TDX stays up); the next load works.
# Then the boot's own image again (back_to_boot_image), for the scenarios after it. Any build of
# tdx_host (make check runs it first in the quote boots, with the test build). Needs run.sh
# --profile of an EXT+QUOTE image.

tdx_ensure_unloaded
emuctl clear >/dev/null

FAULT_STATUS=0xC000010000000001

ext_value() { # KEY: a value of the emulator's "ext" reply
	_r="$(emuctl ext)" || { echo "emulator: ext: $_r" >&2; return 1; }
	kv_get "$1" "$_r" || { echo "no $1 in '$_r'" >&2; return 1; }
}

expect_ext() { # KEY WANT
	_v="$(ext_value "$1" 2>&1)" || { echo "$_v"; return 1; }
	expect_eq "$_v" "$2"
}

state_value() { # KEY of the emulator's "state" reply
	_r="$(emuctl state)" || { echo "emulator: state: $_r" >&2; return 1; }
	kv_get "$1" "$_r"
}

quote_value() { # KEY of the emulator's "quote" reply
	_r="$(emuctl quote)" || { echo "emulator: quote: $_r" >&2; return 1; }
	kv_get "$1" "$_r"
}

expect_quote() { # KEY WANT
	_v="$(quote_value "$1" 2>&1)" || { echo "$_v"; return 1; }
	expect_eq "$_v" "$2"
}

load_image() { # NAME: the next bring-up runs profile NAME's module image
	check "image $1 loaded into the emulator" emuctl image "$1"
}

# --- the pool for each size ------------------------------------------------------------------
for n in 0 1 512 513 12800; do
	load_image "ext-quote-pool-$n" || return 0
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "pool $n: insmod" tdx_insmod || return 0
	check "pool $n: TDX is up" tdx_version_ok
	check "pool $n: SYS.CONFIG v1 enabled QUOTE" expect_eq "$(state_value addons)" 0x4000000000000
	check "pool $n: MEMORY_POOL_REQUIRED_PAGES = $n" expect_ext required_pages "$n"
	check "pool $n: pages added = $n exactly" expect_ext pool_pages "$n"
	lists=$(((n + 511) / 512))
	check "pool $n: in exactly $lists HPA lists" expect_ext lists "$lists"
	if [ "$n" -gt 0 ]; then
		check "pool $n: EXT.MEM.ADD called (resumed within lists)" expect_count_min ext.mem.add "$lists"
		check "pool $n: kernel log names pages and KiB" kernel_log_has "extensions: $n pages \\($((n * 4)) KiB\\)"
	else
		check "pool 0: no EXT.MEM.ADD" expect_count ext.mem.add 0
	fi
	check "pool $n: EXT.INIT completed" expect_ext ext_init_done 1
	check "pool $n: QUOTE.INIT completed" expect_quote initialized 1
	check "pool $n: kernel log says quoting is enabled" kernel_log_has 'quoting enabled'
	check "pool $n: rmmod" tdx_rmmod
	check "pool $n: rmmod disabled the TDX module" tdx_left_disabled
	check "pool $n: the pool was released by SYS.DISABLE" expect_ext pool_pages 0
	check "pool $n: dmesg clean" dmesg_clean
done

# --- EXT without QUOTE, and no EXT at all -----------------------------------------------------
load_image ext-only || return 0
emuctl reset-counters >/dev/null
check "ext-only: insmod" tdx_insmod || return 0
check "ext-only: no add-on (SYS.CONFIG v0)" expect_eq "$(state_value addons)" 0x0
check "ext-only: the pool still filled (EXT_REQUIRED image)" expect_ext pool_pages "$(ext_value required_pages)"
check "ext-only: no QUOTE.INIT" expect_count quote.init 0
check "ext-only: rmmod" tdx_rmmod

load_image default || return 0
emuctl reset-counters >/dev/null
check "no EXT: insmod" tdx_insmod || return 0
check "no EXT: no add-on" expect_eq "$(state_value addons)" 0x0
check "no EXT: no EXT.MEM.ADD" expect_count ext.mem.add 0
check "no EXT: no EXT.INIT" expect_count ext.init 0
check "no EXT: no QUOTE.INIT" expect_count quote.init 0
check "no EXT: rmmod" tdx_rmmod

# --- faults at each extension leaf ------------------------------------------------------------
load_image ext-quote-pool-513 || return 0
for f in "ext.mem.add 1" "ext.mem.add 2" "ext.init 1" "sys.config 1"; do
	emuctl reset-counters >/dev/null
	check "fault $f: armed" emuctl fault $f status "$FAULT_STATUS" || continue
	check_fails "fault $f: insmod fails" tdx_insmod
	check "fault $f: module and device gone" tdx_gone
	check "fault $f: the TDX module was disabled" tdx_left_disabled
	emuctl clear >/dev/null
	emuctl reset-counters >/dev/null
	check "fault $f: the next insmod works" tdx_insmod && check "fault $f: rmmod" tdx_rmmod
done

# QUOTE.INIT failing: quoting disabled, TDX up, then a clean unload.
emuctl reset-counters >/dev/null
dmesg -c >/dev/null
check "fault quote.init: armed" emuctl fault quote.init 1 status "$FAULT_STATUS"
check "fault quote.init: insmod still succeeds" tdx_insmod || return 0
check "fault quote.init: TDX is up" tdx_version_ok
check "fault quote.init: the kernel log says quoting is disabled" kernel_log_has 'quoting disabled'
check "fault quote.init: the emulator's quoting is not initialized" expect_quote initialized 0
check "fault quote.init: rmmod" tdx_rmmod
check "fault quote.init: disabled cleanly" tdx_left_disabled
emuctl clear >/dev/null
check "no integrity violation of the pool by the host" expect_ext integrity_violations 0
check "dmesg clean" dmesg_clean
back_to_boot_image
