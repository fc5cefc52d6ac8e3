// SPDX-License-Identifier: GPL-2.0
#include "unix_socket.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace seam_emu {

int listen_unix(const std::string &path, int backlog, const char *what, std::string *err)
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path)) {
		*err = std::string(what) + " path too long: " + path;
		return -1;
	}
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	struct stat st;
	if (lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*err = path + " exists and is not a socket";
			return -1;
		}
		unlink(path.c_str());
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 || listen(fd, backlog) != 0) {
		*err = std::string(what) + " " + path + ": " + std::strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool open_listener(const std::string &path, int backlog, const char *what, int *listen_fd, int *stop_fd,
		   std::string *err)
{
	*stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*stop_fd < 0) {
		*err = std::string("eventfd: ") + std::strerror(errno);
		return false;
	}
	*listen_fd = listen_unix(path, backlog, what, err);
	if (*listen_fd >= 0)
		return true;
	close(*stop_fd);
	*stop_fd = -1;
	return false;
}

void wake_listener(int stop_fd)
{
	if (stop_fd < 0)
		return;
	const uint64_t one = 1;
	if (write(stop_fd, &one, sizeof(one)) < 0) {
		/* the loop wakes anyway: the counter is non-zero */
	}
}

void close_listener(const std::string &path, int *listen_fd, int *stop_fd)
{
	if (*listen_fd >= 0) {
		close(*listen_fd);
		*listen_fd = -1;
		unlink(path.c_str());
	}
	if (*stop_fd >= 0) {
		close(*stop_fd);
		*stop_fd = -1;
	}
}

} // namespace seam_emu
