// SPDX-License-Identifier: GPL-2.0
#include "run.h"

int main(int argc, char **argv) { return seam_emu::run_emulator(argc, argv); }
