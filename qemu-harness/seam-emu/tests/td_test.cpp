// SPDX-License-Identifier: GPL-2.0
// TDs and TDREPORTs (seam-emu README, "TDs and TDREPORTs"): the TD lifecycle leaves and their
// refusals, MRTD, the TDREPORT service request, Module::check_td_report(), SYS.DISABLE, the modelled
// locks, and the emulator's "td" control command.
#include <array>
#include <cstring>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <tdx/abi/leaves.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

#include "emulator.h"
#include "seam_identity.h"
#include "test_support.h"

namespace seam_emu::test {
namespace {

using json = nlohmann::json;
using Digest = std::array<u8, 48>;
using Report = std::array<u8, tdreport::kSize>;

/* one_tdmr_layout() over 64 MiB: usable [0, 56M) (TDMR_INFOs at 64 KiB), PAMTs from 56 MiB. */
constexpr u64 kTdrA = 8 * kMiB;  /* TDCS pages follow the TDR: tdcs(kTdrA, i) */
constexpr u64 kTdrB = 9 * kMiB;
constexpr u64 kParams = 4 * kMiB;
constexpr u64 kReportData = 5 * kMiB;
constexpr u64 kReportOut = 5 * kMiB + 4096;
constexpr u64 kPamtPage = 56 * kMiB;    /* a PAMT page (in a reserved area too) */
constexpr u64 kReservedPage = 62 * kMiB; /* reserved, RAM, not owned */
constexpr u64 kBeyondTdmr = kGiB + 8 * kMiB;
constexpr u64 kNotRam = 200 * kMiB;      /* in TDMR 0, not RAM */
constexpr u16 kHkid = 33;                /* TDX KeyIDs are 32..63, 32 the global one */
constexpr unsigned kTdcsPages = 4;       /* tdcs_base_size 16384 */
constexpr u64 kMaxPa = 1ull << 52;

constexpr u64 tdcs(u64 tdr, unsigned i) { return tdr + (i + 1) * kPageSize; }
constexpr u64 service(u64 n) { return tdx::emu::service_rax(n); }

struct Params {
	u64 attributes = 0x10000000; /* SEPT_VE_DISABLE */
	u64 xfam = 0x3;
	u16 max_vcpus = 4;
	u8 mrconfigid = 0x11, mrowner = 0x22, mrownerconfig = 0x33; /* each digest filled with it */
};

void write_params(const GuestMemory &mem, u64 pa, const Params &p)
{
	std::array<u8, td_params::kSize> b{};
	std::memcpy(&b[td_params::kAttributes], &p.attributes, 8);
	std::memcpy(&b[td_params::kXfam], &p.xfam, 8);
	std::memcpy(&b[td_params::kMaxVcpus], &p.max_vcpus, 2);
	std::memset(&b[td_params::kMrConfigId], p.mrconfigid, kMeasurementBytes);
	std::memset(&b[td_params::kMrOwner], p.mrowner, kMeasurementBytes);
	std::memset(&b[td_params::kMrOwnerConfig], p.mrownerconfig, kMeasurementBytes);
	ASSERT_TRUE(mem.write(pa, b.data(), b.size()));
}

Digest sha384(const u8 *p, size_t n)
{
	Digest d{};
	unsigned len = 0;
	EXPECT_EQ(EVP_Digest(p, n, d.data(), &len, EVP_sha384(), nullptr), 1);
	return d;
}

/* MRTD as the README defines it: SHA-384 over one 128-byte block per MR.EXTEND. */
Digest expected_mrtd(const std::vector<u64> &gpas)
{
	std::vector<u8> all;
	for (u64 gpa : gpas) {
		u8 block[128] = {'M', 'R', '.', 'E', 'X', 'T', 'E', 'N', 'D'};
		std::memcpy(block + 16, &gpa, 8);
		all.insert(all.end(), block, block + sizeof(block));
	}
	return sha384(all.data(), all.size());
}

template <size_t N>
std::array<u8, N> bytes_at(const Report &r, u32 off)
{
	std::array<u8, N> a;
	std::memcpy(a.data(), &r[off], N);
	return a;
}

std::array<u8, 48> filled(u8 v)
{
	std::array<u8, 48> a;
	a.fill(v);
	return a;
}

class TdTest : public ModelTest {
protected:
	explicit TdTest(Profile p = default_profile()) : ModelTest(64 * kMiB, p) {}
	void SetUp() override { bring_up(); }

	u64 create(u64 tdr, u64 hkid = kHkid) { return call(0, leaf::kMngCreate, tdr, hkid); }
	/* MNG.KEY.CONFIG on the first LP of every package. */
	void key_config(u64 tdr)
	{
		const u32 per_pkg = profile_.lps / profile_.packages;
		for (u32 pkg = 0; pkg < profile_.packages; pkg++)
			ASSERT_EQ(call(pkg * per_pkg, leaf::kMngKeyConfig, tdr), status::kSuccess) << "package " << pkg;
	}
	void addcx_all(u64 tdr)
	{
		for (unsigned i = 0; i < kTdcsPages; i++)
			ASSERT_EQ(call(0, leaf::kMngAddcx, tdcs(tdr, i), tdr), status::kSuccess) << "tdcs " << i;
	}
	u64 init(u64 tdr, const Params &p = {})
	{
		write_params(mem_, kParams, p);
		return call(0, leaf::kMngInit, tdr, kParams);
	}
	u64 extend(u64 tdr, u64 gpa) { return call(0, leaf::kMrExtend, gpa, tdr); }
	u64 finalize(u64 tdr) { return call(0, leaf::kMrFinalize, tdr); }
	u64 freeid(u64 tdr) { return call(0, leaf::kMngKeyFreeid, tdr); }
	u64 reclaim(u64 pa) { return call(0, leaf::kPhymemPageReclaim, pa); }

