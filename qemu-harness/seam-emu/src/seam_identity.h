// SPDX-License-Identifier: GPL-2.0
// The identity of an emulated TDX module image, as TEE_TCB_INFO and the DICE chain report it
// (seam-emu README, "Module identity"). Shared by the TDREPORT (tdh_mng.cpp) and quoting
// (tdh_quote.cpp): both must report the same values for the same image.
#pragma once

#include <array>

#include <tdx/abi/types.h>

#include "profile.h"

namespace seam_emu {

struct SeamIdentity {
	std::array<u8, 48> mrseam{};       /* the installed image's seamhash, or see seam_identity() */
	std::array<u8, 48> mrsignerseam{}; /* all zero: an Intel-signed module */
	std::array<u8, 16> tee_tcb_svn{};  /* [0] minor SVN, [1] major SVN (the sigstruct's); rest 0 */
	std::array<u8, 8> attributes{};    /* SEAM attributes: all zero (a production module) */
	bool operator==(const SeamIdentity &) const = default;
};

/*
 * MRSEAM: for an image the P-SEAMLDR installed, its seamhash (the SHA-384 of its pages, as the
 * P-SEAMLDR measures it). For a profile's image, which has no pages, SHA-384 over
 * "seam-emu MRSEAM v1" followed by the version fields of the image (major, minor, update,
 * build_num as u16 LE, build_date as u32 LE) and TDX_FEATURES0 (u64 LE): images that differ in
 * version or features have different measurements, the same image always the same one.
 * TEE_TCB_SVN = {minor SVN, major SVN, 0, ...}, as the P-SEAMLDR records a sigstruct's SEAM SVN.
 */
SeamIdentity seam_identity(const ModuleImage &image);

/*
 * The platform below the module (DICE layer 1): SHA-384 over "seam-emu platform v1" followed by
 * the CPU signature and the LP and package counts (u32 LE each); its TCB SVN is {1, 0, ...}.
 */
std::array<u8, 48> platform_measurement(const Platform &platform);
std::array<u8, 16> platform_tcb_svn(const Platform &platform);

} // namespace seam_emu
