# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# getquote: TD guests' TDG.VP.VMCALL<GetQuote> end to end (issue 9; ABI.md §9), through
# kvm_tdx_quote.ko with the test build's TD harness (tdx_td_harness.ko makes the TDs,
# tdx_gq_harness.ko gives them guest memory and issues their TDVMCALLs), on an EXT+QUOTE image.
#  - every check of the request, on a TD of each path, with its TDVMCALL status and header status;
#  - a valid request on each path: a quote tdx-quote-verify accepts with the TD's REPORTDATA;
#  - SetupEventNotifyInterrupt: offered on the userspace path only, vector 32..255, raised once
#    per completed quote;
#  - 4 TDs x GQ_STORM (25) requests at once on each path: every request completes once, every
#    quote verifies and carries its own TD's MRTD;
#  - the userspace path's faults: the quote service killed mid-request, the VMM stand-in killed
#    with a request in flight and with one queued, a malformed and an unsolicited QGS reply, a
#    reply for an unknown request: each request ends in a documented status, later ones succeed;
#  - quoting unavailable: a QUOTE.GET failure ends an in-kernel TD's request with
#    SERVICE_UNAVAILABLE; TDs created after that quote through userspace.
# The userspace path runs tools/tdx-quote-service in the guest: tdx-qgs (the quote generation
# service; the emulator signs as the quoting enclave, over the PCI serial line to its control
# socket) and tdx-quote-vmm (the VMM stand-in on /dev/kvm_tdx_quote).

GQ_STORM="${GQ_STORM:-25}" # requests per TD in the storms (make check's debug boot: fewer)
VM_SUCCESS=0x0
VM_INVALID=0x8000000000000000
VM_ALIGN=0x8000000000000002
VM_UNSUPP=0x8000000000000003
ST_SUCCESS=0x0
ST_ERROR=0x8000000000000000
ST_UNAVAIL=0x8000000000000001

# gq_ends ID R12 R13 RET [STATUS [nowait]]: the TD's GetQuote answers RET and leaves STATUS in
# the header (waited for while IN_FLIGHT, unless nowait).
gq_ends() {
	_out="$(gctl gq "$1" "$2" "$3" ${6:+"$6"})" || { echo "$_out"; return 1; }
	expect_eq "$(gq_field ret "$_out")" "$4" || { echo "$_out"; return 1; }
	[ -z "$5" ] || expect_eq "$(gq_field status "$_out")" "$5" || { echo "$_out"; return 1; }
}

# A TD with GetQuote memory: gq_td's (its path decided now, a 2-page shared buffer at 0x100000),
# a private page at 0x200000, a shared+private pair at 0x300000.
td_with_memory() { # ID IN_KERNEL
	gq_td "$1" "$2" || return 1
	gctl mem "$1" 0x200000 1 private >/dev/null &&
		gctl mem "$1" 0x300000 1 shared >/dev/null &&
		gctl mem "$1" 0x301000 1 private >/dev/null
}

