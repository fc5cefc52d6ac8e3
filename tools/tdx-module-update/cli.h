// SPDX-License-Identifier: GPL-2.0
// tdx-module-update's command line (README.md): --list, --update [VERSION], --dry-run,
// --allow-debug, --dir, --sysfs-root, --cpu-fms, --timeout. A function of its arguments and
// streams so the tests run it in-process, under the sanitizers.
#pragma once

#include <iosfwd>

namespace tdx_update {

/* Exit statuses: scripts tell the outcomes apart by these alone. */
enum Exit : int {
	kExitOk = 0,      /* updated, listed, or a dry run that would go ahead */
	kExitUsage = 1,   /* bad command line */
	kExitRefused = 2, /* no candidate, a named image refused, firmware-invalid, invalid-file-size,
			     no updates left; the running module is unchanged */
	kExitBusy = 3,    /* device-busy or an upload already in flight: try again later */
	kExitFailed = 4,  /* anything else: I/O errors, no result in time, the module gone */
};

struct Console {
	std::ostream &out; /* listing, progress, the summary line */
	std::ostream &err; /* usage errors */
	bool tty = false;  /* out is a terminal: progress rewrites one line */
};

int run(int argc, const char *const *argv, Console console);

} // namespace tdx_update
