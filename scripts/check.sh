#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: every test, stage by stage, with the time each stage took printed at the end.
#   scripts/check.sh all   host tests, module build + check-ko, end-to-end under QEMU
#   scripts/check.sh e2e   only the end-to-end scenarios
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
what=${1:-all}
make_q=(make --no-print-directory)

names=()
times=()
results=()
failed=0

stage() {
	local name=$1
	shift
	local t0=$SECONDS
	echo "==== stage: $name"
	if "$@"; then
		results+=("ok")
	else
		results+=("FAILED")
		failed=$((failed + 1))
	fi
	names+=("$name")
	times+=($((SECONDS - t0)))
}

distro_ko="$PWD/build/kmod/distro/tdx_host.ko"
debug_ko="$PWD/build/kmod/debug/tdx_host.ko"
debug_kernel() { echo "$(qemu-harness/debug-kernel/build.sh)/bzImage"; }

e2e_boot() {
	# One QEMU boot running several guest scenarios against one emulator. SMP is "N" or
	# "N/P" for N CPUs in P packages.
	local kernel=$1 ko=$2 smp=${3%/*} packages=1
	[[ $3 == */* ]] && packages=${3#*/}
	shift 3
	local args=()
	for s in "$@"; do args+=(--scenario "$s"); done
	qemu-harness/run.sh --kernel "$kernel" --module "$ko" --smp "$smp" --packages "$packages" "${args[@]}"
}

tdmr_boot() { # KERNEL KO RAM_MIB PROFILE SCENARIO [run.sh args]
	qemu-harness/run.sh --kernel "$1" --module "$2" --ram "$3" \
		--profile "qemu-harness/seam-emu/profiles/$4" --scenario "$5" "${@:6}"
}

# TDs and quotes: the test build of tdx_host.ko and the TD harness, tdx-quote-verify in the guest,
# an EXT+QUOTE image; the quotes the guest printed are verified again on the host by the
# independent verifier.
quote_boot() { # KERNEL KMOD-DIR SCENARIO...
	local kernel=$1 kmod=$2 args=()
	shift 2
	for s in "$@"; do args+=(--scenario "$s"); done
	local log
	log="$PWD/build/logs/$(date +%Y%m%d-%H%M%S)-$(basename "$kmod")-quote.log"
	qemu-harness/run.sh --kernel "$kernel" --module "$kmod/tdx_host.ko" --module "$kmod/tdx_td_harness.ko" \
		--module "$kmod/kvm_tdx_quote.ko" --module "$kmod/tdx_gq_harness.ko" \
		--bin build/dice-quote/tdx-quote-verify --bin build/quote-service/tdx-qgs \
		--bin build/quote-service/tdx-quote-vmm --profile qemu-harness/seam-emu/profiles/ext-quote.json \
		${QUOTE_ENV:+--env "$QUOTE_ENV"} --log "$log" "${args[@]}" &&
		scripts/verify-guest-quotes.sh "$log" 2
}

# Runtime update: the test build, the TD harness, tdx-quote-verify and tdx-module-update in the guest,
# the images of scripts/update-images.py (built from update.json's module) in its /data; the
# emulator respawned after a death (updatefaults resets the platform that way). UPDATE_HW=1: on the
# hw backend, the SEAMCALL trap serving tdx_host's real SEAMCALL instruction (as hw_boot).
update_boot() { # KERNEL KMOD-DIR SMP SCENARIO... (UPDATE_PROFILE: another profile of the same module)
	local kernel=$1 kmod=$2 smp=$3 dir=build/update-images data=() args=() hw=()
	local profile=qemu-harness/seam-emu/profiles/${UPDATE_PROFILE:-update.json}
	shift 3
	for s in "$@"; do args+=(--scenario "$s"); done
	[ -z "${UPDATE_HW:-}" ] || hw=(--module "$kmod/tdx_seamcall_trap.ko" --env TDX_SEAMCALL=hw)
	/usr/bin/env python3 scripts/update-images.py qemu-harness/seam-emu/profiles/update.json \
		build/module-image/tdx-mkimage lib/module-image/keys "$dir" >"$dir.list" || return 1
	mv "$dir.list" "$dir/images.list"
	for f in "$dir"/*.blob "$dir/images.list"; do data+=(--data "$f"); done
	qemu-harness/run.sh --kernel "$kernel" --module "$kmod/tdx_host.ko" --module "$kmod/tdx_td_harness.ko" \
		--bin build/dice-quote/tdx-quote-verify --bin build/module-update/tdx-module-update \
		--profile "$profile" --smp "$smp" "${data[@]}" \
		--env "EMU_CPU_SIGNATURE=$(sed -n 's/.*"signature": *"\(0x[0-9a-fA-F]*\)".*/\1/p' \
			qemu-harness/seam-emu/profiles/update.json)" --respawn-emu "${hw[@]}" "${args[@]}"
}
update_hw_boot() { UPDATE_HW=1 update_boot "$@"; }

