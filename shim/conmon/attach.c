/* attach: the endpoints callers use while the container runs.
 *
 * attach   a SOCK_SEQPACKET socket, mode 0700, bound through
 *          /proc/self/fd/<dir>/attach so that long paths work.  Output goes
 *          to every client as messages of a type byte (2 stdout, 3 stderr)
 *          and at most 8192 bytes; clients send raw stdin bytes, and a
 *          client's shutdown(SHUT_WR) closes the container's stdin (-i,
 *          unless --leave-stdin-open).
 *          Writes to clients never block (conmon's do, so one stuck client
 *          stops the container and the log): what a client cannot take yet
 *          goes to its backlog, an unlinked file (in the endpoint
 *          directory, else $TMPDIR or /tmp), not the shim's memory.  A slow
 *          client gets every byte, late; one more than SHIM_BACKLOG bytes
 *          behind is disconnected.  At exit, clients get their backlog for
 *          as long as they keep reading (2 s without progress ends it).
 *          Stdin is taken from clients only as fast as the container
 *          reads it.
 * ctl      a FIFO of lines "TYPE H W": 1 resizes the pty, 2 reopens the
 *          log; several lines in one read are all handled.
 * notify   with --sdnotify-socket, <bundle>/notify/notify.sock: READY=1
 *          and WATCHDOG=1 from the container are passed to the host's
 *          socket, nothing else (conmon's rule).
 * There is no winsz FIFO: it was conmon's internal queue and no client
 * writes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_BACKLOG ((off_t)256 << 20)

static bool stdin_close_pending;

/* ---- endpoints ---- */

static int bind_in_dir(int dirfd, const char *name, int type, mode_t mode, struct sk_err *err)
{
	int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_error(err, errno, "socket for \"%s\"", name);
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		sk_error(err, errno, "remove the stale \"%s\"", name);
		close(fd);
		return -1;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	/* No window in which the socket is open to others. */
	mode_t old = umask(0777 & ~mode);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0) {
		close(fd);
		return sk_error(err, e, "bind \"%s\"", name);
	}
	return fd;
}

