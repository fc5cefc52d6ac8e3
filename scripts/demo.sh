#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boots the Debian 6.12 kernel under QEMU beside seam-emu and shows each flow.
set -euo pipefail
cd "$(dirname "$0")/.."
exec qemu-harness/run.sh --kernel distro --module "$PWD/build/kmod/distro/tdx_host.ko" --scenario demo "$@"
