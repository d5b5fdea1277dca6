/* containerd-shim-skiff-v2: containerd's runtime v2 shim (docs/shim.md).
 *   containerd-shim-skiff-v2 [flags] start    (manage.h)
 *   containerd-shim-skiff-v2 [flags] delete   (manage.h)
 *   containerd-shim-skiff-v2 [flags]          serve the Task service (task.h)
 *                                             over ttrpc on fd 3 (or -socket)
 * Serving, the shim is a child subreaper with one epoll loop (core/loop.h)
 * for every container of its group; its diagnostics go to the bundle's
 * `log` FIFO, which containerd copies into its own log. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/loop.h"
#include "manage.h"
#include "opts.h"
#include "publish.h"
#include "task.h"
#include "ttrpc.h"

#define SHIM_NAME "containerd-shim-skiff-v2"
#define SHIM_VERSION "0.1.0"

struct conn {
	struct ttrpc_conn c;         /* first: a ttrpc_conn * is a conn * */
	struct conn *next;
};

static struct shim_loop loop;
static struct shim_reaper reaper;
static struct ctrd_service svc;
static struct conn *conns;
static int listen_fd = -1;

static void conn_drop(struct conn *k)
{
	ctrd_service_conn_closed(&svc, &k->c);
	shim_loop_unwatch(&loop, k->c.fd);
	ttrpc_conn_close(&k->c);
	for (struct conn **pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	free(k);
}

/* Write what is queued and watch for room while something is left.  A
 * broken connection is dropped by its handler, not here (this may run
 * inside it). */
static void conn_flush(struct ttrpc_conn *c)
{
	struct sk_err err;
	if (ttrpc_conn_flush(c, &err) < 0)
		shim_debug("%s", err.msg);
	shim_loop_modify(&loop, c->fd, EPOLLIN | (ttrpc_conn_pending(c) ? EPOLLOUT : 0));
}

static void conn_ready(void *ctx, uint32_t events)
{
	struct conn *k = ctx;
	struct sk_err err;
	for (;;) {
		struct ttrpc_hdr h;
		const uint8_t *data;
		if (ttrpc_conn_read(&k->c, &err) < 0)
			goto drop;
		int got = ttrpc_conn_next(&k->c, &h, &data, &err);
		if (got < 0)
			goto drop;
		if (got == 0)
			break;
		if (ttrpc_serve_frame(&k->c, &h, data, ctrd_task_methods, ctrd_task_n_methods, &svc, &err) < 0)
			goto drop;
	}
	if (ttrpc_conn_flush(&k->c, &err) < 0 || k->c.eof)
		goto drop;
	shim_loop_modify(&loop, k->c.fd, EPOLLIN | (ttrpc_conn_pending(&k->c) ? EPOLLOUT : 0));
	return;
drop:
	if (!k->c.eof)
		shim_debug("ttrpc connection: %s", err.msg);
	conn_drop(k);
}

static void accept_ready(void *ctx, uint32_t events)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				shim_warn("accept: %s", strerrorname_np(errno));
			return;
		}
		struct conn *k = calloc(1, sizeof(*k));
		struct sk_err err;
		if (!k) {
			close(fd);
			continue;
		}
		ttrpc_conn_init(&k->c, fd);
		if (shim_loop_watch(&loop, fd, EPOLLIN, conn_ready, k, &err) < 0) {
			shim_warn("%s", err.msg);
			ttrpc_conn_close(&k->c);
			free(k);
			continue;
		}
		k->next = conns;
		conns = k;
	}
}

static void on_signal(void *ctx, int sig)
{
	if (sig == SIGCHLD) {
		shim_reap(&reaper);
		return;
	}
	/* containerd stops a shim with Shutdown; a signal to stop is obeyed
	 * only when no container is left to lose. */
	if (!svc.tasks)
		svc.shutdown = true;
	else
		shim_warn("signal %d: containers are running; use Shutdown", sig);
}

