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

#include "conmon.h"
#include "core/diag.h"
#include "core/runtime.h"

#define SHIM_BACKLOG ((off_t)256 << 20)

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

static void ctl_ready(void *ctx, uint32_t events);
static void attach_accept(void *ctx, uint32_t events);

static int ctl_setup(struct conmon *c, struct sk_err *err)
{
	int d = c->endpoint_dir;
	if (unlinkat(d, "ctl", 0) < 0 && errno != ENOENT)
		return sk_error(err, errno, "remove the stale ctl FIFO");
	if (mkfifoat(d, "ctl", 0660) < 0)
		return sk_error(err, errno, "mkfifo ctl");
	c->ctl_fd = openat(d, "ctl", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->ctl_fd < 0)
		return sk_error(err, errno, "open ctl");
	/* Our own writer: no HUP storm when a caller's writer closes. */
	c->ctl_dummy_fd = openat(d, "ctl", O_WRONLY | O_CLOEXEC);
	if (c->ctl_dummy_fd < 0)
		return sk_error(err, errno, "open ctl for writing");
	return shim_loop_watch(&c->loop, c->ctl_fd, EPOLLIN, ctl_ready, c, err);
}

int conmon_endpoints_setup(struct conmon *c, struct sk_err *err)
{
	const char *dir = c->o.state_dir ? c->o.state_dir : c->o.bundle;
	if (!dir || c->log_passthrough)
		return 0;
	c->endpoint_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->endpoint_dir < 0)
		return sk_error(err, errno, "open \"%s\"", dir);
	if (!c->o.full_attach && !c->o.state_dir) {
		/* CRI-O finds the socket at <socket-dir>/<cuuid>/attach. */
		const char *sd = c->o.socket_dir ? c->o.socket_dir : "/var/run/crio";
		char *link = shim_path_join(sd, c->o.cuuid);
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
		c->attach_symlink = link;
	}
	c->attach_fd = bind_in_dir(c->endpoint_dir, "attach", SOCK_SEQPACKET, 0700, err);
	if (c->attach_fd < 0)
		return -1;
	if (listen(c->attach_fd, 10) < 0)
		return sk_error(err, errno, "listen on \"%s/attach\"", dir);
	if (shim_loop_watch(&c->loop, c->attach_fd, EPOLLIN, attach_accept, c, err) < 0)
		return -1;
	return ctl_setup(c, err);
}

/* ---- clients ---- */

