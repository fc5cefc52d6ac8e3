# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# `make demo` (scripts/demo.sh): each flow, step by step, with what the kernel and the emulator saw.
# The parts, run in the order DEMO_PART (run.sh --env DEMO_PART=...) lists them:
#   foundation (default; the production tdx_host.ko, run.sh's default profile): the mailbox,
#     bring-up, the emulator's view, the device, unload, a failure injected at KEY.CONFIG; then the
#     platform loads an EXT+QUOTE module image (the emulator's "image ext-quote") and the same
#     production module brings it up with its extensions: the memory pool (pages and KiB in the
#     kernel log, the emulator's ext counters) and quoting enabled; unload gives the pool back.
#   quote (the TEST build of tdx_host.ko, the test module tdx_td_harness.ko, tdx-quote-verify in
#     the guest, run.sh --profile ext-quote.json): a simulated TD created through the real
#     TD-management SEAMCALLs, a quote for it with a chosen REPORTDATA through tdx_host's exported
#     quoting interface, verified in the guest against the emulator's root certificate, its claims
#     printed; the quote is printed ("TDX-QUOTE ...") for scripts/verify-guest-quotes.sh on the host.
#   getquote (as quote, plus kvm_tdx_quote.ko, the test module tdx_gq_harness.ko, tdx-qgs and
#     tdx-quote-vmm; scripts/demo.sh runs it in the quote boot): TD guests' TDG.VP.VMCALL<GetQuote>.
#     TD A in the kernel: the buffer's header before and after, r10, the quote verified. TD B
#     through userspace: the quote service and the VMM stand-in started, SetupEventNotifyInterrupt,
#     the exit read from /dev/kvm_tdx_quote while the VMM is paused, status IN_FLIGHT while tdx-qgs
#     is paused, then DONE, the vector raised, the quote verified. A private GPA refused on both.
#   update (the same test build and tools plus tdx-module-update, run.sh --profile update.json, the
#     images the host made with scripts/update-images.py in /data: a good one and one the kernel
#     refuses, listed in /data/images.list; EMU_CPU_SIGNATURE): the versions (module, P-SEAMLDR,
#     updates left), a TD and its quote, the bad image pushed through the fw_upload files and
#     refused with its reason, the good one pushed the same way with each state of the upload, the
#     blackout the kernel logged, the new versions, and the TD's quote after it: verified, its SEAM
#     origin TCB still the module it was created under, its current TCB the new one. Both quotes
#     are printed for scripts/verify-guest-quotes.sh.

step() {
	echo
	echo "---- demo step: $*"
}

tdx_log() {
	dmesg | grep 'tdx_host:' | sed 's/^/    kernel: /'
}

emu_show() { # CMD...: the emulator's reply, indented
	echo "    emulator $*: $(emuctl "$@")"
}

emu_value() { # KEY CMD...: KEY of the emulator's reply to CMD
	_k="$1"
	shift
	_r="$(emuctl "$@")" || { echo "emulator: $*: $_r" >&2; return 1; }
	kv_get "$_k" "$_r" || { echo "emulator: no $_k in '$_r'" >&2; return 1; }
}

expect_emu() { # KEY WANT CMD...
	_k="$1"
	_w="$2"
	shift 2
	_v="$(emu_value "$_k" "$@" 2>&1)" || { echo "$_v"; return 1; }
	expect_eq "$_v" "$_w"
}

part_start() { # a part after a boot's start: no module loaded, no faults, counters from zero
	tdx_ensure_unloaded
	emuctl clear >/dev/null
	emuctl reset-counters >/dev/null
}