static int ctl_setup(struct sk_err *err)
{
	int d = S.endpoint_dir;
	if (unlinkat(d, "ctl", 0) < 0 && errno != ENOENT)
		return sk_error(err, errno, "remove the stale ctl FIFO");
	if (mkfifoat(d, "ctl", 0660) < 0)
		return sk_error(err, errno, "mkfifo ctl");
	S.ctl_fd = openat(d, "ctl", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (S.ctl_fd < 0)
		return sk_error(err, errno, "open ctl");
	/* Our own writer: no HUP storm when a caller's writer closes. */
	S.ctl_dummy_fd = openat(d, "ctl", O_WRONLY | O_CLOEXEC);
	if (S.ctl_dummy_fd < 0)
		return sk_error(err, errno, "open ctl for writing");
	return shim_watch(S.ctl_fd, EPOLLIN, SHIM_TAG(T_CTL, 0), err);
}

int shim_endpoints_setup(struct sk_err *err)
{
	const char *dir = S.o.state_dir ? S.o.state_dir : S.o.bundle;
	if (!dir || shim_logs_passthrough())
		return 0;
	S.endpoint_path = (char *)dir;
	S.endpoint_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (S.endpoint_dir < 0)
		return sk_error(err, errno, "open \"%s\"", dir);
	if (!S.o.full_attach && !S.o.state_dir) {
		/* CRI-O finds the socket at <socket-dir>/<cuuid>/attach. */
		const char *sd = S.o.socket_dir ? S.o.socket_dir : "/var/run/crio";
		char *link = shim_path_join(sd, S.o.cuuid);
		if (!link)
			return sk_error(err, ENOMEM, "attach symlink");
		/* conmon's workaround: a link as long as the socket's whole
		 * path would leave no room for it. */
		if (strlen(link) == sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
			link[strlen(link) - 1] = '\0';
		if (unlink(link) < 0 && errno != ENOENT) {
			sk_error(err, errno, "remove the stale \"%s\"", link);
			free(link);
			return -1;
		}
		if (symlink(dir, link) < 0) {
			sk_error(err, errno, "symlink \"%s\"", link);
			free(link);
			return -1;
		}
		S.attach_symlink = link;
	}
	S.attach_fd = bind_in_dir(S.endpoint_dir, "attach", SOCK_SEQPACKET, 0700, err);
	if (S.attach_fd < 0)
		return -1;
	if (listen(S.attach_fd, 10) < 0)
		return sk_error(err, errno, "listen on \"%s/attach\"", dir);
	if (shim_watch(S.attach_fd, EPOLLIN, SHIM_TAG(T_ATTACH, 0), err) < 0)
		return -1;
	return ctl_setup(err);
}

/* ---- clients ---- */

static void client_drop(struct shim_client *c)
{
	if (c->fd < 0)
		return;
	shim_unwatch(c->fd);
	close(c->fd);
	c->fd = -1;
	c->readable = false;
	if (c->spill_fd >= 0)
		close(c->spill_fd);
	c->spill_fd = -1;
	c->spill_rd = c->spill_wr = 0;
}

static uint32_t client_events(const struct shim_client *c)
{
	uint32_t ev = 0;
	if (c->readable && !S.stdin_len)
		ev |= EPOLLIN;
	if (c->spill_wr > c->spill_rd)
		ev |= EPOLLOUT;
	return ev;
}

static void client_rearm(size_t idx)
{
	struct shim_client *c = &S.clients[idx];
	if (c->fd >= 0)
		shim_watch_mod(c->fd, client_events(c), SHIM_TAG(T_CLIENT, idx));
}

void shim_attach_accept(void)
{
	for (;;) {
		int fd = accept4(S.attach_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				shim_warn("accept on the attach socket: %s", strerrorname_np(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		size_t idx = 0;
		while (idx < S.n_clients && S.clients[idx].fd >= 0)
			idx++;
		if (idx == S.n_clients) {
			struct shim_client *nc = realloc(S.clients, (S.n_clients + 1) * sizeof(*nc));
			if (!nc) {
				close(fd);
				shim_warn("attach client: out of memory");
				return;
			}
			S.clients = nc;
			S.n_clients++;
		}
		struct shim_client *c = &S.clients[idx];
		*c = (struct shim_client){ .fd = fd, .readable = true, .spill_fd = -1 };
		struct sk_err err;
		if (shim_watch(fd, client_events(c), SHIM_TAG(T_CLIENT, idx), &err) < 0) {
			shim_warn("%s", err.msg);
			close(fd);
			c->fd = -1;
			continue;
		}
		shim_debug("attach client %zu connected", idx);
	}
}

static int spill_open(void)
{
	if (S.endpoint_dir >= 0) {
		int fd = openat(S.endpoint_dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
	}
	const char *tmp = getenv("TMPDIR");
	const char *dirs[] = { tmp && *tmp ? tmp : "/tmp", "/tmp" };
	for (size_t i = 0; i < 2; i++) {
		int fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* Append one message to the client's backlog: a 2-byte length, then it. */
static bool enqueue(struct shim_client *c, const char *msg, size_t len)
{
	if (c->spill_wr - c->spill_rd + (off_t)len + 2 > SHIM_BACKLOG)
		return false;
	if (c->spill_fd < 0 && (c->spill_fd = spill_open()) < 0)
		return false;
	uint16_t l = (uint16_t)len;
	struct iovec iov[] = { { &l, 2 }, { (void *)msg, len } };
	ssize_t n = pwritev(c->spill_fd, iov, 2, c->spill_wr);
	if (n != (ssize_t)(len + 2))
		return false;
	c->spill_wr += n;
	return true;
}

static struct timespec last_progress;

/* Send from the backlog what the client takes; false when it is gone. */
static bool flush_queue(struct shim_client *c)
{
	static char buf[4 * (SHIM_READ_MAX + 3)];
	while (c->spill_rd < c->spill_wr) {
		ssize_t n = pread(c->spill_fd, buf, sizeof(buf), c->spill_rd);
		if (n < 2)
			return false;
		size_t off = 0;
		for (;;) {
			uint16_t l;
			if (off + 2 > (size_t)n)
				break;
			memcpy(&l, buf + off, 2);
			if (off + 2 + l > (size_t)n)
				break;
			if (send(c->fd, buf + off + 2, l, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				c->spill_rd += (off_t)off;
				return errno == EAGAIN || errno == EINTR;
			}
			clock_gettime(CLOCK_MONOTONIC, &last_progress);
			off += 2u + l;
		}
		c->spill_rd += (off_t)off;
	}
	/* Empty: start the file over. */
	if (ftruncate(c->spill_fd, 0) < 0)
		return false;
	c->spill_rd = c->spill_wr = 0;
	return true;
}

void shim_clients_send(int type, const char *msg, size_t len)
{
	(void)type;
	for (size_t i = 0; i < S.n_clients; i++) {
		struct shim_client *c = &S.clients[i];
		if (c->fd < 0)
			continue;
		bool was_empty = c->spill_wr == c->spill_rd;
		if (was_empty) {
			if (send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
				continue;
			if (errno != EAGAIN && errno != EINTR) {
				client_drop(c);
				continue;
			}
		}
		if (!enqueue(c, msg, len)) {
			shim_warn("attach client %zu: more than %lld bytes behind, or no room for its backlog: "
				  "disconnected", i, (long long)SHIM_BACKLOG);
			client_drop(c);
			continue;
		}
		if (was_empty)
			client_rearm(i);
	}
}

static void clients_rearm_all(void)
{
	for (size_t i = 0; i < S.n_clients; i++)
		client_rearm(i);
}

void shim_stdin_close(void)
{
	if (S.in_fd < 0 || !S.o.stdin_ || S.o.leave_stdin_open)
		return;
	if (S.stdin_len) {
		stdin_close_pending = true;
		return;
	}
	close(S.in_fd);
	S.in_fd = -1;
	S.in_wanted = false;
}

static void stdin_drop(void)
{
	if (S.stdin_len)
		shim_unwatch(S.in_fd);
	close(S.in_fd);
	S.in_fd = -1;
	S.in_wanted = false;
	S.stdin_len = S.stdin_off = 0;
	clients_rearm_all();
}

/* Write pending stdin; true when nothing is left. */
static bool stdin_push(void)
{
	while (S.stdin_off < S.stdin_len) {
		ssize_t n = write(S.in_fd, S.stdin_buf + S.stdin_off, S.stdin_len - S.stdin_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return false;
			/* The container closed its stdin. */
			stdin_drop();
			return true;
		}
		S.stdin_off += (size_t)n;
	}
	S.stdin_len = S.stdin_off = 0;
	return true;
}

void shim_stdin_writable(void)
{
	if (S.in_fd < 0 || !stdin_push())
		return;
	if (S.in_fd >= 0)
		shim_unwatch(S.in_fd);
	clients_rearm_all();
	if (stdin_close_pending) {
		stdin_close_pending = false;
		shim_stdin_close();
	}
}

static void client_read(size_t idx)
{
	struct shim_client *c = &S.clients[idx];
	if (!S.stdin_buf) {
		S.stdin_buf = malloc(SHIM_STDIN_MAX);
		if (!S.stdin_buf)
			return;
	}
	ssize_t n = recv(c->fd, S.stdin_buf, SHIM_STDIN_MAX, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_drop(c);
		return;
	}
	if (n == 0) {
		/* The client is done sending; it may still read output. */
		shutdown(c->fd, SHUT_RD);
		c->readable = false;
		client_rearm(idx);
		shim_stdin_close();
		return;
	}
	if (!S.in_wanted || S.in_fd < 0)
		return;
	S.stdin_len = (size_t)n;
	S.stdin_off = 0;
	if (stdin_push())
		return;
	/* The container is not reading: take no more from anyone until it
	 * does. */
	struct sk_err err;
	if (shim_watch(S.in_fd, EPOLLOUT, SHIM_TAG(T_IN, 0), &err) < 0) {
		shim_warn("%s", err.msg);
		stdin_drop();
		return;
	}
	clients_rearm_all();
}

void shim_client_event(size_t idx, uint32_t events)
{
	if (idx >= S.n_clients || S.clients[idx].fd < 0)
		return;
	struct shim_client *c = &S.clients[idx];
	if (events & EPOLLOUT) {
		if (!flush_queue(c)) {
			client_drop(c);
			return;
		}
		if (c->spill_wr == c->spill_rd)
			client_rearm(idx);
	}
	if ((events & EPOLLIN) && c->readable)
		client_read(idx);
	if (c->fd >= 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		client_drop(c);
}

static bool no_backlog(void)
{
	for (size_t i = 0; i < S.n_clients; i++) {
		if (S.clients[i].fd >= 0 && S.clients[i].spill_wr > S.clients[i].spill_rd)
			return false;
	}
	return true;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

void shim_clients_finish(int ms)
{
	clock_gettime(CLOCK_MONOTONIC, &last_progress);
	while (!no_backlog()) {
		long idle = ms_since(&last_progress);
		if (idle >= ms)
			break;
		shim_loop_run(no_backlog, (int)(ms - idle));
	}
	for (size_t i = 0; i < S.n_clients; i++)
		client_drop(&S.clients[i]);
	if (S.attach_fd >= 0) {
		shim_unwatch(S.attach_fd);
		close(S.attach_fd);
		S.attach_fd = -1;
	}
	if (S.attach_symlink) {
		unlink(S.attach_symlink);
		free(S.attach_symlink);
		S.attach_symlink = NULL;
	}
}

/* ---- ctl ---- */

void shim_apply_winsize(void)
{
	if (!S.out_is_pty || S.out_fd < 0 || S.win_rows < 0)
		return;
	struct winsize ws = { .ws_row = (unsigned short)S.win_rows, .ws_col = (unsigned short)S.win_cols };
	if (ioctl(S.out_fd, TIOCSWINSZ, &ws) < 0)
		shim_warn("resize the pty: %s", strerrorname_np(errno));
}

static void ctl_line(const char *line)
{
	int type, h, w;
	if (sscanf(line, "%d %d %d", &type, &h, &w) != 3) {
		shim_warn("ctl: malformed message \"%.40s\"", line);
		return;
	}
	switch (type) {
	case 1:
		if (h < 0 || w < 0 || h > 65535 || w > 65535) {
			shim_warn("ctl: bad window size %d x %d", h, w);
			return;
		}
		S.win_rows = h;
		S.win_cols = w;
		shim_apply_winsize();
		break;
	case 2:
		shim_logs_reopen();
		break;
	default:
		shim_warn("ctl: unknown message type %d", type);
		break;
	}
}

void shim_ctl_ready(void)
{
	static char buf[201];
	static size_t len;
	for (;;) {
		ssize_t n = read(S.ctl_fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		char *p = buf, *nl;
		while ((nl = memchr(p, '\n', len - (size_t)(p - buf)))) {
			*nl = '\0';
			ctl_line(p);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
		if (len == sizeof(buf) - 1) {
			shim_warn("ctl: no newline in %zu bytes: dropped", len);
			len = 0;
		}
	}
}

/* ---- sd-notify ---- */

int shim_notify_setup(struct sk_err *err)
{
	if (!S.o.sdnotify_socket || !S.o.bundle)
		return 0;
	int b = open(S.o.bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b < 0)
		return sk_error(err, errno, "open \"%s\"", S.o.bundle);
	if (mkdirat(b, "notify", 0755) < 0 && errno != EEXIST) {
		sk_error(err, errno, "mkdir \"%s/notify\"", S.o.bundle);
		close(b);
		return -1;
	}
	int d = openat(b, "notify", O_PATH | O_DIRECTORY | O_CLOEXEC);
	close(b);
	if (d < 0)
		return sk_error(err, errno, "open \"%s/notify\"", S.o.bundle);
	S.notify_fd = bind_in_dir(d, "notify.sock", SOCK_DGRAM, 0777, err);
	close(d);
	if (S.notify_fd < 0)
		return -1;
	S.notify_host_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (S.notify_host_fd < 0)
		return sk_error(err, errno, "socket for \"%s\"", S.o.sdnotify_socket);
	return shim_watch(S.notify_fd, EPOLLIN, SHIM_TAG(T_NOTIFY, 0), err);
}

void shim_notify_ready(void)
{
	char buf[4097];
	ssize_t n = recv(S.notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0 && errno == EINTR)
		n = recv(S.notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *msg = strstr(buf, "READY=1") ? "READY=1" : strstr(buf, "WATCHDOG=1") ? "WATCHDOG=1" : NULL;
	if (!msg)
		return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", S.o.sdnotify_socket);
	if (sendto(S.notify_host_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		shim_warn("sd-notify to \"%s\": %s", S.o.sdnotify_socket, strerrorname_np(errno));
}

void shim_notify_drain(void)
{
	int pending = 0;
	while (S.notify_fd >= 0 && ioctl(S.notify_fd, FIONREAD, &pending) == 0 && pending > 0)
		shim_notify_ready();
}
