// SPDX-License-Identifier: GPL-2.0
// tdx-qgs: a quote generation service on a Unix stream socket speaking the QGS wire format; the
// emulator plays the quoting enclave. One poll loop serves every client; quotes are asked of
// the emulator one at a time (one channel).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator_channel.h"
#include "fdutil.h"
#include "qgs_codec.h"

namespace quote_service {

/* Test-only: the Nth message the service receives (from 1, over all connections) gets a faulty
 * reply. */
struct Fault {
	enum class Kind {
		kMalformed,   /* the real response with a size field one more than its length */
		kGarbage,     /* random bytes (never a valid header) behind a valid length prefix */
		kDrop,        /* the connection is closed without a reply */
		kUnsolicited, /* an extra GET_QUOTE_RESP (success, empty body) before the real one */
	};
	Kind kind;
	std::uint64_t nth;
};
/* "KIND:N", N >= 1. */
std::optional<Fault> parse_fault(std::string_view text, std::string *err);
const char *fault_name(Fault::Kind kind);

struct ServerConfig {
	std::string socket_path;
	std::string emulator_path;
	int emulator_timeout_ms = 20000;
	std::vector<Fault> faults;
};

class QgsServer {
public:
	explicit QgsServer(ServerConfig config);
	/* Listens on the socket (replacing a stale socket file). */
	bool open(std::string *err);
	/* Serves until stop_fd (-1: none) becomes readable. */
	void run(int stop_fd);
	/* Messages received so far. */
	std::uint64_t messages() const { return messages_; }

private:
	struct Client {
		Fd fd;
		std::uint64_t id = 0;
		Bytes in;
		Bytes out;
		bool eof = false;         /* the peer will send nothing more */
		bool close_after = false; /* close once out is flushed */
	};

	void accept_clients();
	void read_client(Client &c);
	void write_client(Client &c);
	void take_messages(Client &c);
	void handle_message(Client &c, BytesView message);
	/* The response to one message and the log line's outcome. */
	Bytes answer(BytesView message, bool want_quote, std::string *outcome);
	std::optional<Fault::Kind> fault_for(std::uint64_t n) const;

	ServerConfig config_;
	Fd listen_fd_;
	EmulatorChannel emulator_;
	std::map<int, Client> clients_;
	std::uint64_t next_client_ = 1;
	std::uint64_t messages_ = 0;
};

} // namespace quote_service
