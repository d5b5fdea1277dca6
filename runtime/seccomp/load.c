/* seccomp_load: a compiled filter put to use.  The init (or an exec'd
 * process) loads it with seccomp(2), getting the listener with
 * SCMP_ACT_NOTIFY; the parent hands that listener to the agent at
 * listenerPath with the container's state (runtime-spec). */
#include "skiff/seccomp/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "skiff/base/features.h"
#include "skiff/spec/json_gen.h"

int sk_seccomp_load(const struct sk_seccomp_prog *p, int *listener_fd, struct sk_err *err)
{
	struct sock_fprog prog = { .len = p->len, .filter = p->insns };
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
	if (rc < 0)
		return sk_error(err, errno, "seccomp(SECCOMP_SET_MODE_FILTER, flags %#x, %u instructions)%s", p->flags,
				p->len, errno == EACCES ? " without no_new_privs or CAP_SYS_ADMIN" : "");
	if (listener_fd)
		*listener_fd = p->notify ? (int)rc : -1;
	return 0;
}

/* The container process state of runtime-spec config-linux.md. */
static char *process_state(pid_t pid, const char *metadata, const char *state_json, size_t *len,
			   struct sk_err *err)
{
	const char *meta = "";
	size_t meta_len = 0;
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return NULL;
	if (metadata) {
		sk_json_str(&j, metadata);
		if (sk_json_buf(&j, &meta, &meta_len, err) < 0) {
			sk_json_free(&j);
			return NULL;
		}
	}
	char *s;
	int n = asprintf(&s, "{\"ociVersion\":\"" SK_OCI_VERSION "\",\"fds\":[\"seccompFd\"],\"pid\":%d%s%.*s,"
			 "\"state\":%s}", (int)pid, metadata ? ",\"metadata\":" : "", (int)meta_len, meta, state_json);
	sk_json_free(&j);
	if (n < 0) {
		sk_error(err, ENOMEM, "seccomp: container process state");
		return NULL;
	}
	*len = (size_t)n;
	return s;
}

int sk_seccomp_send_listener(const char *listener_path, int listener_fd, pid_t pid, const char *metadata,
			     const char *state_json, struct sk_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(listener_path);
	if (plen == 0 || plen >= sizeof(sa.sun_path))
		return sk_error(err, plen ? ENAMETOOLONG : EINVAL, "seccomp agent socket \"%s\"", listener_path);
	memcpy(sa.sun_path, listener_path, plen + 1);

	size_t len;
	char *msg = process_state(pid, metadata, state_json, &len, err);
	if (!msg)
		return -1;
	int ret = -1;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		sk_error(err, errno, "seccomp agent: socket");
		goto out;
	}
	if (connect(sock, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1)) < 0) {
		sk_error(err, errno, "connect to the seccomp agent at \"%s\"", listener_path);
		goto out;
	}
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
	/* The fd travels with the first bytes only (runtime-spec); a short
	 * send is finished without it. */
	size_t sent = 0;
	while (sent < len) {
		ssize_t r = sent ? send(sock, msg + sent, len - sent, MSG_NOSIGNAL) : sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sk_error(err, errno, "send the seccomp listener to \"%s\"", listener_path);
			goto out;
		}
		sent += (size_t)r;
	}
	ret = 0;
out:
	if (sock >= 0)
		close(sock);
	free(msg);
	return ret;
}