	/* CREATE .. INIT. */
	void init_td(u64 tdr, u16 hkid = kHkid, const Params &p = {})
	{
		ASSERT_EQ(create(tdr, hkid), status::kSuccess);
		key_config(tdr);
		addcx_all(tdr);
		ASSERT_EQ(init(tdr, p), status::kSuccess);
	}
	/* CREATE .. FINALIZE with MR.EXTEND of `gpas`. */
	void build_td(u64 tdr, u16 hkid = kHkid, const std::vector<u64> &gpas = {0, 0x1000}, const Params &p = {})
	{
		init_td(tdr, hkid, p);
		for (u64 gpa : gpas)
			ASSERT_EQ(extend(tdr, gpa), status::kSuccess);
		ASSERT_EQ(finalize(tdr), status::kSuccess);
	}
	void teardown(u64 tdr)
	{
		ASSERT_EQ(freeid(tdr), status::kSuccess);
		const std::vector<u64> pages = tds().find(tdr)->tdcs;
		for (u64 pa : pages)
			ASSERT_EQ(reclaim(pa), status::kSuccess);
		ASSERT_EQ(reclaim(tdr), status::kSuccess);
	}

	/* The service request; the report in *out when it succeeded. */
	u64 report(u64 tdr, Report *out = nullptr, u8 data_byte = 0xA5, u64 rd_pa = kReportData, u64 out_pa = kReportOut)
	{
		std::array<u8, kReportDataBytes> rd;
		for (size_t i = 0; i < rd.size(); i++)
			rd[i] = u8(data_byte + i);
		if (mem_.contains(rd_pa, rd.size()))
			mem_.write(rd_pa, rd.data(), rd.size());
		RegBlock r{};
		r.rcx = tdr;
		r.rdx = rd_pa;
		r.r8 = out_pa;
		const u64 st = call_rax(0, service(tdx::emu::kServiceTdReport), r);
		if (out && st == status::kSuccess)
			mem_.read(out_pa, out->data(), out->size());
		return st;
	}
	u64 check(u64 tdr, const Report &r, ReportedTd *out = nullptr)
	{
		ReportedTd dummy;
		std::lock_guard<std::mutex> g(m_->state_mutex());
		return m_->check_td_report(tdr, r.data(), out ? out : &dummy);
	}

	const TdTable &tds() const { return m_->tds(); }
	const Td &td(u64 tdr) const { return *m_->tds().find(tdr); }
	bool owned(u64 pa) const { return m_->pages().find(pa) != nullptr; }
};

/* ---- the whole lifecycle ---- */

TEST_F(TdTest, WholeLifecycle)
{
	EXPECT_FALSE(m_->td_build_in_progress());
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_TRUE(m_->td_build_in_progress());
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kHkidAssigned);
	EXPECT_EQ(m_->pages().find(kTdrA)->owner, PageOwner::kTdr);
	key_config(kTdrA);
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kKeysConfigured);
	addcx_all(kTdrA);
	for (unsigned i = 0; i < kTdcsPages; i++) {
		EXPECT_EQ(m_->pages().find(tdcs(kTdrA, i))->owner, PageOwner::kTdcs);
		EXPECT_EQ(m_->pages().find(tdcs(kTdrA, i))->index, i);
	}
	out_.rcx = 0x1234;
	ASSERT_EQ(init(kTdrA), status::kSuccess);
	EXPECT_EQ(out_.rcx, 0u);
	EXPECT_EQ(td(kTdrA).op_state, TdOpState::kInitialized);
	ASSERT_EQ(extend(kTdrA, 0x100), status::kSuccess);
	EXPECT_EQ(out_.rcx, 0u);
	EXPECT_EQ(out_.rdx, 0u);
	ASSERT_EQ(extend(kTdrA, 0xFFFFF00), status::kSuccess);
	EXPECT_TRUE(m_->td_build_in_progress());
	ASSERT_EQ(finalize(kTdrA), status::kSuccess);
	EXPECT_FALSE(m_->td_build_in_progress());
	EXPECT_EQ(td(kTdrA).op_state, TdOpState::kRunnable);
	EXPECT_EQ(td(kTdrA).mrtd, expected_mrtd({0x100, 0xFFFFF00}));

	Report r{};
	ASSERT_EQ(report(kTdrA, &r), status::kSuccess);
	ReportedTd got;
	ASSERT_EQ(check(kTdrA, r, &got), status::kSuccess);
	for (size_t i = 0; i < got.report_data.size(); i++)
		EXPECT_EQ(got.report_data[i], u8(0xA5 + i));
	EXPECT_EQ(got.td_current.mrtd, expected_mrtd({0x100, 0xFFFFF00}));
	EXPECT_EQ(got.td_current, got.td_origin);
	EXPECT_EQ(got.td_current.mrowner, filled(0x22));
	const SeamIdentity id = seam_identity(profile_);
	EXPECT_EQ(got.seam_current.mrseam, id.mrseam);
	EXPECT_EQ(got.seam_current.tee_tcb_svn, id.tee_tcb_svn);
	EXPECT_EQ(got.seam_current, got.seam_origin);

