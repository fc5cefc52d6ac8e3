// SPDX-License-Identifier: GPL-2.0
#include "td_state.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace seam_emu {

namespace {

/* OpenSSL cannot fail on these (in-memory SHA-384/HMAC) short of a malfunction: stop then. */
void crypto_check(bool ok)
{
	if (!ok)
		std::abort();
}

dice_quote::Digest48 sha384(const u8 *data, size_t len)
{
	dice_quote::Digest48 out{};
	unsigned n = 0;
	crypto_check(EVP_Digest(data, len, out.data(), &n, EVP_sha384(), nullptr) && n == out.size());
	return out;
}

void put_u64(u8 *at, u64 v)
{
	for (unsigned i = 0; i < 8; i++)
		at[i] = u8(v >> (8 * i));
}

u64 get_u64(const u8 *at)
{
	u64 v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= u64(at[i]) << (8 * i);
	return v;
}

template <size_t N>
void put(u8 *at, const std::array<u8, N> &a)
{
	std::memcpy(at, a.data(), N);
}

template <size_t N>
std::array<u8, N> get(const u8 *at)
{
	std::array<u8, N> a;
	std::memcpy(a.data(), at, N);
	return a;
}

} // namespace

const char *td_lifecycle_name(TdLifecycle s)
{
	switch (s) {
	case TdLifecycle::kHkidAssigned:
		return "HKID_ASSIGNED";
	case TdLifecycle::kKeysConfigured:
		return "KEYS_CONFIGURED";
	case TdLifecycle::kTeardown:
		return "TEARDOWN";
	}
	return "?";
}

const char *td_op_state_name(TdOpState s)
{
	switch (s) {
	case TdOpState::kUninitialized:
		return "UNINITIALIZED";
	case TdOpState::kInitialized:
		return "INITIALIZED";
	case TdOpState::kRunnable:
		return "RUNNABLE";
	}
	return "?";
}

/* ---- SHA-384 stream ---- */

void Sha384Stream::Free::operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }

void Sha384Stream::init()
{
	ctx_.reset(EVP_MD_CTX_new());
	crypto_check(ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha384(), nullptr));
}

void Sha384Stream::update(const u8 *data, size_t len)
{
	crypto_check(ctx_ && EVP_DigestUpdate(ctx_.get(), data, len));
}

dice_quote::Digest48 Sha384Stream::final()
{
	dice_quote::Digest48 out{};
	unsigned n = 0;
	crypto_check(ctx_ && EVP_DigestFinal_ex(ctx_.get(), out.data(), &n) && n == out.size());
	ctx_.reset();
	return out;
}

/* ---- TD_PARAMS, TDINFO and the measurements they stand for ---- */

TdParams TdParams::from_bytes(const u8 *p)
{
	TdParams t;
	t.attributes = get_u64(p + td_params::kAttributes);
	t.xfam = get_u64(p + td_params::kXfam);
	t.max_vcpus = u16(p[td_params::kMaxVcpus] | p[td_params::kMaxVcpus + 1] << 8);
	t.mrconfigid = get<kMeasurementBytes>(p + td_params::kMrConfigId);
	t.mrowner = get<kMeasurementBytes>(p + td_params::kMrOwner);
	t.mrownerconfig = get<kMeasurementBytes>(p + td_params::kMrOwnerConfig);
	return t;
}

std::array<u8, tdreport::kTdInfoSize> Td::td_info() const
{
	std::array<u8, tdreport::kTdInfoSize> info{};
	put_u64(&info[tdreport::kTdAttributes], params.attributes);
	put_u64(&info[tdreport::kTdXfam], params.xfam);
	put(&info[tdreport::kMrTd], mrtd);
	put(&info[tdreport::kTdMrConfigId], params.mrconfigid);
	put(&info[tdreport::kTdMrOwner], params.mrowner);
	put(&info[tdreport::kTdMrOwnerConfig], params.mrownerconfig);
	/* RTMR0-3 and SERVTD_HASH stay zero: a simulated TD never extends an RTMR and binds no service TD. */
	return info;
}

dice_quote::TdMeasurements td_measurements(const u8 *ti)
{
	dice_quote::TdMeasurements m;
	m.attributes = get<8>(ti + tdreport::kTdAttributes);
	m.xfam = get<8>(ti + tdreport::kTdXfam);
	m.mrtd = get<kMeasurementBytes>(ti + tdreport::kMrTd);
	m.mrconfigid = get<kMeasurementBytes>(ti + tdreport::kTdMrConfigId);
	m.mrowner = get<kMeasurementBytes>(ti + tdreport::kTdMrOwner);
	m.mrownerconfig = get<kMeasurementBytes>(ti + tdreport::kTdMrOwnerConfig);
	for (unsigned i = 0; i < tdreport::kNumRtmrs; i++)
		m.rtmr[i] = get<kMeasurementBytes>(ti + tdreport::kRtmr0 + i * kMeasurementBytes);
	m.mrservicetd = get<kMeasurementBytes>(ti + tdreport::kServTdHash);
	return m;
}

dice_quote::SeamMeasurements seam_measurements(const SeamIdentity &id)
{
	dice_quote::SeamMeasurements m;
	m.attributes = id.attributes;
	m.mrseam = id.mrseam;
	m.mrsignerseam = id.mrsignerseam;
	m.tee_tcb_svn = id.tee_tcb_svn;
	return m;
}

