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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		return die("socket path too long");
	strcpy(sa.sun_path, argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		return die("listen");
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return die("accept");
	char name[256];
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return die("recvmsg");
	name[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "recvpidfd: no fd received\n");
		return 1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
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