demo_foundation() {
	step "1. the emulator's mailbox is an ivshmem PCI device (1af4:1110); the emulator answers"
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
			echo "    found at ${d##*/}"
		fi
	done
	check "emulator answers on its control channel" emuctl ping
	echo "    emulator: $(emuctl state)"

	step "2. insmod tdx_host.ko: SYS.INIT, LP.INIT on every CPU, metadata (SYS.RDALL), TDMRs+PAMTs, SYS.CONFIG, KEY.CONFIG, TDMR.INIT"
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "insmod brings TDX up" insmod "$TDX_KO" seamcall=emu
	tdx_log

	step "3. what the TDX module (emulator) saw: its calls per leaf, and its state"
	echo "    $(emuctl counters)"
	echo "    $(emuctl state)"
	check "emulator reports SYS_READY" emu_state_is SYS_READY

	step "4. the tdx_host device"
	# shellcheck disable=SC2012 # the listing itself is what the step shows
	ls -l "$TDX_SYSFS/" | sed 's/^/    /'
	echo "    version: $(cat "$TDX_SYSFS/version")"
	check "version matches the emulator profile ($EXPECTED_VERSION)" expect_eq "$(cat "$TDX_SYSFS/version")" "$EXPECTED_VERSION"

	step "5. rmmod: SYS.DISABLE, cache flush, PAMTs freed"
	dmesg -c >/dev/null
	check "rmmod tears TDX down" rmmod tdx_host
	tdx_log
	echo "    $(emuctl state)"
	check "emulator is disabled again (SYSINIT_PENDING)" tdx_left_disabled

	step "6. a failure injected at KEY.CONFIG: insmod fails cleanly and undoes everything"
	check "inject TDX_OPERAND_INVALID at the first KEY.CONFIG" emuctl fault key.config 1 status 0xC000010000000000
	dmesg -c >/dev/null
	check_fails "insmod fails" insmod "$TDX_KO" seamcall=emu
	tdx_log
	check "no tdx_host device left behind" path_absent "$TDX_SYSFS"
	check "clear faults" emuctl clear
	check "insmod succeeds again" insmod "$TDX_KO" seamcall=emu
	check "rmmod" rmmod tdx_host
	check "kernel log is clean" dmesg_clean

	step "7. the platform loads a TDX module image with module extensions and the quoting add-on (TDX_FEATURES0 bits 39 EXT and 50 QUOTE; emulator profile ext-quote.json)"
	check "the emulator runs image ext-quote from the next bring-up" emuctl image ext-quote || return 0
	emu_show ext
	emu_show quote

	step "8. insmod the same production tdx_host.ko: SYS.CONFIG v1 asks for QUOTE, EXT.MEM.ADD hands the memory pool over (HPA lists of up to 512 pages), EXT.INIT, QUOTE.INIT, the quote buffer"
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "insmod brings TDX up with its extensions" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the kernel logged the memory pool (pages and KiB)" \
		kernel_log_has 'extensions: [0-9]+ pages \([0-9]+ KiB\) in the memory pool'
	check "the kernel logged that quoting is enabled" kernel_log_has 'quoting enabled: MAX_QUOTE_SIZE'

	step "9. what the TDX module (emulator) saw: the extension and quoting leaves, the pool it now owns"
	echo "    $(emuctl counters)"
	emu_show ext
	emu_show quote
	pages="$(dmesg | sed -n 's/.*tdx_host: TDX module extensions: \([0-9]*\) pages.*/\1/p' | head -n 1)"
	kib="$(dmesg | sed -n 's/.*tdx_host: TDX module extensions: [0-9]* pages (\([0-9]*\) KiB).*/\1/p' | head -n 1)"
	echo "    the kernel handed over ${pages:-?} pages (${kib:-?} KiB); the emulator asked for $(emu_value required_pages ext) and holds $(emu_value pool_pages ext)"
	check "the KiB the kernel logged are its pages x 4" expect_eq "$kib" "$((${pages:-0} * 4))"
	check "SYS.CONFIG v1 enabled the QUOTE add-on" expect_emu addons 0x4000000000000 state
	check "the pool the kernel logged is the one the emulator asked for" expect_emu required_pages "$pages" ext
	check "the emulator holds exactly those pages" expect_emu pool_pages "$pages" ext
	check "EXT.INIT completed" expect_emu ext_init_done 1 ext
	check "QUOTE.INIT completed: the emulator has its DICE chain" expect_emu initialized 1 quote

	step "10. rmmod: SYS.DISABLE, and only then does the memory pool come back"
	check "kernel log is clean after the bring-up" dmesg_clean
	dmesg -c >/dev/null
	check "rmmod tears TDX down" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "the emulator released the pool" expect_emu pool_pages 0 ext
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (the next boot of the demo makes a quote for a TD)"
}

# --- the quoting part: the test build ------------------------------------------------------------

# The ASCII text "tdx-host make demo: REPORTDATA chosen by the verifier", zero-padded to 64 bytes.
DEMO_RD=7464782d686f7374206d616b652064656d6f3a205245504f5254444154412063686f73656e206279207468652076657269666965720000000000000000000000
OTHER_RD=$(printf '00%.0s' $(seq 64))

