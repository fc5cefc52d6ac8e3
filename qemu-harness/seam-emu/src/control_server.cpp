// SPDX-License-Identifier: GPL-2.0
#include "control_server.h"
#include "unix_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace seam_emu {

namespace {

struct Client {
	int fd;
	std::string in;
	std::string out;
	ControlFormat format = ControlFormat::kJson; /* per connection: the "format" command */
	bool discarding = false; /* inside an over-long line: drop bytes until its newline */
	bool closing = false;    /* peer closed: flush what is left, then close */
};


/* Split complete lines off c.in and queue one reply per non-empty line. */
void handle_input(Emulator &emu, Client &c)
{
	size_t pos;
	while ((pos = c.in.find('\n')) != std::string::npos) {
		std::string line = c.in.substr(0, pos);
		c.in.erase(0, pos + 1);
		if (c.discarding) {
			c.discarding = false;
			continue;
		}
		if (line.size() > ControlServer::kMaxLine) {
			c.out += Emulator::error_reply("line too long", c.format);
			continue;
		}
		/* Serial clients send \r\n or stray \r: carriage returns never matter. */
		std::erase(line, '\r');
		if (line.find_first_not_of(" \t") == std::string::npos)
			continue;
		c.out += emu.control(line, &c.format);
	}
	if (c.in.size() > ControlServer::kMaxLine) {
		if (!c.discarding)
			c.out += Emulator::error_reply("line too long", c.format);
		c.discarding = true;
		c.in.clear();
	}
}

} // namespace

ControlServer::ControlServer(Emulator &emu, std::string path) : emu_(emu), path_(std::move(path)) {}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::open(std::string *err)
{
	return open_listener(path_, 16, "control socket", &listen_fd_, &stop_fd_, err);
}

void ControlServer::start()
{
	thread_ = std::thread([this] { loop(); });
}

void ControlServer::stop()
{
	stop_ = true;
	wake_listener(stop_fd_);
	if (thread_.joinable())
		thread_.join();
	close_listener(path_, &listen_fd_, &stop_fd_);
}

void ControlServer::loop()
{
	std::vector<Client> clients;
	while (!stop_) {
		std::vector<pollfd> fds;
		fds.push_back({stop_fd_, POLLIN, 0});
		fds.push_back({listen_fd_, POLLIN, 0});
		for (const auto &c : clients)
			fds.push_back({c.fd, short((c.closing ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT)), 0});
		int n = poll(fds.data(), fds.size(), -1);
		if (n <= 0)
			continue;
		emu_.note_wakeup();
		if (stop_)
			break;
		for (size_t i = 0; i < clients.size(); i++) {
			Client &c = clients[i];
			short re = fds[i + 2].revents;
			if (re & (POLLIN | POLLHUP | POLLERR)) {
				char buf[4096];
				ssize_t r = read(c.fd, buf, sizeof(buf));
				if (r > 0) {
					c.in.append(buf, size_t(r));
					handle_input(emu_, c);
				} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
					c.closing = true;
				}
			}
			if (!c.out.empty()) {
				ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
				if (w > 0)
					c.out.erase(0, size_t(w));
				else if (w < 0 && errno != EAGAIN && errno != EINTR)
					c.closing = true, c.out.clear();
			}
		}
		std::erase_if(clients, [](const Client &c) {
			if (c.closing && c.out.empty()) {
				close(c.fd);
				return true;
			}
			return false;
		});
		if (fds[1].revents & POLLIN) {
			for (;;) {
				int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				clients.push_back({fd, {}, {}, ControlFormat::kJson});
			}
		}
	}
	for (const auto &c : clients)
		close(c.fd);
}

} // namespace seam_emu
