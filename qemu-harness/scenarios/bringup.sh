# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# bringup: insmod brings TDX up on the emulated backend, sysfs shows the profile's module version,
# the emulator reaches SYS_READY after the documented sequence of calls, rmmod disables the TDX
# module, and a second insmod brings it up again from scratch.

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "module file is in the initramfs" path_exists "$TDX_KO" || return 0
check "EXPECTED_VERSION is known" test -n "${EXPECTED_VERSION:-}"
check "emulator is SYSINIT_PENDING before insmod" emu_state_is SYSINIT_PENDING

check "insmod seamcall=emu" tdx_insmod || return 0
check "module is loaded" module_loaded tdx_host
check "sysfs version = profile's ($EXPECTED_VERSION)" tdx_version_ok
check "emulator state is SYS_READY" emu_state_is SYS_READY
check "SYS.INIT called once" expect_count sys.init 1
check "LP.INIT called once per CPU" expect_count sys.lp.init "$(nproc)"
check "SYS.CONFIG called once" expect_count sys.config 1
check "KEY.CONFIG called once per package" expect_count sys.key.config "${HARNESS_PACKAGES:-1}"
check "TDMR.INIT called" expect_count_min sys.tdmr.init 1
note "emulator counters: $(emuctl counters)"
check "kernel log names the module version" kernel_log_has "$EXPECTED_VERSION"
check "kernel log names the PAMT size" kernel_log_has '[Pp][Aa][Mm][Tt]'
check "dmesg clean after bring-up" dmesg_clean

check "rmmod" tdx_rmmod
check "module and device are gone" tdx_gone
check "rmmod disabled the TDX module (SYS.DISABLE, SYSINIT_PENDING)" tdx_left_disabled
note "emulator state after rmmod: $(emu_state)"

emuctl reset-counters >/dev/null
check "insmod again" tdx_insmod || return 0
check "sysfs version again" tdx_version_ok
check "emulator is SYS_READY again" emu_state_is SYS_READY
check "second bring-up starts from SYS.INIT" expect_count sys.init 1
check "rmmod again" tdx_rmmod
check "module and device are gone again" tdx_gone

check "dmesg clean" dmesg_clean
