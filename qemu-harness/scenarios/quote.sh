# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# quote: TDs and quotes end to end, with the test build of tdx_host.ko and the TD harness
# (tdx_td_harness.ko) on an EXT+QUOTE module image, and tdx-quote-verify in the guest (run.sh
# --bin). TDs are created through the real TD-management leaves; their quotes come through
# tdx_host's exported quoting interface (TDH.QUOTE.GET over the HPA linked list) and must verify
# against the root certificate the emulator exports, with the chosen REPORTDATA; two TDs' quotes
# differ in their TD measurements; a forged TDREPORT, another TD's TDREPORT and a TD that does not
# exist are refused; a QUOTE.GET failure disables quoting and leaves TDX up; host writes into the
# extension pool are reported by the emulator. The quotes and the root are printed
# ("TDX-QUOTE NAME REPORTDATA BASE64", "TDX-QUOTE-ROOT BASE64" of the PEM) for scripts/verify-guest-quotes.sh,
# which checks them again on the host with the independent verifier.

RD1=$(printf '11%.0s' $(seq 64))
RD2=$(printf 'a5%.0s' $(seq 64))

tdx_ensure_unloaded
emuctl clear >/dev/null
emuctl reset-counters >/dev/null

result_is() { # REGEX: the harness's last result matches
	expect_match "$(cat "$H/result")" "$1"
}

quote_value() { # KEY of the emulator's "quote" reply
	_r="$(emuctl quote)" || { echo "emulator: quote: $_r" >&2; return 1; }
	kv_get "$1" "$_r"
}

json_field() { # FILE KEY: a "KEY": "value" string of tdx-quote-verify --json output, first match
	sed -n "s/.*\"$2\": *\"\\([0-9a-fA-F]*\\)\".*/\\1/p" "$1" | head -n 1
}

check "tdx_host.ko (test build) and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
check "tdx-quote-verify is in the guest" command -v tdx-quote-verify || return 0
check "insmod tdx_host" tdx_insmod || return 0
check "TDX is up" tdx_version_ok
check "quoting enabled (kernel log)" kernel_log_has 'quoting enabled'
# Whether the backend foresees the local APIC timer depends on the host letting its rate be timed
# (backend.cpp): shown, not checked.
note "$(dmesg | grep -o 'emulator calls: .*' | tail -n 1)"
check "the emulator's quoting is initialized" expect_eq "$(quote_value initialized)" 1
check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 0

check "the emulator exports its root certificate" quote_root_save || return 0
print_quote_root

check "create TD 1 (two GPAs measured)" hctl create 1 gpa=0x1000 gpa=0x2000 || return 0
check "create TD 2 (one other GPA)" hctl create 2 gpa=0x5000 || return 0
note "$(cat "$H/tds")"
check "the emulator lists both TDs" expect_match "$(emuctl td)" " created=2 "

check "quote for TD 1" hctl quote 1 "$RD1" || return 0
cat "$H/quote" >/tmp/q1
print_quote td1 "$RD1" /tmp/q1
check "TD 1's quote verifies with its REPORTDATA" verify /tmp/q1 "$RD1"
check_fails "TD 1's quote does not verify with another REPORTDATA" verify /tmp/q1 "$RD2"
check "quote for TD 2" hctl quote 2 "$RD2" || return 0
cat "$H/quote" >/tmp/q2
print_quote td2 "$RD2" /tmp/q2
check "TD 2's quote verifies with its REPORTDATA" verify /tmp/q2 "$RD2"
verify /tmp/q1 "$RD1" --json >/tmp/q1.json 2>&1
verify /tmp/q2 "$RD2" --json >/tmp/q2.json 2>&1
m1="$(json_field /tmp/q1.json mrtd)"
m2="$(json_field /tmp/q2.json mrtd)"
check "the quotes carry MRTDs" test -n "$m1" -a -n "$m2"
check "the two TDs' MRTDs differ" test "$m1" != "$m2"
check "a second quote for TD 1 verifies too" hctl quote 1 "$RD2"
cat "$H/quote" >/tmp/q1b
check "and carries the new REPORTDATA" verify /tmp/q1b "$RD2"
check "and TD 1's MRTD again" expect_eq "$(verify /tmp/q1b "$RD2" --json | sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1)" "$m1"

