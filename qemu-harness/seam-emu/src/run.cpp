// SPDX-License-Identifier: GPL-2.0
// seam-emu's process: command line, file mappings, signals, and the threads that serve: one per
// mailbox slot, the heartbeat, the control socket and the ivshmem server.
#include "run.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <memory>

#include <CLI/CLI.hpp>

#include "control_server.h"
#include "ivshmem_server.h"
#include "mailbox_server.h"

namespace seam_emu {

namespace {

/* ivshmem's BAR is a power of two; 64 KiB at least, as QEMU's examples use. */
constexpr u64 kMinMailboxFile = 64 * 1024;

struct Mapping {
	u8 *base = nullptr;
	u64 size = 0;
	int fd = -1; /* kept open when the mailbox is handed to QEMU */
	~Mapping()
	{
		if (base)
			munmap(base, size);
		if (fd >= 0)
			close(fd);
	}
};

bool map_file(const std::string &path, bool create_mailbox, u64 mailbox_min, bool keep_fd, Mapping *m,
	      std::string *err)
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
		size = kMinMailboxFile;
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
	if (p == MAP_FAILED) {
		*err = path + ": mmap: " + std::strerror(errno);
		close(fd);
		return false;
	}
	if (keep_fd)
		m->fd = fd;
	else
		close(fd);
	m->base = static_cast<u8 *>(p);
	m->size = size;
	return true;
}

void write_pidfile(const std::string &path)
{
	if (path.empty())
		return;
	if (std::FILE *f = std::fopen(path.c_str(), "w")) {
		std::fprintf(f, "%d\n", int(getpid()));
		std::fclose(f);
	}
}

} // namespace

int run_emulator(int argc, char **argv)
{
	CLI::App app{"seam-emu: userspace emulator of the Intel TDX module (SEAM backend)"};
	std::string ram_path, mailbox_path, control_path, profile_path, log_path, pid_path, ivshmem_path;
	int recheck_ms = 0;
	std::string module_binaries;
	u32 lps = 0, packages = 0;
	app.add_option("--ram", ram_path, "QEMU guest RAM file (memory-backend-file share=on)")->required();
	app.add_option("--mailbox", mailbox_path, "ivshmem shared-memory file of the mailbox")->required();
	app.add_option("--control", control_path, "unix socket path of the control protocol")->required();
	app.add_option("--profile", profile_path, "module profile (JSON)")->required();
	app.add_option("--lps", lps, "logical processors (overrides the profile)")->check(CLI::Range(1u, 4096u));
	app.add_option("--packages", packages, "packages (overrides the profile)")->check(CLI::Range(1u, 64u));
	app.add_option("--log", log_path, "log every SEAMCALL to this file");
	app.add_option("--pidfile", pid_path, "write the process id here once serving");
	app.add_option("--module-binaries", module_binaries,
		       "checkout of Intel's module-binaries repository: the P-SEAMLDR installs Intel-signed images "
		       "found there (default: $TDX_MODULE_BINARIES)");
	app.add_option("--doorbell-recheck-ms", recheck_ms,
		       "a slot asleep on its doorbell is looked at again every N ms (0: never); for a guest "
		       "whose fences do not reach the host (QEMU TCG thread=single)")
		->check(CLI::Range(0, 1000));
	app.add_option("--ivshmem-server", ivshmem_path,
		       "be the ivshmem server at this unix socket (QEMU ivshmem-doorbell: mailbox + doorbell)");
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
	if (!map_file(ram_path, false, 0, false, &ram, &err) ||
	    !map_file(mailbox_path, true, mailbox_bytes(profile.lps), !ivshmem_path.empty(), &mbox, &err)) {
		std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
		return 1;
	}
	if (!ivshmem_path.empty() && (mbox.size & (mbox.size - 1))) {
		std::fprintf(stderr, "seam-emu: %s: %llu bytes is not a power of two (an ivshmem BAR must be)\n",
			     mailbox_path.c_str(), (unsigned long long)mbox.size);
		return 1;
	}

	GuestMemory mem(ram.base, ram.size);
	Emulator emu(profile, mem);
	emu.set_profile_dir(std::filesystem::absolute(profile_path).parent_path().string());
	if (module_binaries.empty())
		if (const char *env = std::getenv("TDX_MODULE_BINARIES"))
			module_binaries = env;
	if (!module_binaries.empty())
		emu.set_module_binaries(std::filesystem::absolute(module_binaries).string());
	std::unique_ptr<std::FILE, int (*)(std::FILE *)> log(nullptr, std::fclose);
	if (!log_path.empty()) {
		log.reset(std::fopen(log_path.c_str(), "a"));
		if (!log) {
			std::fprintf(stderr, "seam-emu: %s: %s\n", log_path.c_str(), std::strerror(errno));
			return 1;
		}
		emu.set_log(log.get());
	}

	/*
	 * SIGTERM/SIGINT are taken by sigwait() in this thread only: blocked before any thread
	 * starts, so every thread inherits the mask.
	 */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	signal(SIGPIPE, SIG_IGN);

	MailboxServer mailbox(mbox.base, mbox.size, emu, profile);
	mailbox.set_doorbell_recheck_ms(recheck_ms);
	std::unique_ptr<IvshmemServer> ivshmem;
	if (!ivshmem_path.empty()) {
		ivshmem = std::make_unique<IvshmemServer>(ivshmem_path, mbox.fd, mailbox, emu);
		if (!ivshmem->open(&err)) {
			std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
			return 1;
		}
	}
	ControlServer control(emu, control_path);
	if (!control.open(&err) || !mailbox.publish(&err)) {
		std::fprintf(stderr, "seam-emu: %s\n", err.c_str());
		return 1;
	}
	mailbox.start();
	control.start();
	if (ivshmem)
		ivshmem->start();
	write_pidfile(pid_path);
	std::fprintf(stderr, "seam-emu: serving %u LPs in %u packages, RAM %llu MiB, TDX %u.%u.%02u, epoch %016llx%s\n",
		     profile.lps, profile.packages, (unsigned long long)(ram.size >> 20), profile.module.major,
		     profile.module.minor, profile.module.update, (unsigned long long)mailbox.epoch(),
		     ivshmem ? ", ivshmem server" : "");

	int sig = 0;
	while (sigwait(&sigs, &sig) != 0) {
	}

	/* Orderly exit: no more doorbell, the calls in progress answered, then "stopped". */
	if (ivshmem)
		ivshmem->stop();
	mailbox.stop();
	mailbox.set_stopped();
	control.stop();
	if (!pid_path.empty())
		unlink(pid_path.c_str());
	std::fprintf(stderr, "seam-emu: stopped (signal %d)\n", sig);
	return 0;
}

} // namespace seam_emu
