// SPDX-License-Identifier: GPL-2.0
#include "emulator.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <sstream>

#include <nlohmann/json.hpp>

#include <tdx/abi/leaves.h>
#include <tdx/emu/service.h>
#include <tdx/abi/status.h>
#include <tdx/abi/td.h>

namespace seam_emu {

namespace {

using json = nlohmann::ordered_json; /* "ok" first, as written */

/* Names older scenarios and docs use, beside the leaf table's short names. */
struct LeafAlias {
	const char *name;
	u16 leaf;
};
constexpr LeafAlias kLeafAliases[] = {
	{"key.config", leaf::kSysKeyConfig},
	{"lp.init", leaf::kSysLpInit},
	{"tdmr.init", leaf::kSysTdmrInit},
	{"cache.wb", leaf::kPhymemCacheWb},
};

/* The P-SEAMLDR's fault targets (emulator.h), by the names rules and counters use. */
constexpr LeafAlias kSeamldrTargets[] = {
	{"seamldr.info", fault_target::kSeamldrInfo},
	{"seamldr.install", fault_target::kSeamldrInstall},
	{"seamldr.load", fault_target::kSeamldrLoad},
};

/* The fault target a call is counted and faulted under, if any: its leaf, or a P-SEAMLDR leaf. */
std::optional<u16> call_target(u64 rax)
{
	if (rax == kSeamldrInfo)
		return fault_target::kSeamldrInfo;
	if (rax == kSeamldrInstall)
		return fault_target::kSeamldrInstall;
	/* Neither other P-SEAMLDR calls nor emulator-only service requests count as leaves. */
	if ((rax & (kSeamldrLeafBit | tdx::emu::kEmuServiceBit)) || (rax & kLeafNumberMask) >= leaf::kMax)
		return std::nullopt;
	return u16(rax & kLeafNumberMask);
}

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

/* A version as the kernel's sysfs prints it: "1.5.06". */
std::string version_text(u16 major, u16 minor, u16 update)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "%u.%u.%02u", major, minor, update);
	return buf;
}

std::string hex(u64 v)
{
	char buf[24];
	std::snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return buf;
}

/* Bytes as lower-case hex digits, two per byte. */
std::string hex_bytes(const u8 *p, size_t n)
{
	static constexpr char kDigits[] = "0123456789abcdef";
	std::string s(2 * n, '0');
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = kDigits[p[i] >> 4];
		s[2 * i + 1] = kDigits[p[i] & 15];
	}
	return s;
}

/* Hex digits (either case, two per byte, nothing else) into *out; false if `s` is not that. */
bool parse_hex_bytes(const std::string &s, std::vector<u8> *out)
{
	auto nibble = [](char c) {
		c = char(std::tolower(static_cast<unsigned char>(c)));
		return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
	};
	if (s.size() % 2)
		return false;
	out->resize(s.size() / 2);
	for (size_t i = 0; i < out->size(); i++) {
		const int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		(*out)[i] = u8(hi << 4 | lo);
	}
	return true;
}

/* One kv token: no whitespace, no control or non-ASCII bytes (serial noise stays readable). */
std::string kv_clean(const std::string &s, char space)
{
	std::string r;
	r.reserve(s.size());
	for (unsigned char c : s)
		r += c == ' ' || c == '\t' ? space : (c < 0x20 || c >= 0x7f) ? '?' : char(c);
	return r;
}

void kv_flatten(std::string &out, const std::string &key, const json &v)
{
	if (v.is_object()) {
		for (const auto &[k, x] : v.items())
			kv_flatten(out, key.empty() ? k : key + "." + k, x);
		return;
	}
	if (v.is_array()) {
		for (size_t i = 0; i < v.size(); i++)
			kv_flatten(out, key + "." + std::to_string(i), v[i]);
		return;
	}
	std::string val;
	if (v.is_boolean())
		val = v.get<bool>() ? "1" : "0";
	else if (v.is_string())
		val = kv_clean(v.get<std::string>(), '_');
	else if (v.is_null())
		return;
	else
		val = v.dump();
	out += " " + kv_clean(key, '_') + "=" + val;
}

} // namespace

