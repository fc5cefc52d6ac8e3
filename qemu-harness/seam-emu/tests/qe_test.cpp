// SPDX-License-Identifier: GPL-2.0
// The platform's quoting enclave (seam-emu README, "Quoting", control command "qe sign"): quotes of
// genuine TDREPORTs verified with dice_quote::verify_quote against the emulator's root, on an image
// without QUOTE; refused reports, malformed requests, the counters; long replies through the
// control socket to a client that reads late.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include <dice-quote/dice_quote.h>

#include <tdx/abi/leaves.h>
#include <tdx/abi/td.h>
#include <tdx/emu/service.h>

#include "control_server.h"
#include "emulator.h"
#include "seam_identity.h"
#include "test_support.h"

namespace seam_emu::test {
namespace {

using json = nlohmann::json;
using Report = std::array<u8, tdreport::kSize>;

/* one_tdmr_layout() over 64 MiB: usable [0, 56M). */
constexpr u64 kTdArea = 8 * kMiB; /* TD n: TDR at kTdArea + n MiB, its TDCS pages after it */
constexpr u64 kParams = 4 * kMiB;
constexpr u64 kReportData = 5 * kMiB;
constexpr u64 kReportOut = 5 * kMiB + 4096;

/* Upper-case hex: the command takes either case. */
std::string upper_hex(dice_quote::BytesView b)
{
	std::string s = to_hex(b);
	for (auto &c : s)
		c = char(std::toupper(static_cast<unsigned char>(c)));
	return s;
}

/* An emulator over in-memory RAM, brought up with TDs through its SEAMCALLs (as the TD harness does). */
struct Host {
	explicit Host(Profile p = default_profile()) : ram(64 * kMiB), mem(ram.data(), ram.size()), profile(std::move(p)), emu(profile, mem) {}

	u64 serve(u64 rax_in, u64 rcx = 0, u64 rdx = 0, u64 r8 = 0)
	{
		RegBlock r{};
		r.rcx = rcx;
		r.rdx = rdx;
		r.r8 = r8;
		return emu.serve(0, rax_in, r);
	}
	/* SYS_READY with SYS.CONFIG v0 (no add-on) of one_tdmr_layout(), every TDMR initialized. */
	void ready()
	{
		ASSERT_EQ(serve(rax(leaf::kSysInit)), status::kSuccess);
		for (u32 lp = 0; lp < profile.lps; lp++) {
			RegBlock r{};
			ASSERT_EQ(emu.serve(lp, rax(leaf::kSysLpInit), r), status::kSuccess);
		}
		const TdmrLayout l = one_tdmr_layout(profile);
		write_layout(mem, l, profile);
		ASSERT_EQ(serve(rax(leaf::kSysConfig), l.array_pa, l.tdmrs.size(), 32), status::kSuccess);
		ASSERT_EQ(profile.packages, 1u);
		ASSERT_EQ(serve(rax(leaf::kSysKeyConfig)), status::kSuccess);
		for (int i = 0; i < 4; i++)
			ASSERT_EQ(serve(rax(leaf::kSysTdmrInit), 0), status::kSuccess);
	}
	/* TD n, finalized; `seed` makes its MRCONFIGID (and so its TDINFO) its own. Returns its TDR. */
	u64 make_td(u32 n, u8 seed)
	{
		const u64 tdr = kTdArea + n * kMiB;
		EXPECT_EQ(serve(rax(leaf::kMngCreate), tdr, 33 + n), status::kSuccess);
		EXPECT_EQ(serve(rax(leaf::kMngKeyConfig), tdr), status::kSuccess);
		for (u64 i = 0; i < profile.td.tdcs_base_size / kPageSize; i++)
			EXPECT_EQ(serve(rax(leaf::kMngAddcx), tdr + (i + 1) * kPageSize, tdr), status::kSuccess);
		std::array<u8, td_params::kSize> params{};
		params[td_params::kMaxVcpus] = 1;
		params[td_params::kXfam] = 3;
		std::memset(&params[td_params::kMrConfigId], seed, kMeasurementBytes);
		EXPECT_TRUE(mem.write(kParams, params.data(), params.size()));
		EXPECT_EQ(serve(rax(leaf::kMngInit), tdr, kParams), status::kSuccess);
		EXPECT_EQ(serve(rax(leaf::kMrExtend), 0x1000, tdr), status::kSuccess);
		EXPECT_EQ(serve(rax(leaf::kMrFinalize), tdr), status::kSuccess);
		return tdr;
	}
	/* The TDREPORT of the TD at `tdr` with this REPORTDATA (the emulator-only service). */
	Report report_of(u64 tdr, const dice_quote::ReportData &rd)
	{
		Report r{};
		EXPECT_TRUE(mem.write(kReportData, rd.data(), rd.size()));
		EXPECT_EQ(serve(tdx::emu::service_rax(tdx::emu::kServiceTdReport), tdr, kReportData, kReportOut),
			  status::kSuccess);
		mem.read(kReportOut, r.data(), r.size());
		return r;
	}

