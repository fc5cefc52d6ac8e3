# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# rmmodfault: SYS.DISABLE fails during rmmod. module_exit cannot fail, so rmmod must still return
# and leave no module or device behind, and the guest must stay alive. What the module does next
# (it should log an error; whether a later insmod can bring TDX up again) is reported, not
# judged. The TDX module may be left enabled: run this scenario last in its boot.

FAULT_STATUS=0xC000010000000000 # TDX_OPERAND_INVALID

tdx_ensure_unloaded
emuctl clear >/dev/null

check "insmod" tdx_insmod || return 0
check "SYS.DISABLE fault armed" emuctl fault sys.disable 1 status "$FAULT_STATUS"
check "rmmod completes anyway" tdx_rmmod
check "module and device are gone" tdx_gone
note "kernel log of that rmmod:"
dmesg | grep 'tdx_host:' | tail -n 5 | sed 's/^/#   /'
note "emulator state after it: $(emu_state)"
emuctl clear >/dev/null
if tdx_insmod 2>/dev/null; then
	note "a later insmod succeeds"
	tdx_rmmod
else
	note "a later insmod fails (the TDX module was left enabled)"
fi
check "the guest is alive: every CPU runs a task, no lockup report" guest_alive
check "dmesg clean" dmesg_clean
