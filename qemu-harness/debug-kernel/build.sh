#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once) the debug kernel from Debian's linux-source-6.12 with debug.config and the
# project's test-only patches (*.patch here, applied in name order), in a cache outside the
# checkout keyed by source version + the hash of debug.config, this script and the patches; prints
# the directory holding bzImage and the build tree (for modules: KDIR=<dir>/build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TDX_CACHE:-$HOME/.cache/tdx-host}
jobs=${JOBS:-$(nproc)}

tarball=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null || true)
if [ -z "$tarball" ]; then
	echo "build.sh: linux-source-6.12 is not installed (scripts/install-deps.sh --debug-kernel)" >&2
	exit 1
fi
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
patches=("$here"/*.patch)
[ -e "${patches[0]}" ] || patches=()
key=$(cat "$here/debug.config" "$here/build.sh" "${patches[@]}" | sha256sum | cut -c1-16)
out="$cache/debug-kernel/$srcver-$key"
if [ -f "$out/bzImage" ] && [ -f "$out/build/Module.symvers" ]; then
	echo "$out"
	exit 0
fi

work="$cache/debug-kernel/.work-$srcver-$key"
rm -rf "$work"
mkdir -p "$work"
echo "build.sh: building the debug kernel ($srcver, config $key) in $work" >&2
src="$work/src"
mkdir -p "$src"
tar -xf "$tarball" -C "$src" --strip-components=1
(
	cd "$src"
	for p in "${patches[@]}"; do
		patch -s -p1 --forward --fuzz=0 <"$p" >&2
	done
	make -s ARCH=x86_64 tinyconfig >/dev/null
	scripts/kconfig/merge_config.sh -m .config "$here/debug.config" >/dev/null
	make -s olddefconfig >/dev/null
	# Every requested option must have taken (a silently dropped one would weaken the gate).
	missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) ! grep -qx "${line%%=*}=y" .config || { echo "not off: $line" >&2; missing=1; } ;;
		CONFIG_*) grep -qx "$line" .config || { echo "did not take: $line" >&2; missing=1; } ;;
		esac
	done <"$here/debug.config"
	[ "$missing" -eq 0 ] || exit 1
	make -j"$jobs" all >&2
)
mkdir -p "$work/out"
cp "$src/arch/x86/boot/bzImage" "$work/out/bzImage"
mv "$src" "$work/out/build"
rm -rf "$out"
mv "$work/out" "$out"
rm -rf "$work"
echo "$out"
