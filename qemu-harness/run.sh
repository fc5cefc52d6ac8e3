#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The QEMU harness entry point: boots a guest with the emulated SEAM backend and runs scenarios.
#
#   run.sh [--kernel distro|PATH] [--module PATH.ko]... --scenario NAME [--scenario NAME]...
#          [--smp N] [--packages P] [--ram MiB] [--profile FILE] [--emu PATH]
#          [--emu-extra 'ARGS'] [--log FILE] [--timeout SEC] [--append 'KERNEL ARGS']
#          [--env K=V]... [--bin PATH]... [--data PATH]... [--quiet | --verbose]
#
#   --kernel     distro (default): Debian's 6.12 image, fetched by get-kernel.sh; or a bzImage
#   --module     a .ko copied into the guest's /lib/modules-tdx/ (may be omitted, e.g. for smoke)
#   --scenario   qemu-harness/scenarios/NAME.sh (or a path to a .sh), run in the order given
#   --smp N      guest CPUs = emulated logical processors (default 2)
#   --packages P sockets; N must be a multiple of P (default 1)
#   --ram MiB    guest RAM, shared with the emulator through a file (default 1024)
#   --profile    emulator platform profile (default qemu-harness/seam-emu/profiles/default.json);
#                the guest's EXPECTED_VERSION comes from its module.major/minor/update
#   --emu PATH   the emulator (default build/seam-emu/seam-emu); --emu-extra adds arguments
#   --log FILE   serial log (default build/logs/<timestamp>-<scenarios>.log); the emulator's log
#                is copied next to it as FILE with ".log" replaced by ".seam-emu.log"
#   --timeout S  whole-run limit (default 600); QEMU and the emulator are then killed
#   --append     extra kernel command line
#   --env K=V    an extra variable for the scenarios (/etc/harness.env)
#   --bin PATH   a host program (with its shared libraries) installed in the guest's /usr/bin
#   --data PATH  a host file copied to the guest's /data/ (module images for update scenarios)
#   --respawn-emu  when the emulator dies while the guest runs (a "die" fault), start a fresh one
#                (new epoch, a TDX module in SYSINIT_PENDING) on the same mailbox and RAM; QEMU's
#                control channel reconnects to it; the doorbell does not (the fresh emulator
#                polls). At most 20 times. Its log goes next to the first one's.
#                Without it, a fresh emulator starts only when a scenario asks for one (lib.sh's
#                emu_start_fresh prints "TDX-HARNESS-EMU-START N" on the console) after the last
#                one died: a scenario that checks a guest without an emulator, then goes on.
#   --tcg-threads single|multi  QEMU's TCG: one host thread per vCPU (multi, the default) or one
#                thread for all, round robin (single: a vCPU spinning with PAUSE gives way to the
#                others at once, as no host scheduler decides when a descheduled vCPU runs again;
#                the emulator then re-checks sleeping slots every ms: no guest fence reaches the host)
#   --nice N     run QEMU at this niceness (make bench: -15, so that the host's own daemons do not
#                decide a latency measurement's tail; a negative N needs root, else QEMU runs at 0)
#   --main-loop-rt PRIO  once the vCPU threads are up, QEMU's main thread (its main loop: it fires
#                the guest's timers, the local APIC's among them) runs at SCHED_FIFO PRIO, above
#                seam-emu's call threads (SCHED_FIFO 1), as a real APIC's interrupt never waits
#                behind the TDX module's work; threads it starts later do not inherit it
#                (reset-on-fork). make bench's quoting boot: 2. Needs root, else a warning
#   --pin-vcpus  the guest's CPUs get host CPUs of their own, as real-time VMs are run: the vCPU
#                threads on the last host CPUs (one each while the host has more CPUs than the
#                guest, else all on the last one), everything else of QEMU and of the emulator
#                (its main loop, the emulator's call and signing threads) and this script on the
#                others, so that no housekeeping thread preempts a vCPU. make bench's quoting
#                boot. Needs 2 host CPUs, else a warning
#   --quiet      do not stream the serial console to stdout (default when $CI is set;
#                --verbose streams anyway)
#
# A kernel that dies before the harness's init starts (an oops or panic while booting, before any
# scenario, module or emulator call: TCG's cross-modifying code has hit the kernel's own text
# patching that way) is booted once more, saying so; its console log is kept as LOG.died-before-init.
#
# Exit status: 0 only when the guest printed "TDX-HARNESS-RESULT: PASS"; 1 on a failed or
# incomplete run, 124 on timeout, 130/143 when interrupted, 2 on bad usage or setup error.
# QEMU, the emulator and the private temp dir (RAM file, mailbox file, control socket,
# initramfs) are removed on every exit path, including Ctrl-C and the timeout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
orig_args=("$@") # for the one boot more after a kernel that died before init
reboot_once=""

