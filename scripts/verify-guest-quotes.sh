#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Verifies, on the host, the quotes a guest printed (qemu-harness/scenarios/quote.sh: lines
# "TDX-QUOTE NAME REPORTDATA BASE64" and "TDX-QUOTE-ROOT BASE64" of the root PEM), with both
# verifiers: tdx-quote-verify (dice-quote) and the independent one (independent_verify.py, Debian's
# python3-cbor2 and python3-cryptography, no code shared with dice-quote).
#   scripts/verify-guest-quotes.sh SERIAL-LOG MIN-QUOTES [TDX-QUOTE-VERIFY]
# tdx-quote-verify: the third argument, else $TDX_QUOTE_VERIFY, else build/dice-quote/tdx-quote-verify.
#
# Each quote must verify with its REPORTDATA against the root the guest printed, and each tampered
# copy must be refused by both verifiers (exit 1) with the reason of that tamper, named in their
# message:
#   tamper                        tdx-quote-verify      independent_verify.py
#   a flipped payload byte        signature-invalid     "signature over the Sig_structure does not verify"
#   a flipped signature byte      signature-invalid     "signature over the Sig_structure does not verify"
#   a wrong root                  untrusted-root        "is not signed by the trusted root"
#   a wrong REPORTDATA            report-data-mismatch  "report_data is not the expected REPORTDATA"
#   a truncated quote             truncated             "not well-formed CBOR"
#   trailing bytes                trailing-bytes        "trailing bytes"
#   a chain with a non-CA issuer  issuer-not-ca         "issues TDX module certificate but is not a CA"
# The wrong root is a throwaway self-signed P-384 CA with the real root's subject (so only its key
# differs). The non-CA issuer: the quote's platform certificate (x5chain[2]) is replaced by one with
# the same subject and public key, basicConstraints cA=FALSE (keyCertSign kept), issued by that
# throwaway root; the COSE signature does not cover the unprotected header, so the quote itself
# needs no re-signing. A control splices the same certificate with cA=TRUE: it must get past the
# CA check and fail only at the root, so the non-CA case fails for the flag and not for the splice.
# Fails when the log has no root line, a malformed quote line, or fewer than MIN-QUOTES quotes.
set -euo pipefail
log=${1:?usage: verify-guest-quotes.sh SERIAL-LOG MIN-QUOTES [TDX-QUOTE-VERIFY]}
min=${2:?usage: verify-guest-quotes.sh SERIAL-LOG MIN-QUOTES [TDX-QUOTE-VERIFY]}
here="$(cd "$(dirname "$0")/.." && pwd)"
ours=${3:-${TDX_QUOTE_VERIFY:-$here/build/dice-quote/tdx-quote-verify}}
independent="$here/tools/tdx-quote-verify/independent_verify.py"
python=/usr/bin/python3

die() {
	echo "verify-guest-quotes: $*" >&2
	exit 1
}
[[ $min =~ ^[0-9]+$ ]] || die "MIN-QUOTES must be a number, not '$min'"
[ -r "$log" ] || die "cannot read the serial log $log"
[ -x "$ours" ] || die "no tdx-quote-verify at $ours (make quote-tools; or pass its path as the third argument or in TDX_QUOTE_VERIFY)"
command -v openssl >/dev/null || die "openssl is needed for the wrong-root and non-CA cases"

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

# Byte and CBOR surgery on a quote: qedit MODE IN OUT [ARG]. cbor2 re-encodes this format byte for
# byte (checked), so a splice changes nothing but the certificate.
cat >"$work/qedit.py" <<'EOF'
import sys
import cbor2

mode, src, dst = sys.argv[1:4]
q = bytearray(open(src, "rb").read())
top = cbor2.loads(bytes(q))
if cbor2.dumps(top) != bytes(q):
    sys.exit("the quote does not re-encode to the same bytes")
prot, unprot, payload, sig = top.value.value
if mode == "payload":  # flip a byte of the REPORTDATA claim inside the payload
    start = q.find(payload)
    i = payload.find(bytes.fromhex(sys.argv[4]))
    if start < 0 or i < 0:
        sys.exit("the REPORTDATA is not in the payload")
    q[start + i + 10] ^= 0x01
