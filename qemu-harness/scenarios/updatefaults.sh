# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# updatefaults (needs run.sh --respawn-emu, the test build and the images of the update scenario):
# a failure injected at each step of the update window, on the lead CPU (CPU 0) and, for the steps
# every CPU runs (SEAMLDR.INSTALL, LP.INIT), on another CPU. Every CPU leaves the window and the
# upload ends with the documented outcome:
#   SYS.SHUTDOWN refused: firmware-invalid, the old module runs on and keeps its TD;
#   any later step: firmware-invalid, "failed at STEP on CPU N", no TDX module is left (version
#     -ENXIO, TD calls fail at once), rmmod keeps the gone module's memory and says so;
#   QUOTE.INIT of the new module: the update is done, quoting is disabled, TDX stays up.
# After each case whose module is gone the platform is reset: the emulator dies at the next
# SEAMCALL and run.sh starts a fresh one (a new TDX module, as after a reboot). Each case ends
# with every CPU responding and no lockup report; on the debug kernel the sanitizer gate after the
# scenario (KASAN, lockdep, a kmemleak scan) covers every case.

RD1=$(printf '5a%.0s' $(seq 64))
FAULT_STATUS=0xC000010000000001 # TDX_OPERAND_INVALID on RCX: not a status anything retries
RESET_TIMEOUT_MS=2000

rmmod tdx_td_harness 2>/dev/null # an earlier scenario may have stopped with it loaded
tdx_ensure_unloaded
emuctl clear >/dev/null

# The emulator dies at the next bring-up SEAMCALL; run.sh starts a fresh one.
platform_reset() {
	for _l in sys.init sys.rd sys.rdall sys.lp.init; do
		emuctl fault "$_l" 1 die >/dev/null || return 1
	done
	if tdx_insmod seamcall_timeout_ms="$RESET_TIMEOUT_MS" >/dev/null 2>&1; then
		echo "tdx_host loaded although the emulator was to die"
		return 1
	fi
	tdx_gone || return 1
	wait_fresh_emulator
}

# Up from a fresh platform: tdx_host, the harness, TD 1 and its quote.
bring_up() {
	tdx_insmod || return 1
	insmod "$HARNESS_KO" || return 1
	hctl create 1 gpa=0x1000 >/dev/null || return 1
	hctl quote 1 "$RD1" >/dev/null
}

tear_down() {
	rmmod tdx_td_harness || return 1
	tdx_rmmod
}

check "the test build, the harness and the images are there" path_exists /data/images.list || return 0
# Whatever an earlier scenario left installed (updates taken, another version): start afresh.
check "a fresh platform" platform_reset || return 0