	ASSERT_EQ(freeid(kTdrA), status::kSuccess);
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kTeardown);
	for (unsigned i = 0; i < kTdcsPages; i++) {
		out_ = {};
		ASSERT_EQ(reclaim(tdcs(kTdrA, i)), status::kSuccess);
		EXPECT_EQ(out_.rcx, kPageTypeTdcx);
		EXPECT_EQ(out_.rdx, kTdrA);
		EXPECT_EQ(out_.r8, 0u);
		EXPECT_FALSE(owned(tdcs(kTdrA, i)));
	}
	ASSERT_EQ(reclaim(kTdrA), status::kSuccess);
	EXPECT_EQ(out_.rcx, kPageTypeTdr);
	EXPECT_EQ(out_.rdx, 0u);
	EXPECT_EQ(tds().find(kTdrA), nullptr);
	EXPECT_FALSE(owned(kTdrA));
	EXPECT_EQ(m_->pages().bytes(PageOwner::kTdr) + m_->pages().bytes(PageOwner::kTdcs), 0u);
	EXPECT_EQ(tds().created(), 1u);
	EXPECT_EQ(tds().reclaimed(), 1u);

	/* The HKID and the pages can be used again. */
	build_td(kTdrA);
	EXPECT_EQ(tds().created(), 2u);
}

class TdTwoPackages : public TdTest {
protected:
	static Profile two_packages()
	{
		Profile p = default_profile();
		p.lps = 4;
		p.packages = 2;
		return p;
	}
	TdTwoPackages() : TdTest(two_packages()) {}
};

TEST_F(TdTwoPackages, KeyConfigOnEveryPackage)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	ASSERT_EQ(call(0, leaf::kMngKeyConfig, kTdrA), status::kSuccess); /* package 0 */
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kHkidAssigned);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA), status::kTdKeysNotConfigured);
	EXPECT_EQ(init(kTdrA), status::kTdKeysNotConfigured);
	EXPECT_EQ(call(1, leaf::kMngKeyConfig, kTdrA), status::kKeyConfigured); /* package 0 again */
	ASSERT_EQ(call(2, leaf::kMngKeyConfig, kTdrA), status::kSuccess);       /* package 1 */
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kKeysConfigured);
	EXPECT_EQ(call(3, leaf::kMngKeyConfig, kTdrA), status::kLifecycleStateIncorrect);
	addcx_all(kTdrA);
	ASSERT_EQ(init(kTdrA), status::kSuccess);
	ASSERT_EQ(finalize(kTdrA), status::kSuccess);
	Report r{};
	ASSERT_EQ(report(kTdrA, &r), status::kSuccess);
	EXPECT_EQ(check(kTdrA, r), status::kSuccess);
	teardown(kTdrA);
}

/* ---- refusals ---- */

TEST_F(TdTest, CreateRefusesBadTdrPages)
{
	EXPECT_EQ(create(kTdrA + 8), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(create(kMaxPa), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(create(kBeyondTdmr), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(create(kPamtPage), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(create(kReservedPage), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(create(kNotRam), status::kPageMetadataIncorrect | kOperandIdRcx); /* reserved too */
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_EQ(create(kTdrA, kHkid + 1), status::kPageMetadataIncorrect | kOperandIdRcx);
	key_config(kTdrA);
	ASSERT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA), status::kSuccess);
	EXPECT_EQ(create(tdcs(kTdrA, 0), kHkid + 1), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(tds().all().size(), 1u);
	EXPECT_EQ(tds().created(), 1u);
}

TEST_F(TdTest, CreateRefusesBadHkids)
{
	EXPECT_EQ(create(kTdrA, 31), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(create(kTdrA, 64), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(create(kTdrA, (1ull << 16) | kHkid), status::kOperandInvalid | kOperandIdRdx);
	/* The HKID is checked before the page. */
	EXPECT_EQ(create(kTdrA + 8, 0), status::kOperandInvalid | kOperandIdRdx);
	/* The global KeyID is reserved in the KOT since SYS.CONFIG. */
	EXPECT_EQ(create(kTdrA, m_->global_keyid()), status::kHkidNotFree);
	ASSERT_EQ(create(kTdrA, 63), status::kSuccess);
	EXPECT_EQ(create(kTdrB, 63), status::kHkidNotFree);
	EXPECT_FALSE(owned(kTdrB));
	/* Free again once the TD gave it back, before its pages are reclaimed. */
	ASSERT_EQ(freeid(kTdrA), status::kSuccess);
	EXPECT_EQ(create(kTdrB, 63), status::kSuccess);
}

class TdNoTdmrInit : public TdTest {
protected:
	void SetUp() override {}
};

TEST_F(TdNoTdmrInit, PagesOnlyFromInitializedTdmrMemory)
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	EXPECT_EQ(create(kTdrA), status::kOperandAddrRangeError | kOperandIdRcx);
	/* A TDMR.INIT call covers 256 MiB; the 1 GiB TDMR is usable only once the last one ran. */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess);
		EXPECT_EQ(create(kTdrA), status::kOperandAddrRangeError | kOperandIdRcx) << i;
	}
	ASSERT_EQ(call(0, leaf::kSysTdmrInit, 0), status::kSuccess);
	EXPECT_EQ(out_.rdx, kGiB);
	EXPECT_EQ(create(kTdrA), status::kSuccess);
}

TEST_F(TdTest, AddcxRefusals)
{
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA), status::kPageMetadataIncorrect | kOperandIdRdx);
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA), status::kTdKeysNotConfigured);
	key_config(kTdrA);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA + 8), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kBeyondTdmr), status::kOperandAddrRangeError | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0) + 16, kTdrA), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kMngAddcx, kBeyondTdmr, kTdrA), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kMngAddcx, kTdrA, kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kMngAddcx, kPamtPage, kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(td(kTdrA).tdcs_added, 0u);
	addcx_all(kTdrA);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA), status::kTdcxNumIncorrect);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, kTdcsPages), kTdrA), status::kTdcxNumIncorrect);
	EXPECT_FALSE(owned(tdcs(kTdrA, kTdcsPages)));
	EXPECT_EQ(td(kTdrA).tdcs_added, kTdcsPages);
}

