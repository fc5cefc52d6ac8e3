// SPDX-License-Identifier: GPL-2.0
// seam-emu's process: command line, file mappings, signals, the serving loop and the control thread.
#include "run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include <CLI/CLI.hpp>

#include "control_server.h"
#include "mailbox_server.h"

namespace seam_emu {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

struct Mapping {
	u8 *base = nullptr;
	u64 size = 0;
	~Mapping()
	{
		if (base)
			munmap(base, size);
	}
};

bool map_file(const std::string &path, bool create_mailbox, u64 mailbox_min, Mapping *m, std::string *err)
{
	int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | (create_mailbox ? O_CREAT : 0), 0600);
	if (fd < 0) {
		*err = path + ": " + std::strerror(errno);
		return false;
	}
	struct stat st;
	fstat(fd, &st);
	u64 size = u64(st.st_size);
	if (create_mailbox && size == 0) {
		/* A fresh mailbox file: ivshmem wants a power-of-two size. */
		size = 4096;
		while (size < mailbox_min)
			size <<= 1;
		if (ftruncate(fd, off_t(size)) != 0) {
			*err = path + ": " + std::strerror(errno);
			close(fd);
			return false;
		}
	}
	if (size == 0) {
		*err = path + " is empty";
		close(fd);
		return false;
	}
	void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*err = path + ": mmap: " + std::strerror(errno);
		return false;
	}
	m->base = static_cast<u8 *>(p);
	m->size = size;
	return true;
}

} // namespace

int run_emulator(int argc, char **argv)
{
	CLI::App app{"seam-emu: userspace emulator of the Intel TDX module (SEAM backend)"};
	std::string ram_path, mailbox_path, control_path, profile_path, log_path, pid_path;
	u32 lps = 0, packages = 0;
	app.add_option("--ram", ram_path, "QEMU guest RAM file (memory-backend-file share=on)")->required();
	app.add_option("--mailbox", mailbox_path, "ivshmem shared-memory file of the mailbox")->required();
	app.add_option("--control", control_path, "unix socket path of the control protocol")->required();
	app.add_option("--profile", profile_path, "module profile (JSON)")->required();
	app.add_option("--lps", lps, "logical processors (overrides the profile)")->check(CLI::Range(1u, 4096u));
	app.add_option("--packages", packages, "packages (overrides the profile)")->check(CLI::Range(1u, 64u));
	app.add_option("--log", log_path, "log every SEAMCALL to this file");
	app.add_option("--pidfile", pid_path, "write the process id here once serving");
	CLI11_PARSE(app, argc, argv);

	ProfileResult pr = load_profile(profile_path);
	if (!pr.profile) {
		std::fprintf(stderr, "seam-emu: %s\n", pr.error.c_str());
		return 2;
	}
	Profile profile = *pr.profile;
	if (lps)
		profile.lps = lps;
	if (packages)
		profile.packages = packages;
	if (std::string t = check_topology(profile); !t.empty()) {
		std::fprintf(stderr, "seam-emu: %s\n", t.c_str());
		return 2;
	}

	std::string err;
	Mapping ram, mbox;
	if (!map_file(ram_path, false, 0, &ram, &err) ||
	    !map_file(mailbox_path, true, mailbox_bytes(profile.lps), &mbox, &err)) {
		std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
		return 1;
	}

	GuestMemory mem(ram.base, ram.size);
	Emulator emu(profile, mem);
	std::unique_ptr<std::FILE, int (*)(std::FILE *)> log(nullptr, std::fclose);
	if (!log_path.empty()) {
		log.reset(std::fopen(log_path.c_str(), "a"));
		if (!log) {
			std::fprintf(stderr, "seam-emu: %s: %s\n", log_path.c_str(), std::strerror(errno));
			return 1;
		}
		emu.set_log(log.get());
		emu.set_deferred_logging(true);
	}

	MailboxServer mailbox(mbox.base, mbox.size, emu, profile);
	ControlServer control(emu, control_path);
	if (!control.open(&err)) {
		std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
		return 1;
	}

	struct sigaction sa{};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	signal(SIGPIPE, SIG_IGN);

	if (!mailbox.publish(&err)) {
		std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
		return 1;
	}
	auto last_beat = std::chrono::steady_clock::now();
	control.start([&] {
		auto now = std::chrono::steady_clock::now();
		if (now - last_beat >= std::chrono::milliseconds(50)) {
			mailbox.heartbeat();
			last_beat = now;
		}
	});
	if (!pid_path.empty()) {
		if (std::FILE *f = std::fopen(pid_path.c_str(), "w")) {
			std::fprintf(f, "%d\n", int(getpid()));
			std::fclose(f);
		}
	}
	std::fprintf(stderr, "seam-emu: serving %u LPs in %u packages, RAM %llu MiB, TDX %u.%u.%02u\n", profile.lps,
		     profile.packages, (unsigned long long)(ram.size >> 20), profile.module.major, profile.module.minor,
		     profile.module.update);

	mailbox.run(g_stop);

	mailbox.set_stopped();
	control.stop();
	if (!pid_path.empty())
		unlink(pid_path.c_str());
	std::fprintf(stderr, "seam-emu: stopped\n");
	return 0;
}

} // namespace seam_emu
