// SPDX-License-Identifier: GPL-2.0
// The upload protocol against a fake fw_upload directory whose kernel side a thread plays
// (fake_kernel.h): success, firmware-invalid, device-busy, a module lost past SHUTDOWN, a hung
// status (timeout), an upload already in flight, a failed data write (aborted), --dry-run, no
// updates left, no upload entry; each with its exit status and summary line. Then the progress
// printer and the error classification on their own.
#include <sstream>

#include <gtest/gtest.h>

#include "cli.h"
#include "fake_kernel.h"
#include "fixtures.h"
#include "upload.h"

namespace tdx_update::test {
namespace {

using Script = FakeKernel::Script;

class Upload : public ::testing::Test {
protected:
	void SetUp() override
	{
		write_intel_tree(images_.path(), {{"1.5.06"}, {"1.5.07"}});
		write_sysfs(root_.path());
	}

	ToolRun update(std::vector<std::string> extra = {})
	{
		std::vector<std::string> args{"--update",     "--dir",       images_.path().string(), "--sysfs-root",
					      root_.path().string(), "--cpu-fms", "0x806f8",       "--poll-ms",
					      "1"};
		args.insert(args.end(), extra.begin(), extra.end());
		return run_tool(args);
	}

	Bytes image_1_5_07() const
	{
		const fs::path image = images_.path() / "joined_files/1.5/tdx_module_1.5.07.blob";
		return module_image::read_file(image.string()).value();
	}
	fs::path fw() const { return root_.path() / kFwUpload; }
	std::string version_now() const
	{
		auto v = module_image::read_file((root_.path() / kTdxHost / "version").string());
		return v.ok() ? std::string(v.value().begin(), v.value().end()) : "unreadable";
	}

	TempDir images_, root_;
};

TEST_F(Upload, Success)
{
	FakeKernel kernel(root_.path(), Script::success, "1.5.07");
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
	EXPECT_EQ(last_line(r.out), "updated 1.5.06 -> 1.5.07");
	EXPECT_EQ(lines_starting(r.out, "updating 1.5.06 -> 1.5.07 with ").size(), 1u) << r.out;
	/* The fake answers one remaining_size read before it finishes: progress was shown. */
	const auto progress = lines_starting(r.out, "upload: ");
	ASSERT_FALSE(progress.empty()) << r.out;
	EXPECT_TRUE(progress[0].ends_with(" bytes left")) << progress[0];
	EXPECT_EQ(kernel.received(), image_1_5_07());
	EXPECT_EQ(kernel.loading_seen(), (std::vector<std::string>{"1", "0"}));
}

TEST_F(Upload, FirmwareInvalidIsRefused)
{
	FakeKernel kernel(root_.path(), Script::firmware_invalid);
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitRefused) << r.out;
	EXPECT_EQ(last_line(r.out),
		  "refused: firmware-invalid while transferring (see the kernel log); TDX module 1.5.06 running");
	EXPECT_EQ(version_now(), "1.5.06\n");
}

TEST_F(Upload, DeviceBusyIsBusy)
{
	FakeKernel kernel(root_.path(), Script::device_busy);
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitBusy) << r.out;
	EXPECT_EQ(last_line(r.out), "busy: device-busy while transferring (see the kernel log); TDX module 1.5.06 "
				    "running; try again later");
}

/* A failure past SHUTDOWN leaves no module: reported as failed, not refused. */
TEST_F(Upload, ModuleGoneIsFailed)
{
	FakeKernel kernel(root_.path(), Script::module_gone);
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitFailed) << r.out;
	EXPECT_TRUE(last_line(r.out).starts_with(
		"failed: firmware-invalid while programming (see the kernel log); the TDX module is gone ("))
		<< r.out;
}

TEST_F(Upload, HungStatusTimesOut)
{
	FakeKernel kernel(root_.path(), Script::hang);
	const ToolRun r = update({"--timeout", "0.2"});
	EXPECT_EQ(r.code, kExitFailed) << r.out;
	const std::string last = last_line(r.out);
	EXPECT_TRUE(last.starts_with("failed: no result within 0.200 s (status still ")) << last;
	EXPECT_TRUE(last.ends_with("); the update may still finish: see the kernel log")) << last;
}

/* A mismatch between what was sent and what runs afterwards is not a success. */
TEST_F(Upload, UnexpectedVersionAfterSuccessIsFailed)
{
	FakeKernel kernel(root_.path(), Script::success, "1.5.08");
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitFailed) << r.out;
	EXPECT_EQ(last_line(r.out), "failed: the upload succeeded but the TDX module reports 1.5.08, not 1.5.07");
}

