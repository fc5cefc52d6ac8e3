// SPDX-License-Identifier: GPL-2.0
#include "emulator.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <tdx/abi/status.h>

namespace seam_emu {

namespace {

using json = nlohmann::ordered_json; /* "ok" first, as written */

struct LeafName {
	const char *name;
	u16 leaf;
};

constexpr LeafName kLeafNames[] = {
	{"mng.addcx", leaf::kMngAddcx},
	{"mng.key.config", leaf::kMngKeyConfig},
	{"mng.create", leaf::kMngCreate},
	{"mr.extend", leaf::kMrExtend},
	{"mr.finalize", leaf::kMrFinalize},
	{"mng.key.freeid", leaf::kMngKeyFreeid},
	{"mng.init", leaf::kMngInit},
	{"phymem.page.reclaim", leaf::kPhymemPageReclaim},
	{"key.config", leaf::kSysKeyConfig},
	{"sys.key.config", leaf::kSysKeyConfig},
	{"sys.init", leaf::kSysInit},
	{"sys.rd", leaf::kSysRd},
	{"lp.init", leaf::kSysLpInit},
	{"sys.lp.init", leaf::kSysLpInit},
	{"tdmr.init", leaf::kSysTdmrInit},
	{"sys.tdmr.init", leaf::kSysTdmrInit},
	{"sys.rdall", leaf::kSysRdAll},
	{"cache.wb", leaf::kPhymemCacheWb},
	{"phymem.cache.wb", leaf::kPhymemCacheWb},
	{"sys.config", leaf::kSysConfig},
	{"sys.shutdown", leaf::kSysShutdown},
	{"sys.update", leaf::kSysUpdate},
	{"ext.init", leaf::kExtInit},
	{"ext.mem.add", leaf::kExtMemAdd},
	{"sys.disable", leaf::kSysDisable},
	{"quote.get", leaf::kQuoteGet},
	{"quote.init", leaf::kQuoteInit},
};

std::string lower(std::string s)
{
	for (auto &c : s)
		c = char(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

bool parse_u64(const std::string &s, int base, u64 *out)
{
	if (s.empty() || s.size() > 24)
		return false;
	size_t i = 0;
	if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	if (i == s.size())
		return false;
	u64 v = 0;
	for (; i < s.size(); i++) {
		char c = char(std::tolower(static_cast<unsigned char>(s[i])));
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		if (v > (~0ull - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Invalid UTF-8 from a client (e.g. serial line noise) is replaced, never thrown on. */
std::string reply(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }
std::string ok() { return reply({{"ok", true}}); }
std::string error(const std::string &msg) { return reply({{"ok", false}, {"error", msg}}); }

std::string hex(u64 v)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return buf;
}

} // namespace

std::optional<u16> parse_leaf(const std::string &s)
{
	u64 n;
	if (parse_u64(s, 10, &n))
		return n < leaf::kMax ? std::optional<u16>(u16(n)) : std::nullopt;
	std::string l = lower(s);
	if (l.rfind("tdh.", 0) == 0)
		l = l.substr(4);
	for (const auto &e : kLeafNames)
		if (l == e.name)
			return e.leaf;
	return std::nullopt;
}

Emulator::Emulator(const Profile &p, const GuestMemory &mem) : module_(p, mem), die_([] { _exit(3); }) {}

u64 Emulator::counter(u16 leaf) const { return leaf < leaf::kMax ? counters_[leaf] : 0; }

void Emulator::write_call_log()
{
	std::vector<CallRecord> recs;
	{
		std::lock_guard<std::mutex> g(mu_);
		recs.swap(pending_log_);
	}
	for (const CallRecord &c : recs)
		std::fprintf(log_, "lp=%u rax=%s rcx=%s rdx=%s r8=%s -> %s%s ns=%" PRIu64 "\n", c.lp,
			     hex(c.rax).c_str(), hex(c.rcx).c_str(), hex(c.rdx).c_str(), hex(c.r8).c_str(),
			     hex(c.status).c_str(), c.forced ? " (injected)" : "", c.ns);
	if (!defer_log_ && log_)
		std::fflush(log_);
}

void Emulator::flush_log()
{
	if (log_)
		std::fflush(log_);
}

u64 Emulator::serve(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns)
{
	u64 st = serve_locked_parts(lp, rax, regs, service_ns);
	if (log_ && !defer_log_)
		write_call_log();
	return st;
}

u64 Emulator::serve_locked_parts(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns)
{
	const auto t0 = std::chrono::steady_clock::now();
	const bool counted = !(rax & kSeamldrLeafBit) && (rax & kLeafNumberMask) < leaf::kMax;
	const u16 leaf = u16(rax & kLeafNumberMask);
	std::optional<u64> forced;
	u64 delay_ms = 0;
	bool die = false;
	{
		std::lock_guard<std::mutex> g(mu_);
		if (counted) {
			counters_[leaf]++;
			for (auto &r : rules_) {
				if (r.leaf != leaf || --r.remaining != 0)
					continue;
				if (r.kind == FaultRule::Kind::kDie)
					die = true;
				else if (r.kind == FaultRule::Kind::kDelay)
					delay_ms += r.delay_ms;
				else
					forced = r.status;
			}
			std::erase_if(rules_, [](const FaultRule &r) { return r.remaining == 0; });
		}
	}
	if (die) {
		if (log_) {
			std::fprintf(log_, "lp=%u rax=%s die (fault rule)\n", lp, hex(rax).c_str());
			std::fflush(log_);
		}
		die_();
		/* Only a test's handler returns: answer as if the module had vanished. */
		forced = kTdxSeamcallVmFailInvalid;
	}
	if (delay_ms)
		std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));

	std::lock_guard<std::mutex> g(mu_);
	u64 st = forced ? *forced : module_.seamcall(lp, rax, regs);
	u64 ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
	calls_++;
	service_ns_total_ += ns;
	if (service_ns)
		*service_ns = ns;
	if (log_)
		pending_log_.push_back({lp, rax, regs.rcx, regs.rdx, regs.r8, st, ns, forced.has_value()});
	return st;
}

std::string Emulator::cmd_fault(const std::vector<std::string> &a)
{
	/* fault <leaf> <nth> status <hex64> | delay <ms> | die */
	if (a.size() < 4)
		return error("usage: fault <leaf> <nth> status <hex64> | delay <ms> | die");
	std::optional<u16> leaf = parse_leaf(a[1]);
	if (!leaf)
		return error("unknown leaf \"" + a[1] + "\"");
	u64 nth;
	if (!parse_u64(a[2], 10, &nth) || nth == 0)
		return error("nth must be a decimal number >= 1");
	FaultRule r{*leaf, nth, FaultRule::Kind::kStatus};
	const std::string kind = lower(a[3]);
	if (kind == "status") {
		if (a.size() != 5 || !parse_u64(a[4], 16, &r.status))
			return error("status needs one hex64 value");
	} else if (kind == "delay") {
		r.kind = FaultRule::Kind::kDelay;
		if (a.size() != 5 || !parse_u64(a[4], 10, &r.delay_ms) || r.delay_ms > 3600 * 1000)
			return error("delay needs milliseconds (decimal, at most 3600000)");
	} else if (kind == "die") {
		r.kind = FaultRule::Kind::kDie;
		if (a.size() != 4)
			return error("die takes no argument");
	} else {
		return error("fault kind must be status, delay or die");
	}
	std::lock_guard<std::mutex> g(mu_);
	rules_.push_back(r);
	return ok();
}

std::string Emulator::cmd_state()
{
	std::lock_guard<std::mutex> g(mu_);
	const Module &m = module_;
	json lp = json::array(), pkg = json::array();
	for (u32 i = 0; i < m.profile().lps; i++)
		lp.push_back(bool(m.lp_initialized(i)));
	for (u32 i = 0; i < m.profile().packages; i++)
		pkg.push_back(bool(m.pkg_key_configured(i)));
	json tdmrs = json::array();
	for (const auto &t : m.tdmrs())
		tdmrs.push_back({{"base", hex(t.desc.base)}, {"size", hex(t.desc.size)},
				 {"next_to_init", hex(t.next_to_init)}});
	return reply({{"ok", true},
		      {"state", sys_state_name(m.state())},
		      {"lp_init", lp},
		      {"pkg_key_config", pkg},
		      {"tdmrs", m.tdmrs().size()},
		      {"tdmrs_initialized", m.tdmrs_initialized()},
		      {"tdmr_list", tdmrs},
		      {"global_keyid", m.global_keyid()},
		      {"addons", hex(m.addons())},
		      {"disable_progress", m.disable_progress()}});
}

std::string Emulator::control(const std::string &line)
{
	std::vector<std::string> a;
	std::istringstream in(line);
	for (std::string w; in >> w;)
		a.push_back(w);
	if (a.empty())
		return error("empty command");
	const std::string cmd = lower(a[0]);
	if (cmd == "ping" && a.size() == 1)
		return ok();
	if (cmd == "fault")
		return cmd_fault(a);
	if (cmd == "clear" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		rules_.clear();
		return ok();
	}
	if (cmd == "faults" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		json rules = json::array();
		for (const auto &r : rules_) {
			json j{{"leaf", r.leaf}, {"remaining", r.remaining}};
			if (r.kind == FaultRule::Kind::kStatus)
				j["status"] = hex(r.status);
			else if (r.kind == FaultRule::Kind::kDelay)
				j["delay_ms"] = r.delay_ms;
			else
				j["die"] = true;
			rules.push_back(j);
		}
		return reply({{"ok", true}, {"faults", rules}});
	}
	if (cmd == "counters" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		json c = json::object();
		for (u16 i = 0; i < leaf::kMax; i++)
			if (counters_[i])
				c[std::to_string(i)] = counters_[i];
		return reply({{"ok", true}, {"counters", c}});
	}
	if (cmd == "reset-counters" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		counters_.fill(0);
		return ok();
	}
	if (cmd == "state" && a.size() == 1)
		return cmd_state();
	if (cmd == "stats" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		/* cpu_ns (this process, user + system) over wall_ns (monotonic) gives the CPU share. */
		rusage ru{};
		getrusage(RUSAGE_SELF, &ru);
		auto tv_ns = [](const timeval &tv) { return u64(tv.tv_sec) * 1000000000ull + u64(tv.tv_usec) * 1000ull; };
		u64 wall = u64(std::chrono::duration_cast<std::chrono::nanoseconds>(
				       std::chrono::steady_clock::now().time_since_epoch())
				       .count());
		return reply({{"ok", true},
			      {"calls", calls_},
			      {"service_ns_total", service_ns_total_},
			      {"cpu_ns", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime)},
			      {"wall_ns", wall}});
	}
	return error("unknown or malformed command: " + a[0]);
}

} // namespace seam_emu