/* A reply before it is written: the JSON object, and for kv the member whose entries go on top. */
struct Emulator::Reply {
	json body;
	std::string hoist;

	static Reply ok() { return {json{{"ok", true}}, {}}; }
	static Reply error(const std::string &msg) { return {json{{"ok", false}, {"error", msg}}, {}}; }

	std::string render(ControlFormat fmt) const
	{
		if (fmt == ControlFormat::kJson)
			/* Invalid UTF-8 from a client (e.g. serial line noise) is replaced, never thrown on. */
			return body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
		if (!body.value("ok", false))
			return "error " + kv_clean(body.value("error", std::string("failed")), ' ') + "\n";
		std::string out = "ok";
		for (const auto &[k, v] : body.items()) {
			if (k == "ok")
				continue;
			kv_flatten(out, k == hoist ? std::string() : k, v);
		}
		return out + "\n";
	}
};

std::optional<u16> parse_leaf(const std::string &s)
{
	u64 n;
	if (parse_u64(s, 10, &n))
		return n < leaf::kMax ? std::optional<u16>(u16(n)) : std::nullopt;
	std::string l = lower(s);
	if (l.rfind("tdh.", 0) == 0)
		l = l.substr(4);
	for (const LeafInfo &e : kLeaves)
		if (l == e.short_name)
			return e.number;
	for (const LeafAlias &a : kLeafAliases)
		if (l == a.name)
			return a.leaf;
	for (const LeafAlias &a : kSeamldrTargets)
		if (l == a.name)
			return a.leaf;
	return std::nullopt;
}

std::string leaf_short_name(u16 leaf)
{
	for (const LeafAlias &a : kSeamldrTargets)
		if (leaf == a.leaf)
			return a.name;
	const LeafInfo *l = find_leaf(leaf);
	return l ? l->short_name : std::to_string(leaf);
}

std::string Emulator::error_reply(const std::string &msg, ControlFormat fmt) { return Reply::error(msg).render(fmt); }

Emulator::Emulator(const Profile &p, const GuestMemory &mem) : module_(p, mem), die_([] { _exit(3); })
{
	module_.set_seamldr_load_fault([this](u32 lp) { return seamldr_load_fault(lp); });
}

u64 Emulator::counter(u16 leaf) const
{
	return leaf < fault_target::kCount ? counters_[leaf].load(std::memory_order_relaxed) : 0;
}

void Emulator::write_call_log()
{
	/* One writer at a time (the logger, a dying call, shutdown): batches go out in order. */
	std::lock_guard<std::mutex> w(log_write_mu_);
	std::vector<CallRecord> recs;
	{
		std::lock_guard<std::mutex> g(log_mu_);
		recs.swap(pending_log_);
		pending_log_count_.store(0, std::memory_order_relaxed);
	}
	if (!log_)
		return;
	for (const CallRecord &c : recs)
		std::fprintf(log_, "lp=%u rax=%s rcx=%s rdx=%s r8=%s -> %s%s ns=%" PRIu64 "\n", c.lp,
			     hex(c.rax).c_str(), hex(c.rcx).c_str(), hex(c.rdx).c_str(), hex(c.r8).c_str(),
			     hex(c.status).c_str(), c.forced ? " (injected)" : "", c.ns);
}

void Emulator::queue_call_log(const CallRecord &r)
{
	std::lock_guard<std::mutex> g(log_mu_);
	pending_log_.push_back(r);
	pending_log_count_.store(pending_log_.size(), std::memory_order_relaxed);
}

void Emulator::flush_log()
{
	if (log_)
		std::fflush(log_);
}

void Emulator::cancel_delays()
{
	{
		std::lock_guard<std::mutex> g(delay_mu_);
		delays_cancelled_ = true;
	}
	delay_cv_.notify_all();
}

