// SPDX-License-Identifier: GPL-2.0
#include "unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
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

} // namespace seam_emu
