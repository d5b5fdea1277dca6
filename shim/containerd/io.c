/* containerd's stdio for a process (io.h). */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/output.h"
#include "logger.h"

/* Open an output destination; -1 in *fd for none. */
static int open_out(const char *uri, int *fd, struct sk_err *err)
{
	*fd = -1;
	if (!uri || !*uri)
		return 0;
	if (!strncmp(uri, "file://", 7)) {
		const char *path = uri + 7;
		if (path[0] != '/')
			return sk_error(err, EINVAL, "log URI %s: not an absolute path", uri);
		*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (*fd < 0)
			return sk_error(err, errno, "open %s", path);
		return 0;
	}
	if (strstr(uri, "://"))
		return sk_error(err, ENOTSUP, "stdio URI %s: only FIFOs and file:// are supported", uri);
	/* A FIFO: read-write, so that opening does not wait for containerd's
	 * reader and a reader that goes away (containerd restarting) does not
	 * make writes fail; non-blocking, so that it never stops the shim. */
	*fd = open(uri, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0)
		return sk_error(err, errno, "open %s", uri);
	return 0;
}

static int io_open(struct ctrd_io *io, struct shim_proc *p, const char *in, const char *out, const char *err_uri,
		   const char *id, const char *ns, struct sk_err *err)
{
	if (out && !strncmp(out, "binary://", 9)) {
		/* Both streams go to the program, whatever stderr names, as with
		 * containerd's shim. */
		if (ctrd_logger_start(out, id, ns, p->ctr->reaper, &io->out.fd, &io->err.fd, &io->logger, err) < 0)
			return -1;
	} else {
		if (open_out(out, &io->out.fd, err) < 0)
			return -1;
		if (err_uri && out && !strcmp(err_uri, out) && io->out.fd >= 0) {
			io->err.fd = fcntl(io->out.fd, F_DUPFD_CLOEXEC, 3);
			if (io->err.fd < 0)
				return sk_error(err, errno, "dup");
		} else if (open_out(err_uri, &io->err.fd, err) < 0) {
			return -1;
		}
	}
	if (in && *in) {
		if (strstr(in, "://"))
			return sk_error(err, ENOTSUP, "stdin URI %s: only FIFOs are supported", in);
		/* Read-write: no end of file before CloseIO says so. */
		io->in_src = open(in, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (io->in_src < 0)
			return sk_error(err, errno, "open %s", in);
	}
	return 0;
}

int ctrd_io_open(struct ctrd_io *io, struct shim_proc *p, const char *in, const char *out, const char *err_uri,
		 const char *id, const char *ns, struct sk_err *err)
{
	memset(io, 0, sizeof(*io));
	io->p = p;
	io->out.fd = io->err.fd = io->in_src = -1;
	io->out.type = 2;
	io->err.type = 3;
	if (io_open(io, p, in, out, err_uri, id, ns, err) < 0) {
		ctrd_io_close(io);
		return -1;
	}
	return 0;
}

static void wq_close(struct ctrd_io *io, struct ctrd_wq *q)
{
	if (q->fd < 0)
		return;
	shim_loop_unwatch(io->p->ctr->loop, q->fd);
	close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->len = q->off = 0;
}


/* Nothing waits any more: stop watching for room, read the stream again,
 * and close a destination whose stream has ended. */
static void wq_empty(struct ctrd_io *io, struct ctrd_wq *q)
{
	shim_loop_unwatch(io->p->ctr->loop, q->fd);
	free(q->buf);
	q->buf = NULL;
	q->len = q->off = 0;
	shim_output_hold(io->p, q->type, false);
	if (q->ended)
		wq_close(io, q);
}

/* Write what waits; false when the reader has no room for the rest. */
static bool wq_push(struct ctrd_io *io, struct ctrd_wq *q)
{
	while (q->off < q->len) {
		ssize_t w = write(q->fd, q->buf + q->off, q->len - q->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return false;
		if (w < 0) {
			/* The reader is gone for good (a logging program that
			 * ended): output has nowhere to go. */
			shim_warn("output of %d: %s: dropped from now on", (int)io->p->child.pid,
				  strerrorname_np(errno));
			q->broken = true;
			q->off = q->len;
			break;
		}
		q->off += (size_t)w;
	}
	return true;
}

static void wq_ready(void *ctx, uint32_t events)
{
	struct ctrd_io *io = ctx;
	struct ctrd_wq *qs[] = { &io->out, &io->err };
	(void)events;
	for (int i = 0; i < 2; i++) {
		struct ctrd_wq *q = qs[i];
		if (q->fd >= 0 && q->off < q->len && wq_push(io, q))
			wq_empty(io, q);
	}
}

static void wq_write(struct ctrd_io *io, struct ctrd_wq *q, const char *data, size_t len)
{
	if (q->fd < 0 || q->broken)
		return;
	bool idle = q->off == q->len;
	if (idle) {
		/* Nothing waits: straight to the reader. */
		ssize_t w;
		while ((w = write(q->fd, data, len)) < 0 && errno == EINTR)
			;
		if (w < 0 && errno != EAGAIN) {
			shim_warn("output of %d: %s: dropped from now on", (int)io->p->child.pid, strerrorname_np(errno));
			q->broken = true;
			return;
		}
		if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
		if (!len)
			return;
	}
	if (q->off) {
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	char *b = realloc(q->buf, q->len + len);
	if (!b) {
		/* Hold the stream instead: what was read waits in the pipe's
		 * place, the rest stays in the pipe. */
		shim_warn("output of %d: out of memory: %zu bytes dropped", (int)io->p->child.pid, len);
		shim_output_hold(io->p, q->type, true);
		return;
	}
	q->buf = b;
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	/* The core reads no more of it until the reader has taken this. */
	if (q->len >= CTRD_IO_HOLD)
		shim_output_hold(io->p, q->type, true);
	if (idle) {
		struct sk_err err;
		if (shim_loop_watch(io->p->ctr->loop, q->fd, EPOLLOUT, wq_ready, io, &err) < 0)
			shim_warn("%s", err.msg);
	}
}

void ctrd_io_sink(void *ctx, const char *msg, size_t len)
{
	struct ctrd_io *io = ctx;
	if (len < 1)
		return;
	wq_write(io, msg[0] == 3 ? &io->err : &io->out, msg + 1, len - 1);
}

void ctrd_io_end(void *ctx, int type)
{
	struct ctrd_io *io = ctx;
	struct ctrd_wq *q = type == 3 ? &io->err : &io->out;
	q->ended = true;
	if (q->off == q->len)
		wq_close(io, q);
}

static void stdin_ready(void *ctx, uint32_t events);

/* Move stdin bytes on; wait on whichever side is not ready. */
static void stdin_pump(struct ctrd_io *io)
{
	struct shim_loop *loop = io->p->ctr->loop;
	int dst = io->p->io.in_fd;
	for (;;) {
		if (io->in_off == io->in_len) {
			io->in_off = io->in_len = 0;
			ssize_t r = read(io->in_src, io->in_buf, sizeof(io->in_buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return; /* EAGAIN: the FIFO's watch brings more */
			io->in_len = (size_t)r;
		}
		if (dst < 0) {
			io->in_off = io->in_len; /* no stdin pipe: dropped */
			continue;
		}
		ssize_t w = write(dst, io->in_buf + io->in_off, io->in_len - io->in_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* The process is not reading: wait for room instead. */
			struct sk_err err;
			shim_loop_unwatch(loop, io->in_src);
			if (shim_loop_watch(loop, dst, EPOLLOUT, stdin_ready, io, &err) < 0)
				shim_warn("%s", err.msg);
			return;
		}
		if (w < 0) {
			ctrd_io_close_stdin(io);
			return;
		}
		io->in_off += (size_t)w;
	}
}

static void stdin_ready(void *ctx, uint32_t events)
{
	struct ctrd_io *io = ctx;
	int dst = io->p->io.in_fd;
	if (dst >= 0 && io->in_off < io->in_len) {
		/* We were waiting for room. */
		struct sk_err err;
		shim_loop_unwatch(io->p->ctr->loop, dst);
		if (shim_loop_watch(io->p->ctr->loop, io->in_src, EPOLLIN, stdin_ready, io, &err) < 0)
			shim_warn("%s", err.msg);
	}
	stdin_pump(io);
}

int ctrd_io_start_stdin(struct ctrd_io *io, struct sk_err *err)
{
	if (io->in_src < 0)
		return 0;
	return shim_loop_watch(io->p->ctr->loop, io->in_src, EPOLLIN, stdin_ready, io, err);
}

void ctrd_io_close_stdin(struct ctrd_io *io)
{
	struct shim_loop *loop = io->p->ctr->loop;
	if (io->in_src >= 0) {
		shim_loop_unwatch(loop, io->in_src);
		close(io->in_src);
		io->in_src = -1;
	}
	/* A pipe ends for the process; a pty's stdin is its output's fd, which
	 * stays. */
	if (io->p->io.in_fd >= 0 && !io->p->io.out_is_pty) {
		shim_loop_unwatch(loop, io->p->io.in_fd);
		close(io->p->io.in_fd);
		io->p->io.in_fd = -1;
	}
}

void ctrd_io_close(struct ctrd_io *io)
{
	struct ctrd_wq *qs[] = { &io->out, &io->err };
	ctrd_io_close_stdin(io);
	for (int i = 0; i < 2; i++) {
		struct ctrd_wq *q = qs[i];
		if (q->fd < 0)
			continue;
		if (q->off < q->len && !q->broken && write(q->fd, q->buf + q->off, q->len - q->off) < 0)
			shim_debug("last output: %s", strerrorname_np(errno));
		wq_close(io, q);
	}
	ctrd_logger_stop(io->logger);
	io->logger = NULL;
}
