// SPDX-License-Identifier: GPL-2.0
// tdx-quote-vmm: the VMM stand-in for the userspace GetQuote path (README.md).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "signals.h"
#include "vmm_loop.h"

int main(int argc, char **argv)
{
	using namespace quote_service;
	VmmConfig config;
	std::string device_path = "/dev/" KVM_TDX_QUOTE_DEVICE;
	CLI::App app{"tdx-quote-vmm: answers GetQuote exits from /dev/kvm_tdx_quote through a QGS"};
	app.add_option("--device", device_path, "the exits' character device")->capture_default_str();
	app.add_option("--qgs", config.qgs_path, "the QGS's Unix socket")->required();
	app.add_option("--qgs-timeout-ms", config.qgs_timeout_ms, "bound on one request's QGS exchange")
		->check(CLI::Range(1, 3600000))
		->capture_default_str();
	app.add_option("--once", config.once, "exit after N requests ended (0: run until SIGTERM)");
	app.add_flag("--test-probe-rules", config.probe_rules,
		     "TEST ONLY: before each DONE, try a MEM write over the status and a DONE with status "
		     "IN_FLIGHT, and print the kernel's answers (a probe line)");
	CLI11_PARSE(app, argc, argv);

	Fd stop = stop_signals_fd();
	if (!stop) {
		std::perror("tdx-quote-vmm: signalfd");
		return 1;
	}
	KvmTdxQuoteDevice device;
	std::string err;
	if (!device.open(device_path, &err)) {
		std::fprintf(stderr, "tdx-quote-vmm: %s\n", err.c_str());
		return 1;
	}
	std::fprintf(stderr, "tdx-quote-vmm: %s, QGS %s\n", device_path.c_str(), config.qgs_path.c_str());
	Vmm vmm(device, config, stdout);
	vmm.run(stop.get());
	std::fprintf(stderr, "tdx-quote-vmm: stopped after %llu requests\n",
		     static_cast<unsigned long long>(vmm.ended()));
	return 0;
}
