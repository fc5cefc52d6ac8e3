# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# update: runtime TDX module update end to end, with the test build of tdx_host.ko, the TD harness,
# tdx-quote-verify and tdx-module-update in the guest (run.sh --bin) and the images of
# scripts/update-images.py in /data (run.sh --data; /data/images.list: "NAME EXPECTED" lines).
# A TD lives across the updates: its quote verifies before and after, with the same origin TCB and
# a new current TCB. Every bad image is refused with its reason and the old module goes on; a TD
# build in progress makes the update device-busy until it is finalized; a cancel before the install
# changes nothing; the second update goes through tdx-module-update; the last one fails inside the
# window (the new module wants more pool), which leaves no TDX module: TDX fails at once, rmmod
# keeps the module's memory and says so, and the next insmod brings TDX up again.
RD1=$(printf '3c%.0s' $(seq 64))

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

quote_td1() { quote_verified 1 "$RD1" "$1"; } # FILE

# storm_reader N: quotes of the storm TD through the harness's fresh_quote (a request per open,
# made concurrently with the other readers'), each verified, until /tmp/storm.stop exists; every
# verified one touches /tmp/storm.N.ok; at the end /tmp/storm.N says "OK FAILED CORRUPT" and
# /tmp/storm.N.err holds the errors of the failed ones.
storm_reader() {
	_ok=0 _failed=0 _corrupt=0
	while [ ! -e /tmp/storm.stop ]; do
		if cat "$H/fresh_quote" >"/tmp/storm.$1.q" 2>>"/tmp/storm.$1.err"; then
			if verify "/tmp/storm.$1.q" "$RD1" >/dev/null 2>&1; then
				_ok=$((_ok + 1))
				: >"/tmp/storm.$1.ok"
			else
				_corrupt=$((_corrupt + 1))
				cp "/tmp/storm.$1.q" "/tmp/storm.$1.corrupt.$_corrupt"
			fi
		else
			_failed=$((_failed + 1))
		fi
	done
	echo "$_ok $_failed $_corrupt" >"/tmp/storm.$1"
}

storm_each_verified() { # every reader has a verified quote since its .ok marker was removed
	_n=0
	for _r in $STORM_READERS; do
		while [ ! -e "/tmp/storm.$_r.ok" ]; do
			_n=$((_n + 1))
			[ "$_n" -lt 6000 ] || { echo "reader $_r has no verified quote"; return 1; }
			sleep 0.01
		done
	done
}

storm_results() { # after the stop: no corrupt quote; failures only with a clean errno
	for _r in $STORM_READERS; do
		read -r _ok _failed _corrupt <"/tmp/storm.$_r" || { echo "reader $_r left no result"; return 1; }
		note "storm reader $_r: $_ok verified, $_failed refused, $_corrupt corrupt"
		[ "$_corrupt" -eq 0 ] || { echo "reader $_r got $_corrupt quotes that do not verify"; return 1; }
		# Clean refusals: busy, try again, no device (quoting off meanwhile), invalid argument
		# (the old module's TDREPORT after the update).
		if grep -v -E 'Device or resource busy|Try again|No such device|Invalid argument' "/tmp/storm.$_r.err"; then
			echo "reader $_r: a refusal other than busy / try again / no device / invalid argument"
			return 1
		fi
	done
}
STORM_READERS="1 2 3"

