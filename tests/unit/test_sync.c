/* test_sync: the init's sync messages (runtime/base/sync.c) as a misbehaving
 * peer may send them: nothing received may stay open or allocated in the
 * receiver after an error, and a short message is never completed with
 * what the receiver's memory held.  fuzz_sockmsg found each of these. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skiff/base/sync.h"

static int sp[2];

static void open_pair(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
}

static void close_pair(void)
{
	close(sp[0]);
	close(sp[1]);
}

TestSuite(sync, .init = open_pair, .fini = close_pair);

/* One packet of len bytes with n fds (each a new /dev/null); the fds'
 * numbers go to fds, closed on our side (so a receiver that keeps them
 * gets the same numbers back). */
static void send_packet(const void *buf, size_t len, int *fds, size_t n)
{
	union { char buf[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	for (size_t i = 0; i < n; i++)
		cr_assert_geq(fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC), 0);
	if (n) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	cr_assert_eq(sendmsg(sp[1], &mh, 0), (ssize_t)len, "sendmsg: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

Test(sync, more_than_one_fd_is_refused_and_closed)
{
	struct sk_sync_msg m = { .type = SK_SYNC_FD, .value = SK_SYNC_FD_SECCOMP };
	int fds[2];
	send_packet(&m, offsetof(struct sk_sync_msg, msg), fds, 2);
	struct sk_err err = { 0 };
	int fd = 1234;
	cr_assert_eq(sk_sync_recv(sp[0], &m, &fd, NULL, &err), -1, "two fds taken for one");
	cr_assert_str_eq(err.msg, "sync: a message with more than one fd: EPROTO");
	cr_assert_eq(fd, -1);
	cr_assert_not(fd_open(fds[0]) || fd_open(fds[1]), "a received fd was left open");
}

Test(sync, empty_packet_with_an_fd)
{
	int fds[1];
	send_packet("", 0, fds, 1);
	struct sk_sync_msg m;
	struct sk_err err = { 0 };
	int fd = 1234;
	cr_assert_eq(sk_sync_recv(sp[0], &m, &fd, NULL, &err), -1);
	cr_assert_str_eq(err.msg, "container init exited before completing set-up");
	cr_assert_eq(fd, -1);
	cr_assert_not(fd_open(fds[0]), "the fd of an empty packet was left open");
}

Test(sync, short_error_message_is_what_was_sent)
{
	struct sk_sync_msg m = { .type = SK_SYNC_ERROR, .errnum = EPERM };
	memcpy(m.msg, "mount", 5);
	send_packet(&m, offsetof(struct sk_sync_msg, msg) + 5, NULL, 0);
	/* Stands for what the caller's stack held. */
	memset(&m, 'Z', sizeof(m));
	struct sk_err err = { 0 };
	cr_assert_eq(sk_sync_expect(sp[0], SK_SYNC_READY, &m, NULL, NULL, &err), -1);
	cr_assert_eq(err.errnum, EPERM);
	cr_assert_str_eq(err.msg, "mount");
}

Test(sync, nothing_kept_on_an_unexpected_message)
{
	struct sk_sync_msg m = { .type = SK_SYNC_HOOKS_DONE, .len = 2 };
	int fds[1];
	send_packet(&m, offsetof(struct sk_sync_msg, msg), fds, 1);
	send_packet("{}", 2, NULL, 0);
	struct sk_err err = { 0 };
	int fd = 1234;
	char *payload = (char *)&m;
	cr_assert_eq(sk_sync_expect(sp[0], SK_SYNC_GO, &m, &fd, &payload, &err), -1);
	cr_assert_str_eq(err.msg, "sync: expected message 9, got 6: EPROTO");
	cr_assert_eq(fd, -1);
	cr_assert_null(payload, "the payload is handed out (and lost) with the error");
	cr_assert_not(fd_open(fds[0]), "the fd came back open with the error");
}

Test(sync, fd_closed_when_the_payload_fails)
{
	struct sk_sync_msg m = { .type = SK_SYNC_HOOKS_DONE, .len = 100 };
	int fds[1];
	send_packet(&m, offsetof(struct sk_sync_msg, msg), fds, 1);
	close(sp[1]);
	sp[1] = -1;
	struct sk_err err = { 0 };
	int fd = 1234;
	char *payload = NULL;
	cr_assert_eq(sk_sync_recv(sp[0], &m, &fd, &payload, &err), -1);
	cr_assert_str_eq(err.msg, "sync: receive payload: EPROTO");
	cr_assert_eq(fd, -1);
	cr_assert_not(fd_open(fds[0]), "the fd came back open with the error");
}

Test(sync, one_fd_and_a_payload)
{
	struct sk_sync_msg m = { .type = SK_SYNC_HOOKS_DONE, .len = 2 };
	int fds[1];
	send_packet(&m, offsetof(struct sk_sync_msg, msg), fds, 1);
	send_packet("{}", 2, NULL, 0);
	struct sk_err err = { 0 };
	int fd = -1;
	char *payload = NULL;
	cr_assert_eq(sk_sync_expect(sp[0], SK_SYNC_HOOKS_DONE, &m, &fd, &payload, &err), 0, "%s", err.msg);
	cr_assert_geq(fd, 0);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_str_eq(payload, "{}");
	free(payload);
	close(fd);
}
