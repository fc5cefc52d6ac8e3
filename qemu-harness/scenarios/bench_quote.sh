# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# make bench (the quoting boot): the test build of tdx_host.ko and the TD harness on an EXT+QUOTE
# image, cyclictest in the guest (run.sh --bin). Prints BENCH lines that scripts/bench.sh reads;
# the checks only say that each measurement ran, never whether it was fast.
#   1. Quotes per second: rounds of BENCH_QUOTES quotes for one TD through the kernel path
#      (tdx_host_generate_quote: QUOTE.GET over the mailbox, re-issued while resumable), each next
#      to the emulator doing the same requests' work on its own ("quote bench N": check, sign,
#      write the pages; no mailbox, no budgets).
#   2. Wake-up latency of a SCHED_FIFO thread on CPU 0 (cyclictest, 1 ms period), for
#      BENCH_RT_S seconds with CPU 0 otherwise idle, then as long with CPU 0 busy in a plain
#      user-space loop (no TDX call: what a vCPU that never halts costs under TCG, for reference),
#      then as long while CPU 0 generates quotes back to back; BENCH_RT_ROUNDS such rounds, so
#      that a stretch of host noise falls on every phase alike rather than on one; the
#      percentiles of each phase's histograms summed over the rounds, and each round's p99s.
BENCH_QUOTES="${BENCH_QUOTES:-200}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_RT_S="${BENCH_RT_S:-10}"
BENCH_RT_ROUNDS="${BENCH_RT_ROUNDS:-5}"
RD=$(printf '5a%.0s' $(seq 64))

# cyclictest's histogram file ("USEC COUNT" lines, comments with '#') as "p50=.. p99=.. max=..":
# microseconds; samples beyond the histogram count as its last bucket + 1.
rt_percentiles() { # MAX-LATENCY-LINE HISTFILE... (the histograms summed)
	rt_max="$1"
	shift
	awk -v maxline="$rt_max" '
	/^#/ { next }
	NF == 2 { n[$1 + 0] += $2; total += $2; if ($1 + 0 > top) top = $1 + 0 }
	END {
		split(maxline, m, ":"); mx = m[2] + 0
		if (total == 0) { print "samples=0"; exit }
		p50 = -1; p90 = -1; p99 = -1; c = 0
		for (u = 0; u <= top; u++) {
			c += n[u]
			if (p50 < 0 && c >= total * 0.50) p50 = u
			if (p90 < 0 && c >= total * 0.90) p90 = u
			if (p99 < 0 && c >= total * 0.99) p99 = u
		}
		if (p50 < 0) p50 = top + 1
		if (p90 < 0) p90 = top + 1
		if (p99 < 0) p99 = top + 1
		printf "samples=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d", total, p50, p90, p99, mx
	}' "$@"
}

rt_run() { # NAME ROUND: cyclictest for BENCH_RT_S seconds on CPU 0 into /tmp/rt-NAME.ROUND.hist
	cyclictest -m -q -p 90 -a 0 -t 1 -i 1000 -D "$BENCH_RT_S" -h 20000 --histfile="/tmp/rt-$1.$2.hist" \
		>"/tmp/rt-$1.out" 2>&1 || { cat "/tmp/rt-$1.out"; return 1; }
	expect_match "$(rt_percentiles "" "/tmp/rt-$1.$2.hist")" '^samples=[1-9]'
}

rt_line() { # NAME: the percentiles of NAME's histograms over all rounds, the largest of their maxima
	rt_percentiles "$(grep -h 'Max Latencies' /tmp/rt-"$1".*.hist | sort -t: -k2 -n | tail -n1)" /tmp/rt-"$1".*.hist
}