TEST_F(TdTest, InitRefusals)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_EQ(init(kTdrA), status::kTdKeysNotConfigured);
	key_config(kTdrA);
	EXPECT_EQ(init(kTdrA), status::kTdcsNotAllocated);
	for (unsigned i = 0; i + 1 < kTdcsPages; i++)
		ASSERT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, i), kTdrA), status::kSuccess);
	EXPECT_EQ(init(kTdrA), status::kTdcsNotAllocated);
	ASSERT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, kTdcsPages - 1), kTdrA), status::kSuccess);

	write_params(mem_, kParams, {});
	EXPECT_EQ(call(0, leaf::kMngInit, kTdrA, kParams + 512), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kMngInit, kTdrA, kNotRam), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kMngInit, kTdrA, kMaxPa), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(call(0, leaf::kMngInit, kTdrA + 4, kParams), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(call(0, leaf::kMngInit, kTdrB, kParams), status::kPageMetadataIncorrect | kOperandIdRcx);
	Params zero_vcpus;
	zero_vcpus.max_vcpus = 0;
	EXPECT_EQ(init(kTdrA, zero_vcpus), status::kOperandInvalid | kOperandIdMaxVcpus);
	EXPECT_EQ(td(kTdrA).op_state, TdOpState::kUninitialized);
	ASSERT_EQ(init(kTdrA), status::kSuccess);
	EXPECT_EQ(init(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kInitialized));
}

