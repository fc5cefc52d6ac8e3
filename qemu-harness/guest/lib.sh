# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# The guest shell is busybox ash, which has "read -t" (SC3045 is about POSIX sh).
# shellcheck disable=SC3045
# Helpers for guest scenarios (busybox ash). Sourced by /init and by every scenario.
#
# Checks:    check NAME CMD...        passes when CMD succeeds
#            check_fails NAME CMD...  passes when CMD fails
#            (both print "ok NAME" / "not ok NAME # reason", record the result, leave the
#            command's status in LAST_RC and its combined output in LAST_OUT, return 0/1)
# Predicates (use them with check): expect_eq GOT WANT, expect_match TEXT REGEX, dmesg_clean,
#            emu_state_is STATE, emu_state_is_not STATE, path_exists P, path_absent P,
#            module_loaded NAME, module_absent NAME, expect_count LEAF N, expect_count_min LEAF N,
#            kernel_log_has REGEX (on tdx_host: lines), tdx_version_ok, tdx_gone
#            After a failed check that makes the rest pointless, a scenario stops with
#            "|| return 0" (the failure is already counted).
# Emulator:  emuctl CMD...   one line to the emulator's control socket, one line back, printed:
#            "ok key=value ..." (status 0) or "error MESSAGE" (status 2); no reply: status 1.
#            The first emuctl of a boot switches the channel to that format ("format kv").
#            kv_get KEY LINE prints KEY's value in such a reply (fails when absent)
#            emu_state       prints the emulator's "state"; fails when the emulator does not answer
#            emu_count LEAF  calls of LEAF (a leaf name, e.g. sys.lp.init) since reset-counters;
#                            fails when the emulator does not answer
#            leaf_number LEAF the leaf's number, as the emulator's leaf table has it
#            state_field KEY  KEY's value in the emulator's state (fails, saying why, when absent)
# Module:    tdx_insmod [PARAM=V...] (seamcall=emu added; seamcall=hw with TDX_SEAMCALL=hw, the
#            SEAMCALL trap loaded first), tdx_rmmod, tdx_ensure_unloaded, trap_ensure_loaded;
#            insmod is the single-attempt /sbin/insmod (see below), not busybox's
# Misc:      note MSG (a "# MSG" line), mem_free_kb, drop_caches

HARNESS_RESULTS=/run/harness/results
HARNESS_EMUCTL_STALE=/run/harness/emuctl-stale
# Exists once the control channel has been switched to "format kv" (once per boot).
HARNESS_EMUCTL_KV=/run/harness/emuctl-kv
# Seconds to wait for an emulator reply (TCG guests are slow; the emulator answers at once).
EMUCTL_TIMEOUT="${EMUCTL_TIMEOUT:-10}"
# Kernel log lines that make a run unclean.
DMESG_BAD='WARNING:|BUG:|Oops|Unpatched return thunk|general protection|Call Trace'
# The module under test, as mkinitramfs.sh installs it, and its sysfs device (for scenarios).
# shellcheck disable=SC2034
TDX_KO=/lib/modules-tdx/tdx_host.ko
# shellcheck disable=SC2034
TDX_SYSFS=/sys/devices/faux/tdx_host

# Variables from run.sh / mkinitramfs.sh --env (EXPECTED_VERSION, ...).
if [ -f /etc/harness.env ]; then
	# shellcheck source=/dev/null
	. /etc/harness.env
fi

note() {
	echo "# $*"
}

_record() { # pass|fail NAME
	echo "$1 $2" >>"$HARNESS_RESULTS"
}

_show_output() {
	[ -n "$LAST_OUT" ] || return 0
	printf '%s\n' "$LAST_OUT" | tail -n 20 | sed 's/^/#   /'
}

# The "# ..." lines (from note) of a passing command's output.
_show_notes() {
	case "$LAST_OUT" in
	*'# '*) printf '%s\n' "$LAST_OUT" | grep '^# ' ;;
	esac
	return 0
}

check() {
	_name="$1"
	shift
	LAST_OUT="$("$@" 2>&1)"
	LAST_RC=$?
	if [ "$LAST_RC" -eq 0 ]; then
		echo "ok $_name"
		_show_notes
		_record pass "$_name"
		return 0
	fi
	echo "not ok $_name # '$*' exited with status $LAST_RC"
	_show_output
	_record fail "$_name"
	return 1
}

