# SPDX-License-Identifier: GPL-2.0
# tdx-host: the two front doors are `make demo` and `make check` (see README.md).

SHELL := /bin/bash

# The Debian 6.12 distro kernel the module is built for: by default the one whose headers
# scripts/install-deps.sh selected and installed (worked out when the recipe runs, so that a
# fresh machine gets its packages first); KDIR=... builds against another tree.
KDIR ?=
TDX_CACHE ?= $(HOME)/.cache/tdx-host
BUILD ?= $(CURDIR)/build
JOBS ?= $(shell nproc)

export TDX_CACHE

# Host C++ builds go through ccache (installed by scripts/install-deps.sh), its cache outside the
# checkout: a fresh clone rebuilds the libraries, tools and tests from it. CCACHE=0 turns it off.
export CCACHE_DIR ?= $(TDX_CACHE)/ccache
# Paths under the checkout count as relative, so clones in other directories share the cache.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1
CCACHE ?= 1
CMAKE_LAUNCHER = $(if $(filter 1,$(CCACHE)),$(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache))

.PHONY: all deps debug-kernel module-debug kunit module module-test check-ko host-tests core-tests emu emu-tests quote-tools quote-tests e2e check demo bench clean

all: module emu

deps:
	@scripts/install-deps.sh >/dev/null

# The kernel module, out of tree, for Debian's distro kernel: build/kmod/distro/tdx_host.ko.
# The build log is kept for check-ko's objtool/warning check.
module:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir="/usr/src/linux-headers-$$(scripts/install-deps.sh)"; \
		BUILD=$(BUILD) scripts/build-module.sh distro "$$kdir" >/dev/null

# The test build for the distro kernel (build/kmod/distro-test/): tdx_host.ko with the test hooks
# and the TD harness tdx_td_harness.ko, for the TD and quote scenarios. Never what users install.
module-test:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir="/usr/src/linux-headers-$$(scripts/install-deps.sh)"; \
		BUILD=$(BUILD) scripts/build-module.sh distro-test "$$kdir" >/dev/null

check-ko: module
	scripts/check-ko.sh $(BUILD)/kmod/distro/tdx_host.ko $(BUILD)/kmod/distro/build.log
	scripts/check-ko.sh $(BUILD)/kmod/distro/kvm_tdx_quote.ko

# The debug kernel (KUnit, KASAN, lockdep, kmemleak), built once and cached by version + config.
debug-kernel: deps
	@qemu-harness/debug-kernel/build.sh >/dev/null

# tdx_host.ko for the debug kernel (build/kmod/debug/, as users build it), and the test build
# with the KUnit hooks, the TD and GetQuote harnesses and the KUnit modules tdx_host_kunit.ko and
# kvm_tdx_quote_kunit.ko (build/kmod/debug-test/).
module-debug: debug-kernel
	@BUILD=$(BUILD) scripts/build-module.sh debug "$$(qemu-harness/debug-kernel/build.sh)/build" >/dev/null
	@BUILD=$(BUILD) scripts/build-module.sh debug-test "$$(qemu-harness/debug-kernel/build.sh)/build" >/dev/null

# KUnit suites on the debug kernel, results parsed by the kernel's kunit.py.
kunit: module-debug emu
	scripts/kunit.sh

core-tests: deps
	cmake -S arch-x86-virt-tdx/tests -B $(BUILD)/core-tests -DCMAKE_BUILD_TYPE=Debug $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/core-tests -j$(JOBS)
	ctest --test-dir $(BUILD)/core-tests --output-on-failure -j$(JOBS)

emu: deps
	cmake -S qemu-harness/seam-emu -B $(BUILD)/seam-emu -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/seam-emu -j$(JOBS)

emu-tests: emu
	ctest --test-dir $(BUILD)/seam-emu --output-on-failure -j$(JOBS)

host-tests: core-tests emu-tests quote-tests image-tests update-tests

# The DICE quote library (lib/dice-quote), tdx-quote-verify and dice-quote-make in one build;
# quote-tests runs the library's GoogleTests and the CLI + independent-verifier test.
quote-tools: deps
	cmake -S tools/tdx-quote-verify -B $(BUILD)/dice-quote -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/dice-quote -j$(JOBS)

quote-tests: quote-tools
	ctest --test-dir $(BUILD)/dice-quote --output-on-failure -j$(JOBS)

# The module-image library (lib/module-image) and tdx-mkimage in one build; image-tests runs the
# library's GoogleTests and tdx-mkimage's (over Intel's published blobs too when
# TDX_MODULE_BINARIES names a checkout of Intel's module-binaries repository).
.PHONY: image-tools image-tests
image-tools: deps
	cmake -S tools/tdx-mkimage -B $(BUILD)/module-image -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/module-image -j$(JOBS)

image-tests: image-tools
	ctest --test-dir $(BUILD)/module-image --output-on-failure -j$(JOBS)

# tdx-module-update (tools/tdx-module-update) and its GoogleTests; update-tests also runs it over
# Intel's published images when TDX_MODULE_BINARIES names a checkout of Intel's repository.
.PHONY: update-tool update-tests
update-tool: deps
	cmake -S tools/tdx-module-update -B $(BUILD)/module-update -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/module-update -j$(JOBS)

update-tests: update-tool
	ctest --test-dir $(BUILD)/module-update --output-on-failure -j$(JOBS)

# The userspace GetQuote path's service side (tools/tdx-quote-service): tdx-qgs, tdx-quote-vmm and
# their GoogleTests.
.PHONY: qgs-tools qgs-tests
qgs-tools: deps
	cmake -S tools/tdx-quote-service -B $(BUILD)/quote-service -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_LAUNCHER) >/dev/null
	cmake --build $(BUILD)/quote-service -j$(JOBS)

qgs-tests: qgs-tools
	ctest --test-dir $(BUILD)/quote-service --output-on-failure -j$(JOBS)

# End to end under QEMU with the emulator (see scripts/check.sh for the list).
e2e: module module-test module-debug emu quote-tools image-tools update-tool qgs-tools
	scripts/check.sh e2e

check:
	scripts/check.sh all

demo: module module-test emu quote-tools image-tools update-tool qgs-tools
	scripts/demo.sh

bench: module module-test emu image-tools quote-tools qgs-tools
	scripts/bench.sh

clean:
	rm -rf $(BUILD)
