# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# `make demo` (scripts/demo.sh): each flow, step by step, with what the kernel and the emulator saw.
# Two boots, chosen by DEMO_PART (run.sh --env DEMO_PART=...):
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
	tdx_ensure_unloaded
	emuctl clear >/dev/null
	emuctl reset-counters >/dev/null

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
	mrtd_quote="$(verify /tmp/q1 "$DEMO_RD" --json | sed -n 's/.*"mrtd": *"\([0-9a-fA-F]*\)".*/\1/p' | head -n 1)"
	check "the quote's MRTD is the one the emulator measured for TD 1" expect_emu tds.0.mrtd "$mrtd_quote" td

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
	echo "    (on the host, scripts/verify-guest-quotes.sh now checks the quote printed above again)"
}

case "${DEMO_PART:-foundation}" in
foundation) demo_foundation ;;
quote) demo_quote ;;
*) check "DEMO_PART is foundation or quote, not '$DEMO_PART'" false ;;
esac