void Emulator::hold_for(u64 ms)
{
	std::unique_lock<std::mutex> lk(delay_mu_);
	delay_cv_.wait_for(lk, std::chrono::milliseconds(ms), [this] { return delays_cancelled_; });
}

Emulator::Fired Emulator::fire_rules(u16 target, u32 lp)
{
	Fired f;
	counters_[target].fetch_add(1, std::memory_order_relaxed);
	if (!have_rules_.load(std::memory_order_acquire))
		return f;
	std::lock_guard<std::mutex> g(mu_);
	for (auto &r : rules_) {
		if (r.leaf != target || (r.lp && *r.lp != lp) || --r.remaining != 0)
			continue;
		if (r.kind == FaultRule::Kind::kDie)
			f.die = true;
		else if (r.kind == FaultRule::Kind::kDelay)
			f.delay_ms += r.delay_ms;
		else
			f.status = r.status;
	}
	std::erase_if(rules_, [](const FaultRule &r) { return r.remaining == 0; });
	have_rules_.store(!rules_.empty(), std::memory_order_release);
	return f;
}

u64 Emulator::die_now(u32 lp, u64 rax)
{
	if (log_) {
		write_call_log(); /* what was answered before, then the death */
		std::fprintf(log_, "lp=%u rax=%s die (fault rule)\n", lp, hex(rax).c_str());
		std::fflush(log_);
	}
	die_();
	/* Only a test's handler returns: answer as if the module had vanished. */
	return kTdxSeamcallVmFailInvalid;
}

/* Called by the model inside an install, under its mutex (never the other way round). */
std::optional<u64> Emulator::seamldr_load_fault(u32 lp)
{
	const Fired f = fire_rules(fault_target::kSeamldrLoad, lp);
	if (f.die)
		return die_now(lp, kSeamldrInstall);
	return f.status;
}

u64 Emulator::serve(u32 lp, u64 rax, RegBlock &regs, u64 *service_ns, CallRecord *later)
{
	const auto t0 = std::chrono::steady_clock::now();
	const std::optional<u16> target = call_target(rax);
	std::optional<u64> forced;
	u64 delay_ms = 0;
	if (target) {
		const Fired f = fire_rules(*target, lp);
		forced = f.status;
		delay_ms = f.delay_ms;
		if (f.die)
			forced = die_now(lp, rax);
	}
	/* A forced INSTALL answer never reached the P-SEAMLDR: the old module is intact (RDX 1). */
	if (forced && target == fault_target::kSeamldrInstall)
		regs.rdx = *forced == status::kSuccess ? 0 : kSeamldrRecoverable;

	/* A delay holds the call after the leaf did its work, with the module's locks still held. */
	std::function<void()> hold;
	if (delay_ms)
		hold = [this, delay_ms] { hold_for(delay_ms); };
	u64 st;
	if (forced) {
		if (hold)
			hold();
		st = *forced;
	} else {
		st = module_.seamcall(lp, rax, regs, hold);
	}
	const u64 ns = u64(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
				   .count());
	calls_.fetch_add(1, std::memory_order_relaxed);
	service_ns_total_.fetch_add(ns, std::memory_order_relaxed);
	if (service_ns)
		*service_ns = ns;
	if (log_) {
		const CallRecord rec{lp, rax, regs.rcx, regs.rdx, regs.r8, st, ns, forced.has_value()};
		if (later) {
			*later = rec;
		} else {
			queue_call_log(rec);
			write_call_log();
			flush_log();
		}
	}
	return st;
}

