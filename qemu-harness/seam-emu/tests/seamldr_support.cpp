// SPDX-License-Identifier: GPL-2.0
#include "seamldr_support.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <tdx/abi/ext.h>
#include <tdx/abi/leaves.h>
#include <tdx/abi/quote.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

namespace seam_emu::test {

namespace mi = module_image;
using json = nlohmann::json;

namespace {

const mi::SigningKey &key(const char *file)
{
	static std::mutex mu;
	static std::map<std::string, mi::SigningKeyPtr> keys;
	std::lock_guard<std::mutex> g(mu);
	mi::SigningKeyPtr &k = keys[file];
	if (!k) {
		auto r = mi::load_signing_key(std::string(MODULE_IMAGE_KEYS_DIR) + "/" + file);
		if (!r)
			throw std::runtime_error(r.error().to_string());
		k = std::move(r.value());
	}
	return *k;
}

} // namespace

json profile_module(const std::string &profile_file)
{
	std::ifstream in(profile_path(profile_file));
	std::stringstream ss;
	ss << in.rdbuf();
	return json::parse(ss.str(), nullptr, true, true).at("module");
}

ImageSpec update_spec(const std::string &profile_file, u16 update, u8 minor_svn)
{
	ImageSpec s;
	s.manifest = profile_module(profile_file);
	s.manifest["update"] = update;
	s.manifest.erase("svn"); /* the sigstruct's count */
	s.sig.major_svn = 1;
	s.sig.minor_svn = minor_svn;
	s.sig.cpuid_table = {0x806f0};
	return s;
}

TestImage build_image(const ImageSpec &spec)
{
	TestImage img;
	if (!spec.manifest.is_null())
		img.pages = mi::manifest_pages(spec.manifest.dump());
	for (u32 p = 0; p < spec.code_pages; p++)
		for (u64 i = 0; i < kPageSize; i++)
			img.pages.push_back(u8(p * 31 + i));
	auto sig = mi::make_sigstruct(spec.sig, img.pages, key(spec.other_signer ? "other-signer.pem" : "test-signer.pem"));
	if (!sig)
		throw std::runtime_error(sig.error().to_string());
	img.sig = sig.value();
	return img;
}

/* ---- the fixture ---------------------------------------------------------------------------- */

void UpdateTest::ready(u8 version, u64 addons)
{
	ASSERT_NO_FATAL_FAILURE(configure(version, addons));
	const TdmrLayout l = one_tdmr_layout(profile_);
	for (const TdmrDesc &t : l.tdmrs) {
		for (int guard = 0; guard < 1000; guard++) {
			ASSERT_EQ(serve(0, rax(leaf::kSysTdmrInit), t.base), status::kSuccess);
			if (out_.rdx >= t.base + t.size)
				break;
		}
	}
	ASSERT_EQ(state(), SysState::kSysReady);
}

std::vector<u64> UpdateTest::install_all(std::vector<u32> order)
{
	if (order.empty())
		for (u32 lp = 0; lp < profile_.lps; lp++)
			order.push_back(lp);
	std::vector<u64> st;
	for (u32 lp : order)
		st.push_back(install(lp));
	return st;
}

u64 UpdateTest::install_session(u64 *rdx)
{
	const std::vector<u64> st = install_all();
	for (size_t i = 0; i + 1 < st.size(); i++)
		EXPECT_EQ(st[i], status::kSuccess) << "LP " << i << " before the last";
	if (rdx)
		*rdx = out_.rdx;
	return st.back();
}

u64 UpdateTest::reinit_and_update(u8 version, u64 addons)
{
	if (const u64 st = serve(0, rax(leaf::kSysInit)))
		return st;
	for (u32 lp = 0; lp < profile_.lps; lp++)
		if (const u64 st = serve(lp, rax(leaf::kSysLpInit)))
			return st;
	RegBlock r{};
	r.r9 = addons;
	return serve(0, rax(leaf::kSysUpdate, version), r);
}

void UpdateTest::update_to(const TestImage &img, u8 version, u64 addons)
{
	put_image(img);
	ASSERT_EQ(shutdown(), status::kSuccess);
	u64 rdx = ~0ull;
	ASSERT_EQ(install_session(&rdx), status::kSuccess) << seamldr_state().last_failure->why;
	ASSERT_EQ(rdx, 0u);
	ASSERT_EQ(reinit_and_update(version, addons), status::kSuccess);
	ASSERT_EQ(state(), SysState::kSysReady);
}

SeamldrInfo UpdateTest::info()
{
	SeamldrInfo i{};
	EXPECT_EQ(serve(0, kSeamldrInfo, kInfoPa), status::kSuccess);
	mem_.read(kInfoPa, &i, sizeof(i));
	return i;
}

SeamldrParams UpdateTest::params_of(const TestImage &img, u32 scenario) const
{
	SeamldrParams p{};
	p.version = kSeamldrParamsVersion;
	p.scenario = scenario;
	p.sigstruct_pa = kSigstructPa;
	p.num_module_pages = img.pages.size() / kPageSize;
	for (u64 i = 0; i < p.num_module_pages && i < kSeamldrMaxModulePages; i++)
		p.module_page_pa[i] = kModulePa + i * kPageSize;
	return p;
}

void UpdateTest::write_params(const SeamldrParams &p) { ASSERT_TRUE(mem_.write(kParamsPa, &p, sizeof(p))); }

void UpdateTest::put_image(const TestImage &img, u32 scenario)
{
	ASSERT_TRUE(mem_.write(kSigstructPa, &img.sig, sizeof(img.sig)));
	ASSERT_TRUE(mem_.write(kModulePa, img.pages.data(), img.pages.size()));
	write_params(params_of(img, scenario));
}

SysState UpdateTest::state()
{
	std::lock_guard<std::mutex> g(emu_.module_mutex());
	return emu_.module().state();
}

SeamldrState UpdateTest::seamldr_state()
{
	std::lock_guard<std::mutex> g(emu_.module_mutex());
	return emu_.module().seamldr();
}

ModuleImage UpdateTest::image()
{
	std::lock_guard<std::mutex> g(emu_.module_mutex());
	return emu_.module().image();
}

/* ---- TDs and quoting ------------------------------------------------------------------------ */

void UpdateTest::make_td(u32 n, u8 seed, Td *td, bool finalize)
{
	const u64 base = kTdArea + n * kMiB;
	td->tdr = base;
	td->params = base + 512 * 1024;
	ASSERT_EQ(serve(0, rax(leaf::kMngCreate), td->tdr, 33 + n), status::kSuccess);
	const u32 per_pkg = profile_.lps / profile_.packages;
	for (u32 pkg = 0; pkg < profile_.packages; pkg++)
		ASSERT_EQ(serve(pkg * per_pkg, rax(leaf::kMngKeyConfig), td->tdr), status::kSuccess);
	for (u32 i = 0; i < profile_.td.tdcs_base_size / kPageSize; i++)
		ASSERT_EQ(serve(0, rax(leaf::kMngAddcx), base + (1 + i) * kPageSize, td->tdr), status::kSuccess);
	std::vector<u8> params(td_params::kSize, 0);
	params[td_params::kMaxVcpus] = 1;
	params[td_params::kXfam] = 3;
	for (u32 i = 0; i < kMeasurementBytes; i++)
		params[td_params::kMrConfigId + i] = u8(seed + i);
	ASSERT_TRUE(mem_.write(td->params, params.data(), params.size()));
	ASSERT_EQ(serve(0, rax(leaf::kMngInit), td->tdr, td->params), status::kSuccess);
	ASSERT_EQ(serve(0, rax(leaf::kMrExtend), u64(seed) * kPageSize, td->tdr), status::kSuccess);
	if (finalize) {
		ASSERT_EQ(serve(0, rax(leaf::kMrFinalize), td->tdr), status::kSuccess);
	}
}

u64 UpdateTest::td_report(const Td &td, const dice_quote::ReportData &rd, u64 out)
{
	const u64 rd_pa = td.params + 2 * kPageSize;
	EXPECT_TRUE(mem_.write(rd_pa, rd.data(), rd.size()));
	return serve(0, tdx::emu::service_rax(tdx::emu::kServiceTdReport), td.tdr, rd_pa, out);
}

u64 UpdateTest::quote_init()
{
	u64 st;
	for (int guard = 0; guard < 1000; guard++)
		if ((st = serve(0, rax(leaf::kQuoteInit))) != status::kInterruptedResumable)
			return st;
	return st;
}

/*
 * The buffer: one list node at kQuoteArea naming 4 data pages after it; the TDREPORT (the input)
 * after those.
 */
dice_quote::Result<dice_quote::VerifiedQuote> UpdateTest::quote_of(const Td &td, const dice_quote::ReportData &rd,
								 const dice_quote::Bytes *report, dice_quote::Bytes *used)
{
	constexpr u64 kPages = 4;
	const u64 node = kQuoteArea, data = kQuoteArea + kPageSize, input = data + kPages * kPageSize;
	auto failed = [](std::string what) {
		return dice_quote::make_error(dice_quote::ErrorCode::kInvalidArgument, std::move(what));
	};
	if (report)
		EXPECT_TRUE(mem_.write(input, report->data(), report->size()));
	else if (const u64 st = td_report(td, rd, input))
		return failed("TDREPORT service: status " + std::to_string(st));
	if (used) {
		used->resize(tdreport::kSize);
		mem_.read(input, used->data(), used->size());
	}
	std::vector<u64> e(kQuoteListEntries, kQuoteListEnd);
	for (u64 i = 0; i < kPages; i++)
		e[i] = data + i * kPageSize;
	EXPECT_TRUE(mem_.write(node, e.data(), kPageSize));
	const RegBlock r = quote_get_regs(td.tdr, input, node, kPages);
	u64 st;
	for (int guard = 0; guard < 1000; guard++)
		if ((st = serve(0, rax(leaf::kQuoteGet), r)) != status::kInterruptedResumable)
			break;
	if (st != status::kSuccess)
		return failed("QUOTE.GET: status " + std::to_string(st));
	dice_quote::Bytes q(out_.rcx);
	mem_.read(data, q.data(), q.size());
	const std::string root = ctl("quote root").value("root_pem", "");
	return dice_quote::verify_quote(q, root, rd);
}

} // namespace seam_emu::test
