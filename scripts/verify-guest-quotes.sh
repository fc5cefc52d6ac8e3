#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Verifies, on the host, the quotes a guest printed (qemu-harness/scenarios/quote.sh) with the
# independent verifier (tools/tdx-quote-verify/independent_verify.py: python3-cbor2 and
# python3-cryptography, no code shared with dice-quote), against the root the guest printed:
#   scripts/verify-guest-quotes.sh SERIAL-LOG MIN-QUOTES
# Each "TDX-QUOTE NAME REPORTDATA BASE64" line must verify with its REPORTDATA, and must fail once
# one byte of its signature is flipped (the verifier can fail). Fails when the log has no root line
# or fewer than MIN-QUOTES quotes.
set -euo pipefail
log=${1:?serial log}
min=${2:?minimum number of quotes}
here="$(cd "$(dirname "$0")/.." && pwd)"
verifier="$here/tools/tdx-quote-verify/independent_verify.py"
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

tr -d '\r' <"$log" >"$work/log"
root_b64="$(awk '$1 == "TDX-QUOTE-ROOT" { print $2; exit }' "$work/log")"
[ -n "$root_b64" ] || { echo "verify-guest-quotes: no TDX-QUOTE-ROOT line in $log" >&2; exit 1; }
base64 -d <<<"$root_b64" >"$work/root.pem"

n=0
while read -r _ name rd b64; do
	base64 -d <<<"$b64" >"$work/$name.bin"
	if ! out="$(/usr/bin/python3 "$verifier" --root "$work/root.pem" --report-data "$rd" "$work/$name.bin")"; then
		echo "verify-guest-quotes: $name: the independent verifier refused it: $out" >&2
		exit 1
	fi
	echo "verify-guest-quotes: $name: $out"
	# The last byte of the quote is the last byte of its signature.
	/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
		"$work/$name.bin" "$work/$name.bad"
	if /usr/bin/python3 "$verifier" --root "$work/root.pem" --report-data "$rd" "$work/$name.bad" >/dev/null 2>&1; then
		echo "verify-guest-quotes: $name: a flipped signature byte still verified" >&2
		exit 1
	fi
	n=$((n + 1))
done < <(awk '$1 == "TDX-QUOTE" && NF == 4' "$work/log")
[ "$n" -ge "$min" ] || { echo "verify-guest-quotes: $n quotes in $log, want at least $min" >&2; exit 1; }
echo "verify-guest-quotes: $n quotes verified independently"