check_fails() {
	_name="$1"
	shift
	LAST_OUT="$("$@" 2>&1)"
	LAST_RC=$?
	if [ "$LAST_RC" -ne 0 ]; then
		echo "ok $_name # failed as expected (status $LAST_RC)"
		_show_output
		_record pass "$_name"
		return 0
	fi
	echo "not ok $_name # '$*' succeeded but should have failed"
	_show_output
	_record fail "$_name"
	return 1
}

expect_eq() { # GOT WANT
	if [ "$1" = "$2" ]; then
		return 0
	fi
	echo "got '$1', want '$2'"
	return 1
}

expect_match() { # TEXT EXTENDED-REGEX
	if printf '%s\n' "$1" | grep -E -q -- "$2"; then
		return 0
	fi
	echo "'$1' does not match /$2/"
	return 1
}

path_exists() {
	[ -e "$1" ] || { echo "$1 does not exist"; return 1; }
}

path_absent() {
	[ ! -e "$1" ] || { echo "$1 exists"; return 1; }
}

module_loaded() {
	grep -q "^$1 " /proc/modules || { echo "module $1 is not loaded"; return 1; }
}

module_absent() {
	! grep -q "^$1 " /proc/modules || { echo "module $1 is loaded"; return 1; }
}

# Fails, printing them, on kernel log lines matching DMESG_BAD (the log since this scenario began:
# /init clears it between scenarios).
dmesg_clean() {
	_bad="$(dmesg | grep -E "$DMESG_BAD")"
	if [ -z "$_bad" ]; then
		return 0
	fi
	printf '%s\n' "$_bad" | head -n 20
	return 1
}

# kmemleak: no unreferenced object allocated by tdx_host. Objects are reported once older than
# 5 s and unreferenced in a scan, so this waits that long, scans twice, and clears the list for the
# next scenario. A leak from a module that has since been unloaded shows in the backtrace as a bare
# address ("0xffffffffa0..." alone on its line): only the project's modules are ever loaded in these guests, so such
# frames count as tdx_host's too. Other reports are printed as notes.
kmemleak_clean() {
	_kml=/sys/kernel/debug/kmemleak
	[ -e "$_kml" ] || { echo "no $_kml: kmemleak is not built in"; return 1; }
	sleep 6
	# A disabled kmemleak (it turns itself off when its own allocation fails) refuses "scan" with
	# EPERM: then nothing was checked, which must not pass for "no leak".
	if ! { echo scan >"$_kml" && echo scan >"$_kml"; } 2>/dev/null; then
		echo "kmemleak refused to scan: it is disabled (see the kernel log), nothing was checked"
		return 1
	fi
	_rep="$(cat "$_kml")" || { echo "could not read $_kml"; return 1; }
	echo clear >"$_kml"
	[ -n "$_rep" ] || return 0
	if printf '%s\n' "$_rep" | grep -E -q 'tdx_host|kvm_tdx_quote|tdx_td_harness|tdx_gq_harness|^[[:space:]]*(\[<[0-9a-f]+>\] )?0x[0-9a-f]+$'; then
		printf '%s\n' "$_rep" | head -n 60
		return 1
	fi
	note "kmemleak reports outside our modules: $(printf '%s\n' "$_rep" | grep -c unreferenced)"
	printf '%s\n' "$_rep" | head -n 30 | sed 's/^/#   /'
	return 0
}

mem_free_kb() {
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# kv_get KEY LINE: the value of KEY in a control reply "ok key=value ..." (values never contain
# blanks). Prints nothing and fails when KEY is not there.
kv_get() {
	case $- in
	*f*) _kv_noglob=1 ;;
	*) _kv_noglob=0; set -f ;;
	esac
	_kv_rc=1
	for _kv_w in $2; do
		case "$_kv_w" in
		"$1="*)
			printf '%s\n' "${_kv_w#*=}"
			_kv_rc=0
			break
			;;
		esac
	done
	[ "$_kv_noglob" = 1 ] || set +f
	return "$_kv_rc"
}