demo_quote() {
	part_start

	step "11. a quote for a TD needs a TD: this boot runs the TEST build of tdx_host.ko (the production module plus test hooks and the export of the emulator-only TDREPORT service) and tdx_td_harness.ko, a test module that builds simulated TDs (no vCPUs, no private memory) through the real TD-management SEAMCALLs, as KVM would; neither is what users install"
	check "the test build of tdx_host.ko and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
	check "tdx-quote-verify (the verifier, built on the host) is in the guest" command -v tdx-quote-verify || return 0
	dmesg -c >/dev/null
	check "insmod tdx_host.ko (test build) on the EXT+QUOTE image" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the kernel logged the memory pool" kernel_log_has 'extensions: [0-9]+ pages \([0-9]+ KiB\) in the memory pool'
	check "the kernel logged that quoting is enabled" kernel_log_has 'quoting enabled'
	check "insmod tdx_td_harness.ko (test module)" insmod "$HARNESS_KO" || return 0

	step "12. the root a verifier pins: the emulator's DICE root certificate (its platform secret never leaves it)"
	check "the emulator exports its root certificate" quote_root_save || return 0
	sed 's/^/    /' /tmp/root.pem
	print_quote_root

	step "13. create TD 1 with the harness: MNG.CREATE, MNG.KEY.CONFIG, MNG.ADDCX, MNG.INIT, MR.EXTEND of GPAs 0x1000 and 0x2000, MR.FINALIZE"
	check "create TD 1" hctl create 1 gpa=0x1000 gpa=0x2000 || return 0
	echo "    harness: $(cat "$H/result")"
	sed 's/^/    harness TD: /' "$H/tds"
	emu_show td

	step "14. a quote for TD 1 with REPORTDATA = the text 'tdx-host make demo: REPORTDATA chosen by the verifier': its TDREPORT (emulator service), then tdx_host's exported quoting interface (TDH.QUOTE.GET, resumable, over the quote buffer's HPA linked list)"
	emuctl reset-counters >/dev/null
	check "quote for TD 1" hctl quote 1 "$DEMO_RD" || return 0
	cat "$H/quote" >/tmp/q1
	echo "    harness: $(cat "$H/result")"
	echo "    TDH.QUOTE.GET calls: $(emu_value quote.get counters quote.get)"
	emu_show quote
	print_quote td1 "$DEMO_RD" /tmp/q1

	step "15. verify it in the guest: tdx-quote-verify against the emulator's root, with the REPORTDATA chosen above; the claims it carries"
	check "TD 1's quote verifies with its REPORTDATA" verify /tmp/q1 "$DEMO_RD" || return 0
	verify /tmp/q1 "$DEMO_RD" | sed 's/^/    /'
	check_fails "the same quote does not verify with another REPORTDATA (the reason is printed)" verify /tmp/q1 "$OTHER_RD"
	check "the quote's MRTD is the one the emulator measured for TD 1" \
		expect_emu tds.0.mrtd "$(quote_mrtd /tmp/q1 "$DEMO_RD")" td

	step "16. teardown: the TD destroyed (MNG.KEY.FREEID, PHYMEM.CACHE.WB, PHYMEM.PAGE.RECLAIM), the harness and tdx_host unloaded"
	check "destroy TD 1" hctl destroy 1
	check "the emulator reclaimed it" expect_emu reclaimed 1 td
	check "rmmod tdx_td_harness" rmmod tdx_td_harness
	check "kernel log is clean after the TD and its quote" dmesg_clean
	dmesg -c >/dev/null
	check "rmmod tdx_host" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (after this boot, scripts/verify-guest-quotes.sh checks the quote printed above again on the host)"
}

# --- the GetQuote part: a TD's quote request answered in the kernel and through userspace ---------

# REPORTDATA of TD A and TD B: the ASCII texts "tdx-host make demo: GetQuote answered in the
# kernel" and "... through userspace", zero-padded to 64 bytes.
GQ_RD_A=7464782d686f7374206d616b652064656d6f3a2047657451756f746520616e73776572656420696e20746865206b65726e656c00000000000000000000000000
GQ_RD_B=7464782d686f7374206d616b652064656d6f3a2047657451756f746520616e737765726564207468726f75676820757365727370616365000000000000000000
GQ_BUF=0x100000 # each TD's 2-page shared buffer (gq_td); r12 is its shared alias
EXIT_SIZE=56    # struct kvm_tdx_quote_exit

gq_name() { # ret|status VALUE: the GHCI name of a TDVMCALL status (r10) or a header status
	case "$1:$2" in
	*:0x0) echo SUCCESS ;;
	ret:0x8000000000000000) echo INVALID_OPERAND ;;
	ret:0x8000000000000002) echo ALIGN_ERROR ;;
	ret:0x8000000000000003) echo SUBFUNC_UNSUPPORTED ;;
	status:0xffffffffffffffff) echo IN_FLIGHT ;;
	status:0x8000000000000000) echo ERROR ;;
	status:0x8000000000000001) echo SERVICE_UNAVAILABLE ;;
	*) echo '?' ;;
	esac
}

gq_show() { # WHAT RESULT-LINE: the harness's result, r10 and status named, indented
	_gs=
	for _kv in $2; do
		case "$_kv" in
		ok) ;;
		ret=*) _gs="$_gs r10=${_kv#ret=} ($(gq_name ret "${_kv#ret=}"))" ;;
		status=0x0) # 0 with out_len 0: the request as the TD wrote it, not answered
			if [ "$(gq_field out_len "$2")" = 0 ]; then _gs="$_gs status=0x0"; else _gs="$_gs status=0x0 (SUCCESS)"; fi ;;
		status=*) _gs="$_gs status=${_kv#status=} ($(gq_name status "${_kv#status=}"))" ;;
		*) _gs="$_gs $_kv" ;;
		esac
	done
	echo "    $1:$_gs"
}

gq_header() { # ID LABEL: the header of the TD's buffer as the guest would read it
	gq_show "$2" "$(gctl peek "$1" "$GQ_BUF")"
}

header_is() { # ID STATUS IN_LEN OUT_LEN
	_hl="$(gctl peek "$1" "$GQ_BUF")" || { echo "$_hl"; return 1; }
	expect_eq "$(gq_field status "$_hl") $(gq_field in_len "$_hl") $(gq_field out_len "$_hl")" "$2 $3 $4" ||
		{ echo "header: $_hl"; return 1; }
}

result_is() { # RESULT-LINE RET STATUS: a GetQuote's r10 and header status
	expect_eq "$(gq_field ret "$1") $(gq_field status "$1")" "$2 $3" || { echo "result: $1"; return 1; }
}

quote_mrtd() { # QUOTE REPORTDATA: the TD's MRTD the quote carries
	verify "$1" "$2" --json | sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1
}

claims_brief() { # QUOTE REPORTDATA: verified; its main claims, indented
	verify "$1" "$2" >"$1.txt" || { cat "$1.txt"; return 1; }
	sed -n 's/^\(quote: .*\)/    \1/p; s/^report_data ([-0-9]*): /    report_data: /p' "$1.txt"
	echo "    td mrtd: $(quote_mrtd "$1" "$2")"
	echo "    seam mrseam (current): $(seam_claim "$1.txt" current mrseam)"
}

