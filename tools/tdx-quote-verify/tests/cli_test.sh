#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tdx-quote-verify and the independent verifier (independent_verify.py) on a sample quote from
# dice-quote-make, then on tampered copies: both must accept the sample and refuse each tamper,
# tdx-quote-verify with the reason named.
# usage: cli_test.sh DICE_QUOTE_MAKE TDX_QUOTE_VERIFY PYTHON3 INDEPENDENT_VERIFY_PY
set -euo pipefail

make_bin=$1 verify_bin=$2 python=$3 independent=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

rd=$(printf '%02x' $(seq 100 163))
rd_other=$(printf '%02x' $(seq 1 64))

"$make_bin" --root-out "$dir/root.pem" --out "$dir/q.bin" --report-data "$rd" \
	--origin-mrseam "$(printf '%02x' $(seq 1 48))" >/dev/null
"$make_bin" --seed "$(printf '%02x' $(seq 200 240))" --root-out "$dir/other-root.pem" --out "$dir/other.bin" >/dev/null
"$make_bin" --fault module-not-ca --root-out "$dir/nonca-root.pem" --out "$dir/nonca.bin" >/dev/null

# Byte surgery with the standard library only.
edit() { # edit IN OUT PYTHON-EXPRESSION-ON-q
	"$python" -c "import sys; q = bytearray(open(sys.argv[1], 'rb').read()); $3; open(sys.argv[2], 'wb').write(q)" "$1" "$2"
}
edit "$dir/q.bin" "$dir/payload.bin" "i = q.find(bytes.fromhex('$rd')); assert i > 0; q[i + 10] ^= 1"
edit "$dir/q.bin" "$dir/sig.bin" "q[-5] ^= 0x40"
edit "$dir/q.bin" "$dir/trunc.bin" "del q[-1]"
edit "$dir/q.bin" "$dir/trail.bin" "q.append(0)"

expect_ok() { # name, args...
	local name=$1
	shift
	if out=$("$verify_bin" "$@" 2>&1); then
		echo "ok   tdx-quote-verify accepts: $name"
	else
		echo "FAIL tdx-quote-verify refused $name: $out"
		fails=$((fails + 1))
	fi
	if out=$("$python" "$independent" "$@" 2>&1); then
		echo "ok   independent_verify accepts: $name"
	else
		echo "FAIL independent_verify refused $name: $out"
		fails=$((fails + 1))
	fi
}

expect_refused() { # name, reason name, args...
	local name=$1 reason=$2 rc=0
	shift 2
	out=$("$verify_bin" "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
		[[ "$out" == "tdx-quote-verify: invalid quote: $reason: "* ]]; then
		echo "ok   tdx-quote-verify refuses $name: $out"
	else
		echo "FAIL tdx-quote-verify on $name (rc $rc, wanted 1 and '$reason'): $out"
		fails=$((fails + 1))
	fi
	rc=0
	out=$("$python" "$independent" "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && [[ "$out" == "independent_verify: invalid quote: "* ]]; then
		echo "ok   independent_verify refuses $name: $out"
	else
		echo "FAIL independent_verify on $name (rc $rc, wanted 1): $out"
		fails=$((fails + 1))
	fi
}

expect_ok "the sample" --root "$dir/root.pem" "$dir/q.bin"
expect_ok "the sample with its REPORTDATA" --root "$dir/root.pem" --report-data "$rd" "$dir/q.bin"
expect_ok "another root's quote under that root" --root "$dir/other-root.pem" "$dir/other.bin"

expect_refused "a flipped payload byte" signature-invalid --root "$dir/root.pem" "$dir/payload.bin"
expect_refused "a flipped signature byte" signature-invalid --root "$dir/root.pem" "$dir/sig.bin"
expect_refused "a wrong root" untrusted-root --root "$dir/other-root.pem" "$dir/q.bin"
expect_refused "a wrong REPORTDATA" report-data-mismatch --root "$dir/root.pem" --report-data "$rd_other" "$dir/q.bin"
expect_refused "a truncated quote" truncated --root "$dir/root.pem" "$dir/trunc.bin"
expect_refused "trailing bytes" trailing-bytes --root "$dir/root.pem" "$dir/trail.bin"
expect_refused "a non-CA issuer" issuer-not-ca --root "$dir/nonca-root.pem" "$dir/nonca.bin"

# The text and JSON outputs carry the claims.
text=$("$verify_bin" --root "$dir/root.pem" "$dir/q.bin")
if grep -q "report_data (-212): $rd" <<<"$text" && grep -q "^seam (2.16.840.1.113741.1.13.2.8.0)" <<<"$text"; then
	echo "ok   text output names report_data and the submods"
else
	echo "FAIL text output: $text"
	fails=$((fails + 1))
fi
if "$verify_bin" --root "$dir/root.pem" --json "$dir/q.bin" | "$python" -c "
import json, sys
j = json.load(sys.stdin)
assert j['valid'] is True and j['report_data'] == '$rd', j
s = j['submods']['2.16.840.1.113741.1.13.2.8.0']
assert s['origin']['mrseam'] == '$(printf '%02x' $(seq 1 48))' != s['current']['mrseam'], s
assert len(j['chain']) == 3
"; then
	echo "ok   JSON output: report_data, origin MRSEAM kept apart from current"
else
	echo "FAIL JSON output"
	fails=$((fails + 1))
fi
rc=0
"$verify_bin" --root "$dir/root.pem" --report-data 1234 "$dir/q.bin" 2>/dev/null || rc=$?
if [ "$rc" -eq 2 ]; then
	echo "ok   a malformed --report-data is a usage error (2)"
else
	echo "FAIL malformed --report-data gave $rc"
	fails=$((fails + 1))
fi

rc=0
"$verify_bin" --root "$dir/root.pem" "$dir/missing.bin" 2>/dev/null || rc=$?
if [ "$rc" -eq 2 ]; then
	echo "ok   an unreadable quote file is an I/O error (2)"
else
	echo "FAIL unreadable quote gave $rc"
	fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all quote CLI checks passed"