static void client_drop(struct shim_client *cl)
{
	if (cl->fd < 0)
		return;
	shim_loop_unwatch(&cl->c->loop, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	cl->readable = false;
	if (cl->spill_fd >= 0)
		close(cl->spill_fd);
	cl->spill_fd = -1;
	cl->spill_rd = cl->spill_wr = 0;
}

static uint32_t client_events(const struct shim_client *cl)
{
	uint32_t ev = 0;
	if (cl->readable && !cl->c->stdin_len)
		ev |= EPOLLIN;
	if (cl->spill_wr > cl->spill_rd)
		ev |= EPOLLOUT;
	return ev;
}

static void client_rearm(struct shim_client *cl)
{
	if (cl->fd >= 0)
		shim_loop_modify(&cl->c->loop, cl->fd, client_events(cl));
}

static void client_event(void *ctx, uint32_t events);

static void attach_accept(void *ctx, uint32_t events)
{
	struct conmon *c = ctx;
	(void)events;
	for (;;) {
		int fd = accept4(c->attach_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				shim_warn("accept on the attach socket: %s", strerrorname_np(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		size_t idx = 0;
		while (idx < c->n_clients && c->clients[idx]->fd >= 0)
			idx++;
		if (idx == c->n_clients) {
			struct shim_client **nc = realloc(c->clients, (c->n_clients + 1) * sizeof(*nc));
			struct shim_client *cl = malloc(sizeof(*cl));
			if (nc)
				c->clients = nc;
			if (!nc || !cl) {
				free(cl);
				close(fd);
				shim_warn("attach client: out of memory");
				return;
			}
			c->clients[c->n_clients++] = cl;
		}
		struct shim_client *cl = c->clients[idx];
		*cl = (struct shim_client){ .c = c, .fd = fd, .idx = idx, .readable = true, .spill_fd = -1 };
		struct sk_err err;
		if (shim_loop_watch(&c->loop, fd, client_events(cl), client_event, cl, &err) < 0) {
			shim_warn("%s", err.msg);
			close(fd);
			cl->fd = -1;
			continue;
		}
		shim_debug("attach client %zu connected", idx);
	}
}

static int spill_open(const struct conmon *c)
{
	if (c->endpoint_dir >= 0) {
		int fd = openat(c->endpoint_dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
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
static bool enqueue(struct shim_client *cl, const char *msg, size_t len)
{
	if (cl->spill_wr - cl->spill_rd + (off_t)len + 2 > SHIM_BACKLOG)
		return false;
	if (cl->spill_fd < 0 && (cl->spill_fd = spill_open(cl->c)) < 0)
		return false;
	uint16_t l = (uint16_t)len;
	struct iovec iov[] = { { &l, 2 }, { (void *)msg, len } };
	ssize_t n = pwritev(cl->spill_fd, iov, 2, cl->spill_wr);
	if (n != (ssize_t)(len + 2))
		return false;
	cl->spill_wr += n;
	return true;
}

/* Send from the backlog what the client takes; false when it is gone. */
static bool flush_queue(struct shim_client *cl)
{
	static char buf[4 * (SHIM_READ_MAX + 3)];
	while (cl->spill_rd < cl->spill_wr) {
		ssize_t n = pread(cl->spill_fd, buf, sizeof(buf), cl->spill_rd);
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
			if (send(cl->fd, buf + off + 2, l, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
				cl->spill_rd += (off_t)off;
				return errno == EAGAIN || errno == EINTR;
			}
			clock_gettime(CLOCK_MONOTONIC, &cl->c->last_progress);
			off += 2u + l;
		}
		cl->spill_rd += (off_t)off;
	}
	/* Empty: start the file over. */
	if (ftruncate(cl->spill_fd, 0) < 0)
		return false;
	cl->spill_rd = cl->spill_wr = 0;
	return true;
}

void conmon_clients_send(void *ctx, const char *msg, size_t len)
{
	struct conmon *c = ctx;
	for (size_t i = 0; i < c->n_clients; i++) {
		struct shim_client *cl = c->clients[i];
		if (cl->fd < 0)
			continue;
		bool was_empty = cl->spill_wr == cl->spill_rd;
		if (was_empty) {
			if (send(cl->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
				continue;
			if (errno != EAGAIN && errno != EINTR) {
				client_drop(cl);
				continue;
			}
		}
		if (!enqueue(cl, msg, len)) {
			shim_warn("attach client %zu: more than %lld bytes behind, or no room for its backlog: "
				  "disconnected", i, (long long)SHIM_BACKLOG);
			client_drop(cl);
			continue;
		}
		if (was_empty)
			client_rearm(cl);
	}
}

static void clients_rearm_all(struct conmon *c)
{
	for (size_t i = 0; i < c->n_clients; i++)
		client_rearm(c->clients[i]);
}

/* Close the container's stdin when the last reader asks (-i, and not
 * --leave-stdin-open). */
static void stdin_close(struct conmon *c)
{
	struct shim_stdio *io = &c->proc->io;
	if (io->in_fd < 0 || !c->o.stdin_ || c->o.leave_stdin_open)
		return;
	if (c->stdin_len) {
		c->stdin_close_pending = true;
		return;
	}
	close(io->in_fd);
	io->in_fd = -1;
}

static void stdin_drop(struct conmon *c)
{
	struct shim_stdio *io = &c->proc->io;
	if (c->stdin_len)
		shim_loop_unwatch(&c->loop, io->in_fd);
	close(io->in_fd);
	io->in_fd = -1;
	c->stdin_len = c->stdin_off = 0;
	clients_rearm_all(c);
}

/* Write pending stdin; true when nothing is left. */
static bool stdin_push(struct conmon *c)
{
	struct shim_stdio *io = &c->proc->io;
	while (c->stdin_off < c->stdin_len) {
		ssize_t n = write(io->in_fd, c->stdin_buf + c->stdin_off, c->stdin_len - c->stdin_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return false;
			/* The container closed its stdin. */
			stdin_drop(c);
			return true;
		}
		c->stdin_off += (size_t)n;
	}
	c->stdin_len = c->stdin_off = 0;
	return true;
}

static void stdin_writable(void *ctx, uint32_t events)
{
	struct conmon *c = ctx;
	struct shim_stdio *io = &c->proc->io;
	(void)events;
	if (io->in_fd < 0 || !stdin_push(c))
		return;
	if (io->in_fd >= 0)
		shim_loop_unwatch(&c->loop, io->in_fd);
	clients_rearm_all(c);
	if (c->stdin_close_pending) {
		c->stdin_close_pending = false;
		stdin_close(c);
	}
}

static void client_read(struct shim_client *cl)
{
	struct conmon *c = cl->c;
	struct shim_stdio *io = &c->proc->io;
	if (!c->stdin_buf) {
		c->stdin_buf = malloc(SHIM_STDIN_MAX);
		if (!c->stdin_buf)
			return;
	}
	ssize_t n = recv(cl->fd, c->stdin_buf, SHIM_STDIN_MAX, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_drop(cl);
		return;
	}
	if (n == 0) {
		/* The client is done sending; it may still read output. */
		shutdown(cl->fd, SHUT_RD);
		cl->readable = false;
		client_rearm(cl);
		stdin_close(c);
		return;
	}
	/* Without -i (or a terminal) there is nowhere for stdin to go. */
	if (io->in_fd < 0)
		return;
	c->stdin_len = (size_t)n;
	c->stdin_off = 0;
	if (stdin_push(c))
		return;
	/* The container is not reading: take no more from anyone until it
	 * does. */
	struct sk_err err;
	if (shim_loop_watch(&c->loop, io->in_fd, EPOLLOUT, stdin_writable, c, &err) < 0) {
		shim_warn("%s", err.msg);
		stdin_drop(c);
		return;
	}
	clients_rearm_all(c);
}

static void client_event(void *ctx, uint32_t events)
{
	struct shim_client *cl = ctx;
	if (cl->fd < 0)
		return;
	if (events & EPOLLOUT) {
		if (!flush_queue(cl)) {
			client_drop(cl);
			return;
		}
		if (cl->spill_wr == cl->spill_rd)
			client_rearm(cl);
	}
	if ((events & EPOLLIN) && cl->readable)
		client_read(cl);
	if (cl->fd >= 0 && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
		client_drop(cl);
}

static bool no_backlog(void *ctx)
{
	const struct conmon *c = ctx;
	for (size_t i = 0; i < c->n_clients; i++) {
		if (c->clients[i]->fd >= 0 && c->clients[i]->spill_wr > c->clients[i]->spill_rd)
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

void conmon_clients_finish(struct conmon *c, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, &c->last_progress);
	while (!no_backlog(c)) {
		long idle = ms_since(&c->last_progress);
		if (idle >= ms)
			break;
		struct sk_err err;
		if (shim_loop_run(&c->loop, no_backlog, c, (int)(ms - idle), &err) < 0)
			shim_fatal(&err);
	}
	for (size_t i = 0; i < c->n_clients; i++)
		client_drop(c->clients[i]);
	if (c->attach_fd >= 0) {
		shim_loop_unwatch(&c->loop, c->attach_fd);
		close(c->attach_fd);
		c->attach_fd = -1;
	}
	if (c->attach_symlink) {
		unlink(c->attach_symlink);
		free(c->attach_symlink);
		c->attach_symlink = NULL;
	}
}

/* ---- ctl ---- */

static void ctl_line(struct conmon *c, const char *line)
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
		shim_stdio_resize(c->proc, h, w);
		break;
	case 2:
		shim_output_reopen(c->proc);
		break;
	default:
		shim_warn("ctl: unknown message type %d", type);
		break;
	}
}

static void ctl_ready(void *ctx, uint32_t events)
{
	struct conmon *c = ctx;
	char *buf = c->ctl_buf;
	(void)events;
	for (;;) {
		ssize_t n = read(c->ctl_fd, buf + c->ctl_len, sizeof(c->ctl_buf) - 1 - c->ctl_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		c->ctl_len += (size_t)n;
		buf[c->ctl_len] = '\0';
		char *p = buf, *nl;
		while ((nl = memchr(p, '\n', c->ctl_len - (size_t)(p - buf)))) {
			*nl = '\0';
			ctl_line(c, p);
			p = nl + 1;
		}
		c->ctl_len -= (size_t)(p - buf);
		memmove(buf, p, c->ctl_len);
		if (c->ctl_len == sizeof(c->ctl_buf) - 1) {
			shim_warn("ctl: no newline in %zu bytes: dropped", c->ctl_len);
			c->ctl_len = 0;
		}
	}
}

/* ---- sd-notify ---- */

static void notify_ready(void *ctx, uint32_t events);

int conmon_notify_setup(struct conmon *c, struct sk_err *err)
{
	if (!c->o.sdnotify_socket || !c->o.bundle)
		return 0;
	int b = open(c->o.bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b < 0)
		return sk_error(err, errno, "open \"%s\"", c->o.bundle);
	if (mkdirat(b, "notify", 0755) < 0 && errno != EEXIST) {
		sk_error(err, errno, "mkdir \"%s/notify\"", c->o.bundle);
		close(b);
		return -1;
	}
	int d = openat(b, "notify", O_PATH | O_DIRECTORY | O_CLOEXEC);
	close(b);
	if (d < 0)
		return sk_error(err, errno, "open \"%s/notify\"", c->o.bundle);
	c->notify_fd = bind_in_dir(d, "notify.sock", SOCK_DGRAM, 0777, err);
	close(d);
	if (c->notify_fd < 0)
		return -1;
	c->notify_host_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->notify_host_fd < 0)
		return sk_error(err, errno, "socket for \"%s\"", c->o.sdnotify_socket);
	return shim_loop_watch(&c->loop, c->notify_fd, EPOLLIN, notify_ready, c, err);
}

static void notify_ready(void *ctx, uint32_t events)
{
	struct conmon *c = ctx;
	char buf[4097];
	(void)events;
	ssize_t n = recv(c->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0 && errno == EINTR)
		n = recv(c->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *msg = strstr(buf, "READY=1") ? "READY=1" : strstr(buf, "WATCHDOG=1") ? "WATCHDOG=1" : NULL;
	if (!msg)
		return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->o.sdnotify_socket);
	if (sendto(c->notify_host_fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		shim_warn("sd-notify to \"%s\": %s", c->o.sdnotify_socket, strerrorname_np(errno));
}

void conmon_notify_drain(struct conmon *c)
{
	int pending = 0;
	while (c->notify_fd >= 0 && ioctl(c->notify_fd, FIONREAD, &pending) == 0 && pending > 0)
		notify_ready(c, EPOLLIN);
}
