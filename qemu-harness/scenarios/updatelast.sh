# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# updatelast (update_boot with update-last.json: a P-SEAMLDR with one update left): the first
# update goes in and leaves none; the next image, good as it is, is refused before anything
# stops (no-updates-left, firmware-invalid) and the module goes on, its TD quoting.
RD1=$(printf '6b%.0s' $(seq 64))

tdx_ensure_unloaded
emuctl clear >/dev/null

check "the images are in /data" path_exists /data/images.list || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 0
check "create TD 1" hctl create 1 gpa=0x1000 || return 0
check "one update left" expect_eq "$(cat "$DEV/num_remaining_updates")" 1
check "the last update goes in" upload_ends good-b '^$' || return 0
check "none left" expect_eq "$(cat "$DEV/num_remaining_updates")" 0
v1="$(cat "$DEV/version")"
dmesg -c >/dev/null
emuctl reset-counters >/dev/null
check "the next image: refused, firmware-invalid" upload_ends good-c ':firmware-invalid$'
check "the kernel says why (no-updates-left)" kernel_log_has 'update: image refused: no-updates-left'
check "the version is unchanged" version_is "$v1"
check "nothing stopped: no SYS.SHUTDOWN, no SEAMLDR.INSTALL" \
	expect_eq "$(emu_count sys.shutdown) $(emu_count seamldr.install)" "0 0"
check "still none left" expect_eq "$(cat "$DEV/num_remaining_updates")" 0
check "TD 1 still quotes" hctl quote 1 "$RD1"
check "destroy TD 1" hctl destroy 1
check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod tdx_host" tdx_rmmod
check "dmesg has no oops, lockup or RCU report" no_lockup_reports