quote_of_last() { # FILE OUT_LEN: the harness's quote into FILE, as long as the header said
	cat "$G/quote" >"$1"
	expect_eq "$(wc -c <"$1")" "$2"
}

poll_until() { # TRIES CMD...: CMD until it succeeds, every 10 ms, TRIES times at most
	_pn=$1
	shift
	until "$@"; do
		_pn=$((_pn - 1))
		[ "$_pn" -gt 0 ] || return 1
		sleep 0.01
	done
}

proc_state() { read -r _sp _sc _ss _sr <"/proc/$1/stat" && [ "$_ss" = "$2" ]; } # PID STATE

state_is() { # PID STATE: the process gets to that state (T: stopped), waited for up to 5 s
	poll_until 500 proc_state "$1" "$2" || { echo "process $1 is not in state $2"; return 1; }
}

hex64() { # a 16-digit hex word as 0x... without leading zeros
	_hx="$(echo "$1" | sed 's/^0*//')"
	echo "0x${_hx:-0}"
}

# take_exit: one exit record from /dev/kvm_tdx_quote as a VMM reads it (blocking until one is
# queued, 2 minutes at most) into /tmp/exit.bin; the file is closed without an answer.
take_exit() {
	rm -f /tmp/exit.bin
	timeout 120 dd if=/dev/kvm_tdx_quote of=/tmp/exit.bin bs="$EXIT_SIZE" count=1 2>/dev/null ||
		{ echo "no exit could be read"; return 1; }
	expect_eq "$(wc -c </tmp/exit.bin)" "$EXIT_SIZE"
}

exit_show() { # the record take_exit read: its fields into EXIT_*, printed (not in a subshell)
	# shellcheck disable=SC2046 # seven words
	set -- $(od -A n -t x8 -v /tmp/exit.bin)
	EXIT_ID=$((0x$1))
	EXIT_TD=$((0x$2 & 0xffffffff))
	EXIT_REASON=$((0x$2 >> 32))
	EXIT_NR=$(hex64 "$4")
	EXIT_RET=$(hex64 "$5")
	EXIT_GPA=$(hex64 "$6")
	EXIT_LEN=$(hex64 "$7")
	echo "    exit: id=$EXIT_ID td=$EXIT_TD exit_reason=$EXIT_REASON (KVM_EXIT_TDX) flags=$(hex64 "$3")" \
		"nr=$EXIT_NR (GetQuote) ret=$EXIT_RET ($(gq_name ret "$EXIT_RET"), preset) gpa=$EXIT_GPA size=$EXIT_LEN"
}

vmm_done() { # ID: tdx-quote-vmm's "done" line of that request, waited for up to 30 s
	poll_until 3000 grep "^done id=$1 " /tmp/vmm.log || { echo "no 'done id=$1' in /tmp/vmm.log"; return 1; }
}

path_td() { # ID NAME IN_KERNEL PATH: a TD attached to kvm_tdx_quote with that path, as checks
	check "create TD $2 (harness TD $1) and attach it to kvm_tdx_quote (in_kernel=$3)" gq_td "$1" "$3" || return 1
	gq_show "GetQuote harness" "$(gctl info "$1")"
	check "TD $2 quotes on the $4 path" expect_eq "$(gq_field path "$(gctl info "$1")")" "$4"
}

td_gone() { gctl detach "$1" >/dev/null && hctl destroy "$1" >/dev/null; } # ID

