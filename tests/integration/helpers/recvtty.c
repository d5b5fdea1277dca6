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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

	char name[4096];
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return die("recvmsg");
	name[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "recvtty: no fd received\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	close(c);
	close(l);

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
	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return die("write output");
	/* EIO: every slave is closed, the container's process is gone. */
	if (n < 0 && errno != EIO)
		return die("read pty");
	return 0;
}