elif mode == "sig":  # flip a byte of r; the signature is the quote's last item
    if not q.endswith(sig) or len(sig) != 96:
        sys.exit("the quote does not end with a 96-byte signature")
    q[len(q) - 96 + 10] ^= 0x40
elif mode == "trunc":
    del q[-1]
elif mode == "trail":
    q.append(0)
elif mode == "platform-der":  # write the platform certificate (x5chain[2])
    q = bytearray(unprot[33][2])
elif mode == "splice-platform":  # replace x5chain[2] by the DER certificate in ARG
    unprot[33][2] = open(sys.argv[4], "rb").read()
    q = bytearray(cbor2.dumps(top))
else:
    sys.exit("unknown mode " + mode)
open(dst, "wb").write(q)
EOF
qedit() { "$python" "$work/qedit.py" "$@"; }

subject() { # PEM-OR-DER-CERT [DER]: the subject in the /K=V/... form openssl's -subj takes
	local s
	s="$(openssl x509 ${2:+-inform DER} -in "$1" -noout -subject -nameopt compat)"
	echo "${s#subject=}"
}

fails=0
pass() { echo "verify-guest-quotes: ok   $*"; }
fail() {
	echo "verify-guest-quotes: FAIL $*" >&2
	fails=$((fails + 1))
}

# refused NAME TAMPER OURS-REASON INDEPENDENT-KEYWORD ROOT REPORTDATA QUOTE-FILE
refused() {
	local name=$1 what=$2 reason=$3 keyword=$4 root=$5 rd=$6 q=$7 rc=0 out
	out="$("$ours" --root "$root" --report-data "$rd" "$q" 2>&1)" || rc=$?
	if [ "$rc" -eq 1 ] && [[ $out == "tdx-quote-verify: invalid quote: $reason: "* ]]; then
		pass "$name: $what: tdx-quote-verify refuses it: $out"
	else
		fail "$name: $what: tdx-quote-verify exit $rc (wanted 1 with reason '$reason'): $out"
	fi
	rc=0
	out="$("$python" "$independent" --root "$root" --report-data "$rd" "$q" 2>&1)" || rc=$?
	if [ "$rc" -eq 1 ] && [[ $out == "independent_verify: invalid quote: "*"$keyword"* ]]; then
		pass "$name: $what: independent_verify refuses it: $out"
	else
		fail "$name: $what: independent_verify exit $rc (wanted 1 with '$keyword'): $out"
	fi
}

accepted() { # NAME ROOT REPORTDATA QUOTE-FILE
	local name=$1 root=$2 rd=$3 q=$4 out
	if out="$("$ours" --root "$root" --report-data "$rd" "$q" 2>&1)"; then
		pass "$name: tdx-quote-verify: ${out%%$'\n'*}"
	else
		fail "$name: tdx-quote-verify refused it: $out"
	fi
	if out="$("$python" "$independent" --root "$root" --report-data "$rd" "$q" 2>&1)"; then
		pass "$name: independent_verify: ${out//$'\n'/; }"
	else
		fail "$name: independent_verify refused it: $out"
	fi
}

tr -d '\r' <"$log" >"$work/log"
root_b64="$(awk '$1 == "TDX-QUOTE-ROOT" { print $2; exit }' "$work/log")"
[ -n "$root_b64" ] || die "no TDX-QUOTE-ROOT line in $log"
if ! base64 -d <<<"$root_b64" >"$work/root.pem" 2>/dev/null || ! openssl x509 -in "$work/root.pem" -noout 2>/dev/null; then
	die "the TDX-QUOTE-ROOT line of $log is not a base64 PEM certificate"
fi

# The throwaway root: the real root's subject, a fresh P-384 key.
openssl req -config /dev/null -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes \
	-keyout "$work/wrong-root.key" -sha384 -days 2 -subj "$(subject "$work/root.pem")" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
	-out "$work/wrong-root.pem" 2>"$work/openssl.err" || die "openssl: $(cat "$work/openssl.err")"
[ "$(subject "$work/wrong-root.pem")" = "$(subject "$work/root.pem")" ] ||
	die "the throwaway root did not get the real root's subject ($(subject "$work/root.pem"))"