demo_getquote() {
	part_start

	step "17. a TD guest asks for its own quote: TDG.VP.VMCALL<GetQuote> on a buffer it shares with the host. kvm_tdx_quote.ko (a module users install) answers it as KVM's TDVMCALL handler would: in the kernel (tdx_host's quoting interface), or, for TDs created while its parameter in_kernel is 0, as an exit to a userspace VMM. tdx_gq_harness.ko (test module) plays KVM: the TDs' guest memory, a vCPU issuing the TDVMCALL"
	for f in "$HARNESS_KO" "$KQ_KO" "$GQ_KO"; do
		check "${f##*/} is in the initramfs" path_exists "$f" || return 0
	done
	check "tdx-quote-verify, tdx-qgs and tdx-quote-vmm are in the guest" \
		sh -c 'command -v tdx-quote-verify && command -v tdx-qgs && command -v tdx-quote-vmm' || return 0
	dmesg -c >/dev/null
	gq_modules || return 0
	check "quoting enabled (kernel log)" kernel_log_has 'quoting enabled'
	check "/dev/kvm_tdx_quote is there for a VMM" test -c /dev/kvm_tdx_quote || return 0
	check "the emulator exports its root certificate (the root a verifier pins)" quote_root_save || return 0

	step "18. TD A, in-kernel path (created with in_kernel=1): a 2-page shared buffer at GPA $GQ_BUF, the header (version 1, in_len 1024) and its TDREPORT with REPORTDATA = the text 'tdx-host make demo: GetQuote answered in the kernel'; then GetQuote(r12 = $(shared $GQ_BUF), the shared alias; r13 = 0x2000)"
	path_td 1 A 1 kernel || return 0
	check "TD A writes its request" gctl prep 1 "$GQ_BUF" "$GQ_RD_A" || return 0
	gq_header 1 "header before"
	check "  status 0, in_len 1024, out_len 0" header_is 1 0x0 1024 0
	check "TDG.VP.VMCALL<GetQuote>: answered synchronously" gctl gq 1 "$(shared $GQ_BUF)" 0x2000 || return 0
	res="$LAST_OUT"
	gq_show "returned" "$res"
	check "  r10 SUCCESS, status SUCCESS" result_is "$res" 0x0 0x0
	gq_header 1 "header after"
	out_a="$(gq_field out_len "$res")"
	check "  the quote at GPA+24 is out_len ($out_a) bytes" quote_of_last /tmp/gq-a.q "$out_a"

	step "19. TD A's quote verified in the guest: tdx-quote-verify against the emulator's root with TD A's REPORTDATA; its main claims"
	check "TD A's quote verifies with its REPORTDATA" claims_brief /tmp/gq-a.q "$GQ_RD_A" || return 0
	printf '%s\n' "$LAST_OUT"
	check_fails "  and not with another REPORTDATA" verify /tmp/gq-a.q "$GQ_RD_B"

	step "20. TD B, userspace path (created with in_kernel=0): the quote generation service tdx-qgs (the emulator signs as the quoting enclave) and the VMM stand-in tdx-quote-vmm started; TD B sets its notify vector: TDG.VP.VMCALL<SetupEventNotifyInterrupt>(r12 = 40)"
	path_td 2 B 0 user || return 0
	handle_b="$(gq_field handle "$(gctl info 2)")"
	qgs_start
	check "tdx-qgs listens on $QGS_SOCK" test -S "$QGS_SOCK" || return 0
	vmm_start
	check "tdx-quote-vmm has /dev/kvm_tdx_quote open" kill -0 "$VMM_PID" || return 0
	echo "    tdx-qgs --socket $QGS_SOCK --emulator $(qe_tty) &    tdx-quote-vmm --qgs $QGS_SOCK &"
	check "SetupEventNotifyInterrupt(40): r10 SUCCESS" expect_eq "$(gq_field ret "$(gctl notify 2 40)")" 0x0
	irqs0="$(gq_field irqs "$(gctl info 2)")"

	step "21. TD B's GetQuote(r12 = $(shared $GQ_BUF), r13 = 0x2000) leaves the kernel as an exit: with tdx-quote-vmm paused (SIGSTOP) the vCPU waits in the TDVMCALL, and the exit is read here from /dev/kvm_tdx_quote as a VMM reads it (closed unanswered, it goes back to the queue)"
	check "TD B writes its request (REPORTDATA = 'tdx-host make demo: GetQuote answered through userspace')" \
		gctl prep 2 "$GQ_BUF" "$GQ_RD_B" || return 0
	gq_header 2 "header before"
	kill -STOP "$VMM_PID"
	check "tdx-quote-vmm paused" state_is "$VMM_PID" T || return 0
	gctl gq 2 "$(shared $GQ_BUF)" 0x2000 nowait >/tmp/gq-b.bg 2>&1 &
	vcpu=$!
	check "the exit is on /dev/kvm_tdx_quote" take_exit || return 0
	exit_show
	check "  a GetQuote exit (40, 0x10002) of TD B's handle ($handle_b) for its buffer, shared bit stripped" \
		expect_eq "$EXIT_REASON $EXIT_NR $EXIT_TD $EXIT_GPA $EXIT_LEN" "40 0x10002 $handle_b $GQ_BUF 0x2000"
	gq_header 2 "header while the exit waits"
	check "  status IN_FLIGHT: the kernel wrote it before queuing the exit" header_is 2 0xffffffffffffffff 1024 0

	step "22. tdx-qgs paused, the VMM resumed: it takes the exit, reads the TDREPORT (KVM_TDX_QUOTE_MEM), answers RESUME r10=SUCCESS and asks tdx-qgs; the TD runs on, its request IN_FLIGHT. tdx-qgs resumed: the VMM writes the quote and out_len, says DONE with the status; the kernel writes the status and raises TD B's vector"
	kill -STOP "$QGS_PID"
	check "tdx-qgs paused" state_is "$QGS_PID" T || return 0
	kill -CONT "$VMM_PID"
	wait "$vcpu"
	res="$(cat /tmp/gq-b.bg)"
	gq_show "the TDVMCALL returned" "$res"
	check "  r10 SUCCESS, status still IN_FLIGHT: the quote is being made" result_is "$res" 0x0 0xffffffffffffffff
	gq_header 2 "header"
	check "  no interrupt yet" expect_eq "$(gq_field irqs "$(gctl info 2)")" "$irqs0"
	kill -CONT "$QGS_PID"
	check "the request completes" gctl wait 2 "$GQ_BUF" || return 0
	res="$LAST_OUT"
	gq_show "completed" "$res"
	check "  status SUCCESS" expect_eq "$(gq_field status "$res")" 0x0
	gq_header 2 "header after"
	out_b="$(gq_field out_len "$res")"
	check "  the quote at GPA+24 is out_len ($out_b) bytes" quote_of_last /tmp/gq-b.q "$out_b"
	check "  tdx-quote-vmm completed the exit read above (id=$EXIT_ID) with DONE" vmm_done "$EXIT_ID"
	echo "    tdx-quote-vmm: $LAST_OUT"
	echo "    $(tail -n 1 /tmp/qgs.log)"
	check "  the quote it wrote is this one" expect_eq "$LAST_OUT" "done id=$EXIT_ID td=$handle_b status=0x0 out_len=$out_b"
	gq_show "GetQuote harness" "$(gctl info 2)"
	check "  and the kernel raised vector 40, once" expect_eq "$(gq_field vectors "$(gctl info 2)")" 40:1

	step "23. TD B's quote verified in the guest against the emulator's root with TD B's REPORTDATA; its main claims"
	check "TD B's quote verifies with its REPORTDATA" claims_brief /tmp/gq-b.q "$GQ_RD_B" || return 0
	printf '%s\n' "$LAST_OUT"
	check "  TD A's and TD B's quotes carry different MRTDs (each its own TD)" \
		test "$(quote_mrtd /tmp/gq-a.q "$GQ_RD_A")" != "$(quote_mrtd /tmp/gq-b.q "$GQ_RD_B")"

	step "24. a bad request: r12 = $GQ_BUF, the buffer without the shared bit: a private GPA the host must not touch. Refused first thing: r10 INVALID_OPERAND, the header untouched, no exit for userspace"
	done0="$(grep -c '^done ' /tmp/vmm.log)"
	for t in 1:A 2:B; do
		gctl prep "${t%:*}" "$GQ_BUF" "$(rd_of "${t%:*}" 0bad)" >/dev/null
		check "TD ${t#*:}: GetQuote(r12 = $GQ_BUF, r13 = 0x2000) returns" gctl gq "${t%:*}" "$GQ_BUF" 0x2000
		res="$LAST_OUT"
		gq_show "TD ${t#*:}" "$res"
		check "  r10 INVALID_OPERAND" expect_eq "$(gq_field ret "$res")" 0x8000000000000000
		check "  the header untouched (status 0, out_len 0)" header_is "${t%:*}" 0x0 1024 0
	done
	check "  the VMM saw no new request" expect_eq "$(grep -c '^done ' /tmp/vmm.log)" "$done0"
	check "kvm_tdx_quote never read or wrote a private page of either TD (private_io=0)" \
		expect_eq "$(gq_field private_io "$(gctl info 1)") $(gq_field private_io "$(gctl info 2)")" "0 0"

	step "25. teardown: tdx-quote-vmm and tdx-qgs stopped, the TDs detached and destroyed, the modules unloaded"
	vmm_stop
	qgs_stop
	for t in 1 2; do
		check "detach and destroy TD $t" td_gone "$t"
	done
	for m in tdx_gq_harness tdx_td_harness kvm_tdx_quote; do check "rmmod $m" rmmod "$m"; done
	check "kernel log is clean after both paths" dmesg_clean
	dmesg -c >/dev/null
	check "rmmod tdx_host" rmmod tdx_host
	check "the TDX module was disabled" tdx_left_disabled
	echo
	echo "    (the next boot updates the TDX module under a TD)"
}

