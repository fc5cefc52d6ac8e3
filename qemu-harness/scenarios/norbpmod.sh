# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# norbpmod: the platform loads a TDX module whose TDX_FEATURES0 lacks NO_RBP_MOD (the module part
# of profile no-rbp-mod.json, "emuctl image"): tdx_host must refuse to load. Then the boot's own
# image again (EMU_PROFILE), so the scenarios after it run as before.
tdx_ensure_unloaded
emuctl clear >/dev/null
check "the platform loads a module without NO_RBP_MOD" emuctl image no-rbp-mod || return 0
dmesg -c >/dev/null
emuctl reset-counters >/dev/null
check_fails "insmod refuses a TDX module without NO_RBP_MOD" insmod "$TDX_KO" seamcall=emu
check "the log names NO_RBP_MOD" expect_match "$(dmesg)" 'tdx_host: .*lacks NO_RBP_MOD'
check "no tdx_host device" path_absent "$TDX_SYSFS"
check "the TDX module was disabled again (SYS.DISABLE, SYSINIT_PENDING)" tdx_left_disabled
check "kernel log is clean" dmesg_clean
back_to_boot_image
