#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the harness initramfs (gzip'd cpio, newc): busybox-static with its applet links, a
# single-attempt insmod (guest/insmod.c, built here with the host's C compiler, static), /init
# (guest/init), the scenario library (/lib/harness/lib.sh), the scenarios, the modules under test
# (/lib/modules-tdx/, insmod'ed by path) and /etc/harness.env.
#
#   mkinitramfs.sh --out FILE [--module PATH.ko]... --scenario NAME [--scenario NAME]...
#                  [--env K=V]... [--bin PATH]... [--data PATH]...
#
# --bin installs a host program as /usr/bin/NAME together with the shared libraries ldd lists for
# it (and the dynamic loader), so scenarios can run host-built tools such as tdx-quote-verify.
# --data copies a host file as /data/NAME (module images for the update scenarios).
#
# NAME is a file qemu-harness/scenarios/NAME.sh, or a path to a .sh file (its basename without
# .sh becomes its name). --scenario also takes several names separated by commas. The scenarios
# run in the order given. --env pairs become shell assignments in /etc/harness.env, which lib.sh
# sources. BUSYBOX overrides the static busybox used (default /bin/busybox).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
busybox="${BUSYBOX:-/bin/busybox}"

die() { echo "mkinitramfs: $*" >&2; exit 1; }
usage() { sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2; }

out=""
modules=()
scenarios=()
envs=()
bins=()
datas=()
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out="${2:?--out needs a file}"; shift 2 ;;
	--module) modules+=("${2:?--module needs a path}"); shift 2 ;;
	--scenario)
		IFS=',' read -r -a names <<<"${2:?--scenario needs a name}"
		scenarios+=("${names[@]}")
		shift 2
		;;
	--env) envs+=("${2:?--env needs K=V}"); shift 2 ;;
	--bin) bins+=("${2:?--bin needs a path}"); shift 2 ;;
	--data) datas+=("${2:?--data needs a path}"); shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$out" ] || die "--out is required"
[ "${#scenarios[@]}" -gt 0 ] || die "at least one --scenario is required"
[ -x "$busybox" ] || die "no busybox at $busybox (install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; the initramfs needs busybox-static"
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/tdx-initramfs.XXXXXX")"
tmp_out=""
trap 'rm -rf -- "$stage" ${tmp_out:+"$tmp_out"}' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,etc,root,scenarios} \
	"$stage"/lib/{harness,modules-tdx}
cp "$busybox" "$stage/bin/busybox"
# Applet links now (init would otherwise run "busybox --install -s" at boot).
while read -r applet; do
	applet="${applet#/}"
	case "$applet" in '' | bin/busybox) continue ;; esac
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done < <("$busybox" --list-full)

# Our own insmod replaces busybox's, which retries every failed load (see guest/insmod.c).
rm -f "$stage/bin/insmod" "$stage/sbin/insmod"
"${CC:-cc}" -static -Os -Wall -Werror -o "$stage/sbin/insmod" "$here/guest/insmod.c" ||
	die "cannot build guest/insmod.c (a C compiler and static libc are needed: build-essential)"
strip "$stage/sbin/insmod" 2>/dev/null || true

install -m 0755 "$here/guest/init" "$stage/init"
install -m 0644 "$here/guest/lib.sh" "$stage/lib/harness/lib.sh"

for m in "${modules[@]}"; do
	[ -f "$m" ] || die "module '$m' does not exist"
	install -m 0644 "$m" "$stage/lib/modules-tdx/$(basename "$m")"
done

for b in "${bins[@]}"; do
	[ -x "$b" ] || die "program '$b' does not exist or is not executable"
	install -m 0755 "$b" "$stage/usr/bin/$(basename "$b")"
	# Every library ldd resolves ("name => /path (addr)" or the loader's "/path (addr)"), at its path.
	while read -r lib; do
		[ -n "$lib" ] || continue
		mkdir -p "$stage$(dirname "$lib")"
		[ -e "$stage$lib" ] || cp -L "$lib" "$stage$lib"
	done < <(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
done

for d in "${datas[@]}"; do
	[ -f "$d" ] || die "data file '$d' does not exist"
	mkdir -p "$stage/data"
	install -m 0644 "$d" "$stage/data/$(basename "$d")"
done

: >"$stage/etc/harness.scenarios"
for s in "${scenarios[@]}"; do
	case "$s" in
	*/*) file="$s"; name="$(basename "$s" .sh)" ;;
	*) file="$here/scenarios/$s.sh"; name="$s" ;;
	esac
	[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad scenario name '$name'"
	[ -f "$file" ] || die "no scenario '$s' ($file)"
	install -m 0644 "$file" "$stage/scenarios/$name.sh"
	echo "$name" >>"$stage/etc/harness.scenarios"
done

{
	echo "# Written by mkinitramfs.sh; sourced by lib.sh."
	for kv in "${envs[@]}"; do
		k="${kv%%=*}"
		v="${kv#*=}"
		[[ "$kv" == *=* && "$k" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad --env '$kv' (want K=V)"
		# Single-quoted for the guest shell: ' becomes '\''.
		printf "%s='%s'\n" "$k" "${v//\'/\'\\\'\'}"
	done
} >"$stage/etc/harness.env"

# The kernel opens /dev/console before /init runs; give it one when we may create device nodes
# (otherwise /init takes the console from devtmpfs itself).
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 0600 "$stage/dev/console" c 5 1
fi

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -6n >"$tmp_out"
mv -f "$tmp_out" "$out"
tmp_out=""