# --- the update part: a runtime TDX module update under a live TD ---------------------------------

# The fw_upload entry ($FW), expected_of, version_of and version_is are lib.sh's (shared with update.sh).
# The REPORTDATA of TD 1's quotes in this part: the ASCII text "tdx-host make demo: a TD across a
# runtime update", zero-padded to 64 bytes.
UPDATE_RD=7464782d686f7374206d616b652064656d6f3a2061205444206163726f737320612072756e74696d652075706461746500000000000000000000000000000000

# fw_watch CPU: every state of one upload, read on CPU (fw_push starts it in the background before
# the upload, whose work runs on CPU 0). It reads with the shell's own `read` (no process per read, so
# a state of a few milliseconds is seen too): it waits for the status to leave idle (unless
# /tmp/fw.ended says the upload ended unseen), then prints each change of status and remaining_size
# until idle again; 10 minutes at most, by /proc/uptime.
fw_watch() {
	read -r _pid _x </proc/self/stat
	taskset -p -c "$1" "$_pid" >/dev/null
	: >/tmp/fw.watching
	_seen=
	read -r _t0 _x </proc/uptime
	while :; do
		read -r _s <"$FW/status"
		read -r _r <"$FW/remaining_size"
		if [ -n "$_seen" ] || [ "$_s" != idle ]; then
			[ "$_s $_r" = "$_seen" ] || echo "    $FW: status=$_s remaining_size=$_r"
			_seen="$_s $_r"
			[ "$_s" != idle ] || return 0
		elif [ -e /tmp/fw.ended ]; then
			echo "    (the upload ended before a state of it was read)"
			return 0
		fi
		read -r _t _x </proc/uptime
		[ $((${_t%.*} - ${_t0%.*})) -lt 600 ] || { echo "    the upload is stuck at $_s"; return 1; }
	done
}

