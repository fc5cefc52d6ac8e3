# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# emuunbind: the emulator's PCI device is unbound from tdx_host's pci_driver while TDX is up.
# The driver tears TDX down first (SYS.DISABLE through the still mapped mailbox, then free), so
# the mapping never goes away under a SEAMCALL; tdx_host stays loaded with TDX down (the version
# file answers ENXIO) until rmmod, and the next load binds the device again and works.

EMU_DRV=/sys/bus/pci/drivers/tdx_host_emu

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "insmod" tdx_insmod || return 0
check "the driver bound the emulator's device" path_exists "$EMU_DRV" || return 0
dev="$(ivshmem_dev)"
bdf="${dev##*/}"
check "the device is the driver's" path_exists "$EMU_DRV/$bdf" || return 0
check "TDX is up" tdx_version_ok
check "unbind the device while TDX is up" sh -c "echo $bdf > $EMU_DRV/unbind"
check "the log says TDX was torn down first" expect_match "$(dmesg)" 'removed while TDX uses it: tearing TDX down first'
check "SYS.DISABLE ran" expect_count_min sys.disable 1
check "the emulator is back in SYSINIT_PENDING" emu_state_is SYSINIT_PENDING
check "tdx_host is still loaded" module_loaded tdx_host
check_fails "its version file answers an error now" cat "$TDX_SYSFS/version"
check "the device is unbound" path_absent "$EMU_DRV/$bdf"
check "rmmod" tdx_rmmod
check "insmod binds the device again and brings TDX up" tdx_insmod || return 0
check "TDX is up again" tdx_version_ok
check "rmmod again" tdx_rmmod
check "no module, no device" tdx_gone
check "dmesg clean" dmesg_clean
