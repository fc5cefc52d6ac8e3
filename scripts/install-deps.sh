#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs, from Debian's packages, everything the build, the emulator, the QEMU harness and the
# benchmark (rt-tests: cyclictest) need.
# Idempotent and non-interactive; prints the kernel version it selected.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

stamp_dir="${TDX_CACHE:-$HOME/.cache/tdx-host}"
mkdir -p "$stamp_dir"

# The newest Debian 6.12 distro kernel the package lists offer.
kver_of_lists() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n1
}

if [ ! -f "$stamp_dir/apt-updated" ] || [ -z "$(kver_of_lists)" ]; then
	$SUDO apt-get update -q >/dev/null
	touch "$stamp_dir/apt-updated"
fi

KVER="$(kver_of_lists)"
if [ -z "$KVER" ]; then
	echo "install-deps: no linux-headers-6.12.*+deb12-amd64 in the package lists" >&2
	exit 1
fi

pkgs=(
	build-essential make gcc g++ cmake pkg-config python3 kmod cpio gzip zstd xz-utils bc
	flex bison libelf-dev libssl-dev dwarves rsync linux-source-6.12
	"linux-headers-$KVER"
	qemu-system-x86 busybox-static
	libgtest-dev libgmock-dev libcbor-dev nlohmann-json3-dev libcli11-dev
	python3-cbor2 python3-cryptography
	rt-tests ccache
)
missing=()
for p in "${pkgs[@]}"; do
	[[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"install ok installed"* ]] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}" >&2
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
echo "$KVER" > "$stamp_dir/kver"
echo "$KVER"
