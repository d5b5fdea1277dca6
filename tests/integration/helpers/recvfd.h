/* recvfd.h: what the fd-receiving test helpers (recvtty, recvpidfd) share:
 * listen on a unix socket, accept one connection, and take the one fd sent
 * over it (SCM_RIGHTS) with its payload as a string. */
#ifndef RECVFD_H
#define RECVFD_H
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* 0 with *fd and name (NUL-terminated) filled, or -1 with errno set and
 * *what naming the step that failed. */
static int recv_one_fd(const char *path, char *name, size_t namelen, int *fd, const char **what)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	*what = "socket path too long";
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	*what = "listen";
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		return -1;
	*what = "accept";
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	if (c < 0)
		return -1;
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = name, .iov_len = namelen - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	*what = "recvmsg";
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	close(c);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	name[n] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	*what = "no fd received";
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = EPROTO;
		return -1;
	}
	memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}
#endif
