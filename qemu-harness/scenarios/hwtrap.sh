# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# hwtrap: tdx_host's hw backend (the real SEAMCALL instruction, arch-x86-virt-tdx/glue/
# seamcall_hw.S) where it meets what hardware can answer, through the SEAMCALL trap
# (tdx_seamcall_trap.ko, test build): every SEAMCALL of a bring-up served by the emulator; a
# declined trap ends in the #UD fixup (TDX_SEAMCALL_UD, -EACCES), as does a SEAMCALL from text the
# trap does not serve; the emulator's CF=1 reaches TDX_SEAMCALL_VMFAILINVALID (-ENODEV), in process
# context and in LP.INIT's IPI; a #GP delivered to the instruction reaches the #GP fixup
# (TDX_SEAMCALL_GP, -EOPNOTSUPP); never an oops. Also the platform facts: tdx_host's test build
# sees TDX only while the trap serves. Needs the test build and the trap (run.sh --module) and
# TDX_SEAMCALL=hw; at least 2 CPUs.

VMFAILINVALID=0x8000FF00FFFF0000
SEAMCALL_UD=0x8000ff0000000006

trap_stat() { # KEY: the trap's counter from its stats file
	kv_get "$1" "ok $(cat "$TRAP/stats")"
}

stat_moved() { # KEY BEFORE WANT: the counter moved by WANT since BEFORE
	expect_eq "$(($(trap_stat "$1") - $2))" "$3"
}

