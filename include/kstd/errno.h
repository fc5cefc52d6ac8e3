/* SPDX-License-Identifier: GPL-2.0 */
/* Linux errno values the core returns (asm-generic/errno{,-base}.h; the glue checks they match). */
#pragma once

namespace kstd::err {
inline constexpr int kEPERM = 1;
inline constexpr int kENOENT = 2;
inline constexpr int kEINTR = 4;
inline constexpr int kEIO = 5;
inline constexpr int kENXIO = 6;
inline constexpr int kE2BIG = 7;
inline constexpr int kEAGAIN = 11;
inline constexpr int kENOMEM = 12;
inline constexpr int kEACCES = 13;
inline constexpr int kEFAULT = 14;
inline constexpr int kEBUSY = 16;
inline constexpr int kEEXIST = 17;
inline constexpr int kENODEV = 19;
inline constexpr int kEINVAL = 22;
inline constexpr int kENOSPC = 28;
inline constexpr int kERANGE = 34;
inline constexpr int kEPROTO = 71;
inline constexpr int kEOPNOTSUPP = 95;
inline constexpr int kETIMEDOUT = 110;
inline constexpr int kEKEYREJECTED = 129;
} // namespace kstd::err