_EMUCTL_CR="$(printf '\r')"

# One line to the emulator, its reply line in _reply; 1 when no reply came in time.
_emuctl_line() {
	# A reply that came too late for an earlier call must not be taken for this call's.
	if [ -e "$HARNESS_EMUCTL_STALE" ]; then
		while read -r -t 1 _junk <&8; do :; done
		rm -f "$HARNESS_EMUCTL_STALE"
	fi
	printf '%s\n' "$*" >&8
	# Busybox ash's read -t is a timeout on the read itself: no reader process to leak.
	if ! read -r -t "$EMUCTL_TIMEOUT" _reply <&8; then
		: >"$HARNESS_EMUCTL_STALE"
		return 1
	fi
	_reply="${_reply%"$_EMUCTL_CR"}"
	return 0
}

# emuctl CMD...: sends "CMD..." to the emulator over /dev/ttyS1 (fd 8, opened by /init and
# connected by QEMU to the emulator's control socket) and prints its one-line reply.
emuctl() {
	if ! { true <&8; } 2>/dev/null; then
		echo 'error no control channel (fd 8)'
		return 1
	fi
	if [ ! -e "$HARNESS_EMUCTL_KV" ]; then
		if ! _emuctl_line format kv; then
			echo "error no reply from the emulator within ${EMUCTL_TIMEOUT}s"
			return 1
		fi
		case "$_reply" in
		'ok format=kv') : >"$HARNESS_EMUCTL_KV" ;;
		*)
			echo "error the emulator did not switch to format kv: $_reply"
			return 1
			;;
		esac
	fi
	if ! _emuctl_line "$@"; then
		echo "error no reply from the emulator within ${EMUCTL_TIMEOUT}s"
		return 1
	fi
	printf '%s\n' "$_reply"
	case "$_reply" in
	ok | 'ok '*) return 0 ;;
	*) return 2 ;;
	esac
}

emu_state() {
	_es_r="$(emuctl state)" || { echo "emulator: $_es_r" >&2; return 1; }
	kv_get state "$_es_r" || { echo "emulator: no state in '$_es_r'" >&2; return 1; }
}

emu_state_is() {
	_st="$(emu_state 2>&1)" || { echo "no emulator state: $_st"; return 1; }
	[ "$_st" = "$1" ] || { echo "emulator state '$_st', want '$1'"; return 1; }
}

emu_state_is_not() {
	_st="$(emu_state 2>&1)" || { echo "no emulator state: $_st"; return 1; }
	[ "$_st" != "$1" ] || { echo "emulator state '$_st', want anything but '$1'"; return 1; }
}

# The single "name=value" of a reply such as "ok sys.lp.init=2"; fails on anything else.
_emu_one_value() {
	case "$1" in
	'ok '*=*) ;;
	*) return 1 ;;
	esac
	_ov="${1#ok }"
	case "$_ov" in
	*' '*) return 1 ;;
	esac
	printf '%s\n' "${_ov#*=}"
}

# state_field KEY: KEY's value in the emulator's "state" reply (e.g. tdmr_list.0.base); says why not.
state_field() {
	_sf="$(emuctl state)" || { echo "emulator: $_sf"; return 1; }
	kv_get "$1" "$_sf" || { echo "no $1 in the emulator's state: $_sf"; return 1; }
}

# emu_count LEAF: calls of LEAF (name or alias the emulator knows) since the last reset-counters.
emu_count() {
	_ec_r="$(emuctl counters "$1")" || { echo "emulator: counters $1: $_ec_r" >&2; return 1; }
	_ec_n="$(_emu_one_value "$_ec_r")" || { echo "emulator: counters $1: '$_ec_r'" >&2; return 1; }
	case "$_ec_n" in
	'' | *[!0-9]*) echo "emulator: counters $1: '$_ec_r'" >&2; return 1 ;;
	esac
	echo "$_ec_n"
}

# leaf_number LEAF: the leaf's number, from the emulator's leaf table (include/tdx/abi/leaves.h).
leaf_number() {
	_ln_r="$(emuctl leaves "$1")" || { echo "emulator: leaves $1: $_ln_r" >&2; return 1; }
	_emu_one_value "$_ln_r" || { echo "emulator: leaves $1: '$_ln_r'" >&2; return 1; }
}