# The hw backend: the test build's tdx_host.ko with seamcall=hw (lib.sh's tdx_insmod with
# TDX_SEAMCALL=hw), its real SEAMCALL instruction's #UD served through the emulator by the SEAMCALL
# trap (tdx_seamcall_trap.ko, loaded first). The foundation's scenarios all apply: params unloads the
# trap for its checks of a guest without TDX, emudeath expects CF=1 (VMfailInvalid) where the
# mailbox backend reports its timeout. hwtrap: the #UD and #GP fixups, CF=1, text not served.
hw_scenarios=(bringup params faults retries leakcycle cpuhotplug hwtrap emudeath)
hw_boot() { # KERNEL KMOD-DIR SCENARIO...
	local kernel=$1 kmod=$2 args=()
	shift 2
	for s in "$@"; do args+=(--scenario "$s"); done
	qemu-harness/run.sh --kernel "$kernel" --module "$kmod/tdx_host.ko" \
		--module "$kmod/tdx_seamcall_trap.ko" --env TDX_SEAMCALL=hw "${args[@]}"
}

updatelast_boot() { UPDATE_PROFILE=update-last.json update_boot distro build/kmod/distro-test 2 updatelast; }

debug_check_ko() {
	make --no-print-directory module-debug &&
		scripts/check-ko.sh build/kmod/debug/tdx_host.ko build/kmod/debug/build.log &&
		scripts/check-ko.sh build/kmod/debug/kvm_tdx_quote.ko &&
		scripts/check-ko.sh build/kmod/debug-test/tdx_host.ko build/kmod/debug-test/build.log &&
		scripts/check-ko.sh build/kmod/debug-test/tdx_seamcall_trap.ko || return 1
	# The hook check can fail: the test build, checked as a production module, is refused.
	if CHECK_KO_AS_PRODUCTION=1 scripts/check-ko.sh build/kmod/debug-test/tdx_host.ko >/dev/null 2>&1; then
		echo "check-ko did not notice the KUnit hooks of the test build" >&2
		return 1
	fi
}

if [ "$what" = all ]; then
	stage "install dependencies" "${make_q[@]}" deps
	stage "host tests: C++ core" "${make_q[@]}" core-tests
	stage "host tests: seam-emu" "${make_q[@]}" emu-tests
	stage "host tests: DICE quotes, tdx-quote-verify, independent verifier" "${make_q[@]}" quote-tests
	stage "host tests: module images (blob formats, sigstruct signing and trust), tdx-mkimage" "${make_q[@]}" image-tests
	stage "host tests: tdx-module-update (selection, sysfs, upload protocol)" "${make_q[@]}" update-tests
	stage "host tests: quote service (QGS wire format, tdx-qgs, tdx-quote-vmm)" "${make_q[@]}" qgs-tests
	stage "Intel's published images (when TDX_MODULE_BINARIES names a checkout)" scripts/intel-binaries-check.sh
	stage "module build + check-ko (Debian 6.12)" "${make_q[@]}" check-ko
	stage "test build for Debian 6.12 (test hooks, TD harness)" "${make_q[@]}" module-test
	stage "debug kernel (build or reuse from cache)" "${make_q[@]}" debug-kernel
	stage "module build + check-ko (debug kernel)" debug_check_ko
fi
foundation=(bringup params faults retries leakcycle cpuhotplug emudeath)
# smoke reads the mailbox through /dev/mem, which only the distro kernel has.
# harnesscheck last in its boot: the harness's gates shown failing on planted conditions.
stage "e2e distro smp=2: smoke ${foundation[*]} harnesscheck" \
	e2e_boot distro "$distro_ko" 2 smoke "${foundation[@]}" harnesscheck
stage "e2e distro smp=4 in 2 packages: bringup faults leakcycle" \
	e2e_boot distro "$distro_ko" 4/2 bringup faults leakcycle
stage "e2e distro: a module without NO_RBP_MOD refused; SYS.DISABLE failing or the emulator dying during rmmod" \
	e2e_boot distro "$distro_ko" 2 norbpmod rmmodfault emudeath_rmmod
stage "e2e distro test build, hw backend (SEAMCALL trapped into the emulator): ${hw_scenarios[*]}" \
	hw_boot distro build/kmod/distro-test "${hw_scenarios[@]}"
stage "e2e distro: 8 GiB: a module with 1 TDMR refused naming both numbers; 4 TDMRs (above 1 GiB, PAMTs from alloc_contig_range)" \
	tdmr_boot distro "$distro_ko" 8192 max-tdmrs-4.json toomanytdmrs --scenario bigmem
stage "e2e distro test build: extensions (pools of 0/1/512/513/12800 pages, faults), TDs and quotes, TD guests' GetQuote on both paths" \
	quote_boot distro build/kmod/distro-test extpool quote getquote
stage "e2e distro test build smp=2: runtime update (a TD across two updates, every bad image, busy, cancel), a failure at each window step" \
	update_boot distro build/kmod/distro-test 2 update updatefaults
