// SPDX-License-Identifier: GPL-2.0
// The firmware-upload protocol (upload.h).
#include "upload.h"

#include <ostream>
#include <thread>

namespace tdx_update {

namespace {

using Clock = std::chrono::steady_clock;

UploadResult ours(Outcome outcome, std::string problem)
{
	return UploadResult{outcome, {}, std::move(problem)};
}

/* A write refused with EBUSY means another upload holds the entry. */
UploadResult write_failure(const Error &e)
{
	return ours(e.code == "busy" ? Outcome::busy : Outcome::failed, e.message);
}

/* loading = -1 drops what was written so far, so a failed upload leaves no half image behind. */
void abort_upload(const std::string &fw_dir)
{
	(void)write_attr(fw_dir + "/loading", "-1");
}

std::string seconds(std::chrono::milliseconds ms)
{
	const auto s = ms.count() / 1000, frac = ms.count() % 1000;
	return std::to_string(s) + (frac ? "." + std::to_string(frac + 1000).substr(1) : "") + " s";
}

/* Poll status until "idle", within the timeout. */
Status wait_idle(const std::string &fw_dir, const UploadOptions &opts, ProgressPrinter &progress)
{
	const auto deadline = Clock::now() + opts.timeout;
	for (;;) {
		auto status = read_attr(fw_dir + "/status");
		if (!status)
			return status.error();
		if (status.value() == "idle")
			return module_image::Ok{};
		auto remaining = read_attr(fw_dir + "/remaining_size");
		progress.show(status.value(), remaining ? remaining.value() : "?");
		if (Clock::now() >= deadline)
			return Error{"timeout", "no result within " + seconds(opts.timeout) + " (status still " +
							status.value() +
							"); the update may still finish: see the kernel log"};
		std::this_thread::sleep_for(opts.poll);
	}
}

} // namespace

Outcome classify_fw_error(std::string_view error)
{
	const auto colon = error.rfind(':');
	const std::string_view name = colon == std::string_view::npos ? error : error.substr(colon + 1);
	if (name == "firmware-invalid" || name == "invalid-file-size")
		return Outcome::refused;
	if (name == "device-busy")
		return Outcome::busy;
	return Outcome::failed;
}

void ProgressPrinter::show(const std::string &status, const std::string &remaining_size)
{
	const std::string line = "upload: " + status + ", " + remaining_size + " bytes left";
	if (line == last_)
		return;
	last_ = line;
	if (tty_)
		out_ << "\r\033[K" << line << std::flush; /* \033[K: clear what a longer line left */
	else
		out_ << line << '\n' << std::flush;
}

void ProgressPrinter::done()
{
	if (tty_ && !last_.empty())
		out_ << '\n';
	last_.clear();
}

UploadResult upload_image(const std::string &fw_dir, std::span<const std::uint8_t> blob, const UploadOptions &opts,
			  ProgressPrinter &progress)
{
	/* An upload in flight would take our loading=1 as its own; say so instead of mixing in. */
	auto status = read_attr(fw_dir + "/status");
	if (!status)
		return ours(Outcome::failed, status.error().message);
	if (status.value() != "idle")
		return ours(Outcome::busy, "another upload is in progress (status " + status.value() + ")");

	if (auto s = write_attr(fw_dir + "/loading", "1"); !s)
		return write_failure(s.error());
	if (auto s = write_bytes(fw_dir + "/data", blob); !s) {
		abort_upload(fw_dir);
		return write_failure(s.error());
	}
	if (auto s = write_attr(fw_dir + "/loading", "0"); !s) {
		abort_upload(fw_dir);
		return write_failure(s.error());
	}

	auto waited = wait_idle(fw_dir, opts, progress);
	progress.done();
	if (!waited) {
		UploadResult r = ours(Outcome::failed, waited.error().message);
		r.in_flight = waited.error().code == "timeout";
		return r;
	}
	/* error reads -EBUSY until the status is idle, and is stable from then on. */
	auto error = read_attr(fw_dir + "/error");
	if (!error)
		return ours(Outcome::failed, error.error().message);
	if (error.value().empty())
		return UploadResult{Outcome::updated, {}, {}};
	return UploadResult{classify_fw_error(error.value()), error.value(), {}};
}

} // namespace tdx_update
