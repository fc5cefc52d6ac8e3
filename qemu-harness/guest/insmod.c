// SPDX-License-Identifier: GPL-2.0
/*
 * insmod for the harness initramfs: loads a module with ONE finit_module() call.
 *
 * Busybox's insmod (1.35) falls back to init_module() whenever finit_module() fails, for any
 * reason, so a module whose init fails is initialized a second time; a one-shot injected fault
 * is then consumed by the first attempt and the second succeeds. Tests of failing loads need
 * exactly one attempt. Usage and messages follow busybox: insmod FILE [SYMBOL=VALUE]...
 *
 * With TDX_FAIL_NTH=N in the environment, the load runs with /proc/self/fail-nth = N (the kernel's
 * fault injection fails the Nth allocation that passes the failslab/fail_page_alloc filters, in
 * this task) and reports on stderr whether that failure was injected: "fail-nth: injected" or
 * "fail-nth: not reached". Allocations that may fail silently (__GFP_NOWARN) leave no kernel log
 * line, so this read-back is how a test knows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_fail_nth(const char *n)
{
	int fd = open("/proc/self/fail-nth", O_WRONLY);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, n, strlen(n));
	close(fd);
	return w == (ssize_t)strlen(n) ? 0 : -1;
}

/* 1 when the armed failure was injected (fail-nth reads 0), 0 when not, -1 on error. */
static int fail_nth_injected(void)
{
	char buf[32] = "";
	int fd = open("/proc/self/fail-nth", O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	return atoi(buf) == 0;
}

int main(int argc, char **argv)
{
	const char *fail_nth = getenv("TDX_FAIL_NTH");
	int ret = 0;
	size_t len = 1;
	char *opts;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: insmod FILE [SYMBOL=VALUE]...\n");
		return 1;
	}
	for (int i = 2; i < argc; i++)
		len += strlen(argv[i]) + 1;
	opts = calloc(1, len);
	if (!opts) {
		perror("insmod");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (i > 2)
			strcat(opts, " ");
		strcat(opts, argv[i]);
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "insmod: can't open '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (fail_nth && write_fail_nth(fail_nth) != 0) {
		fprintf(stderr, "insmod: can't arm /proc/self/fail-nth: %s\n", strerror(errno));
		return 1;
	}
	if (syscall(SYS_finit_module, fd, opts, 0) != 0) {
		fprintf(stderr, "insmod: can't insert '%s': %s\n", argv[1], strerror(errno));
		ret = 1;
	}
	if (fail_nth) {
		int inj = fail_nth_injected();

		if (inj < 0) {
			fprintf(stderr, "insmod: can't read /proc/self/fail-nth\n");
			return 1;
		}
		/* Disarm, so nothing this process does later can fail. */
		write_fail_nth("0");
		fprintf(stderr, "fail-nth: %s\n", inj ? "injected" : "not reached");
	}
	return ret;
}
