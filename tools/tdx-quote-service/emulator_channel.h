// SPDX-License-Identifier: GPL-2.0
// The emulator's control channel as the quoting enclave: `qe sign <TDREPORT hex>` and its JSON
// reply, over the emulator's control socket or a tty that reaches it (a guest serial port).
// One channel, one request at a time; a channel that fails is reopened once per request.
#pragma once

#include <cstdint>
#include <string>

#include "fdutil.h"
#include "qgs_codec.h"

namespace quote_service {

class EmulatorChannel {
public:
	/* Longest reply line accepted (a quote in hex and its JSON). */
	static constexpr std::size_t kMaxReplyLine = 2 * kMaxResponse + 4096;

	EmulatorChannel(std::string path, int timeout_ms) : path_(std::move(path)), timeout_ms_(timeout_ms) {}

	enum class Outcome {
		kQuote,   /* quote holds the emulator's quote */
		kRefused, /* the emulator answered {"ok":false}: error says why */
		kDown,    /* no channel, or it broke twice (open, write, read, an unreadable reply) */
	};
	struct Result {
		Outcome outcome;
		Bytes quote;
		std::string error;
	};
	Result sign(BytesView report);

	bool is_open() const { return static_cast<bool>(fd_); }
	void close();

private:
	/* The command's reply line parsed: kQuote / kRefused, or kDown when the channel must go. */
	Result exchange(const std::string &command);
	bool open(std::string *err);
	bool open_tty(std::string *err);

	std::string path_;
	int timeout_ms_;
	Fd fd_;
	LineReader reader_{kMaxReplyLine};
};

} // namespace quote_service