# A pending interrupt ends QUOTE.GET's wait for its signature (mailbox.h, "Host interrupts"): with
# the emulator's signer held, each call waits out its budget unless the guest CPU it serves has an
# interrupt pending or its timer about to fire (the tick comes within milliseconds) and says so in
# its slot.
i0="$(quote_value gets_interrupted)"
check "the emulator's signer held" emuctl quote hold-signer on
hctl quote 1 "$RD1" >/tmp/qhold.out 2>&1 &
qpid=$!
n=0 # a bound on the wait for the first interrupted call, not a timing check
while [ "$(quote_value gets_interrupted)" -le "$i0" ] && [ "$n" -lt 1000 ]; do
	sleep 0.01
	n=$((n + 1))
done
check "  QUOTE.GET's waits end on the CPU's pending interrupts" test "$(quote_value gets_interrupted)" -gt "$i0"
check "  the request is in progress meanwhile" expect_eq "$(quote_value get_in_progress)" 1
check "the signer released" emuctl quote hold-signer off
wait "$qpid" # (not inside check: its subshell cannot wait for this shell's child)
check "  the request then completes" expect_eq "$?" 0
cat "$H/quote" >/tmp/qhold
check "  and its quote verifies" verify /tmp/qhold "$RD1"
# The signer runs at normal priority only while a call waits for it (seam-emu README, "The
# signing budget"); the emulator runs as root here, so between calls it is back at SCHED_IDLE.
check "  the emulator's signer back at the host's idle priority" expect_eq "$(quote_value signer_priority)" idle

# Refusals: each must fail with -EINVAL and leave quoting enabled.
check_fails "a forged TDREPORT (REPORTDATA byte flipped) is refused" hctl forge 1 "$RD1" 130
check "  with -EINVAL" result_is '^error -22 '
check_fails "a forged TDREPORT (TDINFO byte flipped) is refused" hctl forge 1 "$RD1" 600
check "  with -EINVAL" result_is '^error -22 '
check_fails "TD 2's TDREPORT presented as TD 1's is refused" hctl swap 1 2 "$RD1"
check "  with -EINVAL" result_is '^error -22 '
check "quoting is still enabled after refusals" hctl quote 2 "$RD1"

# A QUOTE.GET failing in the module: quoting disabled, TDX up, later requests refused at once.
emuctl reset-counters >/dev/null
check "fault quote.get armed" emuctl fault quote.get 1 status 0xC000050800000000
check_fails "the quote request fails" hctl quote 1 "$RD1"
check "  with -EIO" result_is '^error -5 '
check "the kernel log says quoting is disabled" kernel_log_has 'quoting disabled'
check_fails "the next request is refused" hctl quote 1 "$RD1"
check "  with -ENODEV, without a SEAMCALL" result_is '^error -19 '
check "  (one QUOTE.GET in all)" expect_count quote.get 1
check "TDX is still up" tdx_version_ok

# Host writes into the extension pool are seen by the emulator.
pool_pa="$(kv_get pool0 "$(emuctl ext pool 0)")"
check "the emulator names a pool page" test -n "$pool_pa"
before="$(kv_get integrity_violations "$(emuctl ext check)")"
check "poke a pool page from the host" hctl poke "$pool_pa"
after="$(kv_get integrity_violations "$(emuctl ext check)")"
check "the emulator reports the host write" test "$after" -gt "$before"

check "destroy TD 1" hctl destroy 1
check "destroy TD 2" hctl destroy 2
check "the emulator reclaimed both TDs" expect_match "$(emuctl td)" " reclaimed=2( |$)"
check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod tdx_host" tdx_rmmod
check "the TDX module was disabled" tdx_left_disabled
check "dmesg clean" dmesg_clean
