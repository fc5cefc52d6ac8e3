# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# kunit: loads tdx_host (emulator backend) and tdx_host_kunit, whose suites run at load, then
# kvm_tdx_quote and kvm_tdx_quote_kunit (the GetQuote request validation, suite tdx_getquote),
# then prints every suite's KTAP results from debugfs between markers for the host to parse with
# the kernel's kunit.py. Needs a kernel with CONFIG_KUNIT_DEBUGFS (the debug kernel).
KUNIT_KO=/lib/modules-tdx/tdx_host_kunit.ko
KQ_KO=/lib/modules-tdx/kvm_tdx_quote.ko
KQ_KUNIT_KO=/lib/modules-tdx/kvm_tdx_quote_kunit.ko

tdx_ensure_unloaded
check "debug kernel has KUnit debugfs" path_exists /sys/kernel/debug/kunit || return 0
for f in "$KUNIT_KO" "$KQ_KO" "$KQ_KUNIT_KO"; do
	check "${f##*/} is in the initramfs" path_exists "$f" || return 0
done
check "insmod tdx_host seamcall=emu" tdx_insmod || return 0
check "insmod tdx_host_kunit (runs the suites)" insmod "$KUNIT_KO"
# Nothing opens /dev/kvm_tdx_quote here: tdx_getquote's userspace-path cases expect no VMM.
check "insmod kvm_tdx_quote" insmod "$KQ_KO"
check "insmod kvm_tdx_quote_kunit (runs tdx_getquote)" insmod "$KQ_KUNIT_KO"
for d in /sys/kernel/debug/kunit/tdx_*; do
	[ -f "$d/results" ] || continue
	echo "KUNIT-RESULTS-BEGIN ${d##*/}"
	cat "$d/results"
	echo "KUNIT-RESULTS-END ${d##*/}"
done
check "rmmod kvm_tdx_quote_kunit" rmmod kvm_tdx_quote_kunit
check "rmmod kvm_tdx_quote" rmmod kvm_tdx_quote
check "rmmod tdx_host_kunit" rmmod tdx_host_kunit
check "TDX is still up after the suites" tdx_version_ok
check "rmmod tdx_host" tdx_rmmod
check "dmesg clean" dmesg_clean