stage "e2e distro test build smp=4: runtime update" update_boot distro build/kmod/distro-test 4 update
stage "e2e distro test build smp=2, hw backend (SEAMCALL trapped into the emulator): runtime update, a failure at each window step" \
	update_hw_boot distro build/kmod/distro-test 2 update updatefaults
stage "e2e distro test build: the last update goes in, the next is refused (no-updates-left)" \
	updatelast_boot
stage "e2e distro: runtime update not offered (SEAMRET erratum, no TD_PRESERVING), saying why" \
	qemu-harness/run.sh --kernel distro --module "$distro_ko" \
	--profile qemu-harness/seam-emu/profiles/update-seamret.json --scenario updatehidden
stage "kunit (debug kernel, kunit.py parse)" scripts/kunit.sh
stage "e2e debug+sanitizers smp=2: ${foundation[*]} harnesscheck" \
	e2e_boot "$(debug_kernel)" "$debug_ko" 2 "${foundation[@]}" harnesscheck
# leakcycle at 4 CPUs: the distro boot's (on debug it runs at 2, in the boot above).
stage "e2e debug+sanitizers smp=4 in 2 packages: bringup faults" \
	e2e_boot "$(debug_kernel)" "$debug_ko" 4/2 bringup faults
# On the debug kernel the issue's four (bring-up, faults at each leaf, leak cycles, emulator death)
# and hwtrap; params, retries and cpuhotplug on the hw backend run in the distro boot only (time).
hw_debug_scenarios=(bringup faults leakcycle hwtrap emudeath)
stage "e2e debug+sanitizers test build, hw backend: ${hw_debug_scenarios[*]}" \
	hw_boot "$(debug_kernel)" build/kmod/debug-test "${hw_debug_scenarios[@]}"
# emudeath_rmmod, emudeath_lpinit and emudeath_sysconfig end by asking run.sh for a fresh emulator.
stage "e2e debug+sanitizers: NO_RBP_MOD refused, SYS.DISABLE failing, a late answer after a timeout, the emulator device unbound, the emulator dying in rmmod, LP.INIT (IPI) and SYS.CONFIG, a fresh one started: the next load works" \
	e2e_boot "$(debug_kernel)" "$debug_ko" 2 norbpmod rmmodfault emudeath_rmmod lateanswer emuunbind \
	emudeath_lpinit emudeath_sysconfig emurespawn
# The GetQuote storms with 4 TDs x 5 requests on each path (the distro boot makes 25 each).
quote_boot_debug() { QUOTE_ENV=GQ_STORM=5 quote_boot "$@"; }
stage "e2e debug+sanitizers test build: extensions, TDs, quotes and TD guests' GetQuote" \
	quote_boot_debug "$(debug_kernel)" build/kmod/debug-test extpool quote getquote
stage "e2e debug+sanitizers test build: runtime update, a failure at each window step" \
	update_boot "$(debug_kernel)" build/kmod/debug-test 2 update updatefaults
# Linux 6.12's own TDX host code (CONFIG_INTEL_TDX_HOST in the debug kernel) as the emulator's
# client: the kernel's KeyID partitioning from the project's boot parameter (every profile has 32
# MKTME KeyIDs then 32 TDX KeyIDs), its SEAMCALLs through the trap (text=kernel). 6.12 cannot tear
# TDX down: linuxtdx is the last scenario of its boot. Before it, in the same 8 GiB: our test build's
# bigmem with test_no_contig_alloc=1 (as without CONTIG_ALLOC) and 64 TDMRs: 8 TDMRs of 1 GiB.
linuxtdx_boot() { # SMP PACKAGES RAM_MIB
	qemu-harness/run.sh --kernel "$(debug_kernel)" --append tdx_emulated_keyids=31,32 \
		--smp "$1" --packages "$2" --ram "$3" \
		--module build/kmod/debug-test/tdx_host.ko --env BIGMEM_MAX_TDMRS=64 --env BIGMEM_NO_CONTIG=1 \
		--module build/kmod/debug-test/tdx_seamcall_trap.ko \
		--module build/kmod/debug-test/linux-tdx-client/linux_tdx_client.ko --scenario bigmem --scenario linuxtdx
}
stage "e2e debug+sanitizers, 8 GiB, 4 CPUs in 2 packages: the test build without CONTIG_ALLOC (8 TDMRs of 1 GiB); Linux 6.12's own TDX bring-up (tdx_cpu_enable, tdx_enable) through the SEAMCALL trap" \
	linuxtdx_boot 4 2 8192
stage "e2e debug: every allocation of the load failed in turn (fault injection)" \
	e2e_boot "$(debug_kernel)" "$debug_ko" 2 allocfail

echo
echo "==== summary"
passed=0
for i in "${!names[@]}"; do
	printf '%-60s %-7s %5ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
	[ "${results[$i]}" = ok ] && passed=$((passed + 1))
done
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
