// SPDX-License-Identifier: GPL-2.0
// The whole seam-emu process behind main(): parse the command line, map, serve until SIGTERM.
#pragma once

namespace seam_emu {

int run_emulator(int argc, char **argv);

} // namespace seam_emu
