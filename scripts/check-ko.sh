#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks a built tdx_host.ko for what freestanding C++ must never leave behind: constructor
# tables that distro kernels never run, C++ runtime references the kernel cannot satisfy, and
# objtool warnings from the build (pass the build log as $2 to check it too).
set -euo pipefail
ko=${1:?usage: check-ko.sh MODULE.ko [BUILD_LOG]}
log=${2:-}
fail=0

sections=$(readelf -SW "$ko" | awk '{print $2}')
# C++ dynamic initialization leaves _GLOBAL__sub_I_* functions behind, whatever the kernel.
ctors=$(nm "$ko" | awk '{print $NF}' | grep -E '^_GLOBAL__sub_[ID]_' || true)
if [ -n "$ctors" ]; then
	echo "check-ko: $ko has C++ global constructors/destructors: $ctors" >&2
	fail=1
fi
# Under KASAN the compiler registers globals through .init_array (the kernel runs those with
# CONFIG_CONSTRUCTORS): only there may the section exist.
table_sections=(.init_array .ctors .fini_array .dtors)
if grep -qw __asan_register_globals <<<"$(nm -u "$ko")"; then
	table_sections=(.ctors .dtors)
fi
for s in "${table_sections[@]}" .eh_frame .gcc_except_table; do
	if grep -qx -- "$s" <<<"$sections"; then
		echo "check-ko: $ko has section $s" >&2
		fail=1
	fi
done

bad=$(nm -u "$ko" | awk '{print $2}' | grep -E '^(_Z|__cxa_|__gxx_|_Unwind_)' || true)
if [ -n "$bad" ]; then
	echo "check-ko: $ko needs C++ runtime symbols:" >&2
	echo "$bad" | sed 's/^/  /' >&2
	fail=1
fi

for s in .return_sites .orc_unwind .ibt_endbr_seal; do
	if ! grep -qx -- "$s" <<<"$sections"; then
		echo "check-ko: $ko lacks $s: objtool did not process it" >&2
		fail=1
	fi
done

# The module users install carries no test hooks: only the test build (build-module.sh FLAVOR-test)
# has the KUnit hooks (tdx_kunit_*), the test-only exports of host_api.h (tdx_host_test_*) and the
# test-only module parameters (test_*, e.g. test_no_contig_alloc), and says so in its modinfo.
# CHECK_KO_AS_PRODUCTION=1 checks a .ko as if it were the production build whatever its modinfo
# says (make check uses it to show the check can fail).
if [ "${CHECK_KO_AS_PRODUCTION:-0}" = 1 ] || [ "$(modinfo -F tdx_test_build "$ko" 2>/dev/null)" != y ]; then
	hooks=$(nm "$ko" | awk '{print $NF}' | grep -E '^(__ksymtab_)?(tdx_kunit_|tdx_host_test_)' || true)
	if [ -n "$hooks" ]; then
		echo "check-ko: $ko is not a test build but has test hooks (KUnit hooks or test-only exports):" >&2
		echo "$hooks" | sed 's/^/  /' >&2
		fail=1
	fi
	params=$(modinfo -F parmtype "$ko" | cut -d: -f1 | grep -E '^test_' || true)
	if [ -n "$params" ]; then
		echo "check-ko: $ko is not a test build but has test-only parameters:" >&2
		echo "$params" | sed 's/^/  /' >&2
		fail=1
	fi
fi

if [ -n "$log" ] && grep -E 'objtool|warning:' "$log" >&2; then
	echo "check-ko: the build log has objtool or compiler warnings (above)" >&2
	fail=1
fi

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "check-ko: $ko ok (no ctors, no C++ runtime symbols, objtool ran clean)"
