# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# smoke: the harness plumbing, without the module. The mailbox (ivshmem BAR2) carries the
# emulator's header and its heartbeat moves; the control channel (ttyS1) answers.

smoke_magic() {
	_dev="$(ivshmem_dev)" || return 1
	note "mailbox device $_dev, BAR2 at $(mailbox_base)"
	# read() of a BAR's resource file works only where the kernel allows it; else /dev/mem.
	_m="$(dd if="$_dev/resource2" bs=8 count=1 2>/dev/null)"
	if [ -n "$_m" ]; then
		note "resource2 read: '$_m'"
		expect_eq "$_m" TDXSEAM2
		return
	fi
	_m="$(mailbox_read 0 64)" || return 1
	note "magic via devmem: $_m"
	# "TDXSEAM2" read as a little-endian u64.
	expect_eq "$_m" 0x324D414553584454
}

smoke_header() {
	_v="$(mailbox_read 8 32)" || return 1
	expect_eq "$((_v))" 2 || return 1
	_n="$(mailbox_read 12 32)" || return 1
	expect_eq "$((_n))" "$(nproc)" || return 1
	_p="$(mailbox_read 56 32)" || return 1
	expect_eq "$((_p))" "${HARNESS_PACKAGES:-1}" || return 1
	_s="$(mailbox_read 40 32)" || return 1
	expect_eq "$((_s))" 1 || return 1 # kEmuRunning
	# QEMU is connected to the emulator's ivshmem server: the emulator sleeps on the doorbell.
	_d="$(mailbox_read 44 32)" || return 1
	expect_eq "$((_d))" 1 || return 1
	_e="$(mailbox_read 64 64)" || return 1
	[ "$((_e))" -ne 0 ] || { echo "epoch is 0"; return 1; }
}

# Offsets of include/tdx/emu/mailbox.h's MailboxHeader.
smoke_heartbeat() {
	_h1="$(mailbox_read 32 64)" || return 1
	sleep 1
	_h2="$(mailbox_read 32 64)" || return 1
	note "heartbeat $_h1 -> $_h2"
	[ "$((_h2))" -gt "$((_h1))" ] || { echo "heartbeat did not move"; return 1; }
}

smoke_ping() {
	_r="$(emuctl ping)" || { echo "$_r"; return 1; }
	note "ping: $_r"
}

check "ivshmem device present" ivshmem_dev
check "mailbox magic TDXSEAM2" smoke_magic
check "mailbox header: protocol 2, one slot per CPU, packages, running, doorbell, epoch" smoke_header
check "emulator heartbeat moves" smoke_heartbeat
check "emuctl ping" smoke_ping
check "emuctl state answers" emuctl state
check "dmesg clean" dmesg_clean
