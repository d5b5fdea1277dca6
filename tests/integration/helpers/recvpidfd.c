/* recvpidfd: a --pidfd-socket receiver for the tests.
 *   recvpidfd SOCKET
 * Listens on the unix socket SOCKET, accepts one connection, receives one
 * fd (SCM_RIGHTS) and prints "name=<payload>" and "pid=<Pid of its
 * fdinfo>" (a pidfd's fdinfo names its process), then waits until that
 * process exits (the pidfd polls readable) and prints "exited". */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recvfd.h"

static int die(const char *what)
{
	fprintf(stderr, "recvpidfd: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: recvpidfd SOCKET\n");
		return 2;
	}
	char name[256];
	int fd;
	const char *what;
	if (recv_one_fd(argv[1], name, sizeof(name), &fd, &what) < 0)
		return die(what);
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	if (!f)
		return die("fdinfo");
	printf("name=%s\n", name);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "Pid:", 4) == 0)
			printf("pid=%d\n", atoi(line + 4));
	fclose(f);
	fflush(stdout);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 60000) == 1)
		printf("exited\n");
	return 0;
}