# case NAME LEAF LP OUTCOME [NTH]: the NTH call (default 1) of LEAF from CPU LP after bring-up
# fails; LP "any": the NTH call from any CPU (a leaf also called before the window, from wherever
# the upload's worker runs), expected on the lead CPU (0).
#   OUTCOME: kept (nothing changed) | gone:STEP (no module left) | noquote (updated, quoting off)
run_case() {
	uf_name="$1"
	uf_leaf="$2"
	uf_lp="$3"
	uf_outcome="$4"
	uf_nth="${5:-1}"
	check "$uf_name: tdx_host, a TD and its quote" bring_up || return 1
	emuctl reset-counters >/dev/null
	if [ "$uf_lp" = any ]; then
		uf_lp=0
		check "$uf_name: fault armed" emuctl fault "$uf_leaf" "$uf_nth" status "$FAULT_STATUS" || return 1
	else
		check "$uf_name: fault armed on CPU $uf_lp" emuctl fault "$uf_leaf" "$uf_nth" lp "$uf_lp" status "$FAULT_STATUS" || return 1
	fi
	dmesg -c >/dev/null
	case "$uf_outcome" in
	kept)
		check "$uf_name: firmware-invalid" upload_ends good-b ':firmware-invalid$'
		check "$uf_name: the kernel says the old module goes on" kernel_log_has 'the running module goes on'
		check "$uf_name: the version is unchanged" version_is "$v0"
		check "$uf_name: the TD still quotes" hctl quote 1 "$RD1"
		check "$uf_name: tear down" tear_down
		;;
	gone:*)
		check "$uf_name: firmware-invalid" upload_ends good-b ':firmware-invalid$'
		check "$uf_name: the kernel names the step and the CPU" \
			kernel_log_has "update: failed at ${uf_outcome#gone:} on CPU $uf_lp: .*no TDX module is left"
		check "$uf_name: version is gone (-ENXIO)" sh -c "! cat $DEV/version"
		check_fails "$uf_name: a TD call fails" hctl quote 1 "$RD1"
		check "$uf_name: every CPU left the window" all_cpus_respond
		check "$uf_name: tear down" tear_down
		check "$uf_name: rmmod keeps the gone module's memory and says so" \
			kernel_log_has 'no TDX module since a failed update'
		if [ "$uf_outcome" = gone:install ] && [ "$uf_lp" != 0 ]; then
			# Another CPU's INSTALL began the session (SEAM_READY cleared) and this one failed: no
			# module at all, so SEAMCALL fails with CF=1 (VMfailInvalid), as on hardware, through
			# the mailbox or (hw backend) the instruction itself. (When the lead CPU's INSTALL
			# fails, whether the other CPU, waiting on the P-SEAMLDR lock, still calls INSTALL and
			# begins a session is a matter of timing: then VMfailInvalid, else the old module,
			# shut down, answers TDX_SYS_SHUTDOWN.)
			check_fails "$uf_name: the next load is refused" tdx_insmod
			check "$uf_name: SEAMCALL gave VMfailInvalid" \
				kernel_log_has 'SYS.INIT failed: TDX_SEAMCALL_VMFAILINVALID'
			check "$uf_name: nothing loaded" tdx_gone
		fi
		check "$uf_name: platform reset (a fresh emulator)" platform_reset || return 1
		;;
	noquote)
		check "$uf_name: the update goes through" upload_ends good-b '^$'
		check "$uf_name: the new version" version_is "$(version_of good-b)"
		check "$uf_name: the kernel says quoting is disabled" kernel_log_has 'quoting disabled'
		check_fails "$uf_name: a quote request fails cleanly" hctl quote 1 "$RD1"
		check "$uf_name: the TD is still there" expect_match "$(cat "$H/tds")" '^1 '
		check "$uf_name: tear down" tear_down
		check "$uf_name: platform reset (a fresh emulator)" platform_reset || return 1
		;;
	esac
	check "$uf_name: no oops, lockup or RCU report" no_lockup_reports
}

# A clean update first, to learn how many SYS.RDs an update makes: the window's last are the
# extensions step's two (EXT_REQUIRED, MEMORY_POOL_REQUIRED_PAGES) and the quote step's one
# (MAX_QUOTE_SIZE); the handoff keeps the extensions initialized, so EXT.INIT is not called.
check "baseline: tdx_host, a TD and its quote" bring_up || return 0
v0="$(cat "$DEV/version")"
emuctl reset-counters >/dev/null
check "baseline: a clean update" upload_ends good-b '^$' || return 0
rd_calls="$(emu_count sys.rd)"
check "baseline: SYS.RD was called ($rd_calls)" test "$rd_calls" -ge 3 || return 0
check "baseline: tear down" tear_down
check "baseline: platform reset (a fresh emulator)" platform_reset || return 0

run_case "shutdown" sys.shutdown 0 kept || return 0
run_case "install, lead CPU" seamldr.install 0 gone:install || return 0
run_case "install, CPU 1" seamldr.install 1 gone:install || return 0
run_case "sys-init" sys.init 0 gone:sys-init || return 0
run_case "lp-init, lead CPU" sys.lp.init 0 gone:lp-init || return 0
run_case "lp-init, CPU 1" sys.lp.init 1 gone:lp-init || return 0
run_case "sys-update" sys.update 0 gone:sys-update || return 0
run_case "extensions (its SYS.RD of EXT_REQUIRED)" sys.rd any gone:extensions $((rd_calls - 2)) || return 0
run_case "quote (QUOTE.INIT)" quote.init 0 noquote || return 0
check "the guest is alive" guest_alive