check "the test build, the harness and the tools are in the initramfs" path_exists "$HARNESS_KO" || return 0
check "tdx-module-update is in the guest" command -v tdx-module-update || return 0
check "the images are in /data" path_exists /data/images.list || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "runtime update is offered: the fw_upload entry" path_exists "$FW/loading" || return 0
check "seamldr_version reads" expect_match "$(cat "$DEV/seamldr_version")" '^[0-9]+\.[0-9]+\.[0-9][0-9]$'
left0="$(cat "$DEV/num_remaining_updates")"
check "num_remaining_updates reads a number" expect_match "$left0" '^[0-9]+$'
check_fails "a cancel with no upload in flight is refused (ENODEV)" sh -c "echo 1 >$FW/cancel"
v0="$(cat "$DEV/version")"
check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 0
check "the emulator exports its root certificate" quote_root_save || return 0
check "create TD 1" hctl create 1 gpa=0x1000 gpa=0x3000 || return 0
check "TD 1's quote before the update verifies" quote_td1 /tmp/q0 || return 0
check "its SEAM origin and current are the running module" \
	expect_eq "$(seam_claim /tmp/q0.txt origin mrseam)" "$(seam_claim /tmp/q0.txt current mrseam)"

# Every image refused before anything stops: the old module goes on.
while read -r name want _version; do
	case "$want" in ok | window-fails) continue ;; esac
	dmesg -c >/dev/null
	check "$name: refused, firmware-invalid" upload_ends "$name" ':firmware-invalid$'
	check "$name: the kernel says why ($want)" kernel_log_has "update: image refused: $want"
	check "$name: the version is unchanged" version_is "$v0"
done </data/images.list
check "after the refusals: no update was taken" expect_eq "$(cat "$DEV/num_remaining_updates")" "$left0"
check "after the refusals: TD 1 still quotes" quote_td1 /tmp/q0b

# A TD build in progress: device-busy, nothing changed; finalized, the same image goes in.
check "create TD 2, its build left in progress" hctl create 2 gpa=0x2000 building || return 0
check "an update during a TD build: device-busy" upload_ends good-b ':device-busy$'
check "device-busy: the version is unchanged" version_is "$v0"
check "finalize TD 2" hctl finalize 2

# A cancel before the install: the harness holds tdx_host's state lock, so the upload's prepare
# sleeps on it ("preparing"); meanwhile a second upload is refused and the cancel is taken; then
# the lock goes and the upload ends cancelled, nothing changed.
check "the harness holds tdx_host's state lock" hctl hold || return 0
echo 1 >"$FW/loading"
cat /data/good-b.blob >"$FW/data"
echo 0 >"$FW/loading"
check "the upload is preparing" wait_status preparing
check_fails "a second upload's data is refused while one is in flight" sh -c "cat /data/good-c.blob >$FW/data"
check "cancel while preparing" sh -c "echo 1 >$FW/cancel"
check "the harness releases the lock" hctl release
check "the cancelled upload ends" wait_status idle
check "cancelled: user-abort" expect_match "$(cat "$FW/error")" ':user-abort$'
check "cancelled: the version is unchanged" version_is "$v0"
check "cancelled: no update taken" expect_eq "$(cat "$DEV/num_remaining_updates")" "$left0"

# The update, through the raw sysfs files, with a quote storm across it: three readers make
# concurrent quote requests from before the update until after it; every quote verifies or is
# refused cleanly, none is corrupt, and quoting goes on after the update.
check "TD 1 is the storm's TD" hctl storm 1 "$RD1" || return 0
rm -f /tmp/storm.*
for r in $STORM_READERS; do storm_reader "$r" & done
check "storm: every reader has a verified quote before the update" storm_each_verified
dmesg -c >/dev/null
check "update 1: accepted" upload_ends good-b '^$'
# The storm's TDREPORT names the old module: the new one refuses it (EINVAL) until a new one is taken.
check "storm: a TDREPORT from the new module" hctl storm 1 "$RD1"
# Twice: the second quote each reader verifies was requested after the new TDREPORT.
rm -f /tmp/storm.*.ok
storm_each_verified >/dev/null
rm -f /tmp/storm.*.ok
check "storm: every reader has a verified quote after the update" storm_each_verified
: >/tmp/storm.stop
wait
check "storm: every quote verified or was refused cleanly, none corrupt" storm_results
check "update 1: the kernel logs the new version" kernel_log_has 'update: TDX module updated to'
v1="$(cat "$DEV/version")"
check "update 1: the new version" version_is "$(version_of good-b)"
check "update 1: one update taken" expect_eq "$(cat "$DEV/num_remaining_updates")" "$((left0 - 1))"
check "update 1: TD 1 still exists" expect_match "$(cat "$H/tds")" '^1 '
check "update 1: TD 1's quote verifies" quote_td1 /tmp/q1
check "update 1: the origin TCB is the creation-time module's" \
	expect_eq "$(seam_claim /tmp/q1.txt origin mrseam)" "$(seam_claim /tmp/q0.txt origin mrseam)"