Emulator::Reply Emulator::cmd_fault(const std::vector<std::string> &a)
{
	/* fault <leaf> <nth> [lp <n>] status <hex64> | delay <ms> | die */
	static const char kUsage[] = "usage: fault <leaf> <nth> [lp <n>] status <hex64> | delay <ms> | die";
	if (a.size() < 4)
		return Reply::error(kUsage);
	std::optional<u16> leaf = parse_leaf(a[1]);
	if (!leaf)
		return Reply::error("unknown leaf \"" + a[1] + "\"");
	u64 nth;
	if (!parse_u64(a[2], 10, &nth) || nth == 0)
		return Reply::error("nth must be a decimal number >= 1");
	FaultRule r{*leaf, nth, FaultRule::Kind::kStatus, 0, 0, std::nullopt};
	std::vector<std::string> rest(a.begin() + 3, a.end()); /* the kind and its argument */
	if (lower(rest[0]) == "lp") {
		u64 lp;
		if (rest.size() < 3 || !parse_u64(rest[1], 10, &lp) || lp >= module_.platform().lps)
			return Reply::error("lp needs a logical processor number below " +
					    std::to_string(module_.platform().lps));
		r.lp = u32(lp);
		rest.erase(rest.begin(), rest.begin() + 2);
	}
	const std::string kind = lower(rest[0]);
	if (*leaf == fault_target::kSeamldrLoad && kind == "delay")
		return Reply::error("seamldr.load takes status or die (it is inside the model's lock)");
	if (kind == "status") {
		if (rest.size() != 2 || !parse_u64(rest[1], 16, &r.status))
			return Reply::error("status needs one hex64 value");
	} else if (kind == "delay") {
		r.kind = FaultRule::Kind::kDelay;
		if (rest.size() != 2 || !parse_u64(rest[1], 10, &r.delay_ms) || r.delay_ms > 3600 * 1000)
			return Reply::error("delay needs milliseconds (decimal, at most 3600000)");
	} else if (kind == "die") {
		r.kind = FaultRule::Kind::kDie;
		if (rest.size() != 1)
			return Reply::error("die takes no argument");
	} else {
		return Reply::error("fault kind must be status, delay or die");
	}
	std::lock_guard<std::mutex> g(mu_);
	rules_.push_back(r);
	have_rules_.store(true, std::memory_order_release);
	return Reply::ok();
}

Emulator::Reply Emulator::cmd_faults()
{
	std::lock_guard<std::mutex> g(mu_);
	json rules = json::array();
	for (const auto &r : rules_) {
		json j{{"leaf", leaf_short_name(r.leaf)}, {"remaining", r.remaining}};
		if (r.lp)
			j["lp"] = *r.lp;
		if (r.kind == FaultRule::Kind::kStatus)
			j["status"] = hex(r.status);
		else if (r.kind == FaultRule::Kind::kDelay)
			j["delay_ms"] = r.delay_ms;
		else
			j["die"] = true;
		rules.push_back(j);
	}
	return {json{{"ok", true}, {"faults", rules}}, {}};
}

Emulator::Reply Emulator::cmd_counters(const std::vector<std::string> &a)
{
	/* counters: every leaf called since start/reset; counters <leaf>: that one, 0 included. */
	json c = json::object();
	if (a.size() == 2) {
		std::optional<u16> leaf = parse_leaf(a[1]);
		if (!leaf)
			return Reply::error("unknown leaf \"" + a[1] + "\"");
		c[leaf_short_name(*leaf)] = counter(*leaf);
	} else {
		for (u16 i = 0; i < fault_target::kCount; i++)
			if (u64 n = counter(i))
				c[leaf_short_name(i)] = n;
	}
	return {json{{"ok", true}, {"counters", c}}, "counters"};
}

Emulator::Reply Emulator::cmd_leaves(const std::vector<std::string> &a)
{
	/* leaves: the leaf table, short name = number; leaves <leaf>: the one a name or alias means. */
	json l = json::object();
	if (a.size() == 2) {
		std::optional<u16> leaf = parse_leaf(a[1]);
		if (!leaf)
			return Reply::error("unknown leaf \"" + a[1] + "\"");
		if (*leaf >= leaf::kMax)
			return Reply::error(a[1] + " is a P-SEAMLDR fault target, not a leaf");
		l[leaf_short_name(*leaf)] = *leaf;
	} else {
		for (const LeafInfo &e : kLeaves)
			l[e.short_name] = e.number;
	}
	return {json{{"ok", true}, {"leaves", l}}, "leaves"};
}