# fw_push NAME: the raw fw_upload protocol with /data/NAME.blob, each state of the upload shown;
# its `error` into /tmp/fw.error ("" when accepted). The upload's work is queued on the CPU that
# writes `loading` (a per-CPU workqueue): this shell writes it from CPU 0, fw_watch reads from the
# last CPU, so the states are seen as they come rather than after the work has had the CPU.
fw_push() {
	rm -f /tmp/fw.watching /tmp/fw.ended
	echo "    echo 1 >$FW/loading"
	echo 1 >"$FW/loading" || return 1
	echo "    cat /data/$1.blob >$FW/data   ($(wc -c <"/data/$1.blob") bytes)"
	cat "/data/$1.blob" >"$FW/data" || return 1
	_last=$(($(nproc) - 1))
	read -r _pid _x </proc/self/stat
	taskset -p -c 0 "$_pid" >/dev/null || return 1
	fw_watch "$_last" >/tmp/fw.states &
	_watcher=$!
	_n=0
	while [ ! -e /tmp/fw.watching ] && [ "$_n" -lt 1000 ]; do
		_n=$((_n + 1))
		sleep 0.01
	done
	echo "    echo 0 >$FW/loading"
	_rc=1
	if echo 0 >"$FW/loading"; then
		wait_status idle 60000 && _rc=0
	fi
	: >/tmp/fw.ended
	wait "$_watcher" || _rc=1
	taskset -p -c "0-$_last" "$_pid" >/dev/null
	cat /tmp/fw.states
	[ "$_rc" -eq 0 ] || { echo "    the upload did not end: status $(cat "$FW/status")"; return 1; }
	cat "$FW/error" >/tmp/fw.error
	echo "    $FW/error: '$(cat /tmp/fw.error)'"
}

quote_td1() { quote_verified 1 "$UPDATE_RD" "$1" >/dev/null; } # FILE

seam_claims_show() { # FILE.txt: the SEAM submod's origin and current claims, indented
	awk '/^seam /{s=1} /^td /{s=0} s' "$1" | sed 's/^/    /'
}

param_show() { # the running versions as sysfs shows them
	echo "    $TDX_SYSFS/version: $(cat "$TDX_SYSFS/version")"
	echo "    $TDX_SYSFS/seamldr_version: $(cat "$TDX_SYSFS/seamldr_version")"
	echo "    $TDX_SYSFS/num_remaining_updates: $(cat "$TDX_SYSFS/num_remaining_updates")"
}