# The mailbox: the ivshmem-plain PCI device (1af4:1110) whose BAR2 the emulator shares.
ivshmem_dev() {
	for _d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$_d/vendor")" = 0x1af4 ] && [ "$(cat "$_d/device")" = 0x1110 ]; then
			echo "$_d"
			return 0
		fi
	done
	echo "no ivshmem-plain (1af4:1110) PCI device" >&2
	return 1
}

# Physical address of the mailbox (BAR2, third line of the device's "resource" file).
mailbox_base() {
	_d="$(ivshmem_dev)" || return 1
	sed -n 3p "$_d/resource" | awk '{ print $1 }'
}

# mailbox_read OFFSET WIDTH(8|16|32|64): a value of the mailbox as 0x-prefixed upper-case hex,
# through /dev/mem (BAR resource files are mmap-only, which busybox cannot use).
mailbox_read() {
	_b="$(mailbox_base)" || return 1
	_o="$1"
	devmem "$(printf '0x%x' $((_b + _o)))" "$2"
}

# --- the module under test ---------------------------------------------------------------------

# Busybox's insmod retries every failed load with init_module(), running a failing module init
# twice (a one-shot injected fault is consumed by the first try, so the second succeeds).
# /sbin/insmod is the harness's single-attempt loader (guest/insmod.c). It must be called by
# path or through this function: Debian's busybox ash runs its own applets before PATH lookup.
insmod() {
	/sbin/insmod "$@"
}

# tdx_insmod [PARAM=VALUE...]: loads the module on the emulated backend; with TDX_SEAMCALL=hw
# (run.sh --env, the test build and the SEAMCALL trap passed with --module), on the hw backend: the
# real SEAMCALL instruction, whose #UD the trap (loaded first if it is not) serves through the
# emulator.
tdx_insmod() {
	if [ "${TDX_SEAMCALL:-emu}" = hw ]; then
		trap_ensure_loaded || return 1
	fi
	/sbin/insmod "$TDX_KO" seamcall="${TDX_SEAMCALL:-emu}" "$@"
}

# The SEAMCALL trap (test build, seamcall-trap/): where it is, its debugfs directory, and
# trap_ensure_loaded (loads it with its defaults unless it is loaded; not a check).
TRAP_KO=/lib/modules-tdx/tdx_seamcall_trap.ko
# shellcheck disable=SC2034 # used by the scenarios that source this file
TRAP=/sys/kernel/debug/tdx_seamcall_trap
trap_ensure_loaded() {
	grep -q '^tdx_seamcall_trap ' /proc/modules || /sbin/insmod "$TRAP_KO"
}

tdx_rmmod() {
	rmmod tdx_host
}

# expect_count LEAF WANT: the emulator counted WANT calls of LEAF (a name) since reset-counters.
# Fails, never reads 0, when the emulator does not answer.
expect_count() {
	_n="$(emu_count "$1" 2>&1)" || { echo "$_n"; return 1; }
	expect_eq "$_n" "$2"
}

expect_count_min() { # LEAF MIN
	_n="$(emu_count "$1" 2>&1)" || { echo "$_n"; return 1; }
	[ "$_n" -ge "$2" ] || { echo "$1 called $_n times, want at least $2"; return 1; }
}

kernel_log_has() { # EXTENDED-REGEX (on the module's lines)
	dmesg | grep 'tdx_host:' | grep -E -q -- "$1" || { echo "no tdx_host: line matches /$1/"; return 1; }
}

# Unloads the module if a previous scenario left it loaded (not a check).
tdx_ensure_unloaded() {
	if grep -q '^tdx_host ' /proc/modules; then
		note "tdx_host was loaded; unloading it"
		rmmod tdx_host || note "rmmod tdx_host failed"
	fi
}

# After a scenario had the platform load another module image ("emuctl image NAME"): the boot's
# own again (EMU_PROFILE, from run.sh), shown to load, so the scenarios after it run as before.
# Checks of its own.
back_to_boot_image() {
	check "the platform loads the boot's module ($EMU_PROFILE) again" emuctl image "$EMU_PROFILE" || return 1
	check "which loads" tdx_insmod || return 1
	check "its version" tdx_version_ok
	check "rmmod" tdx_rmmod
}

