# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# allocfail (debug kernel: fault injection): every allocation tdx_host's load makes, slab or
# page, made to fail in turn. /proc/self/fail-nth fails the Nth allocation of the insmod task
# whose call stack passes through the module area (failslab and fail_page_alloc stack filters),
# so the kernel's own module loading is left alone. Each failed load must leave nothing behind:
# no module, no device, the TDX module disabled again (SYS.DISABLE, SYSINIT_PENDING), a clean
# kernel log; a load that tolerates the failure must work and log nothing bad either. The sweep
# ends when a load goes through with the armed failure not reached. The kmemleak gate after the
# scenario checks nothing leaked.
#
# Only the module's own allocations count: kmemleak and KASAN allocate bookkeeping (kmemleak's
# object, KASAN's stack depot) under the allocating stack, so the stack filter sees the module in
# it. kmemleak's text is excluded with the reject range (a failed kmemleak allocation turns
# kmemleak off for the rest of the boot, and the leak gate would check nothing); a failure
# injected into KASAN's stack depot is recognised from the injection's stack dump and reported
# apart.

FI=/sys/kernel/debug
MAX_ALLOCS=400

tdx_ensure_unloaded
emuctl clear >/dev/null
check "fault injection is available" path_exists "$FI/failslab/require-start" || return 0

# Where modules live: above the kernel image, up to MODULES_END.
check "baseline insmod" tdx_insmod || return 0
text="$(cat /sys/module/tdx_host/sections/.text)"
check "baseline rmmod" tdx_rmmod || return 0
mod_start=0xffffffffa0000000
[ "$((text))" -ge "$((0xffffffffc0000000))" ] 2>/dev/null && mod_start=0xffffffffc0000000
mod_end=0xffffffffff000000
etext="$(awk '$3 == "_etext" { print "0x" $1 }' /proc/kallsyms)"
note "module .text at $text; filtering call stacks to [$mod_start, $mod_end); kernel _etext $etext"
# Both are in the top half of the address space: as signed 64-bit numbers they compare alike.
check "the kernel image ends below the module area" test "$((etext))" -lt "$((mod_start))"
check "the module was loaded in the module area" test "$((text))" -ge "$((mod_start))"

# kmemleak's entry points for new objects (slab: kmemleak_alloc, percpu, vmalloc), from the first
# of them to the symbol after the last: a stack with one of them in it is kmemleak's own
# allocation (the module's allocation itself is failed before kmemleak hears of it). They sit
# together in mm/kmemleak.c; a span above 64 KiB means they do not, and the check below fails.
kml_range="$(sort /proc/kallsyms | awk '$2 ~ /^[tT]$/ { a[++n] = $1; s[n] = $3 }
	END { for (i = 1; i <= n; i++)
		if (s[i] == "kmemleak_alloc" || s[i] == "kmemleak_alloc_percpu" || s[i] == "kmemleak_vmalloc") {
			if (!lo) lo = i; hi = i }
	      if (lo && hi < n) print "0x" a[lo], "0x" a[hi + 1] }')"
kml_start="${kml_range% *}"
kml_end="${kml_range#* }"
kml_small() { [ -n "$kml_range" ] && [ $((${kml_range#* } - ${kml_range% *})) -le 65536 ] || { echo "range '$kml_range'"; return 1; }; }
check "kmemleak's allocation entry points are known and together" kml_small || return 0
note "kmemleak text [$kml_start, $kml_end) is never failed"
for d in failslab fail_page_alloc; do
	echo "$mod_start" >"$FI/$d/require-start"
	echo "$mod_end" >"$FI/$d/require-end"
	echo "$kml_start" >"$FI/$d/reject-start"
	echo "$kml_end" >"$FI/$d/reject-end"
	echo 32 >"$FI/$d/stacktrace-depth"
	echo N >"$FI/$d/ignore-gfp-wait"
	echo 2 >"$FI/$d/verbose" # the message and the stack of each injected failure
done
echo 0 >"$FI/fail_page_alloc/min-order"
echo N >"$FI/fail_page_alloc/ignore-gfp-highmem"

# The injected failure hit KASAN's or kmemleak's bookkeeping, not the module's own allocation.
# Prints the frame that says so. Only reliable frames count: "? func" entries are stale return
# addresses the unwinder found on the stack, not callers.
injected_in_bookkeeping() {
	_f="$(dmesg | awk '/FAULT_INJECTION: forcing a failure/ { grab = 1 } grab { print } grab && /<\/TASK>/ { exit }' |
		grep -E '\]  (stack_depot|kasan_save|kmemleak)' | head -n 1)"
	[ -n "$_f" ] && echo "$_f"
}

n=1
failed_loads=0
tolerated=0
bookkeeping=0
done_at=0
while [ "$n" -le "$MAX_ALLOCS" ]; do
	dmesg -c >/dev/null
	emuctl reset-counters >/dev/null
	# The single-try insmod arms /proc/self/fail-nth and says whether the failure was injected.
	out="$(TDX_FAIL_NTH=$n /sbin/insmod "$TDX_KO" seamcall=emu 2>&1)"
	rc=$?
	case "$out" in
	*"fail-nth: not reached"*)
		check "load with no allocation failed succeeds (after $((n - 1)) allocations)" test "$rc" -eq 0
		done_at=$n
		tdx_rmmod >/dev/null 2>&1
		break
		;;
	*"fail-nth: injected"*) ;;
	*)
		check "alloc #$n: insmod reports on fail-nth" false
		break
		;;
	esac
	what="alloc #$n"
	if frame="$(injected_in_bookkeeping)"; then
		bookkeeping=$((bookkeeping + 1))
		what="alloc #$n (sanitizer bookkeeping)"
		note "$what: $frame"
	fi
	if [ "$rc" -eq 0 ]; then
		# A failure the load tolerates (debugfs, a sanitizer's bookkeeping): TDX is up.
		tolerated=$((tolerated + 1))
		check "$what failed, load tolerated it: TDX is up" tdx_version_ok
		check "$what: kernel log clean" dmesg_clean_but_injected
		check "$what: rmmod" tdx_rmmod
	else
		failed_loads=$((failed_loads + 1))
		check "$what failed: insmod failed with an error" expect_match "$out" "can't insert"
		check "$what failed: no module, no device" tdx_gone
		check "$what failed: TDX module disabled again" tdx_left_disabled_if_started
		check "$what failed: kernel log clean" dmesg_clean_but_injected
	fi
	n=$((n + 1))
done
for d in failslab fail_page_alloc; do echo 0 >"$FI/$d/verbose"; done
note "allocations on tdx_host's load path: $((done_at - 1 - bookkeeping)) of its own, $bookkeeping sanitizer bookkeeping; loads that failed: $failed_loads; failures tolerated: $tolerated"
check "the sweep reached the end of the load path (< $MAX_ALLOCS allocations)" test "$done_at" -gt 1
check "kmemleak is still on after the sweep" kmemleak_on
check "a load after the sweep works" tdx_insmod
check "rmmod" tdx_rmmod