demo_update() {
	part_start

	step "26. a runtime update of the TDX module, with a TD alive across it: this boot runs the test build of tdx_host.ko and the TD harness on the update.json platform (a P-SEAMLDR that takes updates, a module with EXT and QUOTE); the host built the images with tdx-mkimage and its test signing key"
	check "the test build of tdx_host.ko and the harness are in the initramfs" path_exists "$HARNESS_KO" || return 0
	check "tdx-quote-verify and tdx-module-update are in the guest" \
		sh -c 'command -v tdx-quote-verify && command -v tdx-module-update' || return 0
	check "the images are in /data" path_exists /data/images.list || return 0
	sed 's/^/    \/data\/images.list: /' /data/images.list
	dmesg -c >/dev/null
	check "insmod tdx_host.ko (test build)" insmod "$TDX_KO" seamcall=emu || return 0
	tdx_log
	check "the update is offered: the fw_upload entry $FW" path_exists "$FW/loading" || return 0
	_files=
	for _f in "$FW"/*; do _files="$_files ${_f##*/}"; done
	echo "    $FW:$_files"
	param_show
	v0="$(cat "$TDX_SYSFS/version")"
	left0="$(cat "$TDX_SYSFS/num_remaining_updates")"
	check "version is the profile's ($EXPECTED_VERSION)" version_is "$EXPECTED_VERSION"
	check "seamldr_version reads x.y.zz" expect_match "$(cat "$TDX_SYSFS/seamldr_version")" '^[0-9]+\.[0-9]+\.[0-9][0-9]$'
	check "num_remaining_updates reads a number" expect_match "$left0" '^[0-9]+$'
	emu_show seamldr

	step "27. create TD 1 with the harness and quote it: REPORTDATA = the text 'tdx-host make demo: a TD across a runtime update'; verified in the guest against the emulator's root"
	check "insmod tdx_td_harness.ko (test module)" insmod "$HARNESS_KO" || return 0
	check "the emulator exports its root certificate" quote_root_save || return 0
	print_quote_root
	check "create TD 1" hctl create 1 gpa=0x1000 gpa=0x2000 || return 0
	sed 's/^/    harness TD: /' "$H/tds"
	check "TD 1's quote before the update verifies" quote_td1 /tmp/qa || return 0
	print_quote td1-before-update "$UPDATE_RD" /tmp/qa
	echo "    the TDX module's claims in it (tdx-quote-verify): origin = the module the TD was created under, current = the one running now"
	seam_claims_show /tmp/qa.txt
	check "before: origin and current are the same module" \
		expect_eq "$(seam_claim /tmp/qa.txt origin mrseam)" "$(seam_claim /tmp/qa.txt current mrseam)"

	step "28. what tdx-module-update, the tool a user runs, makes of these images for this platform (CPU $EMU_CPU_SIGNATURE) and the running versions: it picks by version and CPU (nothing is written); whether an image is trusted is for the kernel and the P-SEAMLDR to say"
	check "tdx-module-update --list" tdx-module-update --list --dir /data --cpu-fms "$EMU_CPU_SIGNATURE"
	printf '%s\n' "$LAST_OUT" | sed 's/^/    /'

	while read -r bad why _version; do
		[ "$why" != ok ] || continue
		step "29. an image the kernel refuses: $bad.blob ($why), pushed by hand through the fw_upload files; the running module goes on"
		emuctl reset-counters >/dev/null
		dmesg -c >/dev/null
		check "upload $bad.blob" fw_push "$bad"
		printf '%s\n' "$LAST_OUT"
		tdx_log
		check "$bad: the upload ends firmware-invalid" expect_match "$(cat /tmp/fw.error)" ':firmware-invalid$'
		check "$bad: the kernel says why: update: image refused: $why" kernel_log_has "update: image refused: $why"
		check "$bad: the version is unchanged ($v0)" version_is "$v0"
		check "$bad: no update was taken" expect_eq "$(cat "$TDX_SYSFS/num_remaining_updates")" "$left0"
		check "$bad: nothing was stopped (no TDH.SYS.SHUTDOWN)" expect_count sys.shutdown 0
		check "$bad: the P-SEAMLDR never got it (no SEAMLDR.INSTALL)" expect_emu install_calls 0 seamldr
		check "$bad: TD 1 still quotes" quote_td1 /tmp/qr
	done </data/images.list

	good="good-b"
	v1="$(version_of "$good")"
	step "30. the update: $good.blob (module $v1), by hand through the fw_upload files; each state of the upload as it is read (preparing: the header, the signature, the P-SEAMLDR's checks; transferring: the install with every CPU stopped, remaining_size 0 once it is done; programming has nothing left to do and passes unseen); TD 1 stays"
	check "$good is an image that should go in" expect_eq "$(expected_of "$good")" ok || return 0
	emuctl reset-counters >/dev/null
	dmesg -c >/dev/null
	check "upload $good.blob" fw_push "$good"
	printf '%s\n' "$LAST_OUT"
	check "$good: accepted (error is empty)" expect_eq "$(cat /tmp/fw.error)" ""

	step "31. what the kernel logged: the new module, how long every CPU was stopped (the blackout), quoting re-keyed; the new versions"
	tdx_log
	check "the kernel logged the new version and the blackout time" \
		kernel_log_has "update: TDX module updated to $v1 \(build [0-9]+, [0-9]+\), [0-9]+ us with every CPU stopped"
	check "quoting goes on with the new module (kernel log)" kernel_log_has 'quoting re-keyed'
	param_show
	check "version: $v0 -> $v1" version_is "$v1"
	check "num_remaining_updates: $left0 -> $((left0 - 1))" \
		expect_eq "$(cat "$TDX_SYSFS/num_remaining_updates")" "$((left0 - 1))"
	echo "    TDX module calls of the update: TDH.SYS.SHUTDOWN $(emu_value sys.shutdown counters sys.shutdown), TDH.SYS.UPDATE $(emu_value sys.update counters sys.update)"
	emu_show seamldr
	check "the P-SEAMLDR installed it" expect_emu installs_ok 1 seamldr

	step "32. TD 1 after the update: still there, and its quote verifies; origin is still the module it was created under, current is the new one"
	sed 's/^/    harness TD: /' "$H/tds"
	check "TD 1 still exists" expect_match "$(cat "$H/tds")" '^1 '
	check "TD 1's quote after the update verifies" quote_td1 /tmp/qb || return 0
	print_quote td1-after-update "$UPDATE_RD" /tmp/qb
	seam_claims_show /tmp/qb.txt
	for f in mrseam tee_tcb_svn; do
		echo "    origin  $f: $(seam_claim /tmp/qa.txt origin $f) -> $(seam_claim /tmp/qb.txt origin $f)"
		echo "    current $f: $(seam_claim /tmp/qa.txt current $f) -> $(seam_claim /tmp/qb.txt current $f)"
	done
	check "origin TCB unchanged: the module TD 1 was created under" \
		expect_eq "$(seam_claim /tmp/qb.txt origin mrseam)" "$(seam_claim /tmp/qa.txt origin mrseam)"
	check "current TCB changed: the new module" \
		test "$(seam_claim /tmp/qb.txt current mrseam)" != "$(seam_claim /tmp/qa.txt current mrseam)"
	check "the current TEE_TCB_SVN changed too" \
		test "$(seam_claim /tmp/qb.txt current tee_tcb_svn)" != "$(seam_claim /tmp/qa.txt current tee_tcb_svn)"

	step "33. teardown: TD 1 destroyed, the harness and tdx_host unloaded (SYS.DISABLE on the updated module)"
	check "destroy TD 1" hctl destroy 1
	check "rmmod tdx_td_harness" rmmod tdx_td_harness
	check "kernel log is clean after the update" dmesg_clean
	dmesg -c >/dev/null
	emuctl reset-counters >/dev/null
	check "rmmod tdx_host" rmmod tdx_host
	tdx_log
	check "the TDX module was disabled" tdx_left_disabled
	check "kernel log is clean" dmesg_clean
	echo
	echo "    (on the host, scripts/verify-guest-quotes.sh now checks both quotes of TD 1 again)"
}

for part in ${DEMO_PART:-foundation}; do
	case "$part" in
	foundation) demo_foundation ;;
	quote) demo_quote ;;
	getquote) demo_getquote ;;
	update) demo_update ;;
	*) check "DEMO_PART names foundation, quote, getquote or update, not '$part'" false ;;
	esac
done
