#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds tdx_host.ko for one kernel, in a copy of the module sources under build/kmod/FLAVOR, so
# that builds for different kernels never share objects (6.12's Kbuild has no separate output
# directory for external modules). Every FLAVOR builds tdx_host.ko and kvm_tdx_quote.ko. A FLAVOR
# ending in "-test" is the test build: tdx_host.ko with the test hooks, tdx_td_harness.ko and
# tdx_gq_harness.ko (td-harness/), tdx_seamcall_trap.ko (seamcall-trap/), on a kernel with KUnit
# tdx_host_kunit.ko and kvm_tdx_quote_kunit.ko, and on a kernel with CONFIG_INTEL_TDX_HOST
# linux-tdx-client/linux_tdx_client.ko; any other FLAVOR is what users install, without test hooks.
#   scripts/build-module.sh FLAVOR KDIR    -> prints the directory holding the .ko files
# (under $BUILD/kmod when BUILD is set, as the Makefile's BUILD= does; else build/kmod).
set -euo pipefail
cd "$(dirname "$0")/.."
flavor=${1:?flavor}
kdir=${2:?kernel build directory}
out="${BUILD:-$PWD/build}/kmod/$flavor"
mkdir -p "$out/scripts"
keep=(--filter='P *.o' --filter='P *.ko' --filter='P .*.cmd' --filter='P *.mod' --filter='P *.mod.c'
	--filter='P Module.symvers' --filter='P modules.order' --filter='P *.d' --filter='P build.log')
rsync -a --delete "${keep[@]}" --exclude tests/ Kbuild include arch-x86-virt-tdx drivers-coco-tdx-host \
	kvm-tdx kunit td-harness seamcall-trap linux-tdx-client "$out/"
rsync -a scripts/Kbuild.cxx "$out/scripts/"
set -o pipefail
test_build=0
[[ $flavor == *-test ]] && test_build=1
make -C "$kdir" M="$out" TDX_TEST_BUILD=$test_build modules 2>&1 | tee "$out/build.log" >&2
echo "$out"
