# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# allocfail (debug kernel: fault injection): every allocation tdx_host's load makes, slab or
# page, made to fail in turn. /proc/self/fail-nth fails the Nth allocation of the insmod task
# whose call stack passes through the module area (failslab and fail_page_alloc stack filters),
# so the kernel's own module loading is left alone. Each failed load must leave nothing behind:
# no module, no device, the TDX module not SYS_READY; the sweep ends when a load goes through
# with the armed failure not reached. The kmemleak gate after the scenario checks nothing leaked.

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

for d in failslab fail_page_alloc; do
	echo "$mod_start" >"$FI/$d/require-start"
	echo "$mod_end" >"$FI/$d/require-end"
	echo 32 >"$FI/$d/stacktrace-depth"
	echo N >"$FI/$d/ignore-gfp-wait"
	echo 1 >"$FI/$d/verbose"
done
echo 0 >"$FI/fail_page_alloc/min-order"
echo N >"$FI/fail_page_alloc/ignore-gfp-highmem"

n=1
failed_loads=0
tolerated=0
done_at=0
while [ "$n" -le "$MAX_ALLOCS" ]; do
	dmesg -c >/dev/null
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
	if [ "$rc" -eq 0 ]; then
		# A failure the load tolerates (kvmalloc falling back to vmalloc, debugfs): TDX is up.
		tolerated=$((tolerated + 1))
		check "alloc #$n failed, load tolerated it: TDX is up" tdx_version_ok
		check "alloc #$n: rmmod" tdx_rmmod
	else
		failed_loads=$((failed_loads + 1))
		check "alloc #$n failed: insmod failed with an error" expect_match "$out" "can't insert"
		check "alloc #$n failed: no module, no device" tdx_gone
		check "alloc #$n failed: TDX module not left SYS_READY" emu_state_is_not SYS_READY
		check "alloc #$n failed: kernel log clean" dmesg_clean
	fi
	n=$((n + 1))
done
for d in failslab fail_page_alloc; do echo 0 >"$FI/$d/verbose"; done
note "allocations on tdx_host's load path: $((done_at - 1)); loads that failed: $failed_loads; failures tolerated: $tolerated"
check "the sweep reached the end of the load path (< $MAX_ALLOCS allocations)" test "$done_at" -gt 1
check "a load after the sweep works" tdx_insmod
check "rmmod" tdx_rmmod