Emulator::Reply Emulator::cmd_state()
{
	std::lock_guard<std::mutex> g(module_mutex());
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
	return {json{{"ok", true},
		     {"state", sys_state_name(m.state())},
		     {"lp_init", lp},
		     {"pkg_key_config", pkg},
		     {"tdmrs", m.tdmrs().size()},
		     {"tdmrs_initialized", m.tdmrs_initialized()},
		     {"tdmr_list", tdmrs},
		     {"global_keyid", m.global_keyid()},
		     {"addons", hex(m.addons())},
		     {"disable_progress", m.disable_progress()},
		     {"module_version", version_text(m.image().module.major, m.image().module.minor,
						     m.image().module.update)},
		     {"module_present", m.seamldr().module_present}},
		{}};
}

Emulator::Reply Emulator::cmd_ext(const std::vector<std::string> &a)
{
	/*
	 * ext: the extensions' state; ext check: first scan every pool page for host writes;
	 * ext pool I: the address of the I-th page added to the pool (tests poke it).
	 */
	if (a.size() == 3 && lower(a[1]) == "pool") {
		u64 i;
		if (!parse_u64(a[2], 10, &i))
			return Reply::error("usage: ext pool INDEX");
		std::lock_guard<std::mutex> g(module_mutex());
		const std::vector<u64> &pool = module_.ext().pool();
		if (i >= pool.size())
			return Reply::error("ext pool: the pool has " + std::to_string(pool.size()) + " pages");
		return {json{{"ok", true}, {"pool" + std::to_string(i), hex(pool[i])}}, {}};
	}
	const bool check = a.size() == 2;
	if (a.size() > 2 || (check && lower(a[1]) != "check"))
		return Reply::error("usage: ext [check | pool INDEX]");
	std::lock_guard<std::mutex> g(module_mutex());
	const u64 found = check ? module_.check_ext_integrity() : 0;
	const ExtState &e = module_.ext();
	const std::optional<u64> first = e.first_violation_pa();
	json j{{"reported", module_.ext_reported()},
	       {"configured", e.configured()},
	       {"required", e.required()},
	       {"required_pages", e.required_pages()},
	       {"pool_pages", e.pool().size()},
	       {"lists", e.lists()},
	       {"init_pages", e.init_next()},
	       {"ext_init_done", e.init_done()},
	       {"quote_enabled", e.quote_enabled()},
	       {"integrity_violations", e.integrity_violations()},
	       {"first_violation_pa", first ? hex(*first) : std::string("none")},
	       {"last_reject", ext_reject_name(e.last_reject())},
	       {"last_reject_value", hex(e.last_reject_pa())}};
	if (check)
		j["new_violations"] = found;
	return {json{{"ok", true}, {"ext", j}}, "ext"};
}

Emulator::Reply Emulator::cmd_stats()
{
	/* cpu_ns (this process, user + system) over wall_ns (monotonic) gives the CPU share. */
	rusage ru{};
	getrusage(RUSAGE_SELF, &ru);
	auto tv_ns = [](const timeval &tv) { return u64(tv.tv_sec) * 1000000000ull + u64(tv.tv_usec) * 1000ull; };
	u64 wall = u64(
		std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
			.count());
	return {json{{"ok", true},
		     {"calls", calls_.load()},
		     {"service_ns_total", service_ns_total_.load()},
		     {"cpu_ns", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime)},
		     {"wall_ns", wall},
		     {"wakeups", wakeups()}},
		{}};
}

