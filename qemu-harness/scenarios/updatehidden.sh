# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# updatehidden (run.sh --profile update-seamret.json): where runtime update cannot work, tdx_host
# does not offer it and says why: no seamldr_version, no num_remaining_updates, no fw_upload entry
# tdx_module; version reads as always. First the CPU's SEAMRET-invalidates-VMCS erratum (the
# platform's), then a module without TD_PRESERVING (the emulator's image update-no-tdp), then the
# erratum alone again with a module that has it.

tdx_ensure_unloaded
emuctl clear >/dev/null

update_hidden() { # CASE REASON-REGEX
	dmesg -c >/dev/null
	check "$1: insmod" tdx_insmod || return 1
	check "$1: version reads" expect_match "$(cat "$DEV/version")" '^[0-9]+\.[0-9]+\.[0-9][0-9]$'
	check "$1: no seamldr_version" path_absent "$DEV/seamldr_version"
	check "$1: no num_remaining_updates" path_absent "$DEV/num_remaining_updates"
	check "$1: no fw_upload entry" path_absent "$FW"
	check "$1: the kernel says why" kernel_log_has "runtime update not offered: $2"
	check "$1: rmmod" tdx_rmmod
}

update_hidden "SEAMRET erratum" "the CPU's SEAMRET invalidates the current VMCS" || return 0
check "the platform loads a module without TD_PRESERVING" emuctl image update-no-tdp || return 0
update_hidden "no TD_PRESERVING" "the TDX module does not report TD_PRESERVING" || return 0
check "the platform loads update.json's module again" emuctl image update || return 0
update_hidden "TD_PRESERVING, SEAMRET erratum" "the CPU's SEAMRET invalidates the current VMCS" || return 0
check "dmesg clean" dmesg_clean
