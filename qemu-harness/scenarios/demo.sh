# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# `make demo` (scripts/demo.sh): each flow, step by step, with what the kernel and the emulator saw.
# Three boots, chosen by DEMO_PART (run.sh --env DEMO_PART=...):
#   foundation (default; the production tdx_host.ko, run.sh's default profile): the mailbox,
#     bring-up, the emulator's view, the device, unload, a failure injected at KEY.CONFIG; then the
#     platform loads an EXT+QUOTE module image (the emulator's "image ext-quote") and the same
#     production module brings it up with its extensions: the memory pool (pages and KiB in the
#     kernel log, the emulator's ext counters) and quoting enabled; unload gives the pool back.
#   quote (the TEST build of tdx_host.ko, the test module tdx_td_harness.ko, tdx-quote-verify in
#     the guest, run.sh --profile ext-quote.json): a simulated TD created through the real
#     TD-management SEAMCALLs, a quote for it with a chosen REPORTDATA through tdx_host's exported
#     quoting interface, verified in the guest against the emulator's root certificate, its claims
#     printed; the quote is printed ("TDX-QUOTE ...") for scripts/verify-guest-quotes.sh on the host.
#   update (the same test build and tools plus tdx-module-update, run.sh --profile update.json, the
#     images the host made with scripts/update-images.py in /data: a good one and one the kernel
#     refuses, listed in /data/images.list; EMU_CPU_SIGNATURE): the versions (module, P-SEAMLDR,
#     updates left), a TD and its quote, the bad image pushed through the fw_upload files and
#     refused with its reason, the good one pushed the same way with each state of the upload, the
#     blackout the kernel logged, the new versions, and the TD's quote after it: verified, its SEAM
#     origin TCB still the module it was created under, its current TCB the new one. Both quotes
#     are printed for scripts/verify-guest-quotes.sh.

step() {
	echo
	echo "---- demo step: $*"
}

tdx_log() {
	dmesg | grep 'tdx_host:' | sed 's/^/    kernel: /'
}

emu_show() { # CMD...: the emulator's reply, indented
	echo "    emulator $*: $(emuctl "$@")"
}

emu_value() { # KEY CMD...: KEY of the emulator's reply to CMD
	_k="$1"
	shift
	_r="$(emuctl "$@")" || { echo "emulator: $*: $_r" >&2; return 1; }
	kv_get "$_k" "$_r" || { echo "emulator: no $_k in '$_r'" >&2; return 1; }
}

expect_emu() { # KEY WANT CMD...
	_k="$1"
	_w="$2"
	shift 2
	_v="$(emu_value "$_k" "$@" 2>&1)" || { echo "$_v"; return 1; }
	expect_eq "$_v" "$_w"
}

part_start() { # a part after a boot's start: no module loaded, no faults, counters from zero
	tdx_ensure_unloaded
	emuctl clear >/dev/null
	emuctl reset-counters >/dev/null
}

demo_foundation() {
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
	# shellcheck disable=SC2012 # the listing itself is what the step shows
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

	step "7. the platform loads a TDX module image with module extensions and the quoting add-on (TDX_FEATURES0 bits 39 EXT and 50 QUOTE; emulator profile ext-quote.json)"
	check "the emulator runs image ext-quote from the next bring-up" emuctl image ext-quote || return 0
	emu_show ext
	emu_show quote

	step "8. insmod the same production tdx_host.ko: SYS.CONFIG v1 asks for QUOTE, EXT.MEM.ADD hands the memory pool over (HPA lists of up to 512 pages), EXT.INIT, QUOTE.INIT, the quote buffer"
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "insmod brings TDX up with its extensions" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the kernel logged the memory pool (pages and KiB)" \
		kernel_log_has 'extensions: [0-9]+ pages \([0-9]+ KiB\) in the memory pool'
	check "the kernel logged that quoting is enabled" kernel_log_has 'quoting enabled: MAX_QUOTE_SIZE'

	step "9. what the TDX module (emulator) saw: the extension and quoting leaves, the pool it now owns"
	echo "    $(emuctl counters)"
	emu_show ext
	emu_show quote
	pages="$(dmesg | sed -n 's/.*tdx_host: TDX module extensions: \([0-9]*\) pages.*/\1/p' | head -n 1)"
	kib="$(dmesg | sed -n 's/.*tdx_host: TDX module extensions: [0-9]* pages (\([0-9]*\) KiB).*/\1/p' | head -n 1)"
	echo "    the kernel handed over ${pages:-?} pages (${kib:-?} KiB); the emulator asked for $(emu_value required_pages ext) and holds $(emu_value pool_pages ext)"
	check "the KiB the kernel logged are its pages x 4" expect_eq "$kib" "$((${pages:-0} * 4))"
	check "SYS.CONFIG v1 enabled the QUOTE add-on" expect_emu addons 0x4000000000000 state
	check "the pool the kernel logged is the one the emulator asked for" expect_emu required_pages "$pages" ext
	check "the emulator holds exactly those pages" expect_emu pool_pages "$pages" ext
	check "EXT.INIT completed" expect_emu ext_init_done 1 ext
	check "QUOTE.INIT completed: the emulator has its DICE chain" expect_emu initialized 1 quote

	step "10. rmmod: SYS.DISABLE, and only then does the memory pool come back"
	check "kernel log is clean after the bring-up" dmesg_clean
	dmesg -c >/dev/null
	check "rmmod tears TDX down" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "the emulator released the pool" expect_emu pool_pages 0 ext
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (the next boot of the demo makes a quote for a TD)"
}

