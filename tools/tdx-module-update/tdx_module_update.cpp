// SPDX-License-Identifier: GPL-2.0
// tdx-module-update: choose a TDX module image for this machine and install it at runtime
// through the kernel's firmware upload (README.md).
#include <iostream>

#include <unistd.h>

#include "cli.h"

int main(int argc, char **argv)
{
	return tdx_update::run(argc, argv, tdx_update::Console{std::cout, std::cerr, isatty(STDOUT_FILENO) == 1});
}
