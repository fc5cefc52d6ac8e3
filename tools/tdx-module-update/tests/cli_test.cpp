// SPDX-License-Identifier: GPL-2.0
// The command line: usage errors, --list (every image with its verdict, newest first), --update
// refusals, unreadable inputs; the program itself (exit statuses through a real process); and,
// when TDX_MODULE_BINARIES names a checkout of Intel's module-binaries repository,
// --list --dry-run and --update --dry-run over Intel's published images.
#include <sys/wait.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "cli.h"
#include "fixtures.h"

namespace tdx_update::test {
namespace {

class Cli : public ::testing::Test {
protected:
	void SetUp() override { write_sysfs(root_.path()); }

	/* `command`, then `extra` (so a version follows --update), then the test's machine. */
	ToolRun run(const std::string &command, std::vector<std::string> extra = {}) const
	{
		std::vector<std::string> args{command};
		args.insert(args.end(), extra.begin(), extra.end());
		for (const std::string &a : {std::string("--dir"), images_.path().string(), std::string("--sysfs-root"),
					     root_.path().string(), std::string("--cpu-fms"), std::string("0x806f8")})
			args.push_back(a);
		return run_tool(args);
	}

	TempDir images_, root_;
};

TEST_F(Cli, UsageErrors)
{
	const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
		{{}, "choose one of --list and --update (see --help)\n"},
		{{"--list", "--update"}, ""},
		{{"--update", "1.5"}, "--update 1.5: not a version x.y.zz\n"},
		{{"--list", "--cpu-fms", "806f8"}, "--cpu-fms 806f8: not a 32-bit hex value such as 0x806f8\n"},
		{{"--list", "--cpu-fms", "0x1806f8000"},
		 "--cpu-fms 0x1806f8000: not a 32-bit hex value such as 0x806f8\n"},
		{{"--list", "--timeout", "0"}, ""},
		{{"--bogus"}, ""},
	};
	for (const auto &[args, message] : cases) {
		const ToolRun r = run_tool(args);
		EXPECT_EQ(r.code, kExitUsage) << ::testing::PrintToString(args) << r.err;
		if (!message.empty()) {
			EXPECT_EQ(r.err, message);
		}
		EXPECT_EQ(r.out, "") << ::testing::PrintToString(args);
	}
	EXPECT_EQ(run_tool({"--help"}).code, kExitOk);
}

TEST_F(Cli, ListShowsEveryImageNewestFirst)
{
	write_intel_tree(images_.path(), {{"1.5.05"},
					  {"1.5.06"},
					  {"1.5.07", {0x806f8}, true},
					  {"1.5.08"},
					  {"1.5.09"},
					  {"2.0.02", {0xa06d0}, false, true, {"2.0.00"}, "2.0.02"}});
	const ToolRun r = run("--list");
	EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
	EXPECT_EQ(r.out, "running: TDX module 1.5.06, P-SEAMLDR 1.5.00, 3 updates left; CPU 0x806f8\n"
			 "  2.0.02  joined_files/2.0/tdx_module_2.0.02.blob  no: P-SEAMLDR 1.5.00 not supported (needs "
			 "2.0.00+ of the same major.minor)\n"
			 "  1.5.09  joined_files/1.5/tdx_module_1.5.09.blob  candidate, newest\n"
			 "  1.5.08  joined_files/1.5/tdx_module_1.5.08.blob  candidate\n"
			 "  1.5.07  joined_files/1.5/tdx_module_1.5.07.blob  no: debug-signed (allow with "
			 "--allow-debug)\n"
			 "  1.5.06  joined_files/1.5/tdx_module_1.5.06.blob  no: already running (name it with "
			 "--update to reinstall)\n"
			 "  1.5.05  joined_files/1.5/tdx_module_1.5.05.blob  no: older than the running 1.5.06\n");

	const ToolRun debug = run("--list", {"--allow-debug", "--dry-run"});
	EXPECT_EQ(debug.code, kExitOk);
	EXPECT_EQ(lines_starting(debug.out, "  1.5.07").at(0),
		  "  1.5.07  joined_files/1.5/tdx_module_1.5.07.blob  candidate (debug-signed)");
}

TEST_F(Cli, ListFlatDirectorySaysWhatIsNotChecked)
{
	write_flat_dir(images_.path(), {{"1.5.07"}});
	fs::remove(root_.path() / kTdxHost / "seamldr_version");
	const ToolRun r = run("--list");
	EXPECT_EQ(r.code, kExitOk) << r.out;
	EXPECT_EQ(lines_starting(r.out, "running: ").at(0),
		  "running: TDX module 1.5.06, P-SEAMLDR unknown (no P-SEAMLDR version attribute (looked for " +
			  root_.path().string() +
			  "/sys/devices/faux/tdx_host/seamldr_version and 2 older names)), 3 updates left; "
			  "CPU 0x806f8");
	EXPECT_EQ(lines_starting(r.out, "no mapping_file.json in ").size(), 1u) << r.out;
	EXPECT_EQ(last_line(r.out), "  1.5.07  tdx_module_1.5.07.blob  candidate, newest");
}

TEST_F(Cli, UpdateRefusals)
{
	write_intel_tree(images_.path(), {{"1.5.05"}, {"1.5.06"}, {"1.5.07", {0x806f8}, true}});
	ToolRun r = run("--update");
	EXPECT_EQ(r.code, kExitRefused);
	EXPECT_EQ(last_line(r.out), "refused: no image in " + images_.path().string() +
					    " can replace 1.5.06 here (see --list)");

	r = run("--update", {"1.5.07"});
	EXPECT_EQ(r.code, kExitRefused);
	const fs::path debug_image = images_.path() / "joined_files/1.5/tdx_module_1.5.07.blob";
	EXPECT_EQ(last_line(r.out), "refused: " + debug_image.string() + ": debug-signed (allow with --allow-debug)");

	r = run("--update", {"1.5.09"});
	EXPECT_EQ(r.code, kExitRefused);
	EXPECT_EQ(last_line(r.out), "refused: no image of version 1.5.09");

	/* Naming the running version reinstalls it; --dry-run stops before the upload entry is needed. */
	fs::create_directories(root_.path() / kFwUpload);
	r = run("--update", {"1.5.06", "--dry-run"});
	EXPECT_EQ(r.code, kExitOk) << r.out;
	EXPECT_TRUE(last_line(r.out).starts_with("dry run: would update 1.5.06 -> 1.5.06 with ")) << r.out;
}

TEST_F(Cli, UnreadableInputsFail)
{
	write_flat_dir(images_.path(), {{"1.5.07"}});
	fs::remove(root_.path() / kTdxHost / "version");
	ToolRun r = run("--list");
	EXPECT_EQ(r.code, kExitFailed);
	EXPECT_TRUE(last_line(r.out).starts_with("failed: cannot read the running TDX module's version: no TDX module "
						 "version attribute"))
		<< r.out;

	write_sysfs(root_.path());
	write_file(images_.path() / "broken.blob", std::string("not an image"));
	r = run("--list");
	EXPECT_EQ(r.code, kExitFailed);
	EXPECT_TRUE(last_line(r.out).starts_with("failed: cannot read the images in " + images_.path().string() + ": "))
		<< r.out;
}

/* The program, not just run(): its exit status reaches the shell. Output goes to `log`. */
int run_program(const std::string &args, const fs::path &log)
{
	const std::string cmd = std::string(TDX_MODULE_UPDATE) + " " + args + " >" + log.string() + " 2>&1 </dev/null";
	const int st = std::system(cmd.c_str());
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F(Cli, Program)
{
	write_intel_tree(images_.path(), {{"1.5.07"}});
	const std::string common =
		" --dir " + images_.path().string() + " --sysfs-root " + root_.path().string() + " --cpu-fms 0x806f8";
	const fs::path log = root_.path() / "log";
	EXPECT_EQ(run_program("--list" + common, log), kExitOk);
	auto printed = module_image::read_file(log.string());
	ASSERT_TRUE(printed.ok());
	EXPECT_EQ(std::string(printed.value().begin(), printed.value().end()), run("--list").out);
	EXPECT_EQ(run_program("--update 1.5.09" + common, log), kExitRefused);
	EXPECT_EQ(run_program("--update" + common, log), kExitFailed) << "no upload entry";
	EXPECT_EQ(run_program("--bogus", log), kExitUsage);
}

/* Intel's published images with a fake machine: 1.5.06 on a P-SEAMLDR 1.5.00, a CPU of family 6
 * model 0x8f (in every 1.5 image's table, in no 2.0 image's). */
TEST_F(Cli, IntelPublishedImages)
{
	const char *bins = std::getenv("TDX_MODULE_BINARIES");
	if (!bins || !*bins)
		GTEST_SKIP() << "TDX_MODULE_BINARIES does not name a checkout of Intel's module-binaries repository";
	fs::create_directories(root_.path() / kFwUpload);
	const std::vector<std::string> args{"--dir", bins, "--sysfs-root", root_.path().string(), "--cpu-fms",
					    "0x806f8", "--dry-run"};
	auto with = [&](std::vector<std::string> first) {
		first.insert(first.end(), args.begin(), args.end());
		return run_tool(first);
	};
	const ToolRun list = with({"--list"});
	ASSERT_EQ(list.code, kExitOk) << list.out << list.err;
	const auto images = lines_starting(list.out, "  ");
	EXPECT_GE(images.size(), 11u) << list.out; /* 7 of 1.5, 4 of 2.0 when this was written */
	for (const std::string &line : images) {
		const bool v2_0 = line.starts_with("  2.0.");
		if (v2_0) {
			EXPECT_NE(line.find("  no: P-SEAMLDR 1.5.00 not supported"), std::string::npos) << line;
		} else {
			const bool judged = line.find("  no: ") != std::string::npos ||
					    line.find("  candidate") != std::string::npos;
			EXPECT_TRUE(judged) << line;
		}
	}
	const auto newest = lines_starting(list.out, "  1.5.");
	ASSERT_FALSE(newest.empty());
	EXPECT_TRUE(newest[0].ends_with("  candidate, newest")) << newest[0];
	const std::string newest_version = newest[0].substr(2, newest[0].find(' ', 2) - 2);

	const ToolRun update = with({"--update"});
	EXPECT_EQ(update.code, kExitOk) << update.out;
	EXPECT_TRUE(last_line(update.out).starts_with("dry run: would update 1.5.06 -> " + newest_version + " with "))
		<< update.out;
	EXPECT_TRUE(fs::is_empty(root_.path() / kFwUpload)) << "a dry run wrote to the upload entry";
}

} // namespace
} // namespace tdx_update::test
