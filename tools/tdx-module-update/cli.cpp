// SPDX-License-Identifier: GPL-2.0
// tdx-module-update's command line and its two commands (cli.h).
#include "cli.h"

#include <filesystem>
#include <ostream>

#include <CLI/CLI.hpp>

#include "select.h"
#include "upload.h"

namespace tdx_update {

namespace {

namespace fs = std::filesystem;
using module_image::version_string;

struct Options {
	std::string dir = ".";
	bool list = false;
	std::string update_version; /* empty: the newest candidate */
	bool dry_run = false;
	bool allow_debug = false;
	std::string sysfs_root;
	std::string cpu_fms;
	double timeout_s = 60;
	unsigned poll_ms = 100;
};

/* What both commands work from. */
struct Context {
	Sysfs sysfs;
	Running running;
	std::uint32_t cpuid_1_eax = 0;
	std::vector<PublishedImage> images;
	bool mapping_file = false;
};

/* The one summary line, and the exit status that goes with it. */
int finish(std::ostream &out, int code, const std::string &line)
{
	out << line << '\n';
	return code;
}

/* --cpu-fms, or this CPU's. */
Result<std::uint32_t> cpu_of(const Options &o)
{
	if (!o.cpu_fms.empty()) {
		const auto v = module_image::parse_hex(o.cpu_fms);
		if (!v || *v > UINT32_MAX)
			return Error{"usage", "--cpu-fms " + o.cpu_fms + ": not a 32-bit hex value such as 0x806f8"};
		return static_cast<std::uint32_t>(*v);
	}
	if (auto eax = host_cpuid_1_eax())
		return *eax;
	return Error{"io-error", "cannot read CPUID.1.EAX on this machine: give --cpu-fms"};
}

/* Everything the commands need, or why not ("usage" for a bad --cpu-fms). */
Result<Context> gather(const Options &o)
{
	Context c{Sysfs(o.sysfs_root), {}, 0, {}, false};
	auto cpu = cpu_of(o);
	if (!cpu)
		return cpu.error();
	c.cpuid_1_eax = cpu.value();
	auto running = read_running(c.sysfs);
	if (!running)
		return Error{"", "cannot read the running TDX module's version: " + running.error().message};
	c.running = std::move(running.value());
	auto images = module_image::index_published(o.dir);
	if (!images)
		return Error{"", "cannot read the images in " + o.dir + ": " + images.error().to_string()};
	c.images = std::move(images.value());
	std::error_code ec;
	c.mapping_file = fs::exists(fs::path(o.dir) / "mapping_file.json", ec);
	return c;
}

void print_running(const Context &c, std::ostream &out)
{
	out << "running: TDX module " << version_string(c.running.module) << ", P-SEAMLDR "
	    << (c.running.seamldr ? version_string(*c.running.seamldr) : "unknown (" + c.running.seamldr_unknown + ")")
	    << ", "
	    << (c.running.num_remaining_updates ? std::to_string(*c.running.num_remaining_updates) + " updates left"
						: "updates left unknown (" + c.running.updates_unknown + ")")
	    << "; CPU " << hex_string(c.cpuid_1_eax) << '\n';
}

std::string shown_path(const PublishedImage &img, const Options &o)
{
	const fs::path rel = fs::path(img.path).lexically_relative(o.dir);
	return rel.empty() ? img.path : rel.string();
}

int list(const Options &o, const Context &c, const Selector &sel, std::ostream &out)
{
	if (!c.mapping_file)
		out << "no mapping_file.json in " << o.dir << ": P-SEAMLDR and TD-preserving limits are not checked\n";
	if (c.images.empty())
		out << "no images in " << o.dir << '\n';
	const auto verdicts = sel.judge(c.images);
	for (auto v = verdicts.rbegin(); v != verdicts.rend(); ++v) { /* newest first */
		std::string verdict = v->refusal ? "no: " + *v->refusal : v->newest ? "candidate, newest" : "candidate";
		if (!v->refusal && module_image::sigstruct_is_debug(v->image->sigstruct))
			verdict += " (debug-signed)";
		out << "  " << version_string(version_of(*v->image)) << "  " << shown_path(*v->image, o) << "  "
		    << verdict << '\n';
	}
	return kExitOk;
}

/* The image --update means, or the refusal line. */
Result<const PublishedImage *> choose(const Options &o, const Context &c, const Selector &sel)
{
	if (o.update_version.empty()) {
		if (const PublishedImage *img = sel.newest(c.images))
			return img;
		return Error{"refused", "no image in " + o.dir + " can replace " + version_string(c.running.module) +
						" here (see --list)"};
	}
	return sel.named(c.images, *module_image::parse_version(o.update_version));
}

/* "firmware-invalid while transferring (see the kernel log)" from "transferring:firmware-invalid". */
std::string fw_error_text(const std::string &fw_error)
{
	const auto colon = fw_error.rfind(':');
	const std::string name = colon == std::string::npos ? fw_error : fw_error.substr(colon + 1);
	const std::string when = colon == std::string::npos ? "" : " while " + fw_error.substr(0, colon);
	return name + when + " (see the kernel log)";
}

/* The summary line after a successful upload: the module must now report the image's version. */
int summarize_updated(const Context &c, const ModuleVersion &to, std::ostream &out)
{
	const auto now = read_module_version(c.sysfs);
	if (!now)
		return finish(out, kExitFailed, "failed: the upload succeeded but " + now.error().message);
	if (now.value() != to)
		return finish(out, kExitFailed, "failed: the upload succeeded but the TDX module reports " +
							version_string(now.value()) + ", not " + version_string(to));
	return finish(out, kExitOk, "updated " + version_string(c.running.module) + " -> " + version_string(to));
}

/* The summary line after an upload that did not succeed, with what runs now. */
int summarize_failure(const UploadResult &r, const Context &c, std::ostream &out)
{
	if (r.in_flight) /* it may hold the version lock: reading version now could hang us too */
		return finish(out, kExitFailed, "failed: " + r.problem);
	const std::string what = r.fw_error.empty() ? r.problem : fw_error_text(r.fw_error);
	const auto now = read_module_version(c.sysfs);
	if (!now) /* past SHUTDOWN a failure leaves no module: worse than refused, whatever the error */
		return finish(out, kExitFailed,
			      "failed: " + what + "; the TDX module is gone (" + now.error().message + ")");
	const std::string state = "; TDX module " + version_string(now.value()) + " running";
	if (r.outcome == Outcome::refused)
		return finish(out, kExitRefused, "refused: " + what + state);
	if (r.outcome == Outcome::busy)
		return finish(out, kExitBusy, "busy: " + what + state + "; try again later");
	return finish(out, kExitFailed, "failed: " + what + state);
}

int update(const Options &o, const Context &c, const Selector &sel, Console console)
{
	std::ostream &out = console.out;
	auto chosen = choose(o, c, sel);
	if (!chosen)
		return finish(out, kExitRefused, "refused: " + chosen.error().message);
	const PublishedImage &img = *chosen.value();
	const ModuleVersion to = version_of(img);
	const std::string plan = version_string(c.running.module) + " -> " + version_string(to) + " with " + img.path;
	if (c.running.num_remaining_updates == 0u)
		return finish(out, kExitRefused, "refused: no updates left (num_remaining_updates is 0)");
	const auto fw = find_fw_upload(c.sysfs);
	if (!fw)
		return finish(out, kExitFailed, "failed: " + fw.error().message);
	if (o.dry_run)
		return finish(out, kExitOk, "dry run: would update " + plan + " through " + fw.value());

	auto blob = module_image::read_file(img.path);
	if (!blob)
		return finish(out, kExitFailed, "failed: " + blob.error().message);
	/* Indexed a moment ago; a file replaced since then is not what was selected. */
	if (auto layout = module_image::parse_blob(blob.value()); !layout)
		return finish(out, kExitFailed, "failed: " + img.path + " changed: " + layout.error().to_string());
	out << "updating " << plan << '\n';
	ProgressPrinter progress(out, console.tty);
	const UploadOptions opts{std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000)),
				 std::chrono::milliseconds(o.poll_ms)};
	const UploadResult r = upload_image(fw.value(), blob.value(), opts, progress);
	return r.outcome == Outcome::updated ? summarize_updated(c, to, out) : summarize_failure(r, c, out);
}