# --- the quoting part: the test build ------------------------------------------------------------

# The ASCII text "tdx-host make demo: REPORTDATA chosen by the verifier", zero-padded to 64 bytes.
DEMO_RD=7464782d686f7374206d616b652064656d6f3a205245504f5254444154412063686f73656e206279207468652076657269666965720000000000000000000000
OTHER_RD=$(printf '00%.0s' $(seq 64))

demo_quote() {
	part_start

	step "11. a quote for a TD needs a TD: this boot runs the TEST build of tdx_host.ko (the production module plus test hooks and the export of the emulator-only TDREPORT service) and tdx_td_harness.ko, a test module that builds simulated TDs (no vCPUs, no private memory) through the real TD-management SEAMCALLs, as KVM would; neither is what users install"
	check "the test build of tdx_host.ko and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
	check "tdx-quote-verify (the verifier, built on the host) is in the guest" command -v tdx-quote-verify || return 0
	dmesg -c >/dev/null
	check "insmod tdx_host.ko (test build) on the EXT+QUOTE image" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the kernel logged the memory pool" kernel_log_has 'extensions: [0-9]+ pages \([0-9]+ KiB\) in the memory pool'
	check "the kernel logged that quoting is enabled" kernel_log_has 'quoting enabled'
	check "insmod tdx_td_harness.ko (test module)" insmod "$HARNESS_KO" || return 0

	step "12. the root a verifier pins: the emulator's DICE root certificate (its platform secret never leaves it)"
	check "the emulator exports its root certificate" quote_root_save || return 0
	sed 's/^/    /' /tmp/root.pem
	print_quote_root

	step "13. create TD 1 with the harness: MNG.CREATE, MNG.KEY.CONFIG, MNG.ADDCX, MNG.INIT, MR.EXTEND of GPAs 0x1000 and 0x2000, MR.FINALIZE"
	check "create TD 1" hctl create 1 gpa=0x1000 gpa=0x2000 || return 0
	echo "    harness: $(cat "$H/result")"
	sed 's/^/    harness TD: /' "$H/tds"
	emu_show td

	step "14. a quote for TD 1 with REPORTDATA = the text 'tdx-host make demo: REPORTDATA chosen by the verifier': its TDREPORT (emulator service), then tdx_host's exported quoting interface (TDH.QUOTE.GET, resumable, over the quote buffer's HPA linked list)"
	emuctl reset-counters >/dev/null
	check "quote for TD 1" hctl quote 1 "$DEMO_RD" || return 0
	cat "$H/quote" >/tmp/q1
	echo "    harness: $(cat "$H/result")"
	echo "    TDH.QUOTE.GET calls: $(emu_value quote.get counters quote.get)"
	emu_show quote
	print_quote td1 "$DEMO_RD" /tmp/q1

	step "15. verify it in the guest: tdx-quote-verify against the emulator's root, with the REPORTDATA chosen above; the claims it carries"
	check "TD 1's quote verifies with its REPORTDATA" verify /tmp/q1 "$DEMO_RD" || return 0
	verify /tmp/q1 "$DEMO_RD" | sed 's/^/    /'
	check_fails "the same quote does not verify with another REPORTDATA (the reason is printed)" verify /tmp/q1 "$OTHER_RD"
	mrtd_quote="$(verify /tmp/q1 "$DEMO_RD" --json | sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1)"
	check "the quote's MRTD is the one the emulator measured for TD 1" expect_emu tds.0.mrtd "$mrtd_quote" td

	step "16. teardown: the TD destroyed (MNG.KEY.FREEID, PHYMEM.CACHE.WB, PHYMEM.PAGE.RECLAIM), the harness and tdx_host unloaded"
	check "destroy TD 1" hctl destroy 1
	check "the emulator reclaimed it" expect_emu reclaimed 1 td
	check "rmmod tdx_td_harness" rmmod tdx_td_harness
	check "kernel log is clean after the TD and its quote" dmesg_clean
	dmesg -c >/dev/null
	check "rmmod tdx_host" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (on the host, scripts/verify-guest-quotes.sh now checks the quote printed above again; the next boot updates the TDX module under a TD)"
}


