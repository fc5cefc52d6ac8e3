// SPDX-License-Identifier: GPL-2.0
// Test support: a scripted stand-in for the emulator's control channel (`format json`, `qe sign`)
// served from a thread, on a Unix socket or on an fd the test hands over (a pty's master); the
// real tdx-qgs loop in a thread; temporary directories; blocking QGS client helpers.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fdutil.h"
#include "qgs_codec.h"
#include "qgs_server.h"

namespace quote_service::test {

/* The quote the fake signs for a report: deterministic, distinct per report. */
Bytes fake_quote(BytesView report, std::size_t size = 700);
/* A TDREPORT-sized report whose bytes derive from seed. */
Bytes make_report(std::uint32_t seed);

class FakeEmulator {
public:
	enum class Mode {
		kSign,        /* {"ok":true,"quote":...} */
		kBig,         /* a quote of 8000 bytes */
		kRefuse,      /* {"ok":false,"error":"..."} */
		kUnreadable,  /* a line that is not JSON */
		kClose,       /* close the connection instead of answering */
		kSilent,      /* never answer */
	};
	/* Serves on a Unix socket at path (empty: only fds given to attach()). */
	explicit FakeEmulator(const std::string &path);
	~FakeEmulator();

	void attach(int fd);
	void set_mode(Mode m) { mode_ = m; }
	/* The next n `qe sign` commands close the connection instead (then mode applies). */
	void close_next(int n) { close_next_ = n; }

	int connections() const { return connections_; }
	int formats() const { return formats_; }
	int signs() const { return signs_; }
	std::vector<std::string> sign_args() const;

private:
	void loop();
	/* The reply to one line; empty: none; false: close the connection. */
	bool reply(const std::string &line, std::string *out);

	Fd listen_;
	Fd stop_;
	mutable std::mutex mu_;
	std::vector<int> attached_;
	std::vector<std::string> sign_args_;
	std::atomic<bool> stopping_{false};
	std::atomic<Mode> mode_{Mode::kSign};
	std::atomic<int> close_next_{0};
	std::atomic<int> connections_{0}, formats_{0}, signs_{0};
	std::thread thread_;
};

/* QgsServer::run() in a thread, listening once constructed (ok()), stopped by the destructor. */
class ServerThread {
public:
	explicit ServerThread(ServerConfig config);
	~ServerThread();
	bool ok() const { return thread_.joinable(); }
	const std::string &error() const { return error_; }
	QgsServer &server() { return server_; }

private:
	QgsServer server_;
	Fd stop_;
	std::string error_;
	std::thread thread_;
};

class TempDir {
public:
	TempDir();
	~TempDir();
	std::string path(const std::string &name) const { return dir_ + "/" + name; }

private:
	std::string dir_;
};

/* Blocking client helpers; every wait bounded (a hang guard, not a timing check). */
inline constexpr int kHangGuardMs = 20000;
Fd connect_blocking(const std::string &path);
bool send_bytes(int fd, BytesView b);
/* One framed message (without its prefix); nullopt on EOF or the hang guard. */
std::optional<Bytes> read_message(int fd);
/* True when the peer closed with nothing more to read. */
bool read_eof(int fd);

} // namespace quote_service::test
