/* fdpass: one fd over a unix socket (fdpass.h). */
#include "skiff/base/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sk_msg_fd(struct msghdr *mh, int *fd)
{
	size_t n = 0;
	*fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++, n++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (n == 0)
				*fd = got;
			else
				close(got);
		}
	}
	if (n == 1 && !(mh->msg_flags & MSG_CTRUNC))
		return 1;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return n == 0 && !(mh->msg_flags & MSG_CTRUNC) ? 0 : -1;
}

int sk_fd_send(int sock, int fd, const char *name, struct sk_err *err)
{
	/* A stream socket carries no ancillary data without at least one byte. */
	if (!name || !*name)
		name = "";
	struct iovec iov = { .iov_base = (void *)name, .iov_len = *name ? strlen(name) : 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sk_error(err, errno, "send fd \"%s\"", name);
	return 0;
}

int sk_fd_recv(int sock, int *fd, struct sk_err *err)
{
	char name[4096];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	*fd = -1;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sk_error(err, errno, "receive fd");
	if (sk_msg_fd(&mh, fd) != 1)
		return sk_error(err, n == 0 ? 0 : EPROTO, "receive fd: %s",
				n == 0 ? "the peer closed the socket" : "the message holds no single fd");
	return 0;
}

int sk_unix_connect(const char *path, struct sk_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "socket \"%s\"", path);
	memcpy(sa.sun_path, path, len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "socket \"%s\": socket", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "connect to \"%s\"", path);
	}
	return fd;
}
