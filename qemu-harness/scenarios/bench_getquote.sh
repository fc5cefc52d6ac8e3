# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# bench_getquote (make bench): the latency of one TD guest's GetQuote, from the TDVMCALL until the
# quote is in its buffer, on the in-kernel path (kvm_tdx_quote.ko -> tdx_host's quoting
# extension) and on the userspace path (/dev/kvm_tdx_quote -> tdx-quote-vmm -> tdx-qgs -> the
# emulator as quoting enclave), timed by the GetQuote harness in the same boot, rounds
# alternating between the paths. Prints "BENCH getquote round=R path=kernel|user n=N success=K
# min_ns=.. p50_ns=.. p90_ns=.. p99_ns=.. max_ns=.." for scripts/bench.sh.
# BENCH_GQ_N requests per round and path (default 50), BENCH_ROUNDS rounds (3).

N="${BENCH_GQ_N:-50}"
ROUNDS="${BENCH_ROUNDS:-3}"

tdx_ensure_unloaded
gq_modules || return 0
check "quoting enabled (kernel log)" kernel_log_has 'quoting enabled' || return 0
qgs_start
check "tdx-qgs is up" test -S "$QGS_SOCK" || return 0
vmm_start
check "tdx-quote-vmm is up" kill -0 "$VMM_PID" || return 0
check "TD 1 quotes in the kernel" gq_td 1 1 || return 0
check "  (path kernel)" expect_eq "$(gq_field path "$(gctl info 1)")" kernel || return 0
check "TD 2 quotes through userspace" gq_td 2 0 || return 0
check "  (path user)" expect_eq "$(gq_field path "$(gctl info 2)")" user || return 0
check "warm-up, in-kernel" gctl bench 1 3 0x100000 || return 0
check "warm-up, userspace" gctl bench 2 3 0x100000 || return 0

round=1
while [ "$round" -le "$ROUNDS" ]; do
	for td in 1 2; do
		check "round $round: $N GetQuotes on TD $td" gctl bench "$td" "$N" 0x100000 || return 0
		r="$(cat "$G/result")"
		if ! check "  every one succeeded" expect_eq "$(gq_field success "$r")" "$N"; then
			echo "# $r"
			# What the service and the VMM said of the requests that did not succeed.
			grep -h -v -E 'quote [0-9]+ bytes$|status=0x0 |: quote$' /tmp/qgs.log /tmp/vmm.log /tmp/vmm.err |
				tail -n 20 | sed 's/^/#   /'
		fi
		echo "BENCH getquote round=$round path=$(gq_field path "$r") n=$N success=$(gq_field success "$r")" \
			"min_ns=$(gq_field min_ns "$r") p50_ns=$(gq_field p50_ns "$r") p90_ns=$(gq_field p90_ns "$r")" \
			"p99_ns=$(gq_field p99_ns "$r") max_ns=$(gq_field max_ns "$r")"
	done
	round=$((round + 1))
done

vmm_stop
qgs_stop
for td in 1 2; do
	gctl detach "$td" >/dev/null
	hctl destroy "$td" >/dev/null
done
check "rmmod the modules" sh -c 'rmmod tdx_gq_harness && rmmod tdx_td_harness && rmmod kvm_tdx_quote'
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