# platform_cert QUOTE CA(TRUE|FALSE) OUT-DER: the quote's platform certificate remade with that CA
# flag: same subject and public key, issued by the throwaway root.
platform_cert() {
	local q=$1 ca=$2 out=$3
	qedit platform-der "$q" "$work/platform.der" &&
		openssl x509 -inform DER -in "$work/platform.der" -noout -pubkey >"$work/platform-pub.pem" &&
		printf '[v3]\nbasicConstraints=critical,CA:%s\nkeyUsage=critical,keyCertSign\n' "$ca" >"$work/ext.cnf" &&
		openssl req -config /dev/null -new -key "$work/wrong-root.key" \
			-subj "$(subject "$work/platform.der" der)" -out "$work/platform.csr" &&
		openssl x509 -req -in "$work/platform.csr" -CA "$work/wrong-root.pem" -CAkey "$work/wrong-root.key" \
			-force_pubkey "$work/platform-pub.pem" -set_serial 1 -sha384 -days 2 \
			-extfile "$work/ext.cnf" -extensions v3 -outform DER -out "$out"
} 2>"$work/openssl.err"

tamper() { # MODE [ARG]: the current quote $q tampered that way, in $q.MODE; or a FAIL
	local err
	if ! err="$(qedit "$1" "$q" "$q.$1" "${@:2}" 2>&1)"; then
		fail "$name: cannot make the '$1' tamper: $err"
		return 1
	fi
}

n=0
while read -r _ name rd b64 rest; do
	n=$((n + 1))
	q="$work/q$n.bin"
	if [ -n "$rest" ] || ! [[ $rd =~ ^[0-9a-fA-F]{128}$ ]] || ! base64 -d <<<"$b64" >"$q" 2>/dev/null; then
		fail "quote line $n ($name): not 'TDX-QUOTE NAME REPORTDATA(128 hex) BASE64'"
		continue
	fi
	accepted "$name" "$work/root.pem" "$rd" "$q"

	sig_bad="signature over the Sig_structure does not verify"
	tamper payload "$rd" &&
		refused "$name" "a flipped payload byte (in REPORTDATA)" signature-invalid "$sig_bad" \
			"$work/root.pem" "$rd" "$q.payload"
	tamper sig &&
		refused "$name" "a flipped signature byte" signature-invalid "$sig_bad" "$work/root.pem" "$rd" "$q.sig"
	refused "$name" "a wrong root (same subject, other key)" untrusted-root "is not signed by the trusted root" \
		"$work/wrong-root.pem" "$rd" "$q"
	other_rd="$("$python" -c 'import sys; print(bytes(b ^ 0xff for b in bytes.fromhex(sys.argv[1])).hex())' "$rd")"
	refused "$name" "a wrong REPORTDATA" report-data-mismatch "report_data is not the expected REPORTDATA" \
		"$work/root.pem" "$other_rd" "$q"
	tamper trunc &&
		refused "$name" "a truncated quote (last byte cut)" truncated "not well-formed CBOR" \
			"$work/root.pem" "$rd" "$q.trunc"
	tamper trail &&
		refused "$name" "a trailing byte" trailing-bytes "trailing bytes" "$work/root.pem" "$rd" "$q.trail"
	if platform_cert "$q" FALSE "$work/nonca.der" && platform_cert "$q" TRUE "$work/ca.der"; then
		tamper splice-platform "$work/nonca.der" &&
			refused "$name" "a chain with a non-CA issuer (platform certificate cA=FALSE)" issuer-not-ca \
				"issues TDX module certificate but is not a CA" "$work/root.pem" "$rd" "$q.splice-platform"
		tamper splice-platform "$work/ca.der" &&
			refused "$name" "control: the same splice with cA=TRUE fails only at the root" untrusted-root \
				"is not signed by the trusted root" "$work/root.pem" "$rd" "$q.splice-platform"
	else
		fail "$name: openssl could not remake the platform certificate: $(cat "$work/openssl.err")"
	fi
done < <(awk '$1 == "TDX-QUOTE"' "$work/log")

[ "$n" -ge "$min" ] || fail "$n quotes in $log, want at least $min"
[ "$fails" -eq 0 ] || die "$fails check(s) failed"
echo "verify-guest-quotes: $n quotes verified by both verifiers, each refused for the reason of each tamper"
