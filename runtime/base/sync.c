/* sync: the parent <-> init messages over a SOCK_SEQPACKET pair, with an
 * optional fd (sync.h). */
#include "skiff/base/sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skiff/base/fdpass.h"

#define SYNC_PAYLOAD_MAX (16u << 20)

/* Only sendmsg and recvmsg: after the container's seccomp filter is in,
 * the init should need as few distinct calls as possible. */
static ssize_t send_buf(int sock, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

int sk_sync_send(int sock, uint32_t type, int32_t value, int fd, const void *payload, uint32_t len, struct sk_err *err)
{
	struct sk_sync_msg m = { .type = type, .value = value, .len = len };
	struct iovec iov = { .iov_base = &m, .iov_len = offsetof(struct sk_sync_msg, msg) };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return sk_error(err, errno, "sync: send message %u", type);
	if (len && send_buf(sock, payload, len) < 0)
		return sk_error(err, errno, "sync: send payload of message %u", type);
	return 0;
}

int sk_sync_send_error(int sock, const struct sk_err *e)
{
	struct sk_sync_msg m = { .type = SK_SYNC_ERROR, .errnum = e->errnum };
	memcpy(m.msg, e->msg, sizeof(m.msg));
	m.msg[sizeof(m.msg) - 1] = '\0';
	return send_buf(sock, &m, sizeof(m)) < 0 ? -1 : 0;
}

/* The payload packet of a message that announced len bytes. */
static int recv_payload(int sock, uint32_t len, char **payload, struct sk_err *err)
{
	if (len > SYNC_PAYLOAD_MAX)
		return sk_error(err, EPROTO, "sync: payload too large");
	char *p = malloc((size_t)len + 1);
	if (!p)
		return sk_error(err, ENOMEM, "sync: payload");
	struct iovec piov = { .iov_base = p, .iov_len = len };
	struct msghdr pmh = { .msg_iov = &piov, .msg_iovlen = 1 };
	ssize_t n;
	do
		n = recvmsg(sock, &pmh, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		free(p);
		return sk_error(err, n < 0 ? errno : EPROTO, "sync: receive payload");
	}
	p[len] = '\0';
	if (payload)
		*payload = p;
	else
		free(p);
	return 0;
}

int sk_sync_recv(int sock, struct sk_sync_msg *m, int *fd, char **payload, struct sk_err *err)
{
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	if (fd)
		*fd = -1;
	if (payload)
		*payload = NULL;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sk_error(err, errno, "sync: receive");
	/* What the packet did not fill is zero, not what the caller's stack
	 * held: a short SK_SYNC_ERROR would pass that on as its message. */
	memset((char *)m + n, 0, sizeof(*m) - (size_t)n);
	int got, r = 0;
	/* An empty packet reads as end-of-file, and may carry fds too. */
	if (sk_msg_fd(&mh, &got) < 0 && n > 0)
		r = sk_error(err, EPROTO, "sync: a message with more than one fd");
	else if (n == 0)
		r = sk_error(err, 0, "container init exited before completing set-up");
	else if ((size_t)n < offsetof(struct sk_sync_msg, msg))
		r = sk_error(err, EPROTO, "sync: short message");
	else if (m->type == SK_SYNC_ERROR)
		m->msg[sizeof(m->msg) - 1] = '\0';
	else if (m->len)
		r = recv_payload(sock, m->len, payload, err);
	/* No fd is handed out with an error, nor kept when not asked for. */
	if (got >= 0 && (r < 0 || !fd))
		close(got);
	else if (fd)
		*fd = got;
	return r;
}

int sk_sync_expect(int sock, uint32_t want, struct sk_sync_msg *m, int *fd, char **payload, struct sk_err *err)
{
	if (sk_sync_recv(sock, m, fd, payload, err) < 0)
		return -1;
	if (m->type == SK_SYNC_ERROR) {
		err->errnum = m->errnum;
		memcpy(err->msg, m->msg, sizeof(err->msg));
	} else if (m->type != want) {
		sk_error(err, EPROTO, "sync: expected message %u, got %u", want, m->type);
	} else {
		return 0;
	}
	/* Nothing that came with the message outlives the error. */
	if (fd && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (payload) {
		free(*payload);
		*payload = NULL;
	}
	return -1;
}
