# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# toomanytdmrs: a guest whose RAM needs more TDMRs than the TDX module has. A q35 guest with more
# than 2.75 GiB has RAM in [0, 2 GiB) and above 4 GiB: two TDMRs at least; the module part of
# profiles/max-tdmrs-1.json ("emuctl image") takes one. insmod fails with a message naming both
# numbers, before any PAMT is allocated, leaves the TDX module disabled and holds no page. Then the
# boot's own image again (EMU_PROFILE), which loads.
#   run.sh --ram 8192 --profile qemu-harness/seam-emu/profiles/max-tdmrs-4.json --scenario toomanytdmrs
tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "the guest has RAM above 4 GiB" grep -q '^100000000-[0-9a-f]* : System RAM' /proc/iomem || return 0
check "the platform loads a module with one TDMR" emuctl image max-tdmrs-1 || return 0

check_fails "insmod with 1 TDMR for RAM in two places" tdx_insmod
check "insmod said: no space (ENOSPC)" expect_match "$LAST_OUT" 'No space left on device'
check "the log names both numbers" kernel_log_has 'memory needs 2 TDMRs, the TDX module supports 1'
check "nothing left loaded" tdx_gone
check "SYS.CONFIG never called" expect_count sys.config 0
check "TDX module disabled again" tdx_left_disabled
check "no page held after the failed load" \
	kernel_log_has '0 pages still held, 0 abandoned to the TDX module'
check "dmesg clean" dmesg_clean
back_to_boot_image
