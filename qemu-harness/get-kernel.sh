#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetches Debian's unsigned kernel image package for KVER (default: the version install-deps.sh
# selected) into a cache outside the checkout, unpacks it there (never into /boot) and prints the
# path of its vmlinuz. A populated cache is reused; unpacking is atomic (temp dir, then rename).
#
#   get-kernel.sh [KVER]
#
# Cache: ${TDX_CACHE:-$HOME/.cache/tdx-host}/kernels/$KVER/{boot/vmlinuz-$KVER,lib/modules/...}
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${TDX_CACHE:-$HOME/.cache/tdx-host}"

die() { echo "get-kernel: $*" >&2; exit 1; }

kver="${1:-}"
if [ -z "$kver" ]; then
	if [ -s "$cache/kver" ]; then
		kver="$(cat "$cache/kver")"
	else
		kver="$("$here/../scripts/install-deps.sh")"
	fi
fi
case "$kver" in
'' | */* | .*) die "bad kernel version '$kver'" ;;
esac

dest="$cache/kernels/$kver"
vmlinuz="$dest/boot/vmlinuz-$kver"
if [ -f "$vmlinuz" ]; then
	echo "$vmlinuz"
	exit 0
fi

mkdir -p "$cache/kernels"
tmp="$(mktemp -d "$cache/kernels/.tmp-$kver.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT

pkg="linux-image-$kver-unsigned"
apt_opts=(-q)
# As root, apt downloads as _apt, which cannot write into a private temp dir under $HOME.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
echo "get-kernel: downloading $pkg" >&2
if ! (cd "$tmp" && apt-get download "${apt_opts[@]}" "$pkg" >&2); then
	# The package lists may be stale or missing on a fresh machine: refresh once and retry.
	if [ "$(id -u)" -eq 0 ]; then apt-get update -q >&2; else sudo apt-get update -q >&2; fi
	(cd "$tmp" && apt-get download "${apt_opts[@]}" "$pkg" >&2) || die "cannot download $pkg"
fi
debs=("$tmp"/*.deb)
[ -f "${debs[0]}" ] || die "apt-get download produced no .deb for $pkg"

mkdir "$tmp/root"
dpkg-deb -x "${debs[0]}" "$tmp/root"
[ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "$pkg has no boot/vmlinuz-$kver"
# Make the image readable by an unprivileged QEMU (the package ships it mode 0600).
chmod 0644 "$tmp/root/boot/vmlinuz-$kver"

# A cache entry without its image (interrupted by hand, say) is replaced.
if [ -e "$dest" ] && [ ! -f "$vmlinuz" ]; then
	rm -rf -- "$dest"
fi
# Atomic publication: a concurrent run may have won the race; keep whichever landed first.
if ! mv -T "$tmp/root" "$dest" 2>/dev/null; then
	[ -f "$vmlinuz" ] || die "cannot publish $dest"
fi
echo "$vmlinuz"
