// SPDX-License-Identifier: GPL-2.0
// tdx-qgs: the quote generation service (README.md).
#include <cstdio>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "qgs_server.h"
#include "signals.h"

int main(int argc, char **argv)
{
	using namespace quote_service;
	ServerConfig config;
	std::vector<std::string> faults;
	CLI::App app{"tdx-qgs: a QGS (GET_QUOTE_REQ over a Unix socket) whose quoting enclave is the emulator"};
	app.add_option("--socket", config.socket_path, "the Unix socket to listen on")->required();
	app.add_option("--emulator", config.emulator_path,
		       "the emulator's control channel: its Unix socket, or a tty reaching it")
		->required();
	app.add_option("--emulator-timeout-ms", config.emulator_timeout_ms,
		       "bound on one exchange with the emulator")
		->check(CLI::Range(1, 3600000))
		->capture_default_str();
	app.add_option("--test-fault", faults, "TEST ONLY: KIND:N, the Nth message gets a faulty reply "
					       "(malformed, garbage, drop, unsolicited)");
	CLI11_PARSE(app, argc, argv);
	for (const auto &text : faults) {
		std::string err;
		const auto f = parse_fault(text, &err);
		if (!f) {
			std::fprintf(stderr, "tdx-qgs: %s\n", err.c_str());
			return 1;
		}
		config.faults.push_back(*f);
	}

	Fd stop = stop_signals_fd();
	if (!stop) {
		std::perror("tdx-qgs: signalfd");
		return 1;
	}
	QgsServer server(config);
	std::string err;
	if (!server.open(&err)) {
		std::fprintf(stderr, "tdx-qgs: %s\n", err.c_str());
		return 1;
	}
	std::fprintf(stderr, "tdx-qgs: listening on %s, emulator %s%s\n", config.socket_path.c_str(),
		     config.emulator_path.c_str(), config.faults.empty() ? "" : " (TEST FAULTS ON)");
	server.run(stop.get());
	unlink(config.socket_path.c_str());
	std::fprintf(stderr, "tdx-qgs: stopped after %llu requests\n",
		     static_cast<unsigned long long>(server.messages()));
	return 0;
}