std::string Emulator::control(const std::string &line, ControlFormat *fmt)
{
	std::vector<std::string> a;
	std::istringstream in(line);
	for (std::string w; in >> w;)
		a.push_back(w);
	if (a.empty())
		return Reply::error("empty command").render(*fmt);
	const std::string cmd = lower(a[0]);
	Reply r = Reply::error("unknown or malformed command: " + a[0]);
	if (cmd == "ping" && a.size() == 1) {
		r = Reply::ok();
	} else if (cmd == "format" && a.size() <= 2) {
		if (a.size() == 2) {
			const std::string f = lower(a[1]);
			if (f != "kv" && f != "json")
				return Reply::error("format is kv or json").render(*fmt);
			*fmt = f == "kv" ? ControlFormat::kKv : ControlFormat::kJson;
		}
		r = {json{{"ok", true}, {"format", *fmt == ControlFormat::kKv ? "kv" : "json"}}, {}};
	} else if (cmd == "fault") {
		r = cmd_fault(a);
	} else if (cmd == "clear" && a.size() == 1) {
		std::lock_guard<std::mutex> g(mu_);
		rules_.clear();
		have_rules_.store(false, std::memory_order_release);
		r = Reply::ok();
	} else if (cmd == "faults" && a.size() == 1) {
		r = cmd_faults();
	} else if (cmd == "counters" && a.size() <= 2) {
		r = cmd_counters(a);
	} else if (cmd == "reset-counters" && a.size() == 1) {
		for (auto &c : counters_)
			c.store(0, std::memory_order_relaxed);
		module_.reset_seamldr_counters();
		r = Reply::ok();
	} else if (cmd == "leaves" && a.size() <= 2) {
		r = cmd_leaves(a);
	} else if (cmd == "state" && a.size() == 1) {
		r = cmd_state();
	} else if (cmd == "ext" && a.size() <= 3) {
		r = cmd_ext(a);
	} else if (cmd == "image" && a.size() == 2) {
		r = cmd_image(a);
	} else if (cmd == "td") {
		r = cmd_td(a);
	} else if (cmd == "quote") {
		r = cmd_quote(a);
	} else if (cmd == "qe") {
		r = cmd_qe(a);
	} else if (cmd == "seamldr" && a.size() == 1) {
		r = cmd_seamldr();
	} else if (cmd == "stats" && a.size() == 1) {
		r = cmd_stats();
	}
	return r.render(*fmt);
}

/*
 * "image NAME": the module part of profile NAME.json (next to the profile the emulator started
 * with) becomes the image the next bring-up runs, as if the platform had loaded it (only while the
 * module is in SYSINIT_PENDING). Lets one boot try several images (pool sizes, features).
 */
Emulator::Reply Emulator::cmd_image(const std::vector<std::string> &a)
{
	const std::string &name = a[1];
	if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
				    std::string::npos || name[0] == '.')
		return Reply::error("image: bad profile name '" + name + "'");
	if (profile_dir_.empty())
		return Reply::error("image: the emulator was started without a profile directory");
	ProfileResult pr = load_profile(profile_dir_ + "/" + name + ".json");
	if (!pr.profile)
		return Reply::error("image: " + pr.error);
	std::string why;
	if (!module_.replace_image(pr.profile->image(), &why))
		return Reply::error("image: " + why);
	return {json{{"ok", true}, {"image", name}}, {}};
}

/* ---- td command (TD lifecycle) ---- */
Emulator::Reply Emulator::cmd_td(const std::vector<std::string> &a)
{
	/* td: every TD the module knows, by TDR, and the TDs created / reclaimed since start. */
	if (a.size() != 1)
		return Reply::error("usage: td");
	std::lock_guard<std::mutex> g(module_mutex());
	const TdTable &t = module_.tds();
	json tds = json::array();
	for (const auto &[tdr, td] : t.all())
		tds.push_back({{"tdr", hex(tdr)},
			       {"hkid", td.hkid},
			       {"lifecycle", td_lifecycle_name(td.lifecycle)},
			       {"op_state", td_op_state_name(td.op_state)},
			       {"tdcs_pages", td.tdcs_added},
			       {"mrtd", td.finalized() ? hex_bytes(td.mrtd.data(), td.mrtd.size()) : std::string("none")},
			       {"finalized", td.finalized()}});
	json j{{"created", t.created()}, {"reclaimed", t.reclaimed()}, {"tds", tds}};
	return {json{{"ok", true}, {"td", j}}, "td"};
}
/* ---- end td command ---- */