# Passes when TDX is up: module loaded and its sysfs version equals EXPECTED_VERSION.
tdx_version_ok() {
	[ -n "${EXPECTED_VERSION:-}" ] || { echo "EXPECTED_VERSION is not set (see run.sh --profile)"; return 1; }
	[ -r "$TDX_SYSFS/version" ] || { echo "$TDX_SYSFS/version does not exist"; return 1; }
	expect_eq "$(cat "$TDX_SYSFS/version")" "$EXPECTED_VERSION"
}

# After the emulator died: asks run.sh for a fresh one (a new epoch, its TDX module in
# SYSINIT_PENDING, on the same mailbox and RAM) and waits until it answers. Each request has its
# own number (counted in a file: each scenario runs in a subshell): run.sh serves each once.
emu_start_fresh() {
	_n=$(($(cat /run/harness/emu-start-requests 2>/dev/null || echo 0) + 1))
	echo "$_n" >/run/harness/emu-start-requests
	echo "TDX-HARNESS-EMU-START $_n" >/dev/console
	wait_fresh_emulator
}

# After the emulator died (run.sh --respawn-emu starts a fresh one): wait until the fresh one answers.
# The control channel reconnects to it; it starts in JSON, so switch it again.
wait_fresh_emulator() {
	_i=0
	while [ "$_i" -lt 60 ]; do
		rm -f "$HARNESS_EMUCTL_KV" "$HARNESS_EMUCTL_STALE"
		if EMUCTL_TIMEOUT=2 emuctl ping >/dev/null 2>&1; then
			return 0
		fi
		_i=$((_i + 1))
		sleep 1
	done
	echo "no emulator answered within about 3 minutes"
	return 1
}

# Passes when the module is not loaded and left no device behind.
tdx_gone() {
	module_absent tdx_host && path_absent "$TDX_SYSFS"
}

# --- checks that prove something ---------------------------------------------------------------

# Lockdep is still watching: it turns itself off (debug_locks = 0) after its first report, and
# every later locking bug would go unseen.
# LOCKDEP_STATS: the file read (harnesscheck points it at planted copies to show the check fails).
lockdep_active() {
	_dl="$(awk '/debug_locks:/ { print $2 }' "${LOCKDEP_STATS:-/proc/lockdep_stats}" 2>/dev/null)"
	[ -n "$_dl" ] || { echo "no debug_locks in ${LOCKDEP_STATS:-/proc/lockdep_stats}: lockdep is not built in"; return 1; }
	[ "$_dl" = 1 ] || { echo "lockdep turned itself off (debug_locks=$_dl): see its report in the kernel log"; return 1; }
}

# Reports of a CPU or task stuck (soft/hard lockup, RCU stall, hung task, CSD lock wait).
LOCKUP_BAD='soft lockup|hard LOCKUP|rcu_.*detected stall|RCU stall|blocked for more than|csd: Detected'
no_lockup_reports() {
	_bad="$(dmesg | grep -E "$LOCKUP_BAD")"
	[ -z "$_bad" ] || { printf '%s\n' "$_bad" | head -n 10; return 1; }
}

# Every online CPU still schedules work: a CPU left spinning with interrupts off, or wedged in a
# SEAMCALL, would not run this within 20 s.
all_cpus_respond() {
	for _c in $(seq 0 $(($(nproc --all) - 1))); do
		[ "$(cat "/sys/devices/system/cpu/cpu$_c/online" 2>/dev/null || echo 1)" = 1 ] || continue
		_r="$(timeout 20 taskset -c "$_c" sh -c 'echo ran' 2>&1)"
		[ "$_r" = ran ] || { echo "CPU $_c did not run a task within 20 s ($_r)"; return 1; }
	done
}

# The guest is alive and not wedged: every CPU runs a task, time advances, no lockup report.
guest_alive() {
	_u0="$(cut -d' ' -f1 /proc/uptime)"
	all_cpus_respond || return 1
	sleep 1
	_u1="$(cut -d' ' -f1 /proc/uptime)"
	[ "${_u1%.*}${_u1#*.}" -gt "${_u0%.*}${_u0#*.}" ] || { echo "uptime did not advance ($_u0 -> $_u1)"; return 1; }
	no_lockup_reports
}

