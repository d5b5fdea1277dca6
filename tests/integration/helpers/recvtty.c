/* recvtty: a console-socket receiver for the tests.
 *   recvtty SOCKET OUTPUT [INPUT]
 * Listens on the unix socket SOCKET, accepts one connection, receives the
 * pty master (SCM_RIGHTS), prints "name=<payload>" and "size=<rows>x<cols>"
 * on stdout, writes INPUT to the pty if given, then copies everything the
 * pty says into OUTPUT until it hangs up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "recvfd.h"

static int die(const char *what)
{
	fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: recvtty SOCKET OUTPUT [INPUT]\n");
		return 2;
	}
	char name[4096];
	int master;
	const char *what;
	if (recv_one_fd(argv[1], name, sizeof(name), &master, &what) < 0)
		return die(what);

	struct winsize ws = { 0 };
	ioctl(master, TIOCGWINSZ, &ws);
	printf("name=%s\nsize=%ux%u\n", name, ws.ws_row, ws.ws_col);
	fflush(stdout);

	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return die("open output");
	if (argc == 4 && write(master, argv[3], strlen(argv[3])) < 0)
		return die("write input");
	char buf[4096];
	ssize_t n;
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return die("write output");
	/* EIO: every slave is closed, the container's process is gone. */
	if (n < 0 && errno != EIO)
		return die("read pty");
	return 0;
}