# The checks of ABI.md §9 on TD ID, in order; each sees its TDVMCALL status and header status.
request_checks() { # ID
	_b="$(shared 0x100000)"
	gctl prep "$1" 0x100000 "$(rd_of 1 0001)" >/dev/null
	check "TD $1: a private GPA: INVALID_OPERAND" gq_ends "$1" 0x100000 0x2000 "$VM_INVALID"
	check "TD $1: size 0: INVALID_OPERAND" gq_ends "$1" "$_b" 0 "$VM_INVALID"
	check "TD $1: a misaligned GPA: ALIGN_ERROR" gq_ends "$1" "$(shared 0x100010)" 0x2000 "$VM_ALIGN"
	check "TD $1: a misaligned size: ALIGN_ERROR" gq_ends "$1" "$_b" 0x1800 "$VM_ALIGN"
	check "TD $1: size 0 before alignment: INVALID_OPERAND" gq_ends "$1" "$(shared 0x100010)" 0 "$VM_INVALID"
	check "TD $1: a range that wraps: INVALID_OPERAND" gq_ends "$1" 0xfffffffffffff000 0x2000 "$VM_INVALID"
	check "TD $1: a range past the GPA space: INVALID_OPERAND" \
		gq_ends "$1" "$(shared 0x7ffffffff000)" 0x2000 "$VM_INVALID"
	check "TD $1: a partly private range: INVALID_OPERAND" gq_ends "$1" "$(shared 0x300000)" 0x2000 "$VM_INVALID"
	check "TD $1: an unbacked range: INVALID_OPERAND" gq_ends "$1" "$(shared 0x900000)" 0x1000 "$VM_INVALID"
	check "  the buffer was not touched by any of those (status 0)" \
		expect_eq "$(gq_field status "$(gctl peek "$1" 0x100000)")" 0x0
	gctl prep "$1" 0x100000 "$(rd_of 1 0002)" version=2 >/dev/null
	check "TD $1: header version 2: INVALID_OPERAND, status ERROR" gq_ends "$1" "$_b" 0x2000 "$VM_INVALID" "$ST_ERROR"
	gctl prep "$1" 0x100000 "$(rd_of 1 0003)" in_len=4073 >/dev/null
	check "TD $1: in_len + 24 > 4096: status ERROR" gq_ends "$1" "$_b" 0x2000 "$VM_INVALID" "$ST_ERROR"
	gctl prep "$1" 0x100000 "$(rd_of 1 0004)" out_len=8169 >/dev/null
	check "TD $1: out_len + 24 > size: status ERROR" gq_ends "$1" "$_b" 0x2000 "$VM_INVALID" "$ST_ERROR"
	gctl prep "$1" 0x100000 "$(rd_of 1 0005)" in_len=4072 >/dev/null
	check "TD $1: in_len + 24 = 4096 passes the header check (a 4072-byte report is refused later)" \
		gq_ends "$1" "$_b" 0x2000 "$2" "$3"
}

# valid_quote ID RD NAME: a valid request, its quote verified with RD; prints it for the host.
valid_quote() {
	gctl prep "$1" 0x100000 "$2" >/dev/null || return 1
	gq_ends "$1" "$(shared 0x100000)" 0x2000 "$VM_SUCCESS" "$ST_SUCCESS" || return 1
	cat "$G/quote" >"/tmp/$3.q"
	verify "/tmp/$3.q" "$2" >/dev/null || return 1
	print_quote "$3" "$2" "/tmp/$3.q"
}

# storm_all PATH: 4 TDs x GQ_STORM requests at once; every request SUCCESS once, every quote verified
# against its own REPORTDATA and its own TD's MRTD.
storm_all() {
	for _t in 11 12 13 14; do
		gctl storm "$_t" "$GQ_STORM" "$(rd_of "$_t" 0000)" >/dev/null || return 1
	done
	for _t in 11 12 13 14; do
		_sw="$(gctl stormwait "$_t")" || { echo "$_sw"; return 1; }
		expect_eq "$(gq_field success "$_sw")" "$GQ_STORM" || { echo "TD $_t: $_sw"; return 1; }
	done
	for _t in 11 12 13 14; do
		_i=0
		while [ "$_i" -lt "$GQ_STORM" ]; do
			_sq="$(gctl stormquote "$_t" "$_i")" || { echo "$_sq"; return 1; }
			_rd="$(gq_field rd "$_sq")"
			verify "$G/quote" "$_rd" --json >/tmp/sq.json 2>&1 || { echo "TD $_t #$_i: $(cat /tmp/sq.json)"; return 1; }
			_m="$(sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' /tmp/sq.json | head -n 1)"
			expect_eq "$_m" "$(cat "/tmp/mrtd.$_t")" || { echo "TD $_t #$_i: another TD's quote"; return 1; }
			_i=$((_i + 1))
		done
	done
}

