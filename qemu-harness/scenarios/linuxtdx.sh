# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# linuxtdx: Linux 6.12's own TDX host code (arch/x86/virt/vmx/tdx/tdx.c, built into the debug
# kernel) brings the emulator up: a client independent of ours. Needs
# - the debug kernel booted with tdx_emulated_keyids=NR_MKTME,NR_TDX (its test-only patch) matching
#   the profile's platform.keyids (NR_MKTME = tdx_start - 1, NR_TDX = nr_tdx: 31,32 for default.json);
# - tdx_seamcall_trap.ko (loaded here with text=kernel: the kernel's SEAMCALLs raise #UD under QEMU
#   and the trap serves them from the emulator) and linux_tdx_client.ko (tdx_cpu_enable() on every
#   CPU with interrupts off, then tdx_enable(); its result in debugfs).
# 6.12 cannot tear TDX down, so the TDX module stays SYS_READY: last scenario of its boot.
#   run.sh --kernel "$(qemu-harness/debug-kernel/build.sh)/bzImage" \
#     --append tdx_emulated_keyids=31,32 --module build/kmod/debug-test/tdx_seamcall_trap.ko \
#     --module build/kmod/debug-test/linux-tdx-client/linux_tdx_client.ko --scenario linuxtdx

TRAP_KO=/lib/modules-tdx/tdx_seamcall_trap.ko
CLIENT_KO=/lib/modules-tdx/linux_tdx_client.ko
CLIENT_RESULT=/sys/kernel/debug/linux_tdx_client/result

# The kernel log since boot: /init cleared dmesg's view, /dev/kmsg still has the records. cat
# blocks after the last one; 3 s is only a bound on reading memory.
timeout 3 cat /dev/kmsg >/tmp/linuxtdx.kmsg 2>/dev/null

boot_log_has() { # EXTENDED-REGEX
	grep -E -q -- "$1" /tmp/linuxtdx.kmsg || { echo "no boot log line matches /$1/"; return 1; }
}

klog_has() { # EXTENDED-REGEX (on the log since this scenario began)
	dmesg | grep -E -q -- "$1" || { echo "no kernel log line matches /$1/"; return 1; }
}

result_field() { # KEY of linux_tdx_client's result line
	_rf="$(cat "$CLIENT_RESULT")" || return 1
	kv_get "$1" "$_rf" || { echo "no $1 in '$_rf'"; return 1; }
}

# Every TDMR the emulator was given has been initialized to its end.
all_tdmrs_initialized() {
	_n="$(state_field tdmrs)" || { echo "$_n"; return 1; }
	[ "$_n" -ge 1 ] || { echo "the emulator has no TDMR"; return 1; }
	expect_eq "$(state_field tdmrs_initialized)" "$_n"
}

keyids="$(sed -n 's/.*tdx_emulated_keyids=\([0-9]*,[0-9]*\).*/\1/p' /proc/cmdline)"
check "booted with tdx_emulated_keyids=NR_MKTME,NR_TDX" test -n "$keyids" || return 0
nr_mktme="${keyids%,*}"
nr_tdx="${keyids#*,}"
first=$((nr_mktme + 1))
check "tdx_init() took the KeyIDs from the parameter" \
	boot_log_has 'virt/tdx: KeyID partitioning from tdx_emulated_keyids='
check "tdx_init() reports the KeyID range [$first, $((first + nr_tdx)))" \
	boot_log_has "virt/tdx: BIOS enabled: private KeyID range \\[$first, $((first + nr_tdx))\\)"
check "X86_FEATURE_TDX_HOST_PLATFORM is set (cpuinfo tdx_host_platform)" \
	grep -q -w tdx_host_platform /proc/cpuinfo || return 0
check "the trap module is in the initramfs" path_exists "$TRAP_KO" || return 0
check "the client module is in the initramfs" path_exists "$CLIENT_KO" || return 0

emuctl clear >/dev/null
emuctl reset-counters >/dev/null
check "emulator is SYSINIT_PENDING before the bring-up" emu_state_is SYSINIT_PENDING || return 0

check "insmod tdx_seamcall_trap text=kernel" insmod "$TRAP_KO" text=kernel || return 0
check "insmod linux_tdx_client (tdx_cpu_enable everywhere, tdx_enable)" insmod "$CLIENT_KO" ||
	return 0
note "result: $(cat "$CLIENT_RESULT")"
check "tdx_cpu_enable() succeeded on every CPU" expect_eq "$(result_field cpu_enable_ok)" "$(nproc)"
check "tdx_enable() returned 0" expect_eq "$(result_field tdx_enable)" 0
check "kernel log: TDX module initialized" klog_has 'virt/tdx: module initialized'
check "kernel log: PAMT size" klog_has 'virt/tdx: [0-9]+ KB allocated for PAMT'
note "$(dmesg | grep -o 'virt/tdx: [0-9]* KB allocated for PAMT')"

check "emulator state is SYS_READY" emu_state_is SYS_READY
check "every TDMR initialized" all_tdmrs_initialized
note "emulator state: $(emuctl state)"
check "global KeyID = the first TDX KeyID ($first)" expect_eq "$(state_field global_keyid)" "$first"
check "SYS.INIT called once" expect_count sys.init 1
check "LP.INIT called once per CPU" expect_count sys.lp.init "$(nproc)"
# Linux reads MAX_TDMRS, MAX_RESERVED_PER_TDMR and the three PAMT entry sizes one by one.
check "metadata: 5 x SYS.RD, no SYS.RDALL" expect_eq "$(emu_count sys.rd) $(emu_count sys.rdall)" "5 0"
check "SYS.CONFIG called once" expect_count sys.config 1
check "KEY.CONFIG called once per package" expect_count sys.key.config "${HARNESS_PACKAGES:-1}"
check "TDMR.INIT called" expect_count_min sys.tdmr.init "$(state_field tdmrs)"
counters="$(emuctl counters)"
note "emulator counters: $counters"

# A second user: tdx_cpu_enable() and tdx_enable() find TDX up and make no SEAMCALL.
check "rmmod linux_tdx_client" rmmod linux_tdx_client
check "insmod linux_tdx_client again" insmod "$CLIENT_KO" || return 0
check "again: tdx_enable() returned 0" expect_eq "$(result_field tdx_enable)" 0
check "again: no SEAMCALL" expect_eq "$(emuctl counters)" "$counters"
check "emulator still SYS_READY" emu_state_is SYS_READY

check "dmesg clean" dmesg_clean
