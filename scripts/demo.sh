#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boots the Debian 6.12 kernel under QEMU beside seam-emu and shows each flow
# (qemu-harness/scenarios/demo.sh), in two boots:
#   1. foundation, with the production tdx_host.ko (build/kmod/distro): bring-up, the device,
#      unload, an injected failure; then an EXT+QUOTE module image brought up by the same module:
#      the memory pool and quoting enabled;
#   2. quoting, with the TEST build (build/kmod/distro-test: tdx_host.ko with test hooks and the
#      test module tdx_td_harness.ko, which simulates TDs) on the EXT+QUOTE profile and
#      tdx-quote-verify in the guest: a TD, a quote for it with a chosen REPORTDATA, verified in
#      the guest against the emulator's root; then scripts/verify-guest-quotes.sh checks that quote
#      again on the host with both verifiers, tampered copies included.
# Needs `make module module-test emu quote-tools`. Extra arguments go to both run.sh calls (e.g.
# --verbose, --smp 4); the serial logs are build/logs/<time>-demo-{foundation,quote}.log.
set -euo pipefail
cd "$(dirname "$0")/.."

prod_ko="$PWD/build/kmod/distro/tdx_host.ko"
test_kmod="$PWD/build/kmod/distro-test"
verify_bin="$PWD/build/dice-quote/tdx-quote-verify"
need() { # FILE MAKE-TARGET
	[ -e "$1" ] || { echo "demo: $1 is missing: run make $2" >&2; exit 2; }
}
need "$prod_ko" module
need "$test_kmod/tdx_host.ko" module-test
need "$test_kmod/tdx_td_harness.ko" module-test
need "$verify_bin" quote-tools

stamp="$(date +%Y%m%d-%H%M%S)"
log1="$PWD/build/logs/$stamp-demo-foundation.log"
log2="$PWD/build/logs/$stamp-demo-quote.log"
failed=()

echo "==== demo, boot 1 of 2: the foundation and the module extensions (production tdx_host.ko)"
qemu-harness/run.sh --kernel distro --module "$prod_ko" --scenario demo "$@" \
	--env DEMO_PART=foundation --log "$log1" || failed+=("boot 1 (foundation, extensions)")

echo
echo "==== demo, boot 2 of 2: a quote for a TD (test build of tdx_host.ko + the TD harness test module)"
if qemu-harness/run.sh --kernel distro --module "$test_kmod/tdx_host.ko" --module "$test_kmod/tdx_td_harness.ko" \
	--bin "$verify_bin" --profile qemu-harness/seam-emu/profiles/ext-quote.json --scenario demo "$@" \
	--env DEMO_PART=quote --log "$log2"; then
	echo
	echo "==== demo: the guest's quote again on the host: tdx-quote-verify and the independent verifier, then tampered copies"
	scripts/verify-guest-quotes.sh "$log2" 1 "$verify_bin" || failed+=("host-side verification of the guest's quote")
else
	failed+=("boot 2 (quote)")
fi

echo
if [ "${#failed[@]}" -gt 0 ]; then
	printf 'demo: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "demo: every step passed (serial logs: $log1, $log2)"