storm_tds() { # in_kernel (1|0): 4 fresh TDs of that path, each TD's own MRTD recorded
	for _t in 11 12 13 14; do
		hctl destroy "$_t" >/dev/null 2>&1
		gctl detach "$_t" >/dev/null 2>&1
		hctl destroy "$_t" >/dev/null 2>&1
		gq_td "$_t" "$1" || return 1
		hctl quote "$_t" "$(rd_of "$_t" ffff)" >/dev/null || return 1
		verify "$H/quote" "$(rd_of "$_t" ffff)" --json 2>/dev/null |
			sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1 >"/tmp/mrtd.$_t"
		[ -s "/tmp/mrtd.$_t" ] || return 1
	done
}

# ---- setup ----
tdx_ensure_unloaded
emuctl clear >/dev/null
for f in "$HARNESS_KO" "$KQ_KO" "$GQ_KO"; do
	check "$(basename "$f") is in the initramfs" path_exists "$f" || return 0
done
check "tdx-quote-verify, tdx-qgs and tdx-quote-vmm are in the guest" \
	sh -c 'command -v tdx-quote-verify && command -v tdx-qgs && command -v tdx-quote-vmm' || return 0
check "the emulator's second serial line is there" qe_tty || return 0
gq_modules || return 0
check "quoting enabled (kernel log)" kernel_log_has 'quoting enabled'
check "the emulator exports its root certificate" quote_root_save || return 0
print_quote_root
check "/dev/kvm_tdx_quote exists" test -c /dev/kvm_tdx_quote

# ---- TD 1: in-kernel path ----
check "TD 1 created and attached" td_with_memory 1 1 || return 0
check "TD 1 quotes in the kernel" expect_eq "$(gq_field path "$(gctl info 1)")" kernel
request_checks 1 "$VM_INVALID" "$ST_UNAVAIL"
check "TD 1: a valid request: SUCCESS and a quote that verifies" valid_quote 1 "$(rd_of 1 00aa)" gq-kernel
check "TD 1: SetupEventNotifyInterrupt is not offered in-kernel" \
	expect_eq "$(gq_field ret "$(gctl notify 1 40)")" "$VM_UNSUPP"
check "TD 1: an unknown sub-function: SUBFUNC_UNSUPPORTED" \
	expect_eq "$(gq_field ret "$(gctl vmcall 1 0x10099 0 0)")" "$VM_UNSUPP"

# ---- TD 2: userspace path, no VMM yet ----
check "TD 2 created and attached" td_with_memory 2 0 || return 0
check "TD 2 quotes through userspace" expect_eq "$(gq_field path "$(gctl info 2)")" user
gctl prep 2 0x100000 "$(rd_of 2 0001)" >/dev/null
check "TD 2 with no VMM: SUBFUNC_UNSUPPORTED (the preset), status SERVICE_UNAVAILABLE" \
	gq_ends 2 "$(shared 0x100000)" 0x2000 "$VM_UNSUPP" "$ST_UNAVAIL"
qgs_start || cat /tmp/qgs.log
check "tdx-qgs is up" test -S "$QGS_SOCK" || return 0
vmm_start
check "tdx-quote-vmm has /dev/kvm_tdx_quote open" kill -0 "$VMM_PID" || return 0
request_checks 2 "$VM_INVALID" "$ST_ERROR"
check "TD 2: vector 31 refused" expect_eq "$(gq_field ret "$(gctl notify 2 31)")" "$VM_INVALID"
check "TD 2: vector 256 refused" expect_eq "$(gq_field ret "$(gctl notify 2 256)")" "$VM_INVALID"
check "TD 2: vector 40 accepted" expect_eq "$(gq_field ret "$(gctl notify 2 40)")" "$VM_SUCCESS"
irqs0="$(gq_field irqs "$(gctl info 2)")"
check "TD 2: a valid request: SUCCESS and a quote that verifies" valid_quote 2 "$(rd_of 2 00bb)" gq-user
check "  the notify vector was raised once" expect_eq "$(gq_field irqs "$(gctl info 2)")" $((irqs0 + 1))
check "  the kernel and userspace quotes are of different TDs" \
	test "$(verify /tmp/gq-kernel.q "$(rd_of 1 00aa)" --json | grep -o '"mrtd": *"[0-9a-f]*"' | head -n 1)" != \
	"$(verify /tmp/gq-user.q "$(rd_of 2 00bb)" --json | grep -o '"mrtd": *"[0-9a-f]*"' | head -n 1)"