check "update 1: the current TCB is the new module's" \
	test "$(seam_claim /tmp/q1.txt current mrseam)" != "$(seam_claim /tmp/q0.txt current mrseam)"
check "update 1: quoting goes on (kernel log)" kernel_log_has 'quoting re-keyed'

# The second update through tdx-module-update, over a directory with only that image. The CPU the
# image must support is the emulated platform's (its profile's), not the guest CPU QEMU shows.
mkdir -p /tmp/updates && cp /data/good-c.blob /tmp/updates/
check "update 2 (tdx-module-update): a dry run names it" tdx-module-update --update --dir /tmp/updates --cpu-fms "$EMU_CPU_SIGNATURE" --dry-run
# A cancel once the install has begun is refused: the harness holds tdx_host's quote lock, as a
# quote request in flight does, so the install waits for it in "transferring"; the cancel comes
# then, the lock goes, and the update goes through.
dmesg -c >/dev/null
check "the harness holds tdx_host's quote lock" hctl hold quote || return 0
tdx-module-update --update --dir /tmp/updates --cpu-fms "$EMU_CPU_SIGNATURE" >/tmp/tool.out 2>&1 &
check "update 2: the install has begun" wait_status transferring
check "update 2: a cancel is taken by sysfs" sh -c "echo 1 >$FW/cancel"
check "the harness releases the quote lock" hctl release
wait
check "update 2: the kernel refused the cancel" kernel_log_has 'cancel refused: the install has begun'
check "update 2 (tdx-module-update): exit 0 and its summary" expect_match "$(cat /tmp/tool.out)" "updated $v1 -> "
v2="$(cat "$DEV/version")"
check "update 2: the new version" version_is "$(version_of good-c)"
check "update 2: TD 1's quote verifies" quote_td1 /tmp/q2
check "update 2: the origin TCB is still the creation-time module's" \
	expect_eq "$(seam_claim /tmp/q2.txt origin mrseam)" "$(seam_claim /tmp/q0.txt origin mrseam)"

# rmmod / insmod after updates: the new module is brought up from scratch.
check "destroy TD 1" hctl destroy 1
check "destroy TD 2" hctl destroy 2
check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod tdx_host after updates" tdx_rmmod
check "insmod tdx_host again" tdx_insmod || return 0
check "the updated module comes up" version_is "$v2"

# An image that passes every check and fails inside the window: no TDX module is left.
if [ -n "$(expected_of pool-grows)" ]; then
	dmesg -c >/dev/null
	check "pool-grows: fails in the window, firmware-invalid" upload_ends pool-grows ':firmware-invalid$'
	check "pool-grows: the kernel says no module is left" kernel_log_has 'update: failed at extensions'
	check "pool-grows: version is gone (-ENXIO)" sh -c "! cat $DEV/version"
	check "rmmod after a failed update" tdx_rmmod
	check "rmmod keeps the memory of the gone module and says so" kernel_log_has 'no TDX module since a failed update'
	check "insmod brings TDX up again" tdx_insmod
	# The window failed after SYS.UPDATE: the module it installed is the one there now.
	check "TDX is up again, with the module the failed update installed" version_is "$(version_of pool-grows)"
	check "rmmod tdx_host" tdx_rmmod
else
	check "rmmod tdx_host" tdx_rmmod
fi
check "dmesg has no oops, lockup or RCU report" no_lockup_reports
