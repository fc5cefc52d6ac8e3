# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# Booted with a profile whose TDX_FEATURES0 lacks NO_RBP_MOD: the module must refuse to load.
dmesg -c >/dev/null
emuctl reset-counters >/dev/null
check_fails "insmod refuses a TDX module without NO_RBP_MOD" insmod "$TDX_KO" seamcall=emu
check "the log names NO_RBP_MOD" expect_match "$(dmesg)" 'tdx_host: .*lacks NO_RBP_MOD'
check "no tdx_host device" path_absent "$TDX_SYSFS"
check "the TDX module was disabled again (SYS.DISABLE, SYSINIT_PENDING)" tdx_left_disabled
check "kernel log is clean" dmesg_clean