die() { echo "run.sh: $*" >&2; exit 2; }
say() { echo "run.sh: $*" >&2; }
usage() { sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2; }

kernel=distro
modules=()
scenarios=()
envs=()
bins=()
datas=()
smp=2
packages=1
ram=1024
profile="$here/seam-emu/profiles/default.json"
emu="$root/build/seam-emu/seam-emu"
emu_extra=""
log=""
timeout_s=600
append=""
stream=1
[ -z "${CI:-}" ] || stream=0
respawn=0
tcg_threads=multi
nice_n=0
main_loop_rt=""
pin_vcpus=0

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel="${2:?}"; shift 2 ;;
	--module) modules+=("${2:?}"); shift 2 ;;
	--scenario) scenarios+=("${2:?}"); shift 2 ;;
	--smp) smp="${2:?}"; shift 2 ;;
	--packages) packages="${2:?}"; shift 2 ;;
	--ram) ram="${2:?}"; shift 2 ;;
	--profile) profile="${2:?}"; shift 2 ;;
	--emu) emu="${2:?}"; shift 2 ;;
	--emu-extra) emu_extra="${2?}"; shift 2 ;;
	--log) log="${2:?}"; shift 2 ;;
	--timeout) timeout_s="${2:?}"; shift 2 ;;
	--append) append="${2?}"; shift 2 ;;
	--env) envs+=("${2:?}"); shift 2 ;;
	--bin) bins+=("${2:?}"); shift 2 ;;
	--data) datas+=("${2:?}"); shift 2 ;;
	--quiet) stream=0; shift ;;
	--respawn-emu) respawn=1; shift ;;
	--tcg-threads) tcg_threads="${2:?}"; shift 2 ;;
	--nice) nice_n="${2:?}"; shift 2 ;;
	--main-loop-rt) main_loop_rt="${2:?}"; shift 2 ;;
	--pin-vcpus) pin_vcpus=1; shift ;;
	--verbose) stream=1; shift ;;
	-h | --help) usage ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

is_uint() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
[ "${#scenarios[@]}" -gt 0 ] || die "at least one --scenario is required"
case "$tcg_threads" in single | multi) ;; *) die "--tcg-threads wants single or multi" ;; esac
[[ "$nice_n" =~ ^-?[0-9]+$ ]] || die "--nice wants an integer"
[ -z "$main_loop_rt" ] || [[ "$main_loop_rt" =~ ^[1-9][0-9]?$ ]] || die "--main-loop-rt wants a priority 1..99"
is_uint "$smp" || die "--smp wants a positive integer"
is_uint "$packages" || die "--packages wants a positive integer"
[ $((smp % packages)) -eq 0 ] || die "--smp $smp is not a multiple of --packages $packages"
if ! is_uint "$ram" || [ "$ram" -lt 128 ]; then die "--ram wants MiB >= 128"; fi
is_uint "$timeout_s" || die "--timeout wants seconds"
[ -f "$profile" ] || die "no emulator profile $profile"
[ -x "$emu" ] || die "no emulator at $emu (build it, or pass --emu)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
profile="$(realpath "$profile")"
emu="$(realpath "$emu")"