# A failed load or an unload left the TDX module disabled: SYS.DISABLE ran since the last
# reset-counters (its counter moved) and the emulator is back in SYSINIT_PENDING, where SYS.INIT
# works again. Not "anything but SYS_READY": a bring-up that failed before its last step was never
# SYS_READY, so that check could not fail.
tdx_left_disabled() {
	expect_count_min sys.disable 1 || return 1
	emu_state_is SYSINIT_PENDING
}

# The same for a load that may have failed before SYS.INIT succeeded (allocation sweeps): once any
# LP.INIT ran (SYS.INIT had succeeded), SYS.DISABLE must have run too.
tdx_left_disabled_if_started() {
	_lps="$(emu_count sys.lp.init)" || { echo "the emulator did not report its counters"; return 1; }
	if [ "$_lps" -gt 0 ]; then
		tdx_left_disabled
	else
		emu_state_is SYSINIT_PENDING
	fi
}

# The kernel log without the stack dumps fault injection prints for each injected failure
# ("FAULT_INJECTION: forcing a failure" up to the end of its trace).
dmesg_without_fault_dumps() {
	dmesg | awk '/FAULT_INJECTION: forcing a failure/ { skip = 1 } !skip { print } skip && /<\/TASK>/ { skip = 0 }'
}

# dmesg_clean, on the log with fault-injection dumps taken out.
dmesg_clean_but_injected() {
	_bad="$(dmesg_without_fault_dumps | grep -E "$DMESG_BAD")"
	[ -z "$_bad" ] || { printf '%s\n' "$_bad" | head -n 20; return 1; }
}

# kmemleak is on: it accepts a scan (a disabled kmemleak refuses with EPERM).
kmemleak_on() {
	{ echo scan >/sys/kernel/debug/kmemleak; } 2>/dev/null || { echo "kmemleak is off (or not built in)"; return 1; }
}

# The TD harness of the test build (tdx_td_harness.ko): where it is, its debugfs directory, and
# hctl COMMAND...: one command to it; prints its result line; fails when the command failed.
# shellcheck disable=SC2034 # used by the scenarios that source this file
HARNESS_KO=/lib/modules-tdx/tdx_td_harness.ko
H=/sys/kernel/debug/tdx_td_harness
hctl() { debugfs_ctl "$H" "$@"; }

# debugfs_ctl DIR COMMAND...: a test module's debugfs command ("ctl"), its "result" printed;
# fails when the command failed.
debugfs_ctl() {
	_dc_dir="$1"
	shift
	if ! echo "$*" >"$_dc_dir/ctl" 2>/dev/null; then
		cat "$_dc_dir/result"
		return 1
	fi
	cat "$_dc_dir/result"
}

# Quotes (the quote scenario and the demo). The emulator's DICE root certificate, the root a
# verifier pins, into /tmp/root.pem; the kv reply writes the PEM's newlines as '?' and its blanks
# as '_', neither of which occurs in PEM text otherwise.
quote_root_save() {
	_qr="$(kv_get root_pem "$(emuctl quote root)")" || { echo "emulator: quote root: no root_pem"; return 1; }
	expect_match "$_qr" '^-----BEGIN_CERTIFICATE-----' || return 1
	printf '%s' "$_qr" | tr '?_' '\n ' >/tmp/root.pem
}

# The "TDX-QUOTE-ROOT BASE64" line scripts/verify-guest-quotes.sh reads on the host.
print_quote_root() {
	echo "TDX-QUOTE-ROOT $(base64 -w 0 /tmp/root.pem)"
}

# verify QUOTE-FILE REPORTDATA-HEX [more tdx-quote-verify args]: against /tmp/root.pem.
verify() {
	_q="$1"
	_rd="$2"
	shift 2
	tdx-quote-verify --root /tmp/root.pem --report-data "$_rd" "$@" "$_q"
}

