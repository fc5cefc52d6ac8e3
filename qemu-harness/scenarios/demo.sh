# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# `make demo`: each flow of the foundation, step by step, with what the kernel and the emulator saw.

step() {
	echo
	echo "---- demo step: $*"
}

tdx_log() {
	dmesg | grep 'tdx_host:' | sed 's/^/    kernel: /'
}

step "1. the emulator's mailbox is an ivshmem PCI device (1af4:1110); the emulator answers"
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
		echo "    found at ${d##*/}"
	fi
done
check "emulator answers on its control channel" emuctl ping
echo "    emulator: $(emuctl state)"

step "2. insmod tdx_host.ko: SYS.INIT, LP.INIT on every CPU, metadata (SYS.RDALL), TDMRs+PAMTs, SYS.CONFIG, KEY.CONFIG, TDMR.INIT"
emuctl reset-counters >/dev/null
dmesg -c >/dev/null
check "insmod brings TDX up" insmod "$TDX_KO" seamcall=emu
tdx_log

step "3. what the TDX module (emulator) saw: its calls per leaf, and its state"
echo "    $(emuctl counters)"
echo "    $(emuctl state)"
check "emulator reports SYS_READY" emu_state_is SYS_READY

step "4. the tdx_host device"
ls -l "$TDX_SYSFS/" | sed 's/^/    /'
echo "    version: $(cat "$TDX_SYSFS/version")"
check "version matches the emulator profile ($EXPECTED_VERSION)" expect_eq "$(cat "$TDX_SYSFS/version")" "$EXPECTED_VERSION"

step "5. rmmod: SYS.DISABLE, cache flush, PAMTs freed"
dmesg -c >/dev/null
check "rmmod tears TDX down" rmmod tdx_host
tdx_log
echo "    $(emuctl state)"
check "emulator is disabled again (SYSINIT_PENDING)" tdx_left_disabled

step "6. a failure injected at KEY.CONFIG: insmod fails cleanly and undoes everything"
check "inject TDX_OPERAND_INVALID at the first KEY.CONFIG" emuctl fault key.config 1 status 0xC000010000000000
dmesg -c >/dev/null
check_fails "insmod fails" insmod "$TDX_KO" seamcall=emu
tdx_log
check "no tdx_host device left behind" path_absent "$TDX_SYSFS"
check "clear faults" emuctl clear
check "insmod succeeds again" insmod "$TDX_KO" seamcall=emu
check "rmmod" rmmod tdx_host
check "kernel log is clean" dmesg_clean