/* ---- quote command (quoting) ---- */
Emulator::Reply Emulator::cmd_quote(const std::vector<std::string> &a)
{
	/*
	 * quote: the quoting state; quote root [FILE]: the DICE root certificate (PEM), or into FILE;
	 * quote bench N: the last signed request's work done N times here (the benchmark's raw rate);
	 * quote pad N: N zero bytes after every quote signed from now on (0 turns it off);
	 * quote hold-signer on|off: QUOTE.GET's signatures wait while on (tests of the interrupt wait).
	 */
	const std::string usage = "usage: quote [root [FILE] | bench N | pad N | hold-signer on|off]";
	if (a.size() >= 2 && lower(a[1]) == "hold-signer") {
		if (a.size() != 3 || (lower(a[2]) != "on" && lower(a[2]) != "off"))
			return Reply::error("usage: quote hold-signer on|off");
		const bool on = lower(a[2]) == "on";
		module_.set_quote_signer_hold(on); /* the signer's own lock; never waits for a call */
		return {json{{"ok", true}, {"signer_held", on}}, {}};
	}
	if (a.size() >= 2 && lower(a[1]) == "pad") {
		u64 n = 0;
		if (a.size() != 3 || !parse_u64(a[2], 10, &n) || n > Module::kMaxQuotePad)
			return Reply::error("usage: quote pad N (0.." + std::to_string(Module::kMaxQuotePad) + ")");
		std::lock_guard<std::mutex> g(module_mutex());
		module_.set_quote_pad(u32(n));
		return {json{{"ok", true}, {"pad", n}}, {}};
	}
	if (a.size() >= 2 && lower(a[1]) == "bench") {
		u64 n = 0;
		if (a.size() != 3 || !parse_u64(a[2], 10, &n) || n == 0 || n > 100000)
			return Reply::error("usage: quote bench N (1..100000)");
		const Module::QuoteBench b = module_.quote_bench(u32(n)); /* takes the module's mutex itself */
		if (!b.error.empty())
			return Reply::error("quote bench: " + b.error);
		return {json{{"ok", true}, {"quotes", b.quotes}, {"ns", b.ns}, {"quote_bytes", b.quote_bytes}}, {}};
	}
	if (a.size() > 3 || (a.size() >= 2 && lower(a[1]) != "root"))
		return Reply::error(usage);
	std::lock_guard<std::mutex> g(module_mutex());
	if (a.size() >= 2) {
		const std::string pem = module_.quote_root_pem();
		if (pem.empty())
			return Reply::error("quote root: the DICE root certificate could not be made");
		if (a.size() == 2)
			return {json{{"ok", true}, {"root_pem", pem}}, {}};
		std::FILE *f = std::fopen(a[2].c_str(), "w");
		if (!f)
			return Reply::error("quote root: cannot open " + a[2] + " for writing");
		const bool written = std::fwrite(pem.data(), 1, pem.size(), f) == pem.size();
		if (std::fclose(f) != 0 || !written)
			return Reply::error("quote root: writing " + a[2] + " failed");
		return Reply::ok();
	}
	const Module::QuoteInfo q = module_.quote_info();
	const std::string l2 =
		q.layer2_measurement ? hex_bytes(q.layer2_measurement->data(), q.layer2_measurement->size()) : "none";
	json j{{"reported", q.reported},
	       {"initialized", q.initialized},
	       {"init_progress", q.init_progress},
	       {"inits_completed", q.inits_completed},
	       {"gets_completed", q.gets_completed},
	       {"get_in_progress", q.get_in_progress},
	       {"refused", q.refused},
	       {"last_refusal", q.last_refusal ? hex(*q.last_refusal) : std::string("none")},
	       {"last_quote_length", q.last_quote_length},
	       {"max_quote_size", q.reported ? module_.image().quote.max_quote_size : 0},
	       {"layer2_measurement", l2},
	       {"pad", q.pad},
	       {"gets_interrupted", q.gets_interrupted},
	       {"signer_held", q.signer_held},
	       {"signer_priority", q.signer_policy == SCHED_IDLE    ? "idle"
				   : q.signer_policy == SCHED_OTHER ? "normal"
				   : q.signer_policy < 0            ? "none"
								    : "other"}};
	{
		std::lock_guard<std::mutex> g(qe_mu_);
		j["qe_signed"] = qe_signed_;
		j["qe_refused"] = qe_refused_;
		j["qe_last_refusal"] = qe_last_refusal_;
	}
	return {json{{"ok", true}, {"quote", j}}, "quote"};
}
/* ---- end quote command ---- */

