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
# Emulator:  emuctl CMD...   one line to the emulator's control socket, one JSON line back
#            (printed); 0 when the reply says "ok":true, 2 when it does not, 1 on no reply.
#            emu_state       prints the emulator's "state" value
#            emu_count N     calls of leaf number N since reset-counters; leaf_number NAME
# Module:    tdx_insmod [PARAM=V...] (seamcall=emu added), tdx_rmmod, tdx_ensure_unloaded;
#            insmod is the single-attempt /sbin/insmod (see below), not busybox's
# Misc:      note MSG (a "# MSG" line), mem_free_kb, drop_caches, json_get KEY (stdin)

HARNESS_RESULTS=/run/harness/results
HARNESS_EMUCTL_STALE=/run/harness/emuctl-stale
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
	sleep 6
	echo scan >"$_kml"
	echo scan >"$_kml"
	_rep="$(cat "$_kml")"
	echo clear >"$_kml"
	[ -n "$_rep" ] || return 0
	if printf '%s\n' "$_rep" | grep -E -q 'tdx_host|^[[:space:]]*(\[<[0-9a-f]+>\] )?0x[0-9a-f]+$'; then
		printf '%s\n' "$_rep" | head -n 60
		return 1
	fi
	note "kmemleak reports outside tdx_host: $(printf '%s\n' "$_rep" | grep -c unreferenced)"
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

# The value of a top-level string or number KEY in the one-line JSON object on stdin.
json_get() {
	sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1
}

# emuctl CMD...: sends "CMD..." to the emulator over /dev/ttyS1 (fd 8, opened by /init and
# connected by QEMU to the emulator's control socket) and prints its one-line JSON reply.
emuctl() {
	if ! { true <&8; } 2>/dev/null; then
		echo '{"ok":false,"error":"no control channel (fd 8)"}'
		return 1
	fi
	# A reply that came too late for an earlier call must not be taken for this call's.
	if [ -e "$HARNESS_EMUCTL_STALE" ]; then
		while read -r -t 1 _junk <&8; do :; done
		rm -f "$HARNESS_EMUCTL_STALE"
	fi
	printf '%s\n' "$*" >&8
	# Busybox ash's read -t is a timeout on the read itself: no reader process to leak.
	if ! read -r -t "$EMUCTL_TIMEOUT" _reply <&8; then
		: >"$HARNESS_EMUCTL_STALE"
		echo '{"ok":false,"error":"no reply from the emulator within '"$EMUCTL_TIMEOUT"'s"}'
		return 1
	fi
	_reply="$(printf '%s' "$_reply" | tr -d '\r')"
	printf '%s\n' "$_reply"
	case "$_reply" in
	*'"ok":true'* | *'"ok": true'*) return 0 ;;
	*) return 2 ;;
	esac
}

emu_state() {
	emuctl state | json_get state
}

emu_state_is() {
	_st="$(emu_state)"
	[ "$_st" = "$1" ] || { echo "emulator state '$_st', want '$1'"; return 1; }
}

emu_state_is_not() {
	_st="$(emu_state)"
	if [ -z "$_st" ] || [ "$_st" = "$1" ]; then
		echo "emulator state '$_st', want anything but '$1'"
		return 1
	fi
}

# Number of calls of leaf number N (decimal) since the last reset-counters (0 if none).
emu_count() {
	_c="$(emuctl counters | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p")"
	echo "${_c:-0}"
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

# Leaf numbers (ABI.md) of the emulator's leaf names, for its "counters" reply.
leaf_number() {
	case "$1" in
	key.config) echo 31 ;;
	sys.init) echo 33 ;;
	sys.rd) echo 34 ;;
	lp.init) echo 35 ;;
	tdmr.init) echo 36 ;;
	sys.rdall) echo 37 ;;
	cache.wb) echo 40 ;;
	sys.config) echo 45 ;;
	sys.disable) echo 69 ;;
	*) echo "unknown leaf name '$1'" >&2; return 1 ;;
	esac
}

# tdx_insmod [PARAM=VALUE...]: loads the module on the emulated backend.
tdx_insmod() {
	/sbin/insmod "$TDX_KO" seamcall=emu "$@"
}

tdx_rmmod() {
	rmmod tdx_host
}

# expect_count LEAF WANT: the emulator counted WANT calls of LEAF (a name) since reset-counters.
expect_count() {
	expect_eq "$(emu_count "$(leaf_number "$1")")" "$2"
}

expect_count_min() { # LEAF MIN
	_n="$(emu_count "$(leaf_number "$1")")"
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

# Passes when TDX is up: module loaded and its sysfs version equals EXPECTED_VERSION.
tdx_version_ok() {
	[ -n "${EXPECTED_VERSION:-}" ] || { echo "EXPECTED_VERSION is not set (see run.sh --profile)"; return 1; }
	[ -r "$TDX_SYSFS/version" ] || { echo "$TDX_SYSFS/version does not exist"; return 1; }
	expect_eq "$(cat "$TDX_SYSFS/version")" "$EXPECTED_VERSION"
}

# Passes when the module is not loaded and left no device behind.
tdx_gone() {
	module_absent tdx_host && path_absent "$TDX_SYSFS"
}
