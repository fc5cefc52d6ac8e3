# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# make bench (the SEAMCALL trap's boot): the test build of tdx_host.ko brought up with seamcall=hw
# through tdx_seamcall_trap.ko (TDX_SEAMCALL=hw), then the trap's bench: BENCH_CALLS pairs of
# TDH.SYS.RD on CPU 0, one as the real SEAMCALL instruction served by the trap, one straight
# through the trap's mailbox backend, in one BENCH line that scripts/bench.sh reads. The checks
# only say that the measurement ran, never whether it was fast.
BENCH_CALLS="${BENCH_CALLS:-20000}"

check "TDX_SEAMCALL=hw (run.sh --env)" expect_eq "${TDX_SEAMCALL:-}" hw || return 0
check "insmod tdx_host seamcall=hw (the trap first)" tdx_insmod || return 0
check "warm-up: 1000 pairs" sh -c "echo 1000 > $TRAP/bench" || return 0
check "bench: $BENCH_CALLS pairs" sh -c "echo $BENCH_CALLS > $TRAP/bench" || return 0
r="$(cat "$TRAP/bench")"
check "the bench's result" expect_match "$r" "^ok bench n=$BENCH_CALLS "
echo "BENCH trap smp=$(nproc) ${r#ok bench }"
check "rmmod tdx_host" tdx_rmmod
check "rmmod the trap" rmmod tdx_seamcall_trap
check "kernel log is clean" dmesg_clean