dice_quote::SeamMeasurements seam_measurements_from_tcb_info(const u8 *tti)
{
	dice_quote::SeamMeasurements m;
	m.attributes = get<8>(tti + tdreport::kSeamAttributes);
	m.mrseam = get<kMeasurementBytes>(tti + tdreport::kMrSeam);
	m.mrsignerseam = get<kMeasurementBytes>(tti + tdreport::kMrSignerSeam);
	m.tee_tcb_svn = get<16>(tti + tdreport::kTeeTcbSvn);
	return m;
}

std::array<u8, 128> mr_extend_block(u64 gpa)
{
	static constexpr char kName[] = "MR.EXTEND";
	std::array<u8, 128> b{};
	std::memcpy(b.data(), kName, sizeof(kName) - 1);
	put_u64(&b[16], gpa);
	return b;
}

/* ---- the TD table ---- */

Td *TdTable::find(u64 tdr_pa)
{
	auto it = tds_.find(tdr_pa);
	return it == tds_.end() ? nullptr : &it->second;
}

const Td *TdTable::find(u64 tdr_pa) const
{
	auto it = tds_.find(tdr_pa);
	return it == tds_.end() ? nullptr : &it->second;
}

Td *TdTable::owner_of_tdcs(u64 pa)
{
	auto it = tdcs_owner_.find(pa);
	return it == tdcs_owner_.end() ? nullptr : find(it->second);
}

Td &TdTable::create(u64 tdr_pa, u16 hkid, u32 packages)
{
	Td &td = tds_.try_emplace(tdr_pa).first->second;
	td.tdr_pa = tdr_pa;
	td.hkid = hkid;
	td.pkg_key_configured.assign(packages, false);
	created_++;
	return td;
}

void TdTable::add_tdcs(Td &td, u64 pa)
{
	td.tdcs.push_back(pa);
	td.tdcs_added++;
	tdcs_owner_[pa] = td.tdr_pa;
}

void TdTable::reclaim_tdcs(Td &td, u64 pa)
{
	std::erase(td.tdcs, pa);
	tdcs_owner_.erase(pa);
}

void TdTable::remove(u64 tdr_pa)
{
	if (tds_.erase(tdr_pa))
		reclaimed_++;
}

void TdTable::reset()
{
	tds_.clear();
	tdcs_owner_.clear();
}

bool TdTable::hkid_in_use(u16 hkid) const
{
	return std::any_of(tds_.begin(), tds_.end(),
			   [&](const auto &e) { return e.second.holds_hkid() && e.second.hkid == hkid; });
}

bool TdTable::build_in_progress() const
{
	return std::any_of(tds_.begin(), tds_.end(),
			   [](const auto &e) { return e.second.holds_hkid() && !e.second.finalized(); });
}

/* ---- TDREPORT ---- */

TdReportKey::TdReportKey() { crypto_check(RAND_bytes(key_.data(), int(key_.size())) == 1); }

std::array<u8, tdreport::kMacBytes> TdReportKey::mac(const u8 *report) const
{
	std::array<u8, tdreport::kMacBytes> out{};
	size_t n = 0;
	crypto_check(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_.data(), key_.size(), report,
			       tdreport::kMac, out.data(), out.size(), &n) != nullptr &&
		     n == out.size());
	return out;
}

std::array<u8, tdreport::kSize> make_td_report(const Td &td, const SeamIdentity &seam,
					       const std::array<u8, 16> &cpusvn, const u8 *report_data,
					       const TdReportKey &key)
{
	std::array<u8, tdreport::kSize> r{};
	u8 *const p = r.data();
	/* REPORTTYPE: TDX, subtype 0, version 0 (no service TDs bound). */
	p[tdreport::kReportType] = tdreport::kReportTypeTdx;
	put(p + tdreport::kCpuSvn, cpusvn);

	u8 *const tti = p + tdreport::kTeeTcbInfo;
	put_u64(tti + tdreport::kTcbValid, kTeeTcbInfoValid);
	put(tti + tdreport::kTeeTcbSvn, seam.tee_tcb_svn);
	put(tti + tdreport::kMrSeam, seam.mrseam);
	put(tti + tdreport::kMrSignerSeam, seam.mrsignerseam);
	put(tti + tdreport::kSeamAttributes, seam.attributes);
	put(p + tdreport::kTdInfo, td.td_info());

	put(p + tdreport::kTeeTcbInfoHash, sha384(tti, tdreport::kTeeTcbInfoSize));
	put(p + tdreport::kTeeInfoHash, sha384(p + tdreport::kTdInfo, tdreport::kTdInfoSize));
	std::memcpy(p + tdreport::kReportData, report_data, kReportDataBytes);
	put(p + tdreport::kMac, key.mac(p));
	return r;
}

bool td_report_mac_ok(const u8 *report, const TdReportKey &key)
{
	const auto want = key.mac(report);
	return CRYPTO_memcmp(want.data(), report + tdreport::kMac, want.size()) == 0;
}

bool td_report_hashes_ok(const u8 *report)
{
	return sha384(report + tdreport::kTeeTcbInfo, tdreport::kTeeTcbInfoSize) ==
		       get<kMeasurementBytes>(report + tdreport::kTeeTcbInfoHash) &&
	       sha384(report + tdreport::kTdInfo, tdreport::kTdInfoSize) ==
		       get<kMeasurementBytes>(report + tdreport::kTeeInfoHash);
}

} // namespace seam_emu