if [ -z "$log" ]; then
	names="$(printf '%s+' "${scenarios[@]##*/}")"
	names="${names%+}"
	log="$root/build/logs/$(date +%Y%m%d-%H%M%S)-${names//.sh/}.log"
fi
mkdir -p "$(dirname "$log")"
log="$(realpath "$log")"
# QEMU option values cannot contain commas (they would need doubling).
[[ "$log" != *,* ]] || die "the log path must not contain ','"
case "$log" in
*.log) emu_log_copy="${log%.log}.seam-emu.log" ;;
*) emu_log_copy="$log.seam-emu.log" ;;
esac

# --- the kernel -------------------------------------------------------------------------------
if [ "$kernel" = distro ]; then
	kernel="$("$here/get-kernel.sh")" || die "could not get the distro kernel"
fi
[ -f "$kernel" ] || die "no kernel image $kernel"

# --- what the guest expects, from the profile ------------------------------------------------
expected_version="$(python3 - "$profile" <<'PY'
import json, sys
try:
    m = json.load(open(sys.argv[1]))["module"]
    print("%u.%u.%02u" % (int(m["major"]), int(m["minor"]), int(m["update"])))
except Exception as e:  # the guest then has no EXPECTED_VERSION; scenarios that need it fail
    print("run.sh: no module.major/minor/update in the profile (%s)" % e, file=sys.stderr)
PY
)"

# --- private state, removed on every exit ----------------------------------------------------
work=""
sock=""
qemu_pid=""
emu_pid=""
tail_pid=""
emu_started=""
qemu_started=""
status="" # the exit status, once decided; else that of the failing command

