# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# make bench (the update boot): the test build of tdx_host.ko and the TD harness, update.json's
# EXT+QUOTE module, the image good-b of scripts/update-images.py in /data (run.sh --data).
# BENCH_UPDATES runtime updates, each to good-b again (allowed: the same minor SVN is no
# downgrade, and its handoff version is within its own [min_update_hv, module_hv]); after each,
# where the window's time went as tdx_host recorded it (the harness's "updatetiming") and
# BENCH_STOPS empty stop_machines timed the same way (its "stopmachine"), in one BENCH line that
# scripts/bench.sh reads. Every update is followed by a read of num_remaining_updates: its
# SEAMLDR.INFO marks the end of that window's calls in the emulator's log, which scripts/bench.sh
# reads for the emulator's service times. The checks only say that each measurement ran, never
# whether it was fast.
BENCH_UPDATES="${BENCH_UPDATES:-5}"
BENCH_STOPS="${BENCH_STOPS:-5}"

phases_add_up() { # UPDATETIMING-REPLY: its phases (every *_ns but total_ns) sum to total_ns
	_sum=0
	for _w in $1; do
		case "$_w" in
		total_ns=*) ;;
		*_ns=*) _sum=$((_sum + ${_w#*=})) ;;
		esac
	done
	expect_eq "$_sum" "$(kv_get total_ns "$1")"
}

check "the test build and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
check "the image is in /data" path_exists /data/good-b.blob || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "runtime update is offered: the fw_upload entry" path_exists "$FW/loading" || return 0
check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 0
left="$(cat "$DEV/num_remaining_updates")"
check "$BENCH_UPDATES updates are left ($left)" test "$left" -ge "$BENCH_UPDATES" || return 0
check_fails "no update window timed before the first" hctl updatetiming
check "warm-up: empty stop_machines" hctl stopmachine "$BENCH_STOPS" || return 0

i=1
while [ "$i" -le "$BENCH_UPDATES" ]; do
	check "update $i: good-b, accepted" upload_ends good-b '^$' || return 0
	check "update $i: one update taken" expect_eq "$(cat "$DEV/num_remaining_updates")" "$((left - i))"
	t="$(hctl updatetiming)"
	check "update $i: the window's timing" expect_match "$t" "^ok updatetiming windows=$i ok=1 "
	check "update $i: its phases add up to its blackout" phases_add_up "$t"
	sm="$(hctl stopmachine "$BENCH_STOPS")"
	check "update $i: $BENCH_STOPS empty stop_machines" expect_match "$sm" '^ok stopmachine '
	echo "BENCH update n=$i ${t#ok updatetiming } sm_runs=$BENCH_STOPS sm_median_ns=$(kv_get median_ns "$sm")" \
		"sm_min_ns=$(kv_get min_ns "$sm") sm_max_ns=$(kv_get max_ns "$sm")"
	i=$((i + 1))
done
check "the kernel logged every update" expect_eq "$(dmesg | grep -c 'tdx_host: update: TDX module updated to')" "$BENCH_UPDATES"

check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
