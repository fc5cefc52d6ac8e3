// SPDX-License-Identifier: GPL-2.0
// The TDs the emulated module knows (seam-emu README, "TDs and TDREPORTs"): each TD's lifecycle
// and operation state, its pages, the parameters of TDH.MNG.INIT, its measurement (MRTD) and the
// measurements recorded when it was finalized; and the TDREPORT of a TD (include/tdx/abi/td.h).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <openssl/types.h>

#include <tdx/abi/td.h>

#include <dice-quote/claims.h>

#include "locks.h"
#include "seam_identity.h"

namespace seam_emu {

/* TDR.LIFECYCLE_STATE, with the module's values (TD_BLOCKED, 2, is not modelled). */
enum class TdLifecycle : u8 { kHkidAssigned = 0, kKeysConfigured = 1, kTeardown = 3 };
/* TDCS.OP_STATE, with the module's values; the module reports it as TDX_OP_STATE_INCORRECT's operand. */
enum class TdOpState : u8 { kUninitialized = 0, kInitialized = 1, kRunnable = 2 };
const char *td_lifecycle_name(TdLifecycle s);
const char *td_op_state_name(TdOpState s);

/* PAMT page types PHYMEM.PAGE.RECLAIM returns in rcx (the module's PT_TDR, PT_TDCX). */
inline constexpr u64 kPageTypeTdr = 4;
inline constexpr u64 kPageTypeTdcx = 5;

/* A running SHA-384 (the TD's MRTD between MNG.INIT and MR.FINALIZE). */
class Sha384Stream {
public:
	void init();
	void update(const u8 *data, size_t len);
	dice_quote::Digest48 final();
	bool active() const { return ctx_ != nullptr; }

private:
	struct Free {
		void operator()(EVP_MD_CTX *c) const;
	};
	std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

/* What TDH.MNG.INIT takes from TD_PARAMS (the rest of TD_PARAMS is not modelled). */
struct TdParams {
	u64 attributes = 0, xfam = 0;
	u16 max_vcpus = 0;
	dice_quote::Digest48 mrconfigid{}, mrowner{}, mrownerconfig{};

	static TdParams from_bytes(const u8 *td_params); /* td_params::kSize bytes */
};

/* One TD, named by its TDR page. Guarded by Module::state_mutex(). */
struct Td {
	u64 tdr_pa = 0;
	u16 hkid = 0;
	TdLifecycle lifecycle = TdLifecycle::kHkidAssigned;
	TdOpState op_state = TdOpState::kUninitialized;
	std::vector<bool> pkg_key_configured; /* by package */
	unsigned tdcs_added = 0;              /* MNG.ADDCX calls that succeeded */
	std::vector<u64> tdcs;                /* TDCS pages not reclaimed yet, in the order added */
	TdParams params;
	Sha384Stream mrtd_stream;
	dice_quote::Digest48 mrtd{}; /* final once op_state is RUNNABLE */
	/* Recorded by MR.FINALIZE: the TD's and the running module's measurements then. */
	dice_quote::TdMeasurements td_origin;
	dice_quote::SeamMeasurements seam_origin;
	MutexLock lock; /* held by the TD leaf in progress (the module's TDR PAMT entry lock) */

	bool finalized() const { return op_state == TdOpState::kRunnable; }
	/* The TD still holds its HKID (from MNG.CREATE until MNG.KEY.FREEID). */
	bool holds_hkid() const { return lifecycle != TdLifecycle::kTeardown; }
	/* TDINFO as TDG.MR.REPORT writes it (tdreport::kTdInfoSize bytes): RTMRs and SERVTD_HASH 0. */
	std::array<u8, tdreport::kTdInfoSize> td_info() const;
};

/*
 * Every TD, by TDR PA, and which TD each TDCS page belongs to. Td objects keep their address
 * until removed (a call may hold a TD's lock). Reset by SYS.DISABLE; the totals count for the
 * emulator's whole life.
 */
class TdTable {
public:
	Td *find(u64 tdr_pa);
	const Td *find(u64 tdr_pa) const;
	/* The TD a TDCS page belongs to, or nullptr. */
	Td *owner_of_tdcs(u64 pa);
	Td &create(u64 tdr_pa, u16 hkid, u32 packages);
	void add_tdcs(Td &td, u64 pa);
	void reclaim_tdcs(Td &td, u64 pa);
	/* The TDR was reclaimed: the TD is gone. */
	void remove(u64 tdr_pa);
	/* SYS.DISABLE: every TD forgotten (not counted as reclaimed). */
	void reset();

	bool hkid_in_use(u16 hkid) const;
	/* A TD created and not finalized (nor torn down) exists. */
	bool build_in_progress() const;
	const std::map<u64, Td> &all() const { return tds_; }
	u64 created() const { return created_; }
	u64 reclaimed() const { return reclaimed_; }

private:
	std::map<u64, Td> tds_;
	std::map<u64, u64> tdcs_owner_; /* TDCS page -> TDR */
	u64 created_ = 0, reclaimed_ = 0;
};

/* TDH.MR.EXTEND's block: "MR.EXTEND", the GPA as u64 LE at offset 16, zeros to 128 bytes. */
std::array<u8, 128> mr_extend_block(u64 gpa);

/* The claims a TDINFO / the module's identity stand for (docs: origin/current of the quote). */
dice_quote::TdMeasurements td_measurements(const u8 *td_info);
dice_quote::SeamMeasurements seam_measurements(const SeamIdentity &id);
dice_quote::SeamMeasurements seam_measurements_from_tcb_info(const u8 *tee_tcb_info);

/*
 * The key of the TDREPORT MAC: 32 random bytes drawn when the module is constructed, never
 * shown to anyone (a report made by another emulator, or altered, fails the MAC).
 */
class TdReportKey {
public:
	TdReportKey();
	/* HMAC-SHA-256 over REPORTMACSTRUCT bytes [0, tdreport::kMac). */
	std::array<u8, tdreport::kMacBytes> mac(const u8 *report) const;

private:
	std::array<u8, 32> key_{};
};

/* TEE_TCB_INFO.VALID: the fields filled (bit i = the field starting at byte 8 i). */
inline constexpr u64 kTeeTcbInfoValid = 1ull << (tdreport::kTeeTcbSvn / 8) | 1ull << (tdreport::kMrSeam / 8) |
					1ull << (tdreport::kMrSignerSeam / 8) | 1ull << (tdreport::kSeamAttributes / 8);
static_assert(kTeeTcbInfoValid == 0x820A);

/* The TDREPORT of `td` (finalized) with `report_data`, for the module `seam` on a CPU of `cpusvn`. */
std::array<u8, tdreport::kSize> make_td_report(const Td &td, const SeamIdentity &seam,
					       const std::array<u8, 16> &cpusvn, const u8 *report_data,
					       const TdReportKey &key);

/* Checks of a report's integrity: its MAC, then both hashes. */
bool td_report_mac_ok(const u8 *report, const TdReportKey &key);
bool td_report_hashes_ok(const u8 *report);

} // namespace seam_emu