alive() { # PID: running (a zombie, dead but not yet reaped, is not)
	local st
	st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

stop_pid() { # PID NAME: TERM, then KILL after 5 s
	local pid="$1"
	[ -n "$pid" ] || return 0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
	fi
	for _ in $(seq 50); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		say "$2 (pid $pid) ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	stop_pid "$qemu_pid" qemu
	stop_pid "$emu_pid" seam-emu
	# The emulator may have daemonized or been started through a wrapper: its own pid file
	# (trusted only while that process still names our private control socket).
	if [ -n "$work" ] && [ -s "$work/seam-emu.pid" ]; then
		local p
		p="$(cat "$work/seam-emu.pid")"
		# No pipe into grep -q under pipefail: grep's early exit could kill the writer (SIGPIPE).
		if [[ "$p" =~ ^[0-9]+$ ]] && [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" == *"$sock"* ]]; then
			stop_pid "$p" seam-emu
		fi
	fi
	if [ -n "$tail_pid" ]; then
		kill "$tail_pid" 2>/dev/null
		wait "$tail_pid" 2>/dev/null
	fi
	if [ -n "$work" ] && [ -d "$work" ]; then
		[ -z "$emu_started" ] || {
			cat "$work/seam-emu.log" 2>/dev/null
			for f in "$work"/seam-emu.respawn*.log; do
				[ -e "$f" ] || continue
				echo "----- respawned seam-emu: $(basename "$f") -----"
				cat "$f"
			done
			if [ -s "$work/seam-emu.out" ]; then
				echo "----- seam-emu stdout/stderr -----"
				cat "$work/seam-emu.out"
			fi
		} >"$emu_log_copy"
		if [ -s "$work/qemu.err" ]; then
			{
				echo "----- qemu stderr -----"
				cat "$work/qemu.err"
			} >>"$log"
			sed 's/^/qemu: /' "$work/qemu.err" >&2
		fi
		rm -rf -- "$work"
	fi
	[ -z "$qemu_started" ] || echo "serial log:   $log" >&2
	[ -z "$emu_started" ] || echo "seam-emu log: $emu_log_copy" >&2
	if [ -n "$reboot_once" ]; then
		TDX_RUN_REBOOTED=1 exec "$here/run.sh" "${orig_args[@]}"
	fi
	exit "${status:-$rc}"
}
trap cleanup EXIT
trap 'say "interrupted"; status=130; exit 130' INT
trap 'say "terminated"; status=143; exit 143' TERM

# The RAM file is sparse but fills as the guest runs: /dev/shm only if it can hold all of it.
shm_avail_kb="$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')"
if [ -n "$shm_avail_kb" ] && [ "$shm_avail_kb" -gt $((ram * 1024 + 262144)) ]; then
	work="$(mktemp -d /dev/shm/tdx-harness.XXXXXX)"
else
	work="$(mktemp -d "${TMPDIR:-/tmp}/tdx-harness.XXXXXX")"
fi
ram_file="$work/ram"
mb_file="$work/mailbox"
sock="$work/emuctl.sock"
initrd="$work/initramfs.cpio.gz"

ivshmem_sock="$work/ivshmem.sock"
# Mailbox: header page + one 512-byte slot per CPU (include/tdx/emu/mailbox.h), a power of two
# (an ivshmem BAR), at least 64 KiB. seam-emu maps it and hands it to QEMU as the ivshmem server.
mb_need=$((4096 + smp * 512))
mb_size=65536
while [ "$mb_size" -lt "$mb_need" ]; do mb_size=$((mb_size * 2)); done
truncate -s "${ram}M" "$ram_file"
truncate -s "$mb_size" "$mb_file"

# --- the initramfs ---------------------------------------------------------------------------
# EMU_PROFILE: the profile the emulator starts with, by name, for scenarios that try another
# image ("emuctl image NAME") and then go back to it.
mk_args=(--out "$initrd" --env "HARNESS_SMP=$smp" --env "HARNESS_PACKAGES=$packages"
	--env "EMU_PROFILE=$(basename "$profile" .json)")
[ -z "$expected_version" ] || mk_args+=(--env "EXPECTED_VERSION=$expected_version")
for m in "${modules[@]}"; do mk_args+=(--module "$m"); done
for s in "${scenarios[@]}"; do mk_args+=(--scenario "$s"); done
for e in "${envs[@]}"; do mk_args+=(--env "$e"); done
for b in "${bins[@]}"; do mk_args+=(--bin "$b"); done
for d in "${datas[@]}"; do mk_args+=(--data "$d"); done
"$here/mkinitramfs.sh" "${mk_args[@]}" || die "could not build the initramfs"

# --- the emulator ----------------------------------------------------------------------------
emu_ping() { # prints the reply to "ping" on the control socket, if any
	python3 - "$sock" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"ping\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.decode(errors="replace").strip())
PY
}

# --pin-vcpus: housekeeping CPUs (QEMU's main loop and other threads, the emulator) and the
# guest's (its vCPU threads, moved there once they exist).
pin_prefix=()
if [ "$pin_vcpus" -eq 1 ]; then
	host_cpus="$(nproc)"
	if [ "$host_cpus" -lt 2 ]; then
		say "warning: --pin-vcpus needs 2 host CPUs, this host has $host_cpus: nothing pinned"
		pin_vcpus=0
	else
		guest_cpus=$((host_cpus > smp ? smp : 1))
		housekeeping="0-$((host_cpus - guest_cpus - 1))"
		pin_prefix=(taskset -c "$housekeeping")
	fi
fi

read -r -a extra <<<"$emu_extra"
# Single-threaded TCG emits no host fence for the guest's: a request stored just as a slot went to
# sleep may not ring its doorbell, so a sleeping slot looks again every millisecond.
[ "$tcg_threads" = multi ] || extra+=(--doorbell-recheck-ms 1)
start_emu() { # LOG-SUFFIX: starts the emulator in the background, emu_pid
	"${pin_prefix[@]}" "$emu" --ram "$ram_file" --mailbox "$mb_file" --control "$sock" --profile "$profile" \
		--ivshmem-server "$ivshmem_sock" \
		--lps "$smp" --packages "$packages" --pidfile "$work/seam-emu.pid" \
		--log "$work/seam-emu$1.log" "${extra[@]}" </dev/null >>"$work/seam-emu.out" 2>&1 &
	emu_pid=$!
}
SECONDS=0 # --timeout counts from here
say "starting $emu (lps $smp, packages $packages, profile $profile)"
start_emu ""
emu_started=1
respawns=0
emu_requests=0 # the guest's requests for a fresh emulator served so far
ready=0
for _ in $(seq 200); do
	if ! kill -0 "$emu_pid" 2>/dev/null; then
		wait "$emu_pid" && rc=0 || rc=$?
		emu_pid=""
		say "seam-emu exited with status $rc before it was ready:"
		sed 's/^/  /' "$work/seam-emu.out" "$work/seam-emu.log" 2>/dev/null >&2 || true
		exit 2
	fi
	if [ -S "$sock" ] && [[ "$(emu_ping)" =~ \"ok\"[[:space:]]*:[[:space:]]*true ]]; then
		ready=1
		break
	fi
	sleep 0.1
done
[ "$ready" -eq 1 ] || { say "seam-emu did not answer ping on $sock within 20 s"; exit 2; }

# --- the guest -------------------------------------------------------------------------------
qemu=(
	nice -n "$nice_n" qemu-system-x86_64
	# Named threads ("CPU 0/TCG", ...), so that top -H shows which vCPU is busy.
	-name "tdx-host,debug-threads=on"
	-machine "q35,memory-backend=ram0" -accel "tcg,thread=$tcg_threads" -cpu max
	-smp "$smp,sockets=$packages"
	-m "${ram}M"
	-object "memory-backend-file,id=ram0,size=${ram}M,mem-path=$ram_file,share=on"
	# The mailbox: an ivshmem-doorbell device whose server is seam-emu (it sends the mailbox
	# file and one eventfd per CPU: vector i of its peer wakes the emulator thread of slot i).
	# ioeventfd=off: under TCG the Doorbell write is handled by the device model itself.
	-chardev "socket,id=ivs,path=$ivshmem_sock"
	-device "ivshmem-doorbell,chardev=ivs,vectors=$smp,ioeventfd=off"
	-nodefaults -nographic -display none -monitor none -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 quiet loglevel=4 $append"
	-serial "file:$log"
	-chardev "socket,id=emuctl,path=$sock,reconnect=1"
	-serial chardev:emuctl
	# A second line to the same control socket for a guest process other than the scenario shell
	# (which holds ttyS1 on fd 8), e.g. the userspace quote service: a PCI 16550 (1b36:0002),
	# which lib.sh's qe_tty finds.
	-chardev "socket,id=emuqe,path=$sock,reconnect=1"
	-device "pci-serial,chardev=emuqe"
)
: >"$log"
say "booting $(basename "$kernel") (smp $smp, ram ${ram}M, timeout ${timeout_s}s)"
"${pin_prefix[@]}" "${qemu[@]}" </dev/null >"$work/qemu.err" 2>&1 &
qemu_pid=$!
qemu_started=1
if [ -n "$main_loop_rt" ] || [ "$pin_vcpus" -eq 1 ]; then
	# Only once every vCPU thread exists ("CPU n/TCG", or one "ALL CPUs/TCG").
	vcpus=0
	[ "$tcg_threads" = multi ] && want=$smp || want=1
	for _ in $(seq 200); do
		vcpus="$(cat /proc/"$qemu_pid"/task/*/comm 2>/dev/null | grep -c '/TCG$' || true)"
		[ "$vcpus" -lt "$want" ] || break
		sleep 0.05
	done
	if [ "$vcpus" -lt "$want" ]; then
		say "warning: QEMU's vCPU threads did not show up: its main loop keeps its priority, its vCPUs their CPUs"
	else
		# The main thread's id is the process's. A vCPU spins, and must never run at real-time
		# priority (hence after the vCPU threads were started).
		if [ -n "$main_loop_rt" ] &&
			! chrt --reset-on-fork -f -p "$main_loop_rt" "$qemu_pid" >/dev/null 2>"$work/chrt.err"; then
			say "warning: QEMU's main loop not at SCHED_FIFO $main_loop_rt: $(cat "$work/chrt.err")"
		fi
		if [ "$pin_vcpus" -eq 1 ]; then
			# "CPU i/TCG" on host CPU host_cpus - guest_cpus + (i mod guest_cpus) ("ALL CPUs/TCG"
			# as i = 0); QEMU's other threads and the emulator started on the housekeeping CPUs.
			for task in /proc/"$qemu_pid"/task/*; do
				comm="$(cat "$task/comm" 2>/dev/null || true)"
				[[ "$comm" == */TCG ]] || continue
				[[ "$comm" =~ ^CPU\ ([0-9]+)/ ]] && i="${BASH_REMATCH[1]}" || i=0
				cpu=$((host_cpus - guest_cpus + i % guest_cpus))
				taskset -p -c "$cpu" "${task##*/}" >/dev/null 2>"$work/taskset.err" ||
					say "warning: $comm not moved to CPU $cpu: $(cat "$work/taskset.err")"
			done
			# This script's own polling (and what it starts) stays off the guest's CPUs too.
			taskset -p -c "$housekeeping" $$ >/dev/null 2>&1 || true
		fi
	fi
fi
if [ "$stream" -eq 1 ]; then
	# Without the firmware's terminal escapes (SeaBIOS resets and clears the screen); the log
	# file keeps the console's bytes as they were.
	tail -n +1 -f --pid="$qemu_pid" "$log" | sed -u 's/\x1b[^a-zA-Z]*[a-zA-Z]//g' &
	tail_pid=$!
fi

result_seen=""
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ "$SECONDS" -ge "$timeout_s" ]; then
		say "timeout: no end after ${timeout_s}s"
		status=124
		exit 124
	fi
	if [ -n "$emu_pid" ] && ! alive "$emu_pid" && [ "$respawns" -lt 20 ]; then
		# Without --respawn-emu, only when the guest asked: the highest request number on the
		# console, once each.
		asked=0
		[ "$respawn" -eq 1 ] ||
			asked="$(grep -a -o 'TDX-HARNESS-EMU-START [0-9]*' "$log" | tail -n 1 | tr -dc 0-9 || true)"
		if [ "$respawn" -eq 1 ] || [ "${asked:-0}" -gt "$emu_requests" ]; then
			[ "${asked:-0}" -le "$emu_requests" ] || emu_requests=$asked
			wait "$emu_pid" 2>/dev/null && rc=0 || rc=$?
			respawns=$((respawns + 1))
			say "seam-emu exited (status $rc); starting a fresh one (respawn $respawns)"
			start_emu ".respawn$respawns"
		fi
	fi
	# The guest powers off right after its result line; do not wait long for a stuck poweroff.
	if [ -z "$result_seen" ] && grep -a -q 'TDX-HARNESS-RESULT: ' "$log"; then
		result_seen="$SECONDS"
	elif [ -n "$result_seen" ] && [ $((SECONDS - result_seen)) -ge 30 ]; then
		say "the guest printed its result but did not power off; stopping qemu"
		break
	fi
	sleep 0.2
done
if [ -n "$tail_pid" ]; then
	# tail follows until qemu is gone; then it prints what is left and exits.
	wait "$tail_pid" 2>/dev/null || true
	tail_pid=""
	echo # the console's last line has no newline
fi
qemu_rc=0
if alive "$qemu_pid"; then
	stop_pid "$qemu_pid" qemu
	qemu_rc=stopped
else
	wait "$qemu_pid" 2>/dev/null || qemu_rc=$?
fi
qemu_pid=""

# The console's lines end in \r\n.
summary="$(grep -a -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1 | tr -d '\r' || true)"
# grep reads the file itself (no pipe into grep -q under pipefail, whose early exit could kill
# the writer with SIGPIPE and turn a PASS into a FAIL).
if grep -a -q -x -E $'TDX-HARNESS-RESULT: PASS\r?' "$log"; then
	say "PASS ($summary, ${SECONDS}s)"
	status=0
elif [ -z "${TDX_RUN_REBOOTED:-}" ] && ! grep -a -q 'TDX-HARNESS: init on' "$log" &&
	grep -a -q -E 'Kernel panic|Oops' "$log"; then
	cp -- "$log" "$log.died-before-init"
	say "the kernel died while booting, before the harness started (console: $log.died-before-init); booting once more"
	reboot_once=1
	status=1
else
	say "FAIL (${summary:-no summary line}; qemu status $qemu_rc; ${SECONDS}s)"
	grep -a -E '^not ok ' "$log" | tr -d '\r' | sed 's/^/  /' >&2 || true
	status=1
fi
exit "$status"
