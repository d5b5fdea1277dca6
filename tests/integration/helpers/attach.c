/* A conmon attach-socket client for the shim tests.
 *
 *   attach SOCKET read          print the output (stdout messages to fd 1,
 *                               stderr ones to fd 2) until the shim closes
 *   attach SOCKET send TEXT     send TEXT as stdin, shut down writing, then
 *                               as read
 *   attach SOCKET stuck SECS    connect, print "connected", then read
 *                               nothing for SECS seconds; prints "closed"
 *                               if the shim disconnected us meanwhile
 *
 * The socket is reached through /proc/self/fd/<dir>/attach, as podman
 * does, so that long paths work. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "attach: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int connect_to(const char *path)
{
	char *d = strdup(path), *b = strdup(path);
	int dfd = open(dirname(d), O_PATH | O_DIRECTORY);
	if (dfd < 0)
		die("open the socket's directory");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, basename(b));
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return fd;
}

static void read_all(int fd)
{
	char buf[8193];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (n > 1 && write(buf[0] == 3 ? 2 : 1, buf + 1, (size_t)n - 1) < 0)
			die("write");
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: attach SOCKET read|send TEXT|stuck SECS\n");
		return 2;
	}
	int fd = connect_to(argv[1]);
	if (strcmp(argv[2], "read") == 0) {
		read_all(fd);
	} else if (strcmp(argv[2], "send") == 0 && argc > 3) {
		if (send(fd, argv[3], strlen(argv[3]), 0) < 0)
			die("send");
		shutdown(fd, SHUT_WR);
		read_all(fd);
	} else if (strcmp(argv[2], "stuck") == 0 && argc > 3) {
		printf("connected\n");
		fflush(stdout);
		/* Readable with nothing read means the peer closed: POLLHUP or
		 * POLLRDHUP, or data still queued (POLLIN) which we ignore. */
		struct pollfd p = { .fd = fd, .events = POLLRDHUP };
		struct timespec end, now;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += atoi(argv[3]);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0)
				break;
			if (poll(&p, 1, (int)ms) > 0 && (p.revents & (POLLHUP | POLLRDHUP))) {
				printf("closed\n");
				break;
			}
		}
	} else {
		fprintf(stderr, "attach: unknown mode %s\n", argv[2]);
		return 2;
	}
	close(fd);
	return 0;
}
