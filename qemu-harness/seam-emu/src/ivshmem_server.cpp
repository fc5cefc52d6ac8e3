// SPDX-License-Identifier: GPL-2.0
#include "ivshmem_server.h"
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

namespace seam_emu {

namespace {

constexpr s64 kIvshmemProtocolVersion = 0;
constexpr s64 kShmMessage = -1;

/* One protocol message: an int64, little-endian (as x86 stores it), with fd attached if >= 0. */
bool send_msg(int sock, s64 value, int fd)
{
	iovec iov{&value, sizeof(value)};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	if (fd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (n == ssize_t(sizeof(value)))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		return false;
	}
}

} // namespace

IvshmemServer::IvshmemServer(std::string path, int shm_fd, MailboxServer &mailbox, Emulator &emu)
	: path_(std::move(path)), shm_fd_(shm_fd), mailbox_(mailbox), emu_(emu)
{
}

IvshmemServer::~IvshmemServer() { stop(); }

bool IvshmemServer::open(std::string *err)
{
	return open_listener(path_, 4, "ivshmem socket", &listen_fd_, &stop_fd_, err);
}

void IvshmemServer::start()
{
	thread_ = std::thread([this] { loop(); });
}

void IvshmemServer::stop()
{
	stop_ = true;
	wake_listener(stop_fd_);
	if (thread_.joinable())
		thread_.join();
	drop_client();
	close_listener(path_, &listen_fd_, &stop_fd_);
}

bool IvshmemServer::greet(int fd)
{
	if (!send_msg(fd, kIvshmemProtocolVersion, -1) || !send_msg(fd, s64(kGuestPeer), -1) ||
	    !send_msg(fd, kShmMessage, shm_fd_))
		return false;
	/* Peer kDoorbellPeer's vectors 0..N-1, in order: the eventfds the guest's Doorbell rings. */
	for (u32 i = 0; i < mailbox_.slots(); i++)
		if (!send_msg(fd, s64(kDoorbellPeer), mailbox_.slot_eventfd(i)))
			return false;
	return true;
}

void IvshmemServer::drop_client()
{
	if (client_fd_ < 0)
		return;
	mailbox_.set_doorbell(false);
	close(client_fd_);
	client_fd_ = -1;
}

void IvshmemServer::loop()
{
	while (!stop_) {
		pollfd fds[3] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}, {client_fd_, POLLIN, 0}};
		const nfds_t n = client_fd_ >= 0 ? 3 : 2;
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		emu_.note_wakeup();
		if (stop_)
			break;
		if (n == 3 && fds[2].revents) {
			/* The client never speaks: data is ignored, end of file or an error is its exit. */
			char buf[64];
			ssize_t r = recv(client_fd_, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				drop_client();
		}
		if (fds[1].revents & POLLIN) {
			for (;;) {
				int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
				if (fd < 0)
					break;
				if (client_fd_ >= 0 || !greet(fd)) {
					close(fd);
					continue;
				}
				client_fd_ = fd;
				mailbox_.set_doorbell(true);
			}
		}
	}
}

} // namespace seam_emu