/* A fake fw_upload directory without a kernel behind it. */
void idle_entry(const fs::path &fw, const std::string &status)
{
	write_file(fw / "status", status + "\n");
	write_file(fw / "loading", std::string());
	write_file(fw / "error", std::string());
	write_file(fw / "remaining_size", std::string("0\n"));
	write_file(fw / "data", std::string());
}

std::string text_of(const fs::path &p)
{
	auto b = module_image::read_file(p.string());
	return b.ok() ? std::string(b.value().begin(), b.value().end()) : "unreadable";
}

TEST_F(Upload, UploadInFlightIsBusyAndUntouched)
{
	idle_entry(fw(), "receiving");
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitBusy) << r.out;
	EXPECT_EQ(last_line(r.out),
		  "busy: another upload is in progress (status receiving); TDX module 1.5.06 running; try again later");
	EXPECT_EQ(text_of(fw() / "loading"), "");
}

/* A data write that fails aborts the upload (loading = -1). */
TEST_F(Upload, FailedDataWriteAborts)
{
	idle_entry(fw(), "idle");
	fs::remove(fw() / "data");
	fs::create_directories(fw() / "data"); /* open(O_WRONLY) fails with EISDIR */
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitFailed) << r.out;
	EXPECT_EQ(last_line(r.out),
		  "failed: " + (fw() / "data").string() + ": Is a directory; TDX module 1.5.06 running");
	EXPECT_EQ(text_of(fw() / "loading"), "-1");
}

TEST_F(Upload, DryRunTouchesNothing)
{
	idle_entry(fw(), "idle");
	const ToolRun r = update({"--dry-run"});
	EXPECT_EQ(r.code, kExitOk) << r.out;
	EXPECT_EQ(last_line(r.out), "dry run: would update 1.5.06 -> 1.5.07 with " +
					    (images_.path() / "joined_files/1.5/tdx_module_1.5.07.blob").string() +
					    " through " + fw().string());
	EXPECT_EQ(text_of(fw() / "loading"), "");
	EXPECT_EQ(text_of(fw() / "data"), "");
}

TEST_F(Upload, NoUpdatesLeftIsRefused)
{
	write_sysfs(root_.path(), Machine{"1.5.06", "1.5.00", "0"});
	idle_entry(fw(), "idle");
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitRefused) << r.out;
	EXPECT_EQ(last_line(r.out), "refused: no updates left (num_remaining_updates is 0)");
	EXPECT_EQ(text_of(fw() / "loading"), "");
}

TEST_F(Upload, NoUploadEntryIsFailed)
{
	const ToolRun r = update();
	EXPECT_EQ(r.code, kExitFailed) << r.out;
	EXPECT_EQ(last_line(r.out), "failed: no firmware-upload entry " + fw().string() +
					    ": runtime update is not offered here (or tdx_host is not loaded)");
}

TEST(Progress, OneLineOnATerminal)
{
	std::ostringstream out;
	ProgressPrinter p(out, true);
	p.show("receiving", "8192");
	p.show("receiving", "8192"); /* unchanged: not drawn again */
	p.show("programming", "0");
	p.done();
	EXPECT_EQ(out.str(), "\r\033[Kupload: receiving, 8192 bytes left\r\033[Kupload: programming, 0 bytes left\n");
}

TEST(Progress, PlainLinesOtherwise)
{
	std::ostringstream out;
	ProgressPrinter p(out, false);
	p.show("receiving", "8192");
	p.show("receiving", "8192");
	p.show("programming", "0");
	p.done();
	EXPECT_EQ(out.str(), "upload: receiving, 8192 bytes left\nupload: programming, 0 bytes left\n");
}

TEST(ClassifyFwError, EveryErrorName)
{
	EXPECT_EQ(classify_fw_error("transferring:firmware-invalid"), Outcome::refused);
	EXPECT_EQ(classify_fw_error("preparing:invalid-file-size"), Outcome::refused);
	EXPECT_EQ(classify_fw_error("transferring:device-busy"), Outcome::busy);
	for (const char *other : {"hw-error", "timeout", "user-abort", "read-write-error", "flash-wearout", "none"})
		EXPECT_EQ(classify_fw_error(std::string("programming:") + other), Outcome::failed) << other;
	EXPECT_EQ(classify_fw_error("firmware-invalid"), Outcome::refused);
}

} // namespace
} // namespace tdx_update::test