TEST_F(TdTest, ExtendAndFinalizeOrder)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_EQ(extend(kTdrA, 0), status::kTdKeysNotConfigured);
	EXPECT_EQ(finalize(kTdrA), status::kTdKeysNotConfigured);
	key_config(kTdrA);
	EXPECT_EQ(extend(kTdrA, 0), status::kTdcsNotAllocated);
	addcx_all(kTdrA);
	EXPECT_EQ(extend(kTdrA, 0), status::kOpStateIncorrect | u64(TdOpState::kUninitialized));
	EXPECT_EQ(finalize(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kUninitialized));
	ASSERT_EQ(init(kTdrA), status::kSuccess);
	EXPECT_EQ(extend(kTdrA, 0x80), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(extend(kTdrA, kMaxPa), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(extend(kTdrB, 0), status::kPageMetadataIncorrect | kOperandIdRdx);
	EXPECT_EQ(extend(kTdrA + 1, 0), status::kOperandInvalid | kOperandIdRdx);
	ASSERT_EQ(extend(kTdrA, 0x200), status::kSuccess);
	ASSERT_EQ(finalize(kTdrA), status::kSuccess);
	/* Refused calls measured nothing. */
	EXPECT_EQ(td(kTdrA).mrtd, expected_mrtd({0x200}));
	EXPECT_EQ(extend(kTdrA, 0), status::kOpStateIncorrect | u64(TdOpState::kRunnable));
	EXPECT_EQ(finalize(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kRunnable));
	EXPECT_EQ(init(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kRunnable));
	EXPECT_EQ(td(kTdrA).mrtd, expected_mrtd({0x200}));
}

TEST_F(TdTest, FreeidAndReclaimRefusals)
{
	EXPECT_EQ(freeid(kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
	build_td(kTdrA);
	/* Not in TEARDOWN yet. */
	EXPECT_EQ(reclaim(tdcs(kTdrA, 0)), status::kLifecycleStateIncorrect);
	EXPECT_EQ(out_.rcx, kPageTypeTdcx); /* what the page is, even when refused */
	EXPECT_EQ(out_.rdx, kTdrA);
	EXPECT_EQ(reclaim(kTdrA), status::kLifecycleStateIncorrect);
	/* Not TD pages, or not pages at all. */
	EXPECT_EQ(reclaim(kTdrB), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(reclaim(kPamtPage), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(reclaim(kTdrA + 64), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(reclaim(kMaxPa), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(reclaim(kBeyondTdmr), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(out_.rcx, 0u);

	ASSERT_EQ(freeid(kTdrA), status::kSuccess);
	EXPECT_EQ(freeid(kTdrA), status::kLifecycleStateIncorrect);
	EXPECT_EQ(call(0, leaf::kMngKeyConfig, kTdrA), status::kLifecycleStateIncorrect);
	EXPECT_EQ(call(0, leaf::kMngAddcx, tdcs(kTdrA, kTdcsPages), kTdrA), status::kTdKeysNotConfigured);
	EXPECT_EQ(reclaim(kTdrA), status::kTdAssociatedPagesExist);
	for (unsigned i = 0; i + 1 < kTdcsPages; i++)
		ASSERT_EQ(reclaim(tdcs(kTdrA, i)), status::kSuccess);
	EXPECT_EQ(reclaim(tdcs(kTdrA, 0)), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(reclaim(kTdrA), status::kTdAssociatedPagesExist);
	ASSERT_EQ(reclaim(tdcs(kTdrA, kTdcsPages - 1)), status::kSuccess);
	ASSERT_EQ(reclaim(kTdrA), status::kSuccess);
	EXPECT_EQ(reclaim(kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
}

TEST_F(TdTest, FreeidInAnyBuildState)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	ASSERT_EQ(freeid(kTdrA), status::kSuccess); /* HKID_ASSIGNED */
	ASSERT_EQ(reclaim(kTdrA), status::kSuccess);
	init_td(kTdrB);
	EXPECT_TRUE(m_->td_build_in_progress());
	ASSERT_EQ(freeid(kTdrB), status::kSuccess); /* KEYS_CONFIGURED, INITIALIZED */
	EXPECT_FALSE(m_->td_build_in_progress());
	EXPECT_EQ(finalize(kTdrB), status::kTdKeysNotConfigured);
}

/* ---- MRTD ---- */

TEST_F(TdTest, MrtdFollowsTheExtendedGpas)
{
	build_td(kTdrA, 33, {0x0, 0x1000, 0x2000});
	build_td(kTdrB, 34, {0x0, 0x1000, 0x2000});
	EXPECT_EQ(td(kTdrA).mrtd, td(kTdrB).mrtd);
	EXPECT_EQ(td(kTdrA).mrtd, expected_mrtd({0x0, 0x1000, 0x2000}));
	constexpr u64 kTdrC = 10 * kMiB, kTdrD = 11 * kMiB;
	build_td(kTdrC, 35, {0x0, 0x1000, 0x2100});
	build_td(kTdrD, 36, {0x1000, 0x0, 0x2000}); /* order counts */
	EXPECT_NE(td(kTdrC).mrtd, td(kTdrA).mrtd);
	EXPECT_NE(td(kTdrD).mrtd, td(kTdrA).mrtd);
	EXPECT_EQ(td(kTdrC).mrtd, expected_mrtd({0x0, 0x1000, 0x2100}));
}

/* ---- TDREPORT ---- */

TEST_F(TdTest, ReportLayout)
{
	Params p;
	p.attributes = 0x10000001;
	p.xfam = 0x2e7;
	build_td(kTdrA, kHkid, {0x4000}, p);
	Report r{};
	ASSERT_EQ(report(kTdrA, &r, 0x40), status::kSuccess);
	EXPECT_EQ(r[tdreport::kReportType], 0x81);
	EXPECT_EQ((bytes_at<3>(r, 1)), (std::array<u8, 3>{}));
	EXPECT_EQ((bytes_at<16>(r, tdreport::kCpuSvn)), platform_tcb_svn(profile_));
	for (u32 i = 0; i < kReportDataBytes; i++)
		EXPECT_EQ(r[tdreport::kReportData + i], u8(0x40 + i));

	const u32 tti = tdreport::kTeeTcbInfo;
	const SeamIdentity id = seam_identity(profile_);
	u64 valid;
	std::memcpy(&valid, &r[tti + tdreport::kTcbValid], 8);
	EXPECT_EQ(valid, (1u << 1) | (1u << 3) | (1u << 9) | (1u << 15));
	EXPECT_EQ((bytes_at<16>(r, tti + tdreport::kTeeTcbSvn)), id.tee_tcb_svn);
	EXPECT_EQ((bytes_at<48>(r, tti + tdreport::kMrSeam)), id.mrseam);
	EXPECT_EQ((bytes_at<48>(r, tti + tdreport::kMrSignerSeam)), id.mrsignerseam);
	EXPECT_EQ((bytes_at<8>(r, tti + tdreport::kSeamAttributes)), id.attributes);

	const u32 ti = tdreport::kTdInfo;
	u64 attributes, xfam;
	std::memcpy(&attributes, &r[ti + tdreport::kTdAttributes], 8);
	std::memcpy(&xfam, &r[ti + tdreport::kTdXfam], 8);
	EXPECT_EQ(attributes, p.attributes);
	EXPECT_EQ(xfam, p.xfam);
	EXPECT_EQ((bytes_at<48>(r, ti + tdreport::kMrTd)), expected_mrtd({0x4000}));
	EXPECT_EQ((bytes_at<48>(r, ti + tdreport::kTdMrConfigId)), filled(0x11));
	EXPECT_EQ((bytes_at<48>(r, ti + tdreport::kTdMrOwner)), filled(0x22));
	EXPECT_EQ((bytes_at<48>(r, ti + tdreport::kTdMrOwnerConfig)), filled(0x33));
	for (u32 off = tdreport::kRtmr0; off < tdreport::kTdInfoSize; off++)
		EXPECT_EQ(r[ti + off], 0) << off; /* RTMRs, SERVTD_HASH, reserved */

	EXPECT_EQ((bytes_at<48>(r, tdreport::kTeeTcbInfoHash)), sha384(&r[tti], tdreport::kTeeTcbInfoSize));
	EXPECT_EQ((bytes_at<48>(r, tdreport::kTeeInfoHash)), sha384(&r[ti], tdreport::kTdInfoSize));
	EXPECT_NE((bytes_at<32>(r, tdreport::kMac)), (std::array<u8, 32>{}));

	/* Another REPORTDATA changes only REPORTDATA and the MAC. */
	Report r2{};
	ASSERT_EQ(report(kTdrA, &r2, 0x41), status::kSuccess);
	for (u32 i = 0; i < tdreport::kSize; i++) {
		const bool may_differ = (i >= tdreport::kReportData && i < tdreport::kReportData + kReportDataBytes) ||
					(i >= tdreport::kMac && i < tdreport::kMac + tdreport::kMacBytes);
		if (!may_differ) {
			EXPECT_EQ(r[i], r2[i]) << i;
		}
	}
	EXPECT_NE((bytes_at<32>(r, tdreport::kMac)), (bytes_at<32>(r2, tdreport::kMac)));
}

TEST_F(TdTest, CheckTdReportRefusals)
{
	build_td(kTdrA, 33, {0x0});
	build_td(kTdrB, 34, {0x1000});
	Report a{}, b{};
	ASSERT_EQ(report(kTdrA, &a), status::kSuccess);
	ASSERT_EQ(report(kTdrB, &b), status::kSuccess);
	ASSERT_EQ(check(kTdrA, a), status::kSuccess);
	ASSERT_EQ(check(kTdrB, b), status::kSuccess);

	/* A REPORTDATA byte: the MAC no longer matches. */
	Report x = a;
	x[tdreport::kReportData + 5] ^= 1;
	EXPECT_EQ(check(kTdrA, x), status::kOperandInvalid | kOperandIdR8);
	/* A TDINFO byte (outside the MAC): the MAC still matches, TEE_INFO_HASH does not. */
	x = a;
	x[tdreport::kTdInfo + tdreport::kTdMrOwner + 3] ^= 0x80;
	EXPECT_EQ(check(kTdrA, x), status::kOperandInvalid | kOperandIdR8);
	/* A TEE_TCB_INFO byte: TEE_TCB_INFO_HASH. */
	x = a;
	x[tdreport::kTeeTcbInfo + tdreport::kMrSeam] ^= 1;
	EXPECT_EQ(check(kTdrA, x), status::kOperandInvalid | kOperandIdR8);
	/* The MAC itself. */
	x = a;
	x[tdreport::kMac] ^= 1;
	EXPECT_EQ(check(kTdrA, x), status::kOperandInvalid | kOperandIdR8);
	/* Genuine, but another TD's. */
	EXPECT_EQ(check(kTdrB, a), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(check(kTdrA, b), status::kOperandInvalid | kOperandIdR8);
	/* Not a TD, not finalized. */
	EXPECT_EQ(check(kTdrA + kMiB / 2, a), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(check(kTdrA + 1, a), status::kOperandInvalid | kOperandIdRcx);
	constexpr u64 kTdrC = 10 * kMiB;
	init_td(kTdrC, 35);
	EXPECT_EQ(check(kTdrC, a), status::kOpStateIncorrect | u64(TdOpState::kInitialized));
	/* A TD torn down no longer reports. */
	ASSERT_EQ(freeid(kTdrA), status::kSuccess);
	EXPECT_EQ(check(kTdrA, a), status::kTdKeysNotConfigured);
}

TEST_F(TdTest, ReportsOfAnotherModuleAreNotGenuine)
{
	build_td(kTdrA);
	Report a{};
	ASSERT_EQ(report(kTdrA, &a), status::kSuccess);
	/* The same platform, image and TD sequence, another module instance: another MAC key. */
	m_ = std::make_unique<Module>(profile_, mem_);
	bring_up();
	build_td(kTdrA);
	Report again{};
	ASSERT_EQ(report(kTdrA, &again), status::kSuccess);
	EXPECT_EQ(check(kTdrA, again), status::kSuccess);
	EXPECT_NE((bytes_at<32>(a, tdreport::kMac)), (bytes_at<32>(again, tdreport::kMac)));
	EXPECT_EQ(check(kTdrA, a), status::kOperandInvalid | kOperandIdR8);
}

TEST_F(TdTest, ServiceRefusals)
{
	EXPECT_EQ(report(kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	EXPECT_EQ(report(kTdrA), status::kTdKeysNotConfigured);
	key_config(kTdrA);
	EXPECT_EQ(report(kTdrA), status::kTdcsNotAllocated);
	addcx_all(kTdrA);
	EXPECT_EQ(report(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kUninitialized));
	ASSERT_EQ(init(kTdrA), status::kSuccess);
	EXPECT_EQ(report(kTdrA), status::kOpStateIncorrect | u64(TdOpState::kInitialized));
	ASSERT_EQ(finalize(kTdrA), status::kSuccess);

	std::vector<u8> before(tdreport::kSize, 0xEE);
	mem_.write(kReportOut, before.data(), before.size());
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData + 32), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(report(kTdrA, nullptr, 0, kNotRam), status::kOperandInvalid | kOperandIdRdx);
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData, kReportOut + 512), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData, kNotRam), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData, kMaxPa), status::kOperandInvalid | kOperandIdR8);
	/* Not into a page the module owns (its own TDR, a PAMT). */
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData, kTdrA), status::kOperandInvalid | kOperandIdR8);
	EXPECT_EQ(report(kTdrA, nullptr, 0, kReportData, kPamtPage), status::kOperandInvalid | kOperandIdR8);
	std::vector<u8> after(tdreport::kSize);
	mem_.read(kReportOut, after.data(), after.size());
	EXPECT_EQ(after, before);
	/* REPORTDATA may be in a page the module owns: it is only read. */
	EXPECT_EQ(report(kTdrA, nullptr, 0, kTdrA), status::kSuccess);

	/* An unknown service. */
	RegBlock r{};
	r.rcx = kTdrA;
	EXPECT_EQ(call_rax(0, service(2), r), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call_rax(0, service(0), r), status::kOperandInvalid | kOperandIdRax);

	ASSERT_EQ(freeid(kTdrA), status::kSuccess);
	EXPECT_EQ(report(kTdrA), status::kTdKeysNotConfigured);
}

TEST(TdState, MacCoversTheHeaderHashesTheRest)
{
	Td td;
	td.params.attributes = 1;
	td.mrtd = filled(7);
	TdReportKey key, other;
	const u8 rd[kReportDataBytes] = {9};
	const Report r = make_td_report(td, SeamIdentity{}, {}, rd, key);
	EXPECT_TRUE(td_report_mac_ok(r.data(), key));
	EXPECT_TRUE(td_report_hashes_ok(r.data()));
	EXPECT_FALSE(td_report_mac_ok(r.data(), other)); /* keys are random */
	Report x = r;
	x[tdreport::kTdInfo + tdreport::kMrTd] ^= 1;
	EXPECT_TRUE(td_report_mac_ok(x.data(), key));
	EXPECT_FALSE(td_report_hashes_ok(x.data()));
	x = r;
	x[tdreport::kTeeTcbInfo + tdreport::kTeeTcbSvn] ^= 1;
	EXPECT_TRUE(td_report_mac_ok(x.data(), key));
	EXPECT_FALSE(td_report_hashes_ok(x.data()));
	x = r;
	x[tdreport::kReportData] ^= 1;
	EXPECT_FALSE(td_report_mac_ok(x.data(), key));
	EXPECT_TRUE(td_report_hashes_ok(x.data()));
}

/* ---- SYS.DISABLE ---- */

TEST_F(TdTest, DisableForgetsEveryTd)
{
	build_td(kTdrA);
	ASSERT_EQ(create(kTdrB, kHkid + 1), status::kSuccess);
	EXPECT_TRUE(m_->td_build_in_progress());
	u64 st;
	while ((st = call(0, leaf::kSysDisable)) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	EXPECT_TRUE(tds().all().empty());
	EXPECT_FALSE(m_->td_build_in_progress());
	EXPECT_FALSE(owned(kTdrA));
	EXPECT_EQ(tds().created(), 2u);
	EXPECT_EQ(tds().reclaimed(), 0u);
	bring_up();
	/* Same pages, same HKIDs, a TD built anew. */
	build_td(kTdrA);
	ASSERT_EQ(create(kTdrB, kHkid + 1), status::kSuccess);
	EXPECT_EQ(tds().all().size(), 2u);
}

/* ---- the module's locks ---- */

TEST_F(TdTest, ATdLeafHoldsTheTdForTheCall)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	RegBlock r{};
	r.rcx = kTdrA;
	std::vector<u64> seen;
	auto on_lp1 = [&](u16 leaf, u64 rcx, u64 rdx) {
		RegBlock x{};
		x.rcx = rcx;
		x.rdx = rdx;
		seen.push_back(m_->seamcall(1, leaf_rax(leaf), x));
	};
	/* KEY.CONFIG held on LP 0: the TD is busy for everyone else. */
	EXPECT_EQ(m_->seamcall(0, leaf_rax(leaf::kMngKeyConfig), r,
			       [&] {
				       on_lp1(leaf::kMngKeyConfig, kTdrA, 0);
				       on_lp1(leaf::kMngAddcx, tdcs(kTdrA, 0), kTdrA);
				       on_lp1(leaf::kMrExtend, 0, kTdrA);
				       on_lp1(leaf::kMngKeyFreeid, kTdrA, 0);
				       on_lp1(leaf::kPhymemPageReclaim, kTdrA, 0);
			       }),
		  status::kSuccess);
	EXPECT_EQ(seen, (std::vector<u64>{status::kOperandBusy | kOperandIdRcx, status::kOperandBusy | kOperandIdRdx,
					  status::kOperandBusy | kOperandIdRdx, status::kOperandBusy | kOperandIdRcx,
					  status::kOperandBusy | kOperandIdRcx}));
	/* Released when the call left. */
	addcx_all(kTdrA);
	ASSERT_EQ(freeid(kTdrA), status::kSuccess);

	/* A TDCS page's reclaim takes its TDR implicitly: busy on the TDR's operand id. */
	seen.clear();
	RegBlock f{};
	f.rcx = kTdrA;
	EXPECT_EQ(m_->seamcall(0, leaf_rax(leaf::kMngKeyFreeid), f,
			       [&] { on_lp1(leaf::kPhymemPageReclaim, tdcs(kTdrA, 0), 0); }),
		  status::kLifecycleStateIncorrect);
	EXPECT_EQ(seen, (std::vector<u64>{status::kOperandBusy | kOperandIdTdr}));
	EXPECT_TRUE(owned(tdcs(kTdrA, 0)));
	for (unsigned i = 0; i < kTdcsPages; i++)
		ASSERT_EQ(reclaim(tdcs(kTdrA, i)), status::kSuccess);
	ASSERT_EQ(reclaim(kTdrA), status::kSuccess);
}

TEST_F(TdTest, CreateAndFreeidTakeTheKot)
{
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	std::vector<u64> seen;
	RegBlock wb{};
	/* CACHE.WB holds the KOT shared while it runs. */
	m_->seamcall(0, leaf_rax(leaf::kPhymemCacheWb), wb, [&] {
		RegBlock x{};
		x.rcx = kTdrB;
		x.rdx = kHkid + 1;
		seen.push_back(m_->seamcall(1, leaf_rax(leaf::kMngCreate), x));
		RegBlock y{};
		y.rcx = kTdrA;
		seen.push_back(m_->seamcall(1, leaf_rax(leaf::kMngKeyFreeid), y));
	});
	EXPECT_EQ(seen, (std::vector<u64>{status::kOperandBusy | kOperandIdKot, status::kOperandBusy | kOperandIdKot}));
	EXPECT_EQ(tds().find(kTdrB), nullptr);
	EXPECT_EQ(td(kTdrA).lifecycle, TdLifecycle::kHkidAssigned);
	EXPECT_FALSE(owned(kTdrB));
}

/* ---- pages of the extension pool ---- */

class TdExt : public TdTest {
protected:
	static Profile ext_profile()
	{
		Profile p = default_profile();
		p.tdx_features0 |= features0::kExt;
		p.ext.required = true;
		p.ext.pool_pages = 3; /* one left for the last check */
		return p;
	}
	TdExt() : TdTest(ext_profile()) {}
	static constexpr u64 kPool = 20 * kMiB, kList = 21 * kMiB;
	void SetUp() override
	{
		bring_up();
		const u64 pages[HpaListInfo::kEntries] = {kPool, kPool + kPageSize};
		ASSERT_TRUE(mem_.write(kList, pages, sizeof(pages)));
		ASSERT_EQ(call(0, leaf::kExtMemAdd, HpaListInfo::make(kList, 0, 1).raw()), status::kSuccess);
		ASSERT_EQ(m_->pages().find(kPool)->owner, PageOwner::kExtPool);
	}
};

TEST_F(TdExt, PoolPagesAreNotTdPages)
{
	EXPECT_EQ(create(kPool), status::kPageMetadataIncorrect | kOperandIdRcx);
	ASSERT_EQ(create(kTdrA), status::kSuccess);
	key_config(kTdrA);
	EXPECT_EQ(call(0, leaf::kMngAddcx, kPool + kPageSize, kTdrA), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(reclaim(kPool), status::kPageMetadataIncorrect | kOperandIdRcx);
	EXPECT_EQ(m_->pages().find(kPool)->owner, PageOwner::kExtPool);
	/* And TD pages are not pool pages. */
	const u64 tdr = kTdrA;
	ASSERT_TRUE(mem_.write(kList, &tdr, sizeof(tdr)));
	EXPECT_EQ(call(0, leaf::kExtMemAdd, HpaListInfo::make(kList, 0, 0).raw()), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(m_->ext().pool().size(), 2u);
}

/* ---- the emulator: "td" and the counters ---- */

class TdEmu : public EmulatorTest {
protected:
	TdEmu() : EmulatorTest(64 * kMiB, default_profile()) {}

	void ready()
	{
		ASSERT_NO_FATAL_FAILURE(configure());
		for (int i = 0; i < 4; i++)
			ASSERT_EQ(serve(0, rax(leaf::kSysTdmrInit), 0), status::kSuccess);
	}
	void build(u64 tdr, u64 hkid, bool finalize)
	{
		ASSERT_EQ(serve(0, rax(leaf::kMngCreate), tdr, hkid), status::kSuccess);
		ASSERT_EQ(serve(0, rax(leaf::kMngKeyConfig), tdr), status::kSuccess);
		for (unsigned i = 0; i < kTdcsPages; i++)
			ASSERT_EQ(serve(0, rax(leaf::kMngAddcx), tdcs(tdr, i), tdr), status::kSuccess);
		write_params(mem_, kParams, {});
		ASSERT_EQ(serve(0, rax(leaf::kMngInit), tdr, kParams), status::kSuccess);
		ASSERT_EQ(serve(0, rax(leaf::kMrExtend), 0x1000, tdr), status::kSuccess);
		if (finalize) {
			ASSERT_EQ(serve(0, rax(leaf::kMrFinalize), tdr), status::kSuccess);
		}
	}
};

TEST_F(TdEmu, TdCommand)
{
	json j = ctl("td");
	ASSERT_EQ(j["ok"], true) << j.dump();
	EXPECT_EQ(j["td"]["created"], 0);
	EXPECT_EQ(j["td"]["tds"].size(), 0u);
	ready();
	build(kTdrA, 33, true);
	build(kTdrB, 34, false);
	j = ctl("td");
	ASSERT_EQ(j["td"]["tds"].size(), 2u) << j.dump();
	const json &a = j["td"]["tds"][0], &b = j["td"]["tds"][1];
	EXPECT_EQ(a["tdr"], "0x800000");
	EXPECT_EQ(a["hkid"], 33);
	EXPECT_EQ(a["lifecycle"], "KEYS_CONFIGURED");
	EXPECT_EQ(a["op_state"], "RUNNABLE");
	EXPECT_EQ(a["tdcs_pages"], kTdcsPages);
	EXPECT_EQ(a["finalized"], true);
	EXPECT_EQ(a["mrtd"], to_hex(expected_mrtd({0x1000})));
	EXPECT_EQ(b["tdr"], "0x900000");
	EXPECT_EQ(b["op_state"], "INITIALIZED");
	EXPECT_EQ(b["mrtd"], "none");
	EXPECT_EQ(b["finalized"], false);
	EXPECT_EQ(j["td"]["created"], 2);
	EXPECT_EQ(j["td"]["reclaimed"], 0);

	ASSERT_EQ(serve(0, rax(leaf::kMngKeyFreeid), kTdrB), status::kSuccess);
	for (unsigned i = 0; i < kTdcsPages; i++)
		ASSERT_EQ(serve(0, rax(leaf::kPhymemPageReclaim), tdcs(kTdrB, i)), status::kSuccess);
	ASSERT_EQ(serve(0, rax(leaf::kPhymemPageReclaim), kTdrB), status::kSuccess);
	const std::string s = kv("td");
	for (const char *w : {"ok ", " created=2 ", " reclaimed=1 ", " tds.0.tdr=0x800000 ", " tds.0.hkid=33 ",
			      " tds.0.lifecycle=KEYS_CONFIGURED ", " tds.0.tdcs_pages=4 ", " tds.0.finalized=1"})
		EXPECT_NE(s.find(w), std::string::npos) << w << " in " << s;
	EXPECT_EQ(s.find("tds.1."), std::string::npos) << s;
	for (const char *bad : {"td x", "td list"})
		EXPECT_EQ(ctl(bad)["ok"], false) << bad;
}

TEST_F(TdEmu, ServiceRequestsAreNotLeaves)
{
	ready();
	build(kTdrA, 33, true);
	const u64 addcx = emu_.counter(leaf::kMngAddcx);
	EXPECT_EQ(addcx, kTdcsPages);
	/* The service number 1 is also MNG.ADDCX's leaf number: it must not count as one. */
	static_assert(tdx::emu::kServiceTdReport == leaf::kMngAddcx);
	ASSERT_EQ(serve(0, service(tdx::emu::kServiceTdReport), kTdrA, kReportData, kReportOut), status::kSuccess);
	EXPECT_EQ(serve(0, service(7), kTdrA), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(emu_.counter(leaf::kMngAddcx), addcx);
	EXPECT_EQ(emu_.counter(7), 0u);
	/* And a fault rule on the leaf does not fire on the service. */
	ASSERT_EQ(ctl("fault mng.addcx 1 status 0xc000010000000001")["ok"], true);
	EXPECT_EQ(serve(0, service(tdx::emu::kServiceTdReport), kTdrA, kReportData, kReportOut), status::kSuccess);
	EXPECT_EQ(ctl("faults")["faults"].size(), 1u);
}

} // namespace
} // namespace seam_emu::test
