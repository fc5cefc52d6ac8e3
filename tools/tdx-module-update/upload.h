// SPDX-License-Identifier: GPL-2.0
// One image through the kernel's firmware-upload files (ABI.md §10, Documentation/ABI/testing/
// sysfs-class-firmware): write "1" to loading, the image to data, "0" to loading, then poll status
// until it is "idle" again (bounded), showing status and remaining_size, then read error
// ("<progress>:<error>", empty on success). Never prompts: it runs unattended in CI.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include "platform.h"

namespace tdx_update {

enum class Outcome {
	updated, /* error empty */
	refused, /* firmware-invalid, invalid-file-size: the image was refused */
	busy,    /* device-busy (a TD build in progress), or another upload in flight */
	failed,  /* any other error, an I/O error, or no result in time */
};

/* fw_upload's error name ("firmware-invalid"; also accepted as "<progress>:<error>") → outcome. */
Outcome classify_fw_error(std::string_view error);

struct UploadResult {
	Outcome outcome = Outcome::failed;
	std::string fw_error; /* the error attribute as read ("transferring:firmware-invalid"), or empty */
	std::string problem;  /* what went wrong on our side (I/O, timeout, upload in flight), or empty */
	bool in_flight = false; /* no result in time: the update may still be running */
};

struct UploadOptions {
	std::chrono::milliseconds timeout{60'000}; /* from loading=0 until status is idle again */
	std::chrono::milliseconds poll{100};
};

/* The upload's progress: one line rewritten in place on a terminal, one line per change otherwise
 * (logs stay short and readable). */
class ProgressPrinter {
public:
	ProgressPrinter(std::ostream &out, bool tty) : out_(out), tty_(tty) {}
	void show(const std::string &status, const std::string &remaining_size);
	/* Ends the rewritten line, if any, so that the summary starts on its own. */
	void done();

private:
	std::ostream &out_;
	bool tty_;
	std::string last_;
};

/* Upload `blob` through the firmware-upload directory `fw_dir` and wait for its result. */
UploadResult upload_image(const std::string &fw_dir, std::span<const std::uint8_t> blob, const UploadOptions &opts,
			  ProgressPrinter &progress);

} // namespace tdx_update