static bool done(void *ctx)
{
	return svc.shutdown;
}

/* The socket's path, from the bundle's `address` file (start wrote it),
 * read at startup: the bundle may be gone by the time the shim exits.
 * Removed at exit, as containerd's shims do. */
static char socket_path[256];

static void note_socket(void)
{
	char buf[sizeof(socket_path) + 8];
	ssize_t n = 0;
	int fd = open("address", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 7 && !strncmp(buf, "unix://", 7) && (size_t)n - 7 < sizeof(socket_path)) {
		memcpy(socket_path, buf + 7, (size_t)n - 7);
		socket_path[n - 7] = '\0';
	}
}

static int serve(const struct ctrd_opts *o, struct sk_err *err)
{
	/* The bundle's log FIFO (containerd reads it) as our stderr. */
	int logfd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (logfd >= 0) {
		dup2(logfd, STDERR_FILENO);
		close(logfd);
	}
	shim_diag_init(o->debug ? SHIM_L_DEBUG : SHIM_L_INFO, false, o->id);
	signal(SIGPIPE, SIG_IGN);
	if (!o->socket)
		note_socket();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		shim_warn("PR_SET_CHILD_SUBREAPER: %s", strerrorname_np(errno));
	if (o->socket) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(o->socket) >= sizeof(sa.sun_path))
			return sk_error(err, ENAMETOOLONG, "-socket %s", o->socket);
		strcpy(sa.sun_path, o->socket);
		listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 64) < 0)
			return sk_error(err, errno, "listen on %s", o->socket);
	} else {
		listen_fd = 3;
		if (fcntl(listen_fd, F_SETFD, FD_CLOEXEC) < 0)
			return sk_error(err, errno, "the socket (fd 3)");
	}
	if (fcntl(listen_fd, F_SETFL, O_NONBLOCK) < 0)
		return sk_error(err, errno, "the socket: O_NONBLOCK");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	shim_reaper_init(&reaper, &loop);
	if (shim_loop_init(&loop, &set, on_signal, NULL, err) < 0)
		return -1;
	svc = (struct ctrd_service){ .loop = &loop, .reaper = &reaper, .ns = o->namespace };
	ctrd_service_set(&svc);
	ctrd_conn_flush = conn_flush;
	ctrd_publish_init(getenv("TTRPC_ADDRESS"), o->namespace);
	if (shim_loop_watch(&loop, listen_fd, EPOLLIN, accept_ready, NULL, err) < 0)
		return -1;
	shim_debug("serving %s", o->id ? o->id : "");
	if (shim_loop_run(&loop, done, NULL, -1, err) < 0)
		return -1;
	/* Shutdown's answer goes out before we do. */
	for (struct conn *k = conns; k; k = k->next) {
		struct sk_err ignored;
		ttrpc_conn_flush(&k->c, &ignored);
	}
	if (socket_path[0])
		unlink(socket_path);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctrd_opts o;
	struct sk_err err = { 0 };
	if (ctrd_opts_parse(argc, argv, &o, &err) < 0) {
		fprintf(stderr, "%s: %s\n", SHIM_NAME, err.msg);
		return 2;
	}
	if (o.version) {
		printf("%s:\n  Version:  %s\n", SHIM_NAME, SHIM_VERSION);
		return 0;
	}
	if (!o.namespace || !*o.namespace) {
		fprintf(stderr, "%s: shim namespace cannot be empty\n", SHIM_NAME);
		return 1;
	}
	int rc;
	if (!o.action)
		rc = serve(&o, &err);
	else if (!strcmp(o.action, "start"))
		rc = ctrd_start(&o, &err);
	else if (!strcmp(o.action, "delete"))
		rc = ctrd_delete(&o, &err);
	else
		rc = sk_error(&err, 0, "unknown action \"%s\" (start, delete, or none to serve)", o.action);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", SHIM_NAME, err.msg);
		return 1;
	}
	return 0;
}