# quote_verified ID REPORTDATA FILE: TD ID's quote into FILE, verified; its printed claims into FILE.txt.
quote_verified() {
	hctl quote "$1" "$2" || return 1
	cat "$H/quote" >"$3"
	verify "$3" "$2" >"$3.txt"
}

seam_claim() { # FILE.txt origin|current FIELD: that claim of the SEAM submod as tdx-quote-verify prints it
	awk -v w="$2" -v f="$3" '/^seam /{s=1; next} /^[a-z]/{s=0} s && /^  origin:/{c="origin"}
		s && /^  current:/{c="current"} s && c == w && $1 == f {print $NF; exit}' "$1"
}

# print_quote NAME REPORTDATA FILE: the "TDX-QUOTE ..." line for the host-side verifiers.
print_quote() {
	echo "TDX-QUOTE $1 $2 $(base64 -w 0 "$3")"
}

# Runtime update (the update scenarios and the demo): tdx_host's device and its fw_upload entry;
# the images of scripts/update-images.py are in /data, listed in /data/images.list
# ("NAME EXPECTED VERSION" lines).
FW=/sys/class/firmware/tdx_module
DEV=$TDX_SYSFS

expected_of() { # NAME: the image's expected outcome from /data/images.list
	sed -n "s/^$1 \([^ ]*\) .*/\1/p" /data/images.list
}
version_of() { # NAME: the image's module version from /data/images.list
	sed -n "s/^$1 [^ ]* //p" /data/images.list
}

wait_status() { # STATUS [POLLS]: wait until the upload's status reads it, at most POLLS x 10 ms (6000)
	_n=0
	while [ "$(cat "$FW/status")" != "$1" ]; do
		_n=$((_n + 1))
		[ "$_n" -lt "${2:-6000}" ] || return 1
		sleep 0.01
	done
}

# fw_upload NAME: the raw sysfs protocol with /data/NAME.blob; prints `error` when done.
fw_upload() {
	echo 1 >"$FW/loading" || return 1
	cat "/data/$1.blob" >"$FW/data" || return 1
	echo 0 >"$FW/loading" || return 1
	wait_status idle 60000 || { echo "status stuck at $(cat "$FW/status")"; return 1; }
	cat "$FW/error"
}

upload_ends() { # NAME REGEX: the upload's error matches
	_e="$(fw_upload "$1")" || { echo "$_e"; return 1; }
	expect_match "$_e" "$2"
}

version_is() { expect_eq "$(cat "$DEV/version")" "$1"; }

# qe_tty: the guest's second line to the emulator's control socket (run.sh's PCI 16550, QEMU's
# pci-serial 1b36:0002, beside ttyS1 that the scenario shell holds on fd 8) as /dev/ttySN, whatever
# number the 8250 driver gave it: the ttyS* whose device is, or sits below (6.12's serial core puts
# a controller and a port device between them), that PCI function. Fails when there is none.
# Hold it open while a reply may come (exec 9<>"$(qe_tty)"; stty -F ... raw -echo): a serial port
# drops what arrives while nobody has it open.
qe_tty() {
	for _qt in /sys/class/tty/ttyS*; do
		_qd="$(readlink -f "$_qt/device")" || continue
		while [ -n "$_qd" ] && [ "$_qd" != /sys/devices ] && [ ! -r "$_qd/vendor" ]; do
			_qd="${_qd%/*}"
		done
		if [ -r "$_qd/device" ] && [ "$(cat "$_qd/vendor" 2>/dev/null)" = 0x1b36 ] &&
			[ "$(cat "$_qd/device")" = 0x0002 ] && [ -c "/dev/${_qt##*/}" ]; then
			echo "/dev/${_qt##*/}"
			return 0
		fi
	done
	echo "no ttyS* on a pci-serial (1b36:0002) device: run.sh's second control line is missing" >&2
	return 1
}