check "the test build and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
check "cyclictest is in the guest" command -v cyclictest || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "quoting enabled (kernel log)" kernel_log_has 'quoting enabled' || return 0
# Whether the emulator backend foresees the local APIC timer (backend.cpp, kTimerLeadNs), for the table.
echo "BENCH timer $(dmesg | sed -n 's/.*tdx_host: emulator calls: //p' | tail -n 1)"
check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 0
check "create a TD" hctl create 1 gpa=0x1000 || return 0
check "warm-up quotes" hctl bench 1 "$RD" 5 || return 0
check "the emulator repeats the last request" emuctl quote bench 1 || return 0

# 1. Quotes per second, kernel path and the emulator's own, alternating.
emuctl reset-counters >/dev/null
round=1
while [ "$round" -le "$BENCH_ROUNDS" ]; do
	check "round $round: $BENCH_QUOTES quotes through the kernel" hctl bench 1 "$RD" "$BENCH_QUOTES" || return 0
	k="$(cat "$H/result")"
	r="$(emuctl quote bench "$BENCH_QUOTES")"
	check "round $round: $BENCH_QUOTES quotes inside the emulator" expect_match "$r" '^ok '
	echo "BENCH quote round=$round kernel_quotes=$(kv_get quotes "$k") kernel_ns=$(kv_get ns "$k")" \
		"raw_quotes=$(kv_get quotes "$r") raw_ns=$(kv_get ns "$r") bytes=$(kv_get bytes "$k")"
	round=$((round + 1))
done
echo "BENCH quote_calls quote.get=$(emu_count quote.get) quotes=$((BENCH_QUOTES * BENCH_ROUNDS))"

# 2. The real-time thread's wake-up latency: CPU 0 idle, in a user-space loop, generating quotes;
# BENCH_RT_ROUNDS rounds of the three.
rm -f /tmp/rt-*.hist
quotes=0 interrupted=0 rt_round=1
while [ "$rt_round" -le "$BENCH_RT_ROUNDS" ]; do
	check "round $rt_round: cyclictest with CPU 0 idle" rt_run idle "$rt_round" || return 0
	taskset -c 0 sh -c 'while :; do :; done' &
	hog=$!
	sleep 1
	check "round $rt_round: cyclictest while CPU 0 runs a user-space loop" rt_run hog "$rt_round"
	kill "$hog" 2>/dev/null
	wait "$hog" 2>/dev/null
	taskset -c 0 sh -c "echo 'bench 1 $RD 100000000' >$H/ctl" 2>/dev/null &
	load=$!
	sleep 1
	check "round $rt_round: the quote load runs on CPU 0" kill -0 "$load"
	q0="$(emuctl quote)"
	check "round $rt_round: cyclictest while CPU 0 generates quotes" rt_run quoting "$rt_round"
	q1="$(emuctl quote)"
	kill "$load" 2>/dev/null
	wait "$load" 2>/dev/null
	made=$(($(kv_get gets_completed "$q1") - $(kv_get gets_completed "$q0")))
	check "round $rt_round: quotes were made during the measurement" test "$made" -gt 0
	check "round $rt_round: the load stopped at the signal" expect_match "$(cat "$H/result")" 'interrupted=1'
	quotes=$((quotes + made))
	interrupted=$((interrupted + $(kv_get gets_interrupted "$q1") - $(kv_get gets_interrupted "$q0")))
	rt_round=$((rt_round + 1))
done
for phase in idle hog quoting; do
	echo "BENCH rt $phase $(rt_line "$phase")"
done
# Each round's p99s on their own, for the goal's per-round ratio (scripts/bench.sh).
rt_round=1
while [ "$rt_round" -le "$BENCH_RT_ROUNDS" ]; do
	line="BENCH rt_round round=$rt_round"
	for phase in idle hog quoting; do
		line="$line ${phase}_p99_us=$(kv_get p99_us "$(rt_percentiles "" "/tmp/rt-$phase.$rt_round.hist")")"
	done
	echo "$line"
	rt_round=$((rt_round + 1))
done
echo "BENCH rt_load quotes=$quotes seconds=$((BENCH_RT_S * BENCH_RT_ROUNDS)) interrupted=$interrupted"

check "destroy the TD" hctl destroy 1
check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
