/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Emulator-only services: requests the emulated TDX module answers through the mailbox that no real
 * TDX module has. They exist for test harnesses only (the TD harness module of the test build);
 * the production paths of tdx_host.ko never issue them, and a real TDX module answers any of them
 * TDX_OPERAND_INVALID (reserved RAX bits set), so they cannot be mistaken for SEAMCALLs.
 *
 * RAX: kEmuServiceBit | service number.
 *
 * kServiceTdReport: the TDREPORT a TD would obtain with TDG.MR.REPORT (a simulated TD has no vCPU
 *   to run that instruction). rcx the TD's TDR PA; rdx PA of the 64-byte REPORTDATA (64-aligned);
 *   r8 PA of the 1024-byte output (1024-aligned). The TD must be finalized (TDH.MR.FINALIZE).
 *   Statuses: TDX_SUCCESS; TDX_OPERAND_INVALID + operand id of a bad address; the TD statuses of
 *   the TD-management leaves for a TDR that is not a TD or not finalized.
 */
#pragma once

#include "../abi/types.h"

namespace tdx::emu {

using abi::u64;

inline constexpr u64 kEmuServiceBit = 1ull << 62;
inline constexpr u64 kEmuServiceMask = 0xFFFF;
inline constexpr u64 kServiceTdReport = 1;

constexpr u64 service_rax(u64 service) { return kEmuServiceBit | (service & kEmuServiceMask); }
static_assert(service_rax(kServiceTdReport) == 0x4000000000000001ull);

} // namespace tdx::emu
