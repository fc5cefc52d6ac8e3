#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: every test, stage by stage, with the time each stage took printed at the end.
#   scripts/check.sh all   host tests, module build + check-ko, end-to-end under QEMU
#   scripts/check.sh e2e   only the end-to-end scenarios
set -uo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
make_q=(make --no-print-directory)

names=()
times=()
results=()
failed=0

stage() {
	local name=$1
	shift
	local t0=$SECONDS
	echo "==== stage: $name"
	if "$@"; then
		results+=("ok")
	else
		results+=("FAILED")
		failed=$((failed + 1))
	fi
	names+=("$name")
	times+=($((SECONDS - t0)))
}

e2e_boot() {
	# One QEMU boot running several guest scenarios against one emulator.
	local smp=$1
	shift
	local args=()
	for s in "$@"; do args+=(--scenario "$s"); done
	qemu-harness/run.sh --kernel distro --module "$PWD/tdx_host.ko" --smp "$smp" "${args[@]}"
}

if [ "$what" = all ]; then
	stage "install dependencies" "${make_q[@]}" deps
	stage "host tests: C++ core" "${make_q[@]}" core-tests
	stage "host tests: seam-emu" "${make_q[@]}" emu-tests
	stage "module build + check-ko" "${make_q[@]}" check-ko
fi
stage "e2e smp=2: bring-up, params, faults, leaks, emulator death" \
	e2e_boot 2 bringup params faults leakcycle emudeath
stage "e2e smp=4: bring-up, faults, leaks" e2e_boot 4 bringup faults leakcycle
stage "e2e: SYS.DISABLE failing during rmmod" e2e_boot 2 rmmodfault
stage "e2e: module without NO_RBP_MOD is refused" \
	qemu-harness/run.sh --kernel distro --module "$PWD/tdx_host.ko" \
	--profile qemu-harness/seam-emu/profiles/no-rbp-mod.json --scenario norbpmod

echo
echo "==== summary"
passed=0
for i in "${!names[@]}"; do
	printf '%-60s %-7s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
	[ "${results[$i]}" = ok ] && passed=$((passed + 1))
done
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