# The emulator's leaf calls since reset-counters, summed ("ok sys.init=1 sys.lp.init=2 ...").
emu_calls_total() {
	_t=0
	for _kv in $(emuctl counters); do
		case "$_kv" in *=*) _t=$((_t + ${_kv#*=})) ;; esac
	done
	echo "$_t"
}

at_least() { # GOT MIN
	[ "$1" -ge "$2" ] || { echo "$1 < $2"; return 1; }
}

# The kernel log since log_mark (never cleared here: the sanitizer gate after the scenario, and
# dmesg_clean below, read all of it).
log_mark() { LOG_MARK="$(dmesg | wc -l)"; }
new_log_has() { # EXTENDED-REGEX
	dmesg | tail -n "+$((LOG_MARK + 1))" | grep -E -q -- "$1" ||
		{ echo "no kernel log line since the mark matches /$1/"; return 1; }
}

insmod_said() { # REGEX: the last failed insmod's message
	expect_match "$LAST_OUT" "$1"
}

# A load that failed at a SEAMCALL: nothing left loaded, the TDX module disabled again if it had
# been initialized, no oops or warning.
failed_cleanly() { # NAME
	check "$1: no module, no tdx_host device" tdx_gone
	check "$1: the TDX module is not left initialized" tdx_left_disabled_if_started
	check "$1: no oops, no warning" dmesg_clean
}

tdx_ensure_unloaded
emuctl clear >/dev/null
log_mark
check "TDX_SEAMCALL=hw (run.sh --env)" expect_eq "${TDX_SEAMCALL:-}" hw || return 0
check "the SEAMCALL trap is loaded" trap_ensure_loaded || return 0

# --- the bench knob (make bench's trapped round trip) before TDX is up ----------------------------
bench() { echo "$1" >"$TRAP/bench"; } # PAIRS
check_fails "bench: before the bring-up (SYS.RD: LP.INIT not done)" bench 2
check "  it logged both statuses" new_log_has 'bench: TDH.SYS.RD answered 0x[0-9a-f]+ through the trap, 0x[0-9a-f]+ through'
check_fails "bench: no result to read yet" cat "$TRAP/bench"

# --- every SEAMCALL served -----------------------------------------------------------------------
emuctl reset-counters >/dev/null
served0="$(trap_stat served)"
check "insmod seamcall=hw" tdx_insmod || return 0
check "the log names the hw backend" new_log_has 'SEAMCALL backend: hw'
check "TDX is up" tdx_version_ok
check "the emulator is SYS_READY" emu_state_is SYS_READY
check "every SEAMCALL the emulator served came through the trap" \
	at_least "$(($(trap_stat served) - served0))" "$(emu_calls_total)"
check_fails "bench: 0 pairs" bench 0
check_fails "bench: more than 2^20 pairs" bench 1048577
check_fails "bench: not a number" bench x
served0="$(trap_stat served)"
check "bench: 3 pairs after the bring-up" bench 3
check "  its result: both paths read the major version" \
	expect_match "$(cat "$TRAP/bench")" "^ok bench n=3 cpu=0 major=${EXPECTED_VERSION%%.*} trap_p50_ns=[0-9]+ "
check "  the trap served its 3 SEAMCALLs" stat_moved served "$served0" 3
trap_knob() { echo "$2" >"$TRAP/$1"; } # KNOB "N SKIP"
check "bench: its trapped SEAMCALL declined" trap_knob decline '1 0'
check_fails "  the bench fails" bench 3
check "  on the #UD fixup's status" new_log_has 'answered 0x8000ff0000000006 through the trap, 0x0 through'
check_fails "  and leaves no result" cat "$TRAP/bench"
check "rmmod" tdx_rmmod
check "rmmod disabled the TDX module" tdx_left_disabled

# --- the trap holds the emulator's device and reports TDX ----------------------------------------
check_fails "seamcall=emu finds no device: the trap's driver has it" insmod "$TDX_KO" seamcall=emu
log_mark
check "seamcall=auto takes the hw backend (the trap reports TDX)" insmod "$TDX_KO"
check "auto: the log names the hw backend" new_log_has 'SEAMCALL backend: hw'
check "auto: rmmod" tdx_rmmod

# --- loads that meet a fault at the instruction, or CF=1 -----------------------------------------
# failing_load NAME STAT INSMOD-SAYS LOG-REGEX ARM...: ARM (a command) sets a failure up; the load
# fails with INSMOD-SAYS, tdx_host logs LOG-REGEX, the trap's STAT counter moves by one, and the
# load leaves nothing behind.
failing_load() {
	_fl="$1"
	_fl_stat="$2"
	_fl_says="$3"
	_fl_log="$4"
	shift 4
	emuctl reset-counters >/dev/null
	log_mark
	_fl0="$(trap_stat "$_fl_stat")"
	check "$_fl: armed" "$@"
	check_fails "$_fl: insmod fails" tdx_insmod
	check "$_fl: with $_fl_says" insmod_said "$_fl_says"
	check "$_fl: tdx_host logged /$_fl_log/" new_log_has "$_fl_log"
	check "$_fl: the trap's $_fl_stat moved by one" stat_moved "$_fl_stat" "$_fl0" 1
	failed_cleanly "$_fl"
	emuctl clear >/dev/null
}

# The third SEAMCALL (after SYS.INIT succeeded, so the teardown runs too) declined: the #UD fixup.
failing_load "declined" declined_knob 'Permission denied' 'failed: TDX_SEAMCALL_UD' trap_knob decline '1 2'
check "declined: the next insmod works" tdx_insmod
check "declined: rmmod" tdx_rmmod
# A #GP delivered to it: the #GP fixup.
failing_load "#GP" gp 'Operation not supported' 'failed: TDX_SEAMCALL_GP' trap_knob gp '1 2'
# The emulator's CF=1 (VMfailInvalid), in process context and in LP.INIT's IPI (interrupts off).
failing_load "CF=1 at SYS.INIT" vmfailinvalid 'No such device' 'SYS.INIT failed: TDX_SEAMCALL_VMFAILINVALID' \
	emuctl fault sys.init 1 status "$VMFAILINVALID"
failing_load "CF=1 at LP.INIT on CPU 1" vmfailinvalid 'No such device' 'LP.INIT failed: TDX_SEAMCALL_VMFAILINVALID' \
	emuctl fault sys.lp.init 1 lp 1 status "$VMFAILINVALID"
check "after CF=1: insmod works" tdx_insmod
check "after CF=1: rmmod" tdx_rmmod

# --- text the trap does not serve: the fixup, never the emulator ---------------------------------
# The trap's own SEAMCALL (its own exception-table entry) with SYS.INIT's RAX.
emuctl reset-counters >/dev/null
log_mark
text0="$(trap_stat declined_text)"
check "a SEAMCALL from the trap's own text" sh -c "echo $(leaf_number sys.init) > $TRAP/self"
check "it ended in its #UD fixup" expect_eq "$(cat "$TRAP/self")" "$SEAMCALL_UD"
check "the trap declined it for its text" stat_moved declined_text "$text0" 1
check "it never reached the emulator" expect_count sys.init 0
check "no oops, no warning" dmesg_clean

# The trap serving the kernel's text only: every SEAMCALL of tdx_host is declined.
check "rmmod the trap" rmmod tdx_seamcall_trap
check_fails "the trap refuses text= naming nothing" insmod "$TRAP_KO" text=
check_fails "the trap refuses timeout_ms above 10000" insmod "$TRAP_KO" timeout_ms=10001
check "the trap with text=kernel" insmod "$TRAP_KO" text=kernel || return 0
emuctl reset-counters >/dev/null
log_mark
check_fails "text=kernel: tdx_host's insmod fails" tdx_insmod
check "text=kernel: with -EACCES" insmod_said 'Permission denied'
check "text=kernel: tdx_host saw TDX_SEAMCALL_UD" new_log_has 'failed: TDX_SEAMCALL_UD'
check "text=kernel: nothing reached the emulator" expect_eq "$(emu_calls_total)" 0
check "text=kernel: no module, no device" tdx_gone
check "text=kernel: no oops, no warning" dmesg_clean
check "rmmod the text=kernel trap" rmmod tdx_seamcall_trap

# The trap's default waits for as long as the emulator lives, as the instruction always completes:
# an answer 6 s late (three times the heartbeat's staleness, more than the 5 s a trapped call used
# to be given) still completes the call, and so the bring-up: nothing gives up on a call the
# emulator will still answer, into pages its caller would have taken back.
check "the trap with its defaults" insmod "$TRAP_KO" || return 0
emuctl reset-counters >/dev/null
check "RDALL delayed by 6 s armed" emuctl fault sys.rdall 1 delay 6000 || return 0
log_mark
check "tdx_host's bring-up waits for the late answer and works" tdx_insmod
check "its version" tdx_version_ok
check "RDALL was served once" expect_count sys.rdall 1
check "no CF=1, no timeout" sh -c "! dmesg | tail -n +$((LOG_MARK + 1)) | grep -E 'VMFAILINVALID|did not answer'"
check "rmmod" tdx_rmmod
check "no lockup or stall report" no_lockup_reports
emuctl clear >/dev/null
check "rmmod the trap" rmmod tdx_seamcall_trap

# An emulator service request (RAX bit 62, include/tdx/emu/service.h) arriving as the instruction:
# answered as a TDX module answers an unknown leaf (OPERAND_INVALID), never passed to the emulator.
check "the trap serving its own text" insmod "$TRAP_KO" text=tdx_seamcall_trap || return 0
emuctl reset-counters >/dev/null
check "a service RAX as a SEAMCALL" sh -c "echo 0x4000000000000001 > $TRAP/self"
check "answered TDX_OPERAND_INVALID" expect_eq "$(cat "$TRAP/self")" 0xc000010000000000
check "the service request never reached the emulator" expect_eq "$(emu_calls_total)" 0
check "a real leaf from the same text is served" sh -c "echo $(leaf_number sys.rd) > $TRAP/self"
check "  and reached the emulator" expect_count sys.rd 1
check "rmmod the trap serving its own text" rmmod tdx_seamcall_trap

# --- no emulator for the trap ----------------------------------------------------------------------
# tdx_host's own driver holds the device: the trap finds no emulator and says so.
check "tdx_host seamcall=emu (its driver takes the device)" insmod "$TDX_KO" seamcall=emu || return 0
check_fails "the trap refuses to load without an emulator device" insmod "$TRAP_KO"
check "it says why" new_log_has 'tdx_seamcall_trap: no emulator'
check "rmmod tdx_host" tdx_rmmod

# The device unbound from the trap's driver: the trap stops serving and no longer reports TDX.
check "the trap again" trap_ensure_loaded || return 0
TRAP_DRV=/sys/bus/pci/drivers/tdx_seamcall_trap_emu
bdf="$(ivshmem_dev)"
bdf="${bdf##*/}"
check "the trap's driver has the emulator's device" path_exists "$TRAP_DRV/$bdf" || return 0
check "unbind it" sh -c "echo $bdf > $TRAP_DRV/unbind"
check "the trap says it stops serving" new_log_has 'tdx_seamcall_trap: .*going away'
log_mark
check_fails "seamcall=hw: no TDX without a serving trap" tdx_insmod
check "the refusal says why" new_log_has 'no TDX: the CPU does not report TDX'
check "rmmod the trap" rmmod tdx_seamcall_trap
check "the trap loaded again binds the device and serves" trap_ensure_loaded
check "insmod seamcall=hw works again" tdx_insmod
check "TDX is up again" tdx_version_ok
check "rmmod" tdx_rmmod
check "the guest is alive" guest_alive
check "dmesg clean" dmesg_clean
