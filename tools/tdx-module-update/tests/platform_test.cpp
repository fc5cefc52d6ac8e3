// SPDX-License-Identifier: GPL-2.0
// The sysfs readers over a fake --sysfs-root: the upstream paths, the pre-merge paths Intel's tool
// uses (and its first release's), the upstream ones preferred, missing and malformed attributes;
// the firmware-upload directory; attribute writes.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "platform.h"

namespace tdx_update::test {
namespace {

using module_image::version_string;

class SysfsReaders : public ::testing::Test {
protected:
	void put(const std::string &rel, const std::string &text) { write_file(root() / rel, text + "\n"); }
	fs::path root() const { return dir_.path(); }
	Sysfs sysfs() const { return Sysfs(root().string()); }
	TempDir dir_;
};

TEST_F(SysfsReaders, UpstreamPaths)
{
	write_sysfs(root(), Machine{"1.5.06", "1.5.00", "7"});
	auto r = read_running(sysfs());
	ASSERT_TRUE(r.ok()) << r.error().to_string();
	EXPECT_EQ(version_string(r.value().module), "1.5.06");
	ASSERT_TRUE(r.value().seamldr);
	EXPECT_EQ(version_string(*r.value().seamldr), "1.5.00");
	EXPECT_EQ(r.value().num_remaining_updates, 7u);
}

/* The series Intel's version_select_and_load.py was written against: tdx_host/seamldr/. */
TEST_F(SysfsReaders, PreMergePaths)
{
	put("sys/devices/faux/tdx_host/version", "1.5.13");
	put("sys/devices/faux/tdx_host/seamldr/version", "2.0.01");
	put("sys/devices/faux/tdx_host/seamldr/num_remaining_updates", "2");
	auto r = read_running(sysfs());
	ASSERT_TRUE(r.ok()) << r.error().to_string();
	EXPECT_EQ(version_string(r.value().module), "1.5.13");
	EXPECT_EQ(version_string(r.value().seamldr.value()), "2.0.01");
	EXPECT_EQ(r.value().num_remaining_updates, 2u);
}

/* The tool's first release read /sys/devices/virtual/tdx/; it had no update counter. */
TEST_F(SysfsReaders, FirstReleasePaths)
{
	put("sys/devices/virtual/tdx/tdx_tsm/version", "1.5.01");
	put("sys/devices/virtual/tdx/seamldr/version", "1.5.00");
	auto r = read_running(sysfs());
	ASSERT_TRUE(r.ok()) << r.error().to_string();
	EXPECT_EQ(version_string(r.value().module), "1.5.01");
	EXPECT_EQ(version_string(r.value().seamldr.value()), "1.5.00");
	EXPECT_FALSE(r.value().num_remaining_updates);
	EXPECT_NE(r.value().updates_unknown.find("num_remaining_updates"), std::string::npos);
}

TEST_F(SysfsReaders, UpstreamPreferred)
{
	write_sysfs(root(), Machine{"1.5.06", "1.5.02", "5"});
	put("sys/devices/faux/tdx_host/seamldr/version", "9.9.99");
	put("sys/devices/faux/tdx_host/seamldr/num_remaining_updates", "99");
	auto r = read_running(sysfs());
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(version_string(r.value().seamldr.value()), "1.5.02");
	EXPECT_EQ(r.value().num_remaining_updates, 5u);
}

TEST_F(SysfsReaders, NoModuleVersionIsAnError)
{
	auto r = read_running(sysfs());
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find(root().string() + "/sys/devices/faux/tdx_host/version"), std::string::npos)
		<< r.error().message;
}

/* The P-SEAMLDR attributes are optional (0400, present only while update is offered). */
TEST_F(SysfsReaders, SeamldrAttributesOptional)
{
	put("sys/devices/faux/tdx_host/version", "1.5.06");
	auto r = read_running(sysfs());
	ASSERT_TRUE(r.ok());
	EXPECT_FALSE(r.value().seamldr);
	EXPECT_NE(r.value().seamldr_unknown.find("seamldr_version"), std::string::npos) << r.value().seamldr_unknown;
	EXPECT_FALSE(r.value().num_remaining_updates);
}

TEST_F(SysfsReaders, MalformedAttributes)
{
	write_sysfs(root(), Machine{"1.5", "1.5.00.1", "three"});
	auto r = read_running(sysfs());
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code, "bad-format");
	EXPECT_EQ(r.error().message, "version reads \"1.5\", not major.minor.update");

	write_sysfs(root(), Machine{"1.5.06", "1.5.00.1", "three"});
	r = read_running(sysfs());
	ASSERT_TRUE(r.ok());
	EXPECT_FALSE(r.value().seamldr);
	EXPECT_EQ(r.value().seamldr_unknown, "seamldr_version reads \"1.5.00.1\", not major.minor.update");
	EXPECT_EQ(r.value().updates_unknown, "num_remaining_updates reads \"three\", not a number");
}

/* An attribute that cannot be read names its path and the reason. */
TEST_F(SysfsReaders, UnreadableAttribute)
{
	fs::create_directories(root() / "sys/devices/faux/tdx_host/version");
	auto r = read_running(sysfs());
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().code, "io-error");
	EXPECT_NE(r.error().message.find("tdx_host/version: Is a directory"), std::string::npos) << r.error().message;
}

TEST_F(SysfsReaders, FirmwareUploadEntry)
{
	EXPECT_EQ(find_fw_upload(sysfs()).error().code, "no-entry");
	fs::create_directories(root() / "sys/class/firmware/seamldr_upload");
	EXPECT_EQ(find_fw_upload(sysfs()).value(), (root() / "sys/class/firmware/seamldr_upload").string());
	fs::create_directories(root() / kFwUpload);
	EXPECT_EQ(find_fw_upload(sysfs()).value(), (root() / kFwUpload).string());
}

TEST_F(SysfsReaders, WritesNeverCreateAttributes)
{
	const fs::path missing = root() / "loading";
	auto s = write_attr(missing.string(), "1");
	ASSERT_FALSE(s.ok());
	EXPECT_EQ(s.error().message, missing.string() + ": No such file or directory");
	EXPECT_FALSE(fs::exists(missing));

	write_file(missing, std::string("0\n"));
	const Bytes big(3 * 4096 + 5, 0xA5);
	ASSERT_TRUE(write_bytes(missing.string(), big).ok());
	auto back = module_image::read_file(missing.string());
	ASSERT_TRUE(back.ok());
	EXPECT_EQ(back.value(), big);
}

TEST(Cpu, ReadsCpuid)
{
	const auto eax = host_cpuid_1_eax();
	ASSERT_TRUE(eax);
	EXPECT_NE(*eax & 0xF00u, 0u) << "family 0"; /* every x86 CPU reports a family */
}

} // namespace
} // namespace tdx_update::test
