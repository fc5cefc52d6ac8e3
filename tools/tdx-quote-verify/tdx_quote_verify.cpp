// SPDX-License-Identifier: GPL-2.0
// tdx-quote-verify: verifies a DICE-based TDX quote (docs/quote-format.md) against a pinned root
// and prints its claims. Exit 0: valid; 1: invalid (one line naming the reason); 2: usage or I/O.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <dice-quote/dice_quote.h>

#include "hex.h"

using namespace dice_quote;
using quote_tools::to_hex;

namespace {

struct Field {
	const char *name;
	std::int64_t label;
	std::string value;
};

std::string svn_text(const Svn16 &svn)
{
	std::string s;
	for (size_t i = 0; i < svn.size(); i++)
		s += (i ? "," : "") + std::to_string(svn[i]);
	return s;
}

std::vector<Field> fields(const PlatformMeasurements &m)
{
	return {{"digest", kLabelDigest, to_hex(m.digest)}, {"tcb_svn", kLabelTeeTcbSvn, svn_text(m.tcb_svn)}};
}

std::vector<Field> fields(const SeamMeasurements &m)
{
	return {{"attributes", kLabelAttributes, to_hex(m.attributes)},
		{"mrseam", kLabelDigest, to_hex(m.mrseam)},
		{"mrsignerseam", kLabelMrSignerSeam, to_hex(m.mrsignerseam)},
		{"tee_tcb_svn", kLabelTeeTcbSvn, svn_text(m.tee_tcb_svn)}};
}

std::vector<Field> fields(const TdMeasurements &m)
{
	std::vector<Field> f = {{"attributes", kLabelAttributes, to_hex(m.attributes)},
				{"mrtd", kLabelDigest, to_hex(m.mrtd)},
				{"xfam", kLabelXfam, to_hex(m.xfam)},
				{"mrconfigid", kLabelMrConfigId, to_hex(m.mrconfigid)},
				{"mrowner", kLabelMrOwner, to_hex(m.mrowner)},
				{"mrownerconfig", kLabelMrOwnerConfig, to_hex(m.mrownerconfig)}};
	static const char *rtmr[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	for (int i = 0; i < 4; i++)
		f.push_back({rtmr[i], kLabelRtmr0 - i, to_hex(m.rtmr[i])});
	f.push_back({"mrservicetd", kLabelMrServiceTd, to_hex(m.mrservicetd)});
	return f;
}

template <class M>
void print_submod(const char *name, const char *oid, const OriginCurrent<M> &oc)
{
	std::cout << name << " (" << oid << ")\n";
	for (const auto &[which, m] : {std::pair{"origin", &oc.origin}, std::pair{"current", &oc.current}}) {
		std::cout << "  " << which << ":\n";
		for (const auto &f : fields(*m))
			std::cout << "    " << f.name << " (" << f.label << "): " << f.value << "\n";
	}
}

template <class M>
nlohmann::json json_submod(const char *name, const OriginCurrent<M> &oc)
{
	nlohmann::json j = {{"name", name}};
	for (const auto &[which, m] : {std::pair{"origin", &oc.origin}, std::pair{"current", &oc.current}})
		for (const auto &f : fields(*m))
			j[which][f.name] = f.value;
	return j;
}

void print_json(const VerifiedQuote &v)
{
	const QuoteClaims &c = v.claims;
	nlohmann::json j;
	j["valid"] = true;
	j["report_data"] = to_hex(c.report_data);
	j["submods"][kSubmodPlatform] = json_submod("platform", c.platform);
	j["submods"][kSubmodSeam] = json_submod("seam", c.seam);
	j["submods"][kSubmodTd] = json_submod("td", c.td);
	for (const auto &der : v.chain_der)
		j["chain"].push_back(to_hex(der));
	std::cout << j.dump(2) << "\n";
}

void print_text(const VerifiedQuote &v)
{
	const QuoteClaims &c = v.claims;
	std::cout << "quote: valid (" << v.chain_der.size() << " certificates up to the trusted root)\n";
	std::cout << "report_data (-212): " << to_hex(c.report_data) << "\n";
	print_submod("platform", kSubmodPlatform, c.platform);
	print_submod("seam", kSubmodSeam, c.seam);
	print_submod("td", kSubmodTd, c.td);
}

int usage_error(const std::string &msg)
{
	std::cerr << "tdx-quote-verify: " << msg << "\n";
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"Verify a DICE-based TDX quote against a trusted root and print its claims"};
	std::string root_path, quote_path, report_data_hex;
	bool json = false;
	app.add_option("--root", root_path, "trusted root certificate (PEM)")->required();
	app.add_option("--report-data", report_data_hex, "expected REPORTDATA, 128 hex digits");
	app.add_flag("--json", json, "print the claims as JSON");
	app.add_option("quote", quote_path, "the quote (binary CBOR)")->required();
	CLI11_PARSE(app, argc, argv);

	std::optional<ReportData> expected;
	if (!report_data_hex.empty()) {
		expected = quote_tools::fixed_from_hex<64>(report_data_hex);
		if (!expected)
			return usage_error("--report-data must be 64 bytes as 128 hex digits");
	}
	const auto root = quote_tools::read_file(root_path);
	if (!root)
		return usage_error("cannot read the root certificate " + root_path);
	const auto quote = quote_tools::read_file(quote_path);
	if (!quote)
		return usage_error("cannot read the quote " + quote_path);

	auto v = verify_quote(BytesView(reinterpret_cast<const std::uint8_t *>(quote->data()), quote->size()), *root,
			      expected);
	if (!v) {
		if (json)
			std::cout << nlohmann::json{{"valid", false},
						    {"error", error_code_name(v.error().code)},
						    {"message", v.error().message}}
					     .dump(2)
				  << "\n";
		std::cerr << "tdx-quote-verify: invalid quote: " << v.error().to_string() << "\n";
		return 1;
	}
	if (json)
		print_json(v.value());
	else
		print_text(v.value());
	return 0;
}
