// SPDX-License-Identifier: GPL-2.0
// dice-quote-make (test tool): creates a DICE chain and a quote from chosen inputs, writes the
// root certificate (PEM) and the quote, so shell tests and the independent verifier get samples.
// Values not given are filled with fixed patterns. Never part of a production path.
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include <dice-quote/dice_quote.h>
#include <dice-quote/testing.h>

#include "hex.h"

using namespace dice_quote;

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> pattern(std::uint8_t seed)
{
	std::array<std::uint8_t, N> a{};
	for (std::size_t i = 0; i < N; i++)
		a[i] = static_cast<std::uint8_t>(seed * 31 + i);
	return a;
}

struct HexArg {
	const char *name;
	std::string value;
};

int fail(const std::string &msg)
{
	std::cerr << "dice-quote-make: " << msg << "\n";
	return 2;
}

template <std::size_t N>
bool parse(const std::string &flag, const std::string &hex, std::array<std::uint8_t, N> &out)
{
	if (hex.empty())
		return true;
	auto v = quote_tools::fixed_from_hex<N>(hex);
	if (!v) {
		std::cerr << "dice-quote-make: " << flag << " must be " << N << " bytes as " << 2 * N << " hex digits\n";
		return false;
	}
	out = *v;
	return true;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Make a DICE chain and a quote (test tool)"};
	std::string seed_hex, platform_hex, mrseam_hex, svn_hex, origin_mrseam_hex, origin_svn_hex, report_data_hex,
		mrtd_hex, root_out, quote_out, fault_name = "none";
	app.add_option("--seed", seed_hex, "root seed (at least 32 bytes, hex)");
	app.add_option("--platform", platform_hex, "platform measurement (48 bytes, hex)");
	app.add_option("--mrseam", mrseam_hex, "current MRSEAM = module measurement (48 bytes, hex)");
	app.add_option("--svn", svn_hex, "current TEE_TCB_SVN = module SVN (16 bytes, hex)");
	app.add_option("--origin-mrseam", origin_mrseam_hex, "origin MRSEAM (default: the current one)");
	app.add_option("--origin-svn", origin_svn_hex, "origin TEE_TCB_SVN (default: the current one)");
	app.add_option("--report-data", report_data_hex, "REPORTDATA (64 bytes, hex)");
	app.add_option("--mrtd", mrtd_hex, "MRTD (48 bytes, hex)");
	app.add_option("--fault", fault_name, "chain defect for tests: none, module-not-ca, leaf-is-ca");
	app.add_option("--root-out", root_out, "where to write the root certificate (PEM)")->required();
	app.add_option("--out", quote_out, "where to write the quote")->required();
	CLI11_PARSE(app, argc, argv);

	ChainInputs in;
	in.root_seed.resize(32);
	for (size_t i = 0; i < in.root_seed.size(); i++)
		in.root_seed[i] = static_cast<std::uint8_t>(i);
	if (!seed_hex.empty()) {
		auto s = quote_tools::from_hex(seed_hex);
		if (!s)
			return fail("--seed is not hex");
		in.root_seed = *s;
	}
	in.platform_measurement = pattern<48>(1);
	in.module_measurement = pattern<48>(2);
	in.module_svn = pattern<16>(3);
	QuoteClaims c;
	c.report_data = pattern<64>(4);
	c.td.current.mrtd = pattern<48>(5);
	if (!parse("--platform", platform_hex, in.platform_measurement) || !parse("--mrseam", mrseam_hex, in.module_measurement) ||
	    !parse("--svn", svn_hex, in.module_svn) || !parse("--report-data", report_data_hex, c.report_data) ||
	    !parse("--mrtd", mrtd_hex, c.td.current.mrtd))
		return 2;

	c.platform.current = {in.platform_measurement, pattern<16>(6)};
	c.platform.origin = c.platform.current;
	c.seam.current = {pattern<8>(7), in.module_measurement, pattern<48>(8), in.module_svn};
	c.seam.origin = c.seam.current;
	if (!parse("--origin-mrseam", origin_mrseam_hex, c.seam.origin.mrseam) ||
	    !parse("--origin-svn", origin_svn_hex, c.seam.origin.tee_tcb_svn))
		return 2;
	TdMeasurements &td = c.td.current;
	td.attributes = pattern<8>(9);
	td.xfam = pattern<8>(10);
	td.mrconfigid = pattern<48>(11);
	td.mrowner = pattern<48>(12);
	td.mrownerconfig = pattern<48>(13);
	for (int i = 0; i < 4; i++)
		td.rtmr[i] = pattern<48>(static_cast<std::uint8_t>(14 + i));
	td.mrservicetd = pattern<48>(18);
	c.td.origin = td;
	c.td.origin.rtmr = {}; /* at finalization the RTMRs were still zero */

	const std::map<std::string, testing::ChainFault> faults = {
		{"none", testing::ChainFault::kNone},
		{"module-not-ca", testing::ChainFault::kModuleNotCa},
		{"leaf-is-ca", testing::ChainFault::kLeafIsCa},
	};
	const auto fault = faults.find(fault_name);
	if (fault == faults.end())
		return fail("unknown --fault " + fault_name);
	auto chain = testing::create_chain_with_fault(in, fault->second);
	if (!chain)
		return fail("chain: " + chain.error().to_string());
	auto quote = make_quote(chain.value(), c);
	if (!quote)
		return fail("quote: " + quote.error().to_string());
	const std::string pem = chain.value().root_pem();
	if (!quote_tools::write_file(root_out, pem.data(), pem.size()))
		return fail("cannot write " + root_out);
	if (!quote_tools::write_file(quote_out, quote.value().data(), quote.value().size()))
		return fail("cannot write " + quote_out);
	std::cout << quote_tools::to_hex(c.report_data) << "\n";
	return 0;
}
