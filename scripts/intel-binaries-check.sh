#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Intel's published TDX module images through this project's checks, when TDX_MODULE_BINARIES names
# a checkout of Intel's module-binaries repository (intel/confidential-computing.tdx.tdx-module.binaries;
# never committed here). Without the variable it says so and succeeds.
#   - the kernel's header validation and preflight on every blob (core tests, KernelIntelBlobs.*);
#   - the emulator's P-SEAMLDR: every blob installed as an update, one flipped byte refused
#     (seam-emu tests, SeamldrIntelBlobs.*);
#   - tdx-module-update --list --dry-run over the checkout, once per major.minor found, as a machine
#     running the oldest module of that line on a CPU of its newest image's table: every version
#     found must be listed with a verdict.
# A skipped test counts as a failure here: the variable is set, so every test must run.
#
#   scripts/intel-binaries-check.sh [BUILD_DIR]    (default: $BUILD, else build/; JOBS for the build)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ -z "${TDX_MODULE_BINARIES:-}" ]; then
	echo "skipped: TDX_MODULE_BINARIES is not set"
	exit 0
fi
bins=$TDX_MODULE_BINARIES
build=${1:-${BUILD:-$PWD/build}}
jobs=${JOBS:-$(nproc)}
failed=0

fail() {
	echo "FAILED: $*" >&2
	failed=$((failed + 1))
}

if [ ! -d "$bins" ]; then
	echo "FAILED: TDX_MODULE_BINARIES=$bins is not a directory" >&2
	exit 1
fi
mapfile -t blobs < <(find "$bins" -type f -name '*.blob' | sort)
if [ "${#blobs[@]}" -eq 0 ]; then
	echo "FAILED: no *.blob under $bins" >&2
	exit 1
fi
# The versions, from the file names (tdx_module_<x.y.zz>.blob), as Intel's tool and ours read them.
mapfile -t versions < <(for b in "${blobs[@]}"; do basename "$b"; done |
	sed -n 's/^tdx_module_\([0-9]*\.[0-9]*\.[0-9]*\)\.blob$/\1/p' | sort -t. -k1,1n -k2,2n -k3,3n -u)
echo "TDX_MODULE_BINARIES=$bins: ${#blobs[@]} blobs, versions ${versions[*]}"

# The same configurations as the Makefile's core-tests, emu and update-tool, so builds are shared.
build_target() { # SOURCE BUILD-SUBDIR BUILD-TYPE TARGET
	cmake -S "$1" -B "$build/$2" -DCMAKE_BUILD_TYPE="$3" >/dev/null &&
		cmake --build "$build/$2" -j"$jobs" --target "$4" >/dev/null
}
build_target arch-x86-virt-tdx/tests core-tests Debug tdx_core_tests || fail "building the core tests"
build_target qemu-harness/seam-emu seam-emu RelWithDebInfo seam-emu-tests || fail "building the seam-emu tests"
build_target tools/tdx-module-update module-update RelWithDebInfo tdx-module-update || fail "building tdx-module-update"
[ "$failed" -eq 0 ] || exit 1

# One GoogleTest filter: every test in it must run and pass; its "[ counted  ]" lines are shown.
run_tests() { # NAME BINARY FILTER
	local name=$1 bin=$2 filter=$3 out rc
	echo "==== $name ($filter)"
	out=$("$bin" --gtest_filter="$filter" 2>&1)
	rc=$?
	grep -E '^\[ counted  \]' <<<"$out"
	local ran passed
	ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' <<<"$out")
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' <<<"$out")
	if [ "$rc" -ne 0 ] || [ -z "$ran" ] || [ "$ran" -eq 0 ] || [ "$passed" != "$ran" ] ||
		grep -q '^\[  SKIPPED \]' <<<"$out"; then
		echo "$out"
		fail "$name: $filter (exit $rc, ${passed:-0} of ${ran:-0} passed, skipped or failed ones above)"
		return
	fi
	echo "$passed of $ran tests passed"
}
run_tests "kernel header validation and preflight" "$build/core-tests/tdx_core_tests" 'KernelIntelBlobs.*'
run_tests "emulator P-SEAMLDR signer and hash checks" "$build/seam-emu/seam-emu-tests" 'SeamldrIntelBlobs.*'

# A u32 of a blob's sigstruct (at 4 KiB in both formats, ABI.md §5), as 0x...
sigstruct_u32() { # BLOB OFFSET
	printf '0x%x' "$(od -An -tu4 -j $((4096 + $2)) -N4 "$1" | tr -d ' ')"
}
blob_of() { # VERSION
	local b
	for b in "${blobs[@]}"; do
		[ "$(basename "$b")" = "tdx_module_$1.blob" ] && { echo "$b"; return; }
	done
}

sysfs=$(mktemp -d)
trap 'rm -rf "$sysfs"' EXIT
tool=$build/module-update/tdx-module-update
mapfile -t lines < <(printf '%s\n' "${versions[@]}" | cut -d. -f1,2 | uniq)
for line in "${lines[@]}"; do
	mapfile -t in_line < <(printf '%s\n' "${versions[@]}" | grep "^${line//./\\.}\.")
	oldest=${in_line[0]} newest=${in_line[-1]}
	newest_blob=$(blob_of "$newest")
	if [ "$(sigstruct_u32 "$newest_blob" 1024)" = 0x0 ]; then
		fail "$newest_blob: an empty CPUID table"
		continue
	fi
	cpu=$(sigstruct_u32 "$newest_blob" 1028)
	# The upstream sysfs attributes: the oldest module of the line, a P-SEAMLDR of the same line new
	# enough for any of its images, one update left.
	root=$sysfs/$line
	mkdir -p "$root/sys/devices/faux/tdx_host" "$root/sys/class/firmware/tdx_module"
	echo "$oldest" >"$root/sys/devices/faux/tdx_host/version"
	echo "$line.99" >"$root/sys/devices/faux/tdx_host/seamldr_version"
	echo 1 >"$root/sys/devices/faux/tdx_host/num_remaining_updates"
	echo "==== tdx-module-update --list --dry-run: module $oldest, P-SEAMLDR $line.99, CPU $cpu"
	out=$("$tool" --list --dry-run --dir "$bins" --sysfs-root "$root" --cpu-fms "$cpu" 2>&1)
	rc=$?
	missing=()
	for v in "${versions[@]}"; do
		grep -Eq "^  ${v//./\\.}  .*  (candidate|no: )" <<<"$out" || missing+=("$v")
	done
	if [ "$rc" -ne 0 ] || [ "${#missing[@]}" -ne 0 ]; then
		echo "$out"
		fail "tdx-module-update --list (module $oldest, CPU $cpu): exit $rc, not listed with a verdict: ${missing[*]:-none}"
		continue
	fi
	grep -E "^  ${line//./\\.}\." <<<"$out"
	echo "all ${#versions[@]} versions listed"
done

if [ "$failed" -ne 0 ]; then
	echo "intel-binaries-check: $failed failed"
	exit 1
fi
echo "intel-binaries-check: ${#blobs[@]} blobs, all checks passed"
