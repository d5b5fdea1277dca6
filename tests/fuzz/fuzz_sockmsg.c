/* fuzz_sockmsg: the messages skiff reads from sockets, fed through a real
 * socketpair: the pty master arriving on the console socket (sk_fd_recv(),
 * runtime/base/fdpass.c, a stream socket) and the init's sync messages
 * (sk_sync_recv() and sk_sync_expect(), runtime/base/sync.c, a seqpacket one).
 * The input:
 *     byte 0: bit 0 sync (else console), bit 1 pass no fd/payload pointers
 *     then chunks: a byte (bits 0-1: fds attached, each a /dev/null; bits
 *     2-7: the sync type wanted by sk_sync_expect), two bytes of length
 *     (little endian), that many bytes, sent as one sendmsg().
 * The sender's end is closed after the last chunk, so a receive never
 * waits.  The receiver runs until it fails, as its callers do.  Beyond the
 * sanitizers: errors are one line; on error no fd is handed out; a
 * received fd is close-on-exec; an error message received holds only bytes
 * that were sent; a payload is NUL-terminated at its length; and when all
 * is over no fd is left open that was not before. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "skiff/base/sync.h"
#include "skiff/base/fdpass.h"

#define MAX_CHUNKS 32
#define MAX_FD_PROBE 256

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < MAX_FD_PROBE; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void send_chunks(int sock, const uint8_t *p, size_t size, uint8_t *wants, size_t *n_wants,
			size_t *first_len)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(null >= 0, "open /dev/null: %s", strerror(errno));
	*n_wants = 0;
	*first_len = 0;
	while (size >= 3 && *n_wants < MAX_CHUNKS) {
		int nfds = p[0] & 3;
		wants[(*n_wants)++] = p[0] >> 2;
		size_t len = (size_t)p[1] | (size_t)p[2] << 8;
		p += 3, size -= 3;
		if (len > size)
			len = size;
		if (*n_wants == 1)
			*first_len = len;
		union { char buf[CMSG_SPACE(3 * sizeof(int))]; struct cmsghdr align; } u;
		memset(&u, 0, sizeof(u));
		/* An empty iov on a stream socket sends nothing, fds neither. */
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (nfds) {
			int fds[3] = { null, null, null };
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		}
		/* A full socket buffer ends the input: nobody reads yet. */
		if (sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		p += len, size -= len;
	}
	close(null);
}

static void check_fd(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	FUZZ_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "fd %d handed out %s", fd, fl < 0 ? "closed" : "without FD_CLOEXEC");
	close(fd);
}

static void console(int sock, bool no_out)
{
	(void)no_out;
	for (int i = 0; i < MAX_CHUNKS + 1; i++) {
		int fd = 1234;
		struct sk_err err = { 0 };
		if (sk_fd_recv(sock, &fd, &err) < 0) {
			fuzz_check_err(&err, "receive fd");
			FUZZ_CHECK(fd == -1, "fd %d handed out on error", fd);
			return;
		}
		FUZZ_CHECK(fd >= 0, "success without an fd");
		check_fd(fd);
	}
}

static void sync_msgs(int sock, bool no_out, const uint8_t *wants, size_t n_wants, size_t first_len)
{
	for (size_t i = 0; i < MAX_CHUNKS + 1; i++) {
		struct sk_sync_msg m;
		/* What a caller's stack may hold: never to be taken for a message. */
		memset(&m, 'Z', sizeof(m));
		int fd = 1234;
		char *payload = (char *)1;
		struct sk_err err = { 0 };
		uint32_t want = i < n_wants ? wants[i] : 0;
		int r = i % 2 ? sk_sync_expect(sock, want, &m, no_out ? NULL : &fd, no_out ? NULL : &payload, &err)
			      : sk_sync_recv(sock, &m, no_out ? NULL : &fd, no_out ? NULL : &payload, &err);
		/* An SK_SYNC_ERROR is the child's own error, passed on as is. */
		bool forwarded = m.type == SK_SYNC_ERROR && (r == 0 || !memcmp(err.msg, m.msg, sizeof(m.msg)));
		if (forwarded && i == 0) {
			size_t sent = first_len > offsetof(struct sk_sync_msg, msg)
					      ? first_len - offsetof(struct sk_sync_msg, msg) : 0;
			FUZZ_CHECK(strnlen(m.msg, sizeof(m.msg)) <= sent, "error message of %zu bytes from %zu sent",
				   strnlen(m.msg, sizeof(m.msg)), sent);
		}
		if (r < 0) {
			if (!forwarded)
				fuzz_check_err(&err, NULL);
			if (!no_out) {
				FUZZ_CHECK(fd == -1, "fd %d handed out on error: %s", fd, err.msg);
				FUZZ_CHECK(payload == NULL, "payload handed out on error: %s", err.msg);
			}
			return;
		}
		if (!no_out) {
			if (fd >= 0)
				check_fd(fd);
			else
				FUZZ_CHECK(fd == -1, "fd %d", fd);
			if (payload) {
				FUZZ_CHECK(m.len > 0 && payload[m.len] == '\0', "payload not NUL-terminated at %u", m.len);
				free(payload);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool sync = data[0] & 1, no_out = data[0] & 2;
	int before = open_fds();
	int sp[2];
	FUZZ_CHECK(socketpair(AF_UNIX, (sync ? SOCK_SEQPACKET : SOCK_STREAM) | SOCK_CLOEXEC, 0, sp) == 0,
		   "socketpair: %s", strerror(errno));
	uint8_t wants[MAX_CHUNKS];
	size_t n_wants, first_len;
	send_chunks(sp[1], data + 1, size - 1, wants, &n_wants, &first_len);
	close(sp[1]);
	if (sync)
		sync_msgs(sp[0], no_out, wants, n_wants, first_len);
	else
		console(sp[0], no_out);
	close(sp[0]);
	int after = open_fds();
	FUZZ_CHECK(after == before, "%d fds open before, %d after", before, after);
	return 0;
}
