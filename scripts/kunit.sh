#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make kunit`: boots the debug kernel beside seam-emu, loads tdx_host and tdx_host_kunit, then
# kvm_tdx_quote and kvm_tdx_quote_kunit (suite tdx_getquote), and passes each suite's KTAP (from
# /sys/kernel/debug/kunit/<suite>/results) to the kernel tree's own
# `tools/testing/kunit/kunit.py parse`. Fails on a failed, crashed or missing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
dbg=$(qemu-harness/debug-kernel/build.sh)
# The test build of the modules (KUnit hooks) and the suites' modules: build/kmod/debug-test/.
kmod=$(scripts/build-module.sh debug-test "$dbg/build" 2>/dev/null)
mkdir -p build/logs
log=build/logs/kunit.log
rm -f "$log" # never parse an earlier run's results
suites=(tdx_seamcall tdx_metadata tdx_tdmr tdx_bringup tdx_ext tdx_quote tdx_image tdx_update tdx_getquote)

rc=0
qemu-harness/run.sh --kernel "$dbg/bzImage" --module "$kmod/tdx_host.ko" \
	--module "$kmod/tdx_host_kunit.ko" --module "$kmod/kvm_tdx_quote.ko" \
	--module "$kmod/kvm_tdx_quote_kunit.ko" --scenario kunit --log "$log" "$@" || rc=$?

failed=0
passed=0
for s in "${suites[@]}"; do
	ktap=$(sed -n "/^KUNIT-RESULTS-BEGIN $s\r\?\$/,/^KUNIT-RESULTS-END $s\r\?\$/p" "$log" |
		sed '1d;$d' | tr -d '\r')
	if [ -z "$ktap" ]; then
		echo "kunit: suite $s produced no results (crashed or not run)" >&2
		failed=$((failed + 1))
		continue
	fi
	echo "==== kunit.py parse: $s"
	if printf '%s\n' "$ktap" | python3 "$dbg/build/tools/testing/kunit/kunit.py" parse; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "kunit: $passed passed, $failed failed (suites; serial log $log)"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