/* ---- qe command (the platform's quoting enclave) ---- */
/*
 * qe sign HEX: HEX is a TDREPORT (tdreport::kSize bytes, 2 hex digits each). Answers the quote
 * TDH.QUOTE.GET would make of it, in hex, or why not: "bad hex", "bad length", "report refused:
 * <why>" (Module::qe_sign). The QE of the userspace GetQuote path (the guest's quote service).
 */
Emulator::Reply Emulator::cmd_qe(const std::vector<std::string> &a)
{
	if (a.size() != 3 || lower(a[1]) != "sign")
		return Reply::error("usage: qe sign HEX (the " + std::to_string(tdreport::kSize) +
				    "-byte TDREPORT in hex)");
	std::vector<u8> report;
	Module::QeQuote q;
	if (!parse_hex_bytes(a[2], &report))
		q.error = "bad hex";
	else if (report.size() != tdreport::kSize)
		q.error = "bad length";
	else
		q = module_.qe_sign(report.data()); /* takes the module's mutex itself */
	{
		std::lock_guard<std::mutex> g(qe_mu_);
		if (q.error.empty())
			qe_signed_++;
		else
			qe_refused_++, qe_last_refusal_ = q.error;
	}
	if (!q.error.empty())
		return Reply::error(q.error);
	return {json{{"ok", true}, {"quote", hex_bytes(q.quote.data(), q.quote.size())}, {"quote_bytes", q.quote.size()}},
		{}};
}
/* ---- end qe command ---- */

/* ---- seamldr command (the P-SEAMLDR) ---- */
Emulator::Reply Emulator::cmd_seamldr()
{
	std::lock_guard<std::mutex> g(module_mutex());
	const Module &m = module_;
	const SeamldrState &s = m.seamldr();
	const Platform::Seamldr &p = m.platform().seamldr;
	const ModuleImage::Version &v = m.image().module;
	const std::string dir = m.module_binaries();
	json j{{"version", version_text(p.major, p.minor, p.update)},
	       {"debug", p.debug},
	       {"num_remaining_updates", s.remaining_updates},
	       {"session_lps", s.joined_count()},
	       {"lps", m.platform().lps},
	       {"inside", s.inside ? std::to_string(*s.inside) : std::string("none")},
	       {"info_calls", s.info_calls},
	       {"install_calls", s.install_calls},
	       {"installs_ok", s.installs_ok},
	       {"installs_failed", s.installs_failed},
	       {"last_error", s.last_failure ? hex(s.last_failure->status) : std::string("none")},
	       {"last_error_rdx", s.last_failure ? s.last_failure->rdx : 0},
	       {"last_error_reason", s.last_failure ? s.last_failure->why : std::string("none")},
	       {"module_present", s.module_present},
	       {"module_version", version_text(v.major, v.minor, v.update)},
	       {"module_svn", std::to_string(m.image().svn.major) + "." + std::to_string(m.image().svn.minor)},
	       {"update_pending", m.update_pending()},
	       {"handoff_valid", m.handoff_valid()},
	       {"module_binaries", dir.empty() ? std::string("none") : dir}};
	return {json{{"ok", true}, {"seamldr", j}}, "seamldr"};
}
/* ---- end seamldr command ---- */

} // namespace seam_emu
