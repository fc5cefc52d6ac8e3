// SPDX-License-Identifier: GPL-2.0
/*
 * insmod for the harness initramfs: loads a module with ONE finit_module() call.
 *
 * Busybox's insmod (1.35) falls back to init_module() whenever finit_module() fails, for any
 * reason, so a module whose init fails is initialized a second time; a one-shot injected fault
 * is then consumed by the first attempt and the second succeeds. Tests of failing loads need
 * exactly one attempt. Usage and messages follow busybox: insmod FILE [SYMBOL=VALUE]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
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
	if (syscall(SYS_finit_module, fd, opts, 0) != 0) {
		fprintf(stderr, "insmod: can't insert '%s': %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
