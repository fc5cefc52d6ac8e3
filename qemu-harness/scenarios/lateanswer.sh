# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# lateanswer: a SEAMCALL that times out and is answered later. TDH.SYS.RDALL is delayed 10 s and
# insmod's timeout is 2 s: insmod fails with the timeout and leaves the RDALL page to the TDX
# module (the emulator writes the metadata list into it 8 s later: had the page gone back to the
# kernel, KASAN or the page allocator would see it written). While that request is unanswered, a
# load whose timeout ends first is refused (its probe waits for the slot, then says which one); a
# load with a longer timeout drains the slot (waits for the late answer) and brings TDX up from the
# state the first load left (SYS.INIT done: it disables the module first), with calls of its own:
# the late answer never overwrites their inputs. Run it on the debug kernel (KASAN, lockdep).

LATE_MS=10000

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

check "RDALL delayed by ${LATE_MS} ms armed" emuctl fault sys.rdall 1 delay "$LATE_MS" || return 0
check_fails "insmod with seamcall_timeout_ms=2000 fails" tdx_insmod seamcall_timeout_ms=2000
check "it failed with the timeout (-ETIMEDOUT)" expect_match "$LAST_OUT" 'timed out'
check "the log names the leaf and the timeout" \
	kernel_log_has 'TDH.SYS.RDALL on CPU [0-9]+: the emulator did not answer in 2000 ms'
check "the RDALL page stays with the TDX module" \
	kernel_log_has 'TDH.SYS.RDALL did not complete: its 4 KiB page stays with the TDX module'
check "no module, no device" tdx_gone

check_fails "a load whose timeout ends before the late answer is refused" tdx_insmod seamcall_timeout_ms=1000
check "it is refused as busy (-EBUSY)" expect_match "$LAST_OUT" 'busy'
check "the log names the slot still waiting" \
	kernel_log_has 'slot [0-9]+: request [0-9]+ of an earlier load was never answered'
check "no module, no device after the refusal" tdx_gone

check "a load with seamcall_timeout_ms=10000 waits for the late answer and works" \
	tdx_insmod seamcall_timeout_ms=10000 || return 0
check "its probe waited for the unanswered request" \
	kernel_log_has 'request [0-9]+ of an earlier load unanswered; waiting for it'
check "it disabled what the timed-out load had left initialized" \
	kernel_log_has 'already initialized; disabling it first'
check "TDX is up with the profile's version" tdx_version_ok
check "the emulator is SYS_READY" emu_state_is SYS_READY
check "RDALL was served twice: the late call and this load's" expect_count sys.rdall 2
check "SYS.INIT: the timed-out load's, then this load's refused one and its own" expect_count sys.init 3
check "rmmod" tdx_rmmod
check "the emulator is back in SYSINIT_PENDING" emu_state_is SYSINIT_PENDING
check "no lockup or stall report" no_lockup_reports
check "dmesg clean (KASAN, lockdep, WARN)" dmesg_clean
