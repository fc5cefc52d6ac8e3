// SPDX-License-Identifier: GPL-2.0
// The kernel's side of the firmware upload, played by a thread over a fake
// <root>/sys/class/firmware/tdx_module/ so the tool's protocol can be tested without a kernel.
//
// The real kernel answers synchronously (status leaves "idle" the moment loading=0 is written);
// files cannot, so the fake orders itself with two FIFOs instead of timing:
//  - `data` is a FIFO with a one-page buffer. The fake sets status to "receiving" after its first
//    read, and an image of three pages or more cannot be written completely before the fake's
//    second read, so status is non-idle before the tool's first poll.
//  - `remaining_size` is a FIFO the fake answers. It answers one read before it moves to the final
//    state, so the tool has shown progress at least once whatever the scheduling.
// status, error, loading and the module's version are plain files (status replaced atomically).
#pragma once

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <module-image/module_image.h>

namespace tdx_update::test {

class FakeKernel {
public:
	enum class Script {
		success,          /* error empty, version becomes new_version */
		firmware_invalid, /* "transferring:firmware-invalid", the old module still runs */
		device_busy,      /* "transferring:device-busy" */
		module_gone,      /* "programming:firmware-invalid" and version unreadable */
		hang,             /* status stays "programming" */
	};

	/* Creates the fw_upload files under `root` (the --sysfs-root) and starts the thread. */
	FakeKernel(const std::filesystem::path &root, Script script, std::string new_version = {});
	~FakeKernel();
	FakeKernel(const FakeKernel &) = delete;
	FakeKernel &operator=(const FakeKernel &) = delete;

	/* After the tool has returned: what the fake saw. */
	module_image::Bytes received() const;
	/* The values of loading when data started and when the upload was committed ("1", "0"). */
	std::vector<std::string> loading_seen() const;

private:
	void serve();
	bool receive_data();
	bool wait_loading_0();
	void finish();
	bool answer_remaining_size(bool once);
	bool wait_read(int fd) const;
	void set(const char *name, const std::string &text);
	std::string loading() const;

	std::filesystem::path dir_, version_file_;
	Script script_;
	std::string new_version_;
	int data_fd_ = -1;
	std::atomic<std::size_t> remaining_{0};
	std::atomic<bool> stop_{false};
	mutable std::mutex lock_;
	module_image::Bytes received_;
	std::vector<std::string> loading_seen_;
	std::thread thread_;
};

} // namespace tdx_update::test