# ---- userspace path faults ----
gctl prep 2 0x100000 "$(rd_of 2 0010)" >/dev/null
kill -STOP "$QGS_PID"
check "QGS stopped: the request is answered and in flight" \
	gq_ends 2 "$(shared 0x100000)" 0x2000 "$VM_SUCCESS" 0xffffffffffffffff nowait
kill -KILL "$QGS_PID"
wait "$QGS_PID" 2>/dev/null
check "QGS killed mid-request: status SERVICE_UNAVAILABLE" \
	expect_eq "$(gq_field status "$(gctl wait 2 0x100000)")" "$ST_UNAVAIL"
qgs_start
check "restart tdx-qgs" test -S "$QGS_SOCK" || return 0
check "the next request succeeds" valid_quote 2 "$(rd_of 2 0011)" gq-user2

kill -STOP "$QGS_PID"
gctl prep 2 0x100000 "$(rd_of 2 0012)" >/dev/null
check "VMM with a request in flight" gq_ends 2 "$(shared 0x100000)" 0x2000 "$VM_SUCCESS" 0xffffffffffffffff nowait
kill -KILL "$VMM_PID"
wait "$VMM_PID" 2>/dev/null
kill -CONT "$QGS_PID"
check "VMM killed: the kernel ends the request SERVICE_UNAVAILABLE" \
	expect_eq "$(gq_field status "$(gctl wait 2 0x100000)")" "$ST_UNAVAIL"
# One raise per finished request since irqs0: the valid quote, the QGS kill, the quote after it,
# and this one, ended by the kernel.
check "  and raised the notify vector" expect_eq "$(gq_field irqs "$(gctl info 2)")" $((irqs0 + 4))
vmm_start
kill -STOP "$VMM_PID"
gctl prep 2 0x100000 "$(rd_of 2 0013)" >/dev/null
gctl gq 2 "$(shared 0x100000)" 0x2000 >/tmp/gq.bg &
bg=$!
vmm1=$VMM_PID
vmm_start
check "a second VMM is up while the first is stopped" kill -0 "$VMM_PID"
kill -KILL "$vmm1"
wait "$vmm1" 2>/dev/null
wait "$bg"
check "a request queued while the VMM was stopped is served by its successor" \
	expect_eq "$(gq_field ret "$(cat /tmp/gq.bg)")" "$VM_SUCCESS"
check "  with a quote" expect_eq "$(gq_field status "$(cat /tmp/gq.bg)")" "$ST_SUCCESS"

# tdx-qgs answering its next request with a faulty reply: status ERROR, then a good request.
qgs_fault_case() { # FAULT ARTICLE REQUEST-RD-TAIL NEXT-RD-TAIL NEXT-NAME; 1: tdx-qgs did not start
	qgs_stop
	qgs_start --test-fault "$1:1"
	check "tdx-qgs with $2 $1 reply" test -S "$QGS_SOCK" || return 1
	gctl prep 2 0x100000 "$(rd_of 2 "$3")" >/dev/null
	check "$2 $1 QGS reply: status ERROR" gq_ends 2 "$(shared 0x100000)" 0x2000 "$VM_SUCCESS" "$ST_ERROR"
	check "the next request succeeds" valid_quote 2 "$(rd_of 2 "$4")" "$5"
}
qgs_fault_case malformed a 0014 0015 gq-user3 || return 0
qgs_fault_case unsolicited an 0016 0017 gq-user4 || return 0
# struct kvm_tdx_quote_reply {id 0x7fff0000, op RESUME, pad 0, ret 0}: no such request.
printf '\000\000\377\177\000\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' >/tmp/reply.bin
check "a reply record (24 bytes)" expect_eq "$(wc -c </tmp/reply.bin)" 24
check_fails "a reply for an unknown request is refused" dd if=/tmp/reply.bin of=/dev/kvm_tdx_quote bs=24 count=1
check "  with ENOENT" expect_match "$LAST_OUT" 'No such file'
qgs_stop
qgs_start
check "restart tdx-qgs" test -S "$QGS_SOCK" || return 0
check "the next request succeeds" valid_quote 2 "$(rd_of 2 0018)" gq-user5

