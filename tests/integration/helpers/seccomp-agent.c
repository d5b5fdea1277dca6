/* seccomp-agent: a seccomp notify agent for the tests (runtime-spec
 * config-linux.md, listenerPath).
 *   seccomp-agent SOCKET STATE_FILE NAME=VALUE...
 * Listens on the unix stream socket SOCKET and accepts one connection: the
 * runtime sends the seccomp listener (SCM_RIGHTS) with the container process
 * state, which is written to STATE_FILE.  Then answers each notification:
 * a syscall NAME (libseccomp's name) gets VALUE as its return value, or the
 * error -VALUE when VALUE is negative, without being made; any other syscall
 * is let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Ends when the filter
 * has no task left (POLLHUP), printing `NAME=COUNT` for each NAME: how many
 * calls it answered.  Gives up after 60 s. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_RULES 16

static int die(const char *what)
{
	fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Receive the listener and the whole state (the runtime closes after it). */
static int receive(int conn, const char *state_file)
{
	static char buf[1 << 16];
	size_t len = 0;
	int fd = -1;
	for (;;) {
		union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
		struct iovec iov = { .iov_base = buf + len, .iov_len = sizeof(buf) - 1 - len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
		ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			die("recvmsg");
			return -1;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(c), sizeof(int));
		len += (size_t)n;
		if (n == 0 || len == sizeof(buf) - 1)
			break;
	}
	if (fd < 0) {
		fprintf(stderr, "seccomp-agent: no fd received\n");
		return -1;
	}
	FILE *f = fopen(state_file, "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		die(state_file);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc - 3 > MAX_RULES) {
		fprintf(stderr, "usage: seccomp-agent SOCKET STATE_FILE NAME=VALUE...\n");
		return 2;
	}
	alarm(60);
	struct { const char *name; int nr; long long value; unsigned count; } rules[MAX_RULES];
	int n_rules = argc - 3;
	for (int i = 0; i < n_rules; i++) {
		char *eq = strchr(argv[i + 3], '=');
		if (!eq) {
			fprintf(stderr, "seccomp-agent: %s: NAME=VALUE expected\n", argv[i + 3]);
			return 2;
		}
		*eq = '\0';
		rules[i].name = argv[i + 3];
		rules[i].nr = seccomp_syscall_resolve_name(rules[i].name);
		rules[i].value = strtoll(eq + 1, NULL, 0);
		rules[i].count = 0;
		if (rules[i].nr == __NR_SCMP_ERROR) {
			fprintf(stderr, "seccomp-agent: unknown syscall \"%s\"\n", rules[i].name);
			return 2;
		}
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		return die("socket path too long");
	strcpy(sa.sun_path, argv[1]);
	/* Bound under a temporary name and renamed, so that the socket
	 * appears only once it listens. */
	char tmp[sizeof(sa.sun_path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	struct sockaddr_un st = { .sun_family = AF_UNIX };
	if (strlen(tmp) >= sizeof(st.sun_path))
		return die("socket path too long");
	strcpy(st.sun_path, tmp);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&st, sizeof(st)) < 0 || listen(l, 1) < 0 || rename(tmp, argv[1]) < 0)
		return die("listen");
	int conn = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return die("accept");
	int fd = receive(conn, argv[2]);
	if (fd < 0)
		return 1;
	close(conn);
	close(l);

	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll");
		}
		if (p.revents & (POLLHUP | POLLERR))
			break;
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			/* The task died or its call was interrupted. */
			if (errno == EINTR || errno == ENOENT)
				continue;
			return die("SECCOMP_IOCTL_NOTIF_RECV");
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		for (int i = 0; i < n_rules; i++)
			if (req.data.nr == rules[i].nr) {
				resp.flags = 0;
				if (rules[i].value < 0)
					resp.error = (int)rules[i].value;
				else
					resp.val = rules[i].value;
				rules[i].count++;
			}
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			return die("SECCOMP_IOCTL_NOTIF_SEND");
	}
	for (int i = 0; i < n_rules; i++)
		printf("%s=%u\n", rules[i].name, rules[i].count);
	return 0;
}