# TD guests' GetQuote (getquote, bench_getquote, the demo): kvm_tdx_quote.ko and the GetQuote
# harness (tdx_gq_harness.ko, test build), and the userspace quote service of
# tools/tdx-quote-service (tdx-qgs, with the emulator as quoting enclave on qe_tty; tdx-quote-vmm,
# the VMM stand-in on /dev/kvm_tdx_quote).
# gctl COMMAND...: one command to the GetQuote harness; prints its result line; fails when it failed.
# gq_field KEY [LINE]: KEY=value of the harness's result (or of LINE).
# shared GPA: the GPA with the shared bit of a GPAW-48 TD. rd_of BYTE SUFFIX4: a REPORTDATA.
# qgs_start [ARGS] / qgs_stop, vmm_start / vmm_stop: the service and the VMM in the background
# (QGS_PID, VMM_PID; logs /tmp/qgs.log, /tmp/vmm.log).
# shellcheck disable=SC2034 # used by the scenarios that source this file
G=/sys/kernel/debug/tdx_gq_harness
KQ_KO=/lib/modules-tdx/kvm_tdx_quote.ko
GQ_KO=/lib/modules-tdx/tdx_gq_harness.ko
KQ_PARAM=/sys/module/kvm_tdx_quote/parameters/in_kernel
QGS_SOCK=/run/qgs.sock
gctl() { debugfs_ctl "$G" "$@"; }

gq_field() { kv_get "$1" "${2:-$(cat "$G/result")}"; }

shared() { printf '0x%x' $(($1 | (1 << 47))); }

rd_of() {
	_rb=$(printf '%02x' "$1")
	_rs=
	for _ri in $(seq 62); do _rs=$_rs$_rb; done
	printf '%s%s' "$_rs" "$2"
}

# _until_started PID LOG COMMAND...: until COMMAND succeeds, while PID lives; else LOG's tail and 1.
# A bound on start-up (60 s), not a timing check (a debug kernel under TCG starts daemons slowly).
_until_started() {
	_us_pid=$1
	_us_log=$2
	shift 2
	_us_n=0
	until "$@"; do
		_us_n=$((_us_n + 1))
		if [ "$_us_n" -ge 3000 ] || ! kill -0 "$_us_pid" 2>/dev/null; then
			tail -n 5 "$_us_log"
			return 1
		fi
		sleep 0.02
	done
}
qgs_start() { # (not in a subshell: sets QGS_PID) returns once its socket exists
	rm -f "$QGS_SOCK"
	_qtty="$(qe_tty)" || return 1
	tdx-qgs --socket "$QGS_SOCK" --emulator "$_qtty" "$@" >>/tmp/qgs.log 2>&1 &
	QGS_PID=$!
	_until_started "$QGS_PID" /tmp/qgs.log test -S "$QGS_SOCK"
}
qgs_stop() { kill "$QGS_PID" 2>/dev/null; wait "$QGS_PID" 2>/dev/null; }
_vmm_has_device() { # the VMM ($VMM_PID) has /dev/kvm_tdx_quote open
	for _vf in "/proc/$VMM_PID/fd/"*; do
		[ "$(readlink "$_vf" 2>/dev/null)" = /dev/kvm_tdx_quote ] && return 0
	done
	return 1
}
vmm_start() { # (not in a subshell: sets VMM_PID) returns once it has the device open
	tdx-quote-vmm --qgs "$QGS_SOCK" "$@" >>/tmp/vmm.log 2>>/tmp/vmm.err &
	VMM_PID=$!
	_until_started "$VMM_PID" /tmp/vmm.err _vmm_has_device
}
vmm_stop() { kill "$VMM_PID" 2>/dev/null; wait "$VMM_PID" 2>/dev/null; }

# gq_modules: insmod tdx_host (test build), kvm_tdx_quote and both harnesses, as checks.
gq_modules() {
	check "insmod tdx_host" tdx_insmod || return 1
	check "insmod kvm_tdx_quote" insmod "$KQ_KO" || return 1
	check "insmod tdx_td_harness" insmod "$HARNESS_KO" || return 1
	check "insmod tdx_gq_harness" insmod "$GQ_KO"
}

# gq_td ID IN_KERNEL: a finalized TD attached with that path, a 2-page shared buffer at 0x100000.
gq_td() {
	echo "$2" >"$KQ_PARAM" || return 1
	hctl create "$1" "gpa=$(printf '0x%x' $(($1 * 0x1000)))" >/dev/null || return 1
	gctl attach "$1" >/dev/null || return 1
	gctl mem "$1" 0x100000 2 shared >/dev/null
}
