// SPDX-License-Identifier: GPL-2.0
// Runtime update in the tests: test-signed module images (lib/module-image with its committed test
// keys), placed in guest RAM with their seamldr_params, and an EmulatorTest that drives SYS.SHUTDOWN,
// SEAMLDR.INSTALL on every LP, the re-initialization and SYS.UPDATE; TDs, the extension pool and
// quotes around it.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include <module-image/module_image.h>

#include <tdx/abi/seamldr.h>

#include <dice-quote/dice_quote.h>

#include "test_support.h"

namespace seam_emu::test {

/* A module image: its pages (the manifest first, then code) and its signed sigstruct. */
struct TestImage {
	std::vector<u8> pages;
	Sigstruct sig{};
};

struct ImageSpec {
	nlohmann::json manifest;       /* the manifest ("module" object); null: no manifest page */
	module_image::SigstructSpec sig; /* SVNs, handoff versions, CPUID table, debug */
	bool other_signer = false;     /* signed by keys/other-signer.pem, whom nothing trusts */
	u32 code_pages = 2;            /* pages after the manifest (a pattern, for the hash) */
};

/* The "module" object of a profile file (profiles/), for a manifest. */
nlohmann::json profile_module(const std::string &profile_file);
/*
 * An update of `profile_file`'s image to version x.y.`update`: its manifest with that update number,
 * and a sigstruct with major SVN 1, minor SVN `minor_svn`, handoff versions 0..0, the CPU of the
 * profiles (0x806f0 with the stepping masked).
 */
ImageSpec update_spec(const std::string &profile_file, u16 update, u8 minor_svn);
TestImage build_image(const ImageSpec &spec);

class UpdateTest : public EmulatorTest {
protected:
	/* Guest RAM: TDs and quoting below 56 MiB (one_tdmr_layout()), the image above the PAMTs. */
	static constexpr u64 kRam = 128 * kMiB;
	static constexpr u64 kInfoPa = 79 * kMiB;     /* SEAMLDR.INFO's output */
	static constexpr u64 kParamsPa = 80 * kMiB;   /* seamldr_params */
	static constexpr u64 kSigstructPa = kParamsPa + kPageSize;
	static constexpr u64 kModulePa = 81 * kMiB;   /* the module pages, consecutive */
	static constexpr u64 kNotRam = 200 * kMiB;
	static constexpr u64 kTdArea = 32 * kMiB;     /* TD n: TDR, TDCS pages, TD_PARAMS at + n MiB */
	static constexpr u64 kQuoteArea = 8 * kMiB;   /* quote list node, data pages, input */
	static constexpr u64 kExtList = 4 * kMiB;     /* EXT.MEM.ADD's list */
	static constexpr u64 kPoolArea = 16 * kMiB;   /* the extension pool */

	explicit UpdateTest(Profile p = default_profile()) : EmulatorTest(kRam, std::move(p)) {}

	/* configure() and every TDMR initialized: SYS_READY. */
	void ready(u8 version = 0, u64 addons = 0);
	u64 shutdown(u64 rcx = 0) { return serve(0, rax(leaf::kSysShutdown), rcx); }
	u64 install(u32 lp, u64 params_pa = kParamsPa) { return serve(lp, kSeamldrInstall, params_pa); }
	/* SEAMLDR.INSTALL on every LP, in `order` (default 0, 1, ...); out_ is the last one's. */
	std::vector<u64> install_all(std::vector<u32> order = {});
	/* The session's answer (the last LP's) and its RDX. */
	u64 install_session(u64 *rdx = nullptr);
	/* After an install: SYS.INIT, LP.INIT on every LP, then SYS.UPDATE of this version. */
	u64 reinit_and_update(u8 version = 0, u64 addons = 0);
	/* SHUTDOWN, the session, the re-initialization and SYS.UPDATE of `img`, each expected to succeed. */
	void update_to(const TestImage &img, u8 version = 0, u64 addons = 0);
	SeamldrInfo info();

	/* `img` at kSigstructPa / kModulePa, its seamldr_params (this scenario) at kParamsPa. */
	void put_image(const TestImage &img, u32 scenario = kSeamldrScenarioUpdate);
	SeamldrParams params_of(const TestImage &img, u32 scenario = kSeamldrScenarioUpdate) const;
	void write_params(const SeamldrParams &p);

	SysState state();
	SeamldrState seamldr_state();
	ModuleImage image();

	/* ---- TDs and quoting around an update ---- */
	struct Td {
		u64 tdr = 0, params = 0;
	};
	/* TD `n` built to RUNNABLE (HKID 33 + n); `finalize` false leaves its build in progress. */
	void make_td(u32 n, u8 seed, Td *td, bool finalize = true);
	u64 td_report(const Td &td, const dice_quote::ReportData &rd, u64 out);
	/* Pool pages `first` .. `first + pages - 1` of kPoolArea added (one list), EXT.INIT to the end. */
	void ext_up(u32 pages, u32 first = 0)
	{
		EmulatorTest::ext_up(kExtList, kPoolArea + u64(first) * kPageSize, pages);
	}
	u64 quote_init();
	/*
	 * A quote of `td` for `rd`, verified against the emulator's root (an error if none came). With
	 * `report`, that TDREPORT is the input instead of a new one; *used gets the input quoted.
	 */
	dice_quote::Result<dice_quote::VerifiedQuote> quote_of(const Td &td, const dice_quote::ReportData &rd,
							       const dice_quote::Bytes *report = nullptr,
							       dice_quote::Bytes *used = nullptr);
};

} // namespace seam_emu::test