	RamBuffer ram;
	GuestMemory mem;
	Profile profile;
	Emulator emu;
};

class Qe : public ::testing::Test {
protected:
	json ctl(const std::string &line) { return control_json(h_.emu, line); }
	std::string kv(const std::string &line) { return control_kv(h_.emu, line); }
	json sign(const Report &r) { return ctl("qe sign " + upper_hex(r)); }
	/* The reply's quote, verified against the root with REPORTDATA `rd`. */
	dice_quote::Result<dice_quote::VerifiedQuote> verified(const json &reply, const dice_quote::ReportData &rd)
	{
		EXPECT_EQ(reply["ok"], true) << reply.dump().substr(0, 200);
		const dice_quote::Bytes q = from_hex(reply.value("quote", std::string()));
		EXPECT_EQ(reply.value("quote_bytes", u64(0)), q.size());
		return dice_quote::verify_quote(q, root(), rd);
	}
	std::string root() { return ctl("quote root")["root_pem"]; }
	json counters() { return ctl("quote")["quote"]; }

	Host h_;
};

TEST_F(Qe, GenuineReportSignsAndVerifiesWithoutQuoteFeature)
{
	ASSERT_EQ(h_.profile.image().tdx_features0 & features0::kQuote, 0u) << "default.json has no QUOTE";
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const u64 tdr = h_.make_td(0, 0x5a);
	const dice_quote::ReportData rd = report_data_of(0x21);
	const Report rep = h_.report_of(tdr, rd);
	const json j = sign(rep);
	auto v = verified(j, rd);
	ASSERT_TRUE(v) << v.error().to_string();
	const dice_quote::QuoteClaims &c = v.value().claims;
	EXPECT_EQ(c.report_data, rd);
	EXPECT_EQ(0, std::memcmp(c.td.current.mrtd.data(), &rep[tdreport::kTdInfo + tdreport::kMrTd], 48));
	EXPECT_EQ(c.td.current.mrconfigid[0], 0x5a);
	EXPECT_EQ(c.td.origin, c.td.current);
	EXPECT_EQ(c.seam.current.mrseam, seam_identity(h_.profile.image()).mrseam);
	EXPECT_EQ(c.seam.origin, c.seam.current);
	EXPECT_EQ(c.platform.current.digest, platform_measurement(h_.profile.platform()));
	/* Another REPORTDATA expected: the verifier says no. */
	auto w = verified(j, report_data_of(0x22));
	ASSERT_FALSE(w);
	EXPECT_EQ(w.error().code, dice_quote::ErrorCode::kReportDataMismatch);

	/* The kv form: "ok quote=<hex> quote_bytes=N", the same quote format. */
	const std::string s = kv("qe sign " + upper_hex(rep));
	ASSERT_EQ(s.rfind("ok quote=", 0), 0u) << s.substr(0, 80);
	const size_t sp = s.find(' ', 9);
	ASSERT_NE(sp, std::string::npos);
	const std::string hex = s.substr(9, sp - 9);
	EXPECT_EQ(s.substr(sp), " quote_bytes=" + std::to_string(hex.size() / 2));
	EXPECT_TRUE(dice_quote::verify_quote(from_hex(hex), root(), rd));

	const json q = counters();
	EXPECT_EQ(q["qe_signed"], 2);
	EXPECT_EQ(q["qe_refused"], 0);
	EXPECT_EQ(q["qe_last_refusal"], "none");
	EXPECT_EQ(q["initialized"], false) << "the QE needs no QUOTE.INIT";
	EXPECT_EQ(q["gets_completed"], 0);
}

TEST_F(Qe, TwoTdsEachGetTheirOwnQuote)
{
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const u64 a = h_.make_td(0, 1), b = h_.make_td(1, 2);
	auto qa = verified(sign(h_.report_of(a, report_data_of(1))), report_data_of(1));
	auto qb = verified(sign(h_.report_of(b, report_data_of(2))), report_data_of(2));
	ASSERT_TRUE(qa) << qa.error().to_string();
	ASSERT_TRUE(qb) << qb.error().to_string();
	EXPECT_EQ(qa.value().claims.td.current.mrconfigid[0], 1);
	EXPECT_EQ(qb.value().claims.td.current.mrconfigid[0], 2);
	/* One chain for both (the module has not changed). */
	EXPECT_EQ(qa.value().chain_der, qb.value().chain_der);
}

TEST_F(Qe, RefusedReports)
{
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const u64 tdr = h_.make_td(0, 7);
	const Report good = h_.report_of(tdr, report_data_of(3));
	const struct {
		const char *what;
		u32 offset; /* the byte flipped */
		const char *error;
	} flips[] = {
		{"REPORTDATA", tdreport::kReportData + 5, "report refused: bad MAC"},
		{"the MAC", tdreport::kMac, "report refused: bad MAC"},
		{"TDINFO (MRTD)", tdreport::kTdInfo + tdreport::kMrTd, "report refused: bad hash"},
		{"TEE_TCB_INFO", tdreport::kTeeTcbInfo + tdreport::kMrSeam, "report refused: bad hash"},
	};
	u64 refused = 0;
	for (const auto &f : flips) {
		Report r = good;
		r[f.offset] ^= 0x01;
		const json j = sign(r);
		EXPECT_EQ(j, (json{{"ok", false}, {"error", f.error}})) << f.what;
		EXPECT_EQ(counters()["qe_refused"], ++refused) << f.what;
		EXPECT_EQ(counters()["qe_last_refusal"], f.error) << f.what;
	}
	/* A report of another emulator (another MAC key): not genuine. */
	{
		Host other;
		ASSERT_NO_FATAL_FAILURE(other.ready());
		const Report foreign = other.report_of(other.make_td(0, 7), report_data_of(3));
		EXPECT_EQ(sign(foreign)["error"], "report refused: bad MAC");
		refused++;
	}
	/* Genuine, but its TD's keys were freed: no TD the module could quote has that TDINFO. */
	ASSERT_EQ(h_.serve(rax(leaf::kMngKeyFreeid), tdr), status::kSuccess);
	EXPECT_EQ(sign(good)["error"], "report refused: unknown TD");
	EXPECT_EQ(kv("qe sign " + upper_hex(good)), "error report refused: unknown TD");
	refused += 2;
	EXPECT_EQ(counters()["qe_refused"], refused);
	EXPECT_EQ(counters()["qe_signed"], 0);
}

TEST_F(Qe, MalformedRequests)
{
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const Report good = h_.report_of(h_.make_td(0, 7), report_data_of(3));
	const std::string hex = upper_hex(good);
	const struct {
		std::string arg;
		const char *error;
	} cases[] = {
		{hex.substr(0, 2046), "bad length"},         /* 1023 bytes */
		{hex + "00", "bad length"},                  /* 1025 bytes */
		{"00", "bad length"},
		{hex.substr(0, 2047), "bad hex"},            /* an odd number of digits */
		{"zz" + hex.substr(2), "bad hex"},
		{hex.substr(0, 1000) + "g" + hex.substr(1001), "bad hex"},
		{"0x" + hex.substr(2), "bad hex"},
	};
	u64 refused = 0;
	for (const auto &c : cases) {
		EXPECT_EQ(ctl("qe sign " + c.arg), (json{{"ok", false}, {"error", c.error}})) << c.arg.substr(0, 16);
		EXPECT_EQ(counters()["qe_refused"], ++refused);
	}
	EXPECT_EQ(kv("qe sign zz"), "error bad hex");
	EXPECT_EQ(kv("qe sign 00"), "error bad length");
	/* Not a sign request: a usage error, not counted. */
	for (const char *bad : {"qe", "qe sign", "qe sign 00 00", "qe verify 00", "qe fail 1"}) {
		const json j = ctl(bad);
		EXPECT_EQ(j["ok"], false) << bad;
		EXPECT_EQ(j["error"].get<std::string>().rfind("usage: qe sign HEX", 0), 0u) << j.dump();
	}
	EXPECT_EQ(counters()["qe_refused"], refused + 2);
	EXPECT_EQ(counters()["qe_signed"], 0);
	/* The TDREPORT in lower case signs too (the tests above send upper case). */
	EXPECT_EQ(ctl("QE SIGN " + to_hex(good))["ok"], true);
}

/* "quote pad N": the QE's quotes grow by N zero bytes after the signed quote; pad 0 as before. */
TEST_F(Qe, PadMakesQuotesLarger)
{
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const dice_quote::ReportData rd = report_data_of(0x41);
	const Report rep = h_.report_of(h_.make_td(0, 3), rd);
	auto v = verified(sign(rep), rd);
	ASSERT_TRUE(v) << v.error().to_string();
	const u64 plain = sign(rep)["quote_bytes"];

	EXPECT_EQ(ctl("quote pad 500"), (json{{"ok", true}, {"pad", 500}}));
	EXPECT_EQ(counters()["pad"], 500);
	json j = sign(rep);
	ASSERT_EQ(j["ok"], true) << j.dump().substr(0, 200);
	const dice_quote::Bytes q = from_hex(j["quote"].get<std::string>());
	EXPECT_EQ(j["quote_bytes"], q.size());
	EXPECT_EQ(q.size(), plain + 500); /* one chain, the same claims: the signed part as long as before */
	EXPECT_TRUE(std::all_of(q.end() - 500, q.end(), [](u8 b) { return b == 0; }));
	EXPECT_TRUE(dice_quote::verify_quote(dice_quote::Bytes(q.begin(), q.end() - 500), root(), rd));
	EXPECT_FALSE(dice_quote::verify_quote(q, root(), rd)) << "trailing bytes";

	EXPECT_EQ(kv("quote pad 65536"), "ok pad=65536");
	EXPECT_EQ(sign(rep)["quote_bytes"], plain + 65536);
	EXPECT_NE(kv("quote").find(" pad=65536 "), std::string::npos) << kv("quote");

	EXPECT_EQ(kv("quote pad 0"), "ok pad=0");
	j = sign(rep);
	EXPECT_EQ(j["quote_bytes"], plain);
	v = verified(j, rd);
	EXPECT_TRUE(v) << v.error().to_string();

	for (const char *bad : {"quote pad", "quote pad 65537", "quote pad -1", "quote pad x", "quote pad 0x10",
				"quote pad 1 2", "quote pad 99999999999999999999999"}) {
		j = ctl(bad);
		EXPECT_EQ(j, (json{{"ok", false}, {"error", "usage: quote pad N (0..65536)"}})) << bad;
	}
	EXPECT_EQ(counters()["pad"], 0) << "refused commands change nothing";
	EXPECT_EQ(counters()["qe_refused"], 0);
}

/* ---- long replies through the control socket ------------------------------------------------ */

/* Many quotes asked for at once by a client that reads nothing until all are asked, then slowly. */
TEST_F(Qe, LongRepliesReachASlowReaderWhole)
{
	ASSERT_NO_FATAL_FAILURE(h_.ready());
	const dice_quote::ReportData rd = report_data_of(0x31);
	const Report rep = h_.report_of(h_.make_td(0, 9), rd);
	char tmpl[] = "/tmp/seam-emu-qe.XXXXXX";
	ASSERT_NE(mkdtemp(tmpl), nullptr);
	const std::string path = std::string(tmpl) + "/ctl";
	ControlServer server(h_.emu, path);
	std::string err;
	ASSERT_TRUE(server.open(&err)) << err;
	server.start();

	const int fd = connect_unix(path);
	ASSERT_GE(fd, 0);
	/* More than the socket holds: ~8 KB per reply, 1.3 MB in all; a Unix socket takes a few hundred KB. */
	constexpr int kRequests = 160;
	const std::string line = "qe sign " + upper_hex(rep) + "\n";
	for (int i = 0; i < kRequests; i++)
		ASSERT_EQ(write(fd, line.data(), line.size()), ssize_t(line.size()));
	/* Wait until the server has produced every reply (its send buffer full, the rest queued). */
	for (int i = 0; i < 6000 && counters()["qe_signed"] != kRequests; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	ASSERT_EQ(counters()["qe_signed"], kRequests);

	std::string in;
	int lines = 0;
	while (lines < kRequests) {
		pollfd p{fd, POLLIN, 0};
		ASSERT_GT(poll(&p, 1, 10000), 0) << "after " << lines << " replies";
		char buf[997]; /* small, odd reads */
		const ssize_t n = read(fd, buf, sizeof(buf));
		ASSERT_GT(n, 0);
		in.append(buf, size_t(n));
		for (size_t nl; (nl = in.find('\n')) != std::string::npos; in.erase(0, nl + 1)) {
			const json j = json::parse(in.substr(0, nl));
			auto v = verified(j, rd);
			ASSERT_TRUE(v) << "reply " << lines << ": " << v.error().to_string();
			lines++;
		}
	}
	EXPECT_TRUE(in.empty());
	close(fd);
	server.stop();
	rmdir(tmpl);
}

} // namespace
} // namespace seam_emu::test
