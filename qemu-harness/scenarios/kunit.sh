# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# kunit: loads tdx_host (emulator backend) and tdx_host_kunit, whose suites run at load, then
# prints every suite's KTAP results from debugfs between markers for the host to parse with the
# kernel's kunit.py. Needs a kernel with CONFIG_KUNIT_DEBUGFS (the debug kernel).
KUNIT_KO=/lib/modules-tdx/tdx_host_kunit.ko

tdx_ensure_unloaded
check "debug kernel has KUnit debugfs" path_exists /sys/kernel/debug/kunit || return 0
check "tdx_host_kunit.ko is in the initramfs" path_exists "$KUNIT_KO" || return 0
check "insmod tdx_host seamcall=emu" tdx_insmod || return 0
check "insmod tdx_host_kunit (runs the suites)" insmod "$KUNIT_KO"
for d in /sys/kernel/debug/kunit/tdx_*; do
	[ -f "$d/results" ] || continue
	echo "KUNIT-RESULTS-BEGIN ${d##*/}"
	cat "$d/results"
	echo "KUNIT-RESULTS-END ${d##*/}"
done
check "rmmod tdx_host_kunit" rmmod tdx_host_kunit
check "TDX is still up after the suites" tdx_version_ok
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