# While a request is in flight its status is the kernel's: DONE carries it.
vmm_stop
vmm_start --test-probe-rules
check "tdx-quote-vmm probing the kernel's rules is up" kill -0 "$VMM_PID" || return 0
check "a request with the probe succeeds" valid_quote 2 "$(rd_of 2 0021)" gq-user7
check "  a MEM write over its status: EPERM; a DONE with status IN_FLIGHT: EINVAL" \
	expect_match "$(grep '^probe ' /tmp/vmm.log | tail -n 1)" 'status_write=EPERM done_in_flight=EINVAL$'
vmm_stop
vmm_start
# A TD that reuses its buffer as soon as it sees the status: the end of one request never
# touches the next one's header.
check "TD 2: 30 GetQuotes back to back on one buffer, each SUCCESS" \
	expect_eq "$(gq_field success "$(gctl bench 2 30 0x100000)")" 30

# A quote larger than the TD's one-page buffer (the emulator pads what it signs).
check "the emulator pads quotes by 300 bytes" emuctl quote pad 300
for t in 1 2; do
	gctl prep "$t" 0x100000 "$(rd_of "$t" 0019)" >/dev/null
	[ "$t" = 1 ] && want=$VM_INVALID || want=$VM_SUCCESS
	check "TD $t: a quote larger than a one-page buffer: status ERROR, out_len 0" \
		gq_ends "$t" "$(shared 0x100000)" 0x1000 "$want" "$ST_ERROR"
	check "  out_len 0" expect_eq "$(gq_field out_len)" 0
	check "TD $t: with two pages it fits" gq_ends "$t" "$(shared 0x100000)" 0x2000 "$VM_SUCCESS" "$ST_SUCCESS"
done
check "the emulator stops padding" emuctl quote pad 0
check "the next request succeeds" valid_quote 2 "$(rd_of 2 0020)" gq-user6

# ---- 4 TDs x GQ_STORM at once on each path ----
check "4 userspace TDs" storm_tds 0 || return 0
check "storm: 4 TDs x $GQ_STORM through userspace, each quote verified and its TD's" storm_all
check "4 in-kernel TDs" storm_tds 1 || return 0
check "storm: 4 TDs x $GQ_STORM in the kernel, each quote verified and its TD's" storm_all
for t in 11 12 13 14; do gctl detach "$t" >/dev/null; hctl destroy "$t" >/dev/null; done

# ---- quoting unavailable ----
check "fault quote.get armed" emuctl fault quote.get 1 status 0xC000050800000000
gctl prep 1 0x100000 "$(rd_of 1 0030)" >/dev/null
check "TD 1 (in-kernel), quoting failing: SERVICE_UNAVAILABLE, INVALID_OPERAND" \
	gq_ends 1 "$(shared 0x100000)" 0x2000 "$VM_INVALID" "$ST_UNAVAIL"
check "  and quoting is disabled" kernel_log_has 'quoting disabled'
gctl prep 1 0x100000 "$(rd_of 1 0031)" >/dev/null
check "TD 1 stays in-kernel: SERVICE_UNAVAILABLE again" \
	gq_ends 1 "$(shared 0x100000)" 0x2000 "$VM_INVALID" "$ST_UNAVAIL"
check "TD 3, created now, quotes through userspace" td_with_memory 3 1 || return 0
check "  (path user)" expect_eq "$(gq_field path "$(gctl info 3)")" user
check "TD 3: a valid request through userspace verifies" valid_quote 3 "$(rd_of 3 00cc)" gq-user7

# ---- teardown ----
vmm_stop
qgs_stop
for t in 1 2 3; do
	check "detach TD $t" gctl detach "$t"
	check "destroy TD $t" hctl destroy "$t"
done
check "rmmod tdx_gq_harness" rmmod tdx_gq_harness
check "rmmod tdx_td_harness" rmmod tdx_td_harness
check "rmmod kvm_tdx_quote" rmmod kvm_tdx_quote
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