void add_options(CLI::App &app, Options &o)
{
	app.add_option("-d,--dir", o.dir, "Images: a checkout of Intel's module-binaries repository "
					  "(joined_files/ + mapping_file.json) or a flat directory of .blob files")
		->capture_default_str();
	auto *list = app.add_flag("--list", o.list, "List every image with why it is or is not a candidate");
	auto *update = app.add_option("--update", o.update_version,
				      "Update to the newest candidate, or to the named VERSION (x.y.zz)")
			       ->expected(0, 1)
			       ->type_name("[VERSION]");
	list->excludes(update);
	app.add_flag("--dry-run", o.dry_run, "Show what would be done; write nothing");
	app.add_flag("--allow-debug", o.allow_debug, "Debug-signed images may be candidates");
	app.add_option("--sysfs-root", o.sysfs_root, "Prefix of every sysfs path (another machine's data, tests)");
	app.add_option("--cpu-fms", o.cpu_fms, "CPUID.1.EAX to select for (default: this CPU's)")->type_name("0xHEX");
	app.add_option("--timeout", o.timeout_s, "Seconds to wait for the update's result")
		->check(CLI::PositiveNumber)
		->capture_default_str();
	app.add_option("--poll-ms", o.poll_ms, "Milliseconds between status reads")
		->check(CLI::Range(1u, 10000u))
		->capture_default_str();
}

} // namespace

int run(int argc, const char *const *argv, Console console)
{
	CLI::App app{"Select a TDX module image for this machine and install it through the kernel's "
		     "firmware upload (runtime TDX module update).",
		     "tdx-module-update"};
	Options o;
	add_options(app, o);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e, console.out, console.err) == 0 ? kExitOk : kExitUsage;
	}
	if (o.list == (app.count("--update") > 0))
		return finish(console.err, kExitUsage, "choose one of --list and --update (see --help)");
	if (!o.update_version.empty() && !module_image::parse_version(o.update_version))
		return finish(console.err, kExitUsage, "--update " + o.update_version + ": not a version x.y.zz");

	auto c = gather(o);
	if (!c && c.error().code == "usage")
		return finish(console.err, kExitUsage, c.error().message);
	if (!c)
		return finish(console.out, kExitFailed, "failed: " + c.error().message);
	const Selector sel(c.value().running, c.value().cpuid_1_eax, Rules{o.allow_debug, c.value().mapping_file});
	print_running(c.value(), console.out);
	return o.list ? list(o, c.value(), sel, console.out) : update(o, c.value(), sel, console);
}

} // namespace tdx_update
