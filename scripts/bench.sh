#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: one guest run, ratios measured side by side (never a timed pass/fail test).
#   transport overhead = round trip - emulator service time (medians), as a multiple of the
#   service time (goal: within 10x); emulator CPU while the guest idles (goal: below 2% of a core).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/logs
log=build/logs/bench.log
qemu-harness/run.sh --kernel distro --module "$PWD/build/kmod/distro/tdx_host.ko" --scenario bench --log "$log" \
	--quiet >/dev/null || { echo "bench: the guest run failed; see $log" >&2; exit 1; }

kv() { grep -o "$1=[0-9]*" <<<"$2" | head -n1 | cut -d= -f2; }
sysrd=$(grep -a '^BENCH sysrd' "$log" | tail -n1)
idle=$(grep -a '^BENCH idle' "$log" | tail -n1)
calls=$(kv calls "$sysrd")
rt50=$(kv rt_median_ns "$sysrd"); rt99=$(kv rt_p99_ns "$sysrd")
sv50=$(kv svc_median_ns "$sysrd"); sv99=$(kv svc_p99_ns "$sysrd")
c0=$(kv cpu_ns0 "$idle"); c1=$(kv cpu_ns1 "$idle"); w0=$(kv wall_ns0 "$idle"); w1=$(kv wall_ns1 "$idle")

awk -v calls="$calls" -v rt50="$rt50" -v rt99="$rt99" -v sv50="$sv50" -v sv99="$sv99" \
	-v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" 'BEGIN {
	svc = sv50 > 0 ? sv50 : 1
	over = rt50 - sv50
	ratio = over / svc
	idle = (w1 > w0) ? 100 * (c1 - c0) / (w1 - w0) : -1
	printf "SEAMCALL TDH.SYS.RD through the mailbox, %d calls, one guest run:\n", calls
	printf "  round trip      median %8d ns   p99 %8d ns\n", rt50, rt99
	printf "  emulator service median %8d ns   p99 %8d ns\n", sv50, sv99
	printf "  transport overhead (median) %d ns = %.1fx the service time (goal <= 10x): %s\n", \
		over, ratio, ratio <= 10 ? "met" : "NOT met"
	printf "  emulator CPU while the guest idles: %.2f%% of a core over %.1f s (goal < 2%%): %s\n", \
		idle, (w1 - w0) / 1e9, (idle >= 0 && idle < 2) ? "met" : "NOT met"
}'