# --- the update part: a runtime TDX module update under a live TD ---------------------------------

# The fw_upload entry ($FW), expected_of, version_of and version_is are lib.sh's (shared with update.sh).
# The REPORTDATA of TD 1's quotes in this part: the ASCII text "tdx-host make demo: a TD across a
# runtime update", zero-padded to 64 bytes.
UPDATE_RD=7464782d686f7374206d616b652064656d6f3a2061205444206163726f737320612072756e74696d652075706461746500000000000000000000000000000000

# fw_watch CPU: every state of one upload, read on CPU (fw_push starts it in the background before
# the upload, whose work runs on CPU 0). It reads with the shell's own `read` (no process per read, so
# a state of a few milliseconds is seen too): it waits for the status to leave idle (unless
# /tmp/fw.ended says the upload ended unseen), then prints each change of status and remaining_size
# until idle again; 10 minutes at most, by /proc/uptime.
fw_watch() {
	read -r _pid _x </proc/self/stat
	taskset -p -c "$1" "$_pid" >/dev/null
	: >/tmp/fw.watching
	_seen=
	read -r _t0 _x </proc/uptime
	while :; do
		read -r _s <"$FW/status"
		read -r _r <"$FW/remaining_size"
		if [ -n "$_seen" ] || [ "$_s" != idle ]; then
			[ "$_s $_r" = "$_seen" ] || echo "    $FW: status=$_s remaining_size=$_r"
			_seen="$_s $_r"
			[ "$_s" != idle ] || return 0
		elif [ -e /tmp/fw.ended ]; then
			echo "    (the upload ended before a state of it was read)"
			return 0
		fi
		read -r _t _x </proc/uptime
		[ $((${_t%.*} - ${_t0%.*})) -lt 600 ] || { echo "    the upload is stuck at $_s"; return 1; }
	done
}

# fw_push NAME: the raw fw_upload protocol with /data/NAME.blob, each state of the upload shown;
# its `error` into /tmp/fw.error ("" when accepted). The upload's work is queued on the CPU that
# writes `loading` (a per-CPU workqueue): this shell writes it from CPU 0, fw_watch reads from the
# last CPU, so the states are seen as they come rather than after the work has had the CPU.
fw_push() {
	rm -f /tmp/fw.watching /tmp/fw.ended
	echo "    echo 1 >$FW/loading"
	echo 1 >"$FW/loading" || return 1
	echo "    cat /data/$1.blob >$FW/data   ($(wc -c <"/data/$1.blob") bytes)"
	cat "/data/$1.blob" >"$FW/data" || return 1
	_last=$(($(nproc) - 1))
	read -r _pid _x </proc/self/stat
	taskset -p -c 0 "$_pid" >/dev/null || return 1
	fw_watch "$_last" >/tmp/fw.states &
	_watcher=$!
	_n=0
	while [ ! -e /tmp/fw.watching ] && [ "$_n" -lt 1000 ]; do
		_n=$((_n + 1))
		sleep 0.01
	done
	echo "    echo 0 >$FW/loading"
	_rc=1
	if echo 0 >"$FW/loading"; then
		wait_status idle 60000 && _rc=0
	fi
	: >/tmp/fw.ended
	wait "$_watcher" || _rc=1
	taskset -p -c "0-$_last" "$_pid" >/dev/null
	cat /tmp/fw.states
	[ "$_rc" -eq 0 ] || { echo "    the upload did not end: status $(cat "$FW/status")"; return 1; }
	cat "$FW/error" >/tmp/fw.error
	echo "    $FW/error: '$(cat /tmp/fw.error)'"
}

