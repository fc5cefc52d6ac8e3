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
FW=/sys/class/firmware/tdx_module
DEV=/sys/devices/faux/tdx_host
RD1=$(printf '3c%.0s' $(seq 64))

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

expected_of() { # NAME: the image's expected outcome from /data/images.list
	sed -n "s/^$1 \([^ ]*\) .*/\1/p" /data/images.list
}
version_of() { # NAME: the image's module version from /data/images.list
	sed -n "s/^$1 [^ ]* //p" /data/images.list
}

wait_status() { # STATUS [POLLS]: wait until the upload's status reads it, at most POLLS x 10 ms (6000)
	_n=0
	while [ "$(cat "$FW/status")" != "$1" ]; do
		_n=$((_n + 1))
		[ "$_n" -lt "${2:-6000}" ] || return 1
		sleep 0.01
	done
}

# fw_upload NAME: the raw sysfs protocol with /data/NAME.blob; prints `error` when done.
fw_upload() {
	echo 1 >"$FW/loading" || return 1
	cat "/data/$1.blob" >"$FW/data" || return 1
	echo 0 >"$FW/loading" || return 1
	wait_status idle 60000 || { echo "status stuck at $(cat "$FW/status")"; return 1; }
	cat "$FW/error"
}

upload_ends() { # NAME REGEX: the upload's error matches
	_e="$(fw_upload "$1")" || { echo "$_e"; return 1; }
	expect_match "$_e" "$2"
}

version_is() { expect_eq "$(cat "$DEV/version")" "$1"; }

# The quote of TD 1 into FILE, verified, and its printed claims into FILE.txt.
quote_td1() {
	hctl quote 1 "$RD1" || return 1
	cat "$H/quote" >"$1"
	verify "$1" "$RD1" >"$1.txt"
}

seam_claim() { # FILE.txt origin|current FIELD: that claim of the SEAM submod as tdx-quote-verify prints it
	awk -v w="$2" -v f="$3" '/^seam /{s=1; next} /^[a-z]/{s=0} s && /^  origin:/{c="origin"}
		s && /^  current:/{c="current"} s && c == w && $1 == f {print $NF; exit}' "$1"
}

check "the test build, the harness and the tools are in the initramfs" path_exists "$HARNESS_KO" || return 0
check "tdx-module-update is in the guest" command -v tdx-module-update || return 0
check "the images are in /data" path_exists /data/images.list || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "runtime update is offered: the fw_upload entry" path_exists "$FW/loading" || return 0
check "seamldr_version reads" expect_match "$(cat "$DEV/seamldr_version")" '^[0-9]+\.[0-9]+\.[0-9][0-9]$'
left0="$(cat "$DEV/num_remaining_updates")"
check "num_remaining_updates reads a number" expect_match "$left0" '^[0-9]+$'
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

# The update, through the raw sysfs files.
dmesg -c >/dev/null
check "update 1: accepted" upload_ends good-b '^$'
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
cpu="--cpu-fms $EMU_CPU_SIGNATURE"
check "update 2 (tdx-module-update): a dry run names it" tdx-module-update --update --dir /tmp/updates $cpu --dry-run
_out="$(tdx-module-update --update --dir /tmp/updates $cpu 2>&1)"
check "update 2 (tdx-module-update): exit 0 and its summary" expect_match "$_out" "updated $v1 -> "
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