quote_td1() { quote_verified 1 "$UPDATE_RD" "$1" >/dev/null; } # FILE

seam_claims_show() { # FILE.txt: the SEAM submod's origin and current claims, indented
	awk '/^seam /{s=1} /^td /{s=0} s' "$1" | sed 's/^/    /'
}

param_show() { # the running versions as sysfs shows them
	echo "    $TDX_SYSFS/version: $(cat "$TDX_SYSFS/version")"
	echo "    $TDX_SYSFS/seamldr_version: $(cat "$TDX_SYSFS/seamldr_version")"
	echo "    $TDX_SYSFS/num_remaining_updates: $(cat "$TDX_SYSFS/num_remaining_updates")"
}

demo_update() {
	part_start

	step "17. a runtime update of the TDX module, with a TD alive across it: this boot runs the test build of tdx_host.ko and the TD harness on the update.json platform (a P-SEAMLDR that takes updates, a module with EXT and QUOTE); the host built the images with tdx-mkimage and its test signing key"
	check "the test build of tdx_host.ko and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
	check "tdx-quote-verify and tdx-module-update are in the guest" \
		sh -c 'command -v tdx-quote-verify && command -v tdx-module-update' || return 0
	check "the images are in /data" path_exists /data/images.list || return 0
	sed 's/^/    \/data\/images.list: /' /data/images.list
	dmesg -c >/dev/null
	check "insmod tdx_host.ko (test build)" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the update is offered: the fw_upload entry $FW" path_exists "$FW/loading" || return 0
	_files=
	for _f in "$FW"/*; do _files="$_files ${_f##*/}"; done
	echo "    $FW:$_files"
	param_show
	v0="$(cat "$TDX_SYSFS/version")"
	left0="$(cat "$TDX_SYSFS/num_remaining_updates")"
	check "version is the profile's ($EXPECTED_VERSION)" version_is "$EXPECTED_VERSION"
	check "seamldr_version reads x.y.zz" expect_match "$(cat "$TDX_SYSFS/seamldr_version")" '^[0-9]+\.[0-9]+\.[0-9][0-9]$'
	check "num_remaining_updates reads a number" expect_match "$left0" '^[0-9]+$'
	emu_show seamldr

	step "18. create TD 1 with the harness and quote it: REPORTDATA = the text 'tdx-host make demo: a TD across a runtime update'; verified in the guest against the emulator's root"
	check "insmod tdx_td_harness.ko (test module)" insmod "$HARNESS_KO" || return 0
	check "the emulator exports its root certificate" quote_root_save || return 0
	print_quote_root
	check "create TD 1" hctl create 1 gpa=0x1000 gpa=0x2000 || return 0
	sed 's/^/    harness TD: /' "$H/tds"
	check "TD 1's quote before the update verifies" quote_td1 /tmp/qa || return 0
	print_quote td1-before-update "$UPDATE_RD" /tmp/qa
	echo "    the TDX module's claims in it (tdx-quote-verify): origin = the module the TD was created under, current = the one running now"
	seam_claims_show /tmp/qa.txt
	check "before: origin and current are the same module" \
		expect_eq "$(seam_claim /tmp/qa.txt origin mrseam)" "$(seam_claim /tmp/qa.txt current mrseam)"

	step "19. what tdx-module-update, the tool a user runs, makes of these images for this platform (CPU $EMU_CPU_SIGNATURE) and the running versions: it picks by version and CPU (nothing is written); whether an image is trusted is for the kernel and the P-SEAMLDR to say"
	check "tdx-module-update --list" tdx-module-update --list --dir /data --cpu-fms "$EMU_CPU_SIGNATURE"
	printf '%s\n' "$LAST_OUT" | sed 's/^/    /'

	while read -r bad why _version; do
		[ "$why" != ok ] || continue
		step "20. an image the kernel refuses: $bad.blob ($why), pushed by hand through the fw_upload files; the running module goes on"
		emuctl reset-counters >/dev/null
		dmesg -c >/dev/null
		check "upload $bad.blob" fw_push "$bad"
		printf '%s\n' "$LAST_OUT"
		tdx_log
		check "$bad: the upload ends firmware-invalid" expect_match "$(cat /tmp/fw.error)" ':firmware-invalid$'
		check "$bad: the kernel says why: update: image refused: $why" kernel_log_has "update: image refused: $why"
		check "$bad: the version is unchanged ($v0)" version_is "$v0"
		check "$bad: no update was taken" expect_eq "$(cat "$TDX_SYSFS/num_remaining_updates")" "$left0"
		check "$bad: nothing was stopped (no TDH.SYS.SHUTDOWN)" expect_count sys.shutdown 0
		check "$bad: the P-SEAMLDR never got it (no SEAMLDR.INSTALL)" expect_emu install_calls 0 seamldr
		check "$bad: TD 1 still quotes" quote_td1 /tmp/qr
	done </data/images.list

	good="good-b"
	v1="$(version_of "$good")"
	step "21. the update: $good.blob (module $v1), by hand through the fw_upload files; each state of the upload as it is read (preparing: the header, the signature, the P-SEAMLDR's checks; transferring: the install with every CPU stopped, remaining_size 0 once it is done; programming has nothing left to do and passes unseen); TD 1 stays"
	check "$good is an image that should go in" expect_eq "$(expected_of "$good")" ok || return 0
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "upload $good.blob" fw_push "$good"
	printf '%s\n' "$LAST_OUT"
	check "$good: accepted (error is empty)" expect_eq "$(cat /tmp/fw.error)" ""

	step "22. what the kernel logged: the new module, how long every CPU was stopped (the blackout), quoting re-keyed; the new versions"
	tdx_log
	check "the kernel logged the new version and the blackout time" \
		kernel_log_has "update: TDX module updated to $v1 \(build [0-9]+, [0-9]+\), [0-9]+ us with every CPU stopped"
	check "quoting goes on with the new module (kernel log)" kernel_log_has 'quoting re-keyed'
	param_show
	check "version: $v0 -> $v1" version_is "$v1"
	check "num_remaining_updates: $left0 -> $((left0 - 1))" \
		expect_eq "$(cat "$TDX_SYSFS/num_remaining_updates")" "$((left0 - 1))"
	echo "    TDX module calls of the update: TDH.SYS.SHUTDOWN $(emu_value sys.shutdown counters sys.shutdown), TDH.SYS.UPDATE $(emu_value sys.update counters sys.update)"
	emu_show seamldr
	check "the P-SEAMLDR installed it" expect_emu installs_ok 1 seamldr

	step "23. TD 1 after the update: still there, and its quote verifies; origin is still the module it was created under, current is the new one"
	sed 's/^/    harness TD: /' "$H/tds"
	check "TD 1 still exists" expect_match "$(cat "$H/tds")" '^1 '
	check "TD 1's quote after the update verifies" quote_td1 /tmp/qb || return 0
	print_quote td1-after-update "$UPDATE_RD" /tmp/qb
	seam_claims_show /tmp/qb.txt
	for f in mrseam tee_tcb_svn; do
		echo "    origin  $f: $(seam_claim /tmp/qa.txt origin $f) -> $(seam_claim /tmp/qb.txt origin $f)"
		echo "    current $f: $(seam_claim /tmp/qa.txt current $f) -> $(seam_claim /tmp/qb.txt current $f)"
	done
	check "origin TCB unchanged: the module TD 1 was created under" \
		expect_eq "$(seam_claim /tmp/qb.txt origin mrseam)" "$(seam_claim /tmp/qa.txt origin mrseam)"
	check "current TCB changed: the new module" \
		test "$(seam_claim /tmp/qb.txt current mrseam)" != "$(seam_claim /tmp/qa.txt current mrseam)"
	check "the current TEE_TCB_SVN changed too" \
		test "$(seam_claim /tmp/qb.txt current tee_tcb_svn)" != "$(seam_claim /tmp/qa.txt current tee_tcb_svn)"

	step "24. teardown: TD 1 destroyed, the harness and tdx_host unloaded (SYS.DISABLE on the updated module)"
	check "destroy TD 1" hctl destroy 1
	check "rmmod tdx_td_harness" rmmod tdx_td_harness
	check "kernel log is clean after the update" dmesg_clean
	dmesg -c >/dev/null
	emuctl reset-counters >/dev/null
	check "rmmod tdx_host" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (on the host, scripts/verify-guest-quotes.sh now checks both quotes of TD 1 again)"
}

case "${DEMO_PART:-foundation}" in
foundation) demo_foundation ;;
quote) demo_quote ;;
update) demo_update ;;
*) check "DEMO_PART is foundation, quote or update, not '$DEMO_PART'" false ;;
esac
