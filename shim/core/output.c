/* output: what a process writes, read in pieces of at most 8 KiB and sent
 * to each log driver and to the process's sink (core/output.h).
 *
 * k8s-file records, as podman and the kubelet parse them:
 *   2006-01-02T15:04:05.000000000+07:00 stdout F text\n
 * local time with nanoseconds and a numeric offset, one timestamp per
 * read; each read is cut at newlines: a line with its newline is an F
 * record, a tail without one a P record (given a newline).  No F record is
 * invented for a tail left at exit: CRI-O and the kubelet took that badly
 * when conmon tried it.
 * size_max N: the file never passes N bytes; when the next record
 * would, it is renamed to PATH.1 (replacing an older one) and a new file
 * starts: the last N bytes or more are kept, where conmon truncated.  The
 * count starts at the file's size, so restarts do not let it grow.
 * global_size_max N: nothing more is written after N bytes.
 * journald: the native protocol on /run/systemd/journal/socket, with
 * conmon's fields; lines are kept whole up to 8 KiB. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/ctr.h"
#include "core/diag.h"
#include "core/output.h"
#include "skiff/base/util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

enum stream { OUT, ERR };

static int k8s_open(struct shim_output *o, struct sk_err *err)
{
	o->k8s_fd = open(o->cfg.k8s_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (o->k8s_fd < 0)
		return sk_error(err, errno, "open log file \"%s\"", o->cfg.k8s_path);
	struct stat sb;
	o->k8s_bytes = fstat(o->k8s_fd, &sb) == 0 ? (int64_t)sb.st_size : 0;
	return 0;
}

struct shim_jpartial {
	char data[SHIM_READ_MAX];
	size_t len;
};

int shim_output_open(struct shim_proc *p, struct sk_err *err)
{
	struct shim_output *o = &p->out;
	if (o->cfg.k8s_path && k8s_open(o, err) < 0)
		return -1;
	if (o->cfg.journald) {
		if (access(JOURNAL_SOCKET, F_OK) < 0)
			return sk_error(err, errno, "journald logging: \"%s\"", JOURNAL_SOCKET);
		o->jpart = calloc(2, sizeof(*o->jpart));
		if (!o->jpart)
			return sk_error(err, ENOMEM, "journald logging");
		o->journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (o->journal_fd < 0)
			return sk_error(err, errno, "journald logging: socket");
	}
	return 0;
}

void shim_output_sync(struct shim_proc *p)
{
	struct shim_output *o = &p->out;
	if (o->k8s_fd >= 0 && !o->cfg.no_sync && fsync(o->k8s_fd) < 0)
		shim_warn("fsync \"%s\": %s", o->cfg.k8s_path, strerrorname_np(errno));
}

void shim_output_reopen(struct shim_proc *p)
{
	struct shim_output *o = &p->out;
	if (o->k8s_fd < 0)
		return;
	shim_output_sync(p);
	close(o->k8s_fd);
	o->k8s_fd = -1;
	struct sk_err err;
	if (k8s_open(o, &err) < 0)
		shim_warn("reopen: %s", err.msg);
}

/* ---- k8s-file ---- */

/* One buffer for every process: each write empties it. */
static char obuf[32768];
static size_t olen;

static void ob_flush(struct shim_output *o)
{
	if (!olen)
		return;
	if (o->k8s_fd >= 0 && sk_write_all(o->k8s_fd, obuf, olen) < 0 && !o->write_failed) {
		/* Said once; output goes on to the sink meanwhile. */
		o->write_failed = true;
		shim_warn("write \"%s\": %s", o->cfg.k8s_path, strerrorname_np(errno));
	}
	olen = 0;
}

static void ob_put(struct shim_output *o, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		if (olen == sizeof(obuf))
			ob_flush(o);
		size_t k = sizeof(obuf) - olen < n ? sizeof(obuf) - olen : n;
		memcpy(obuf + olen, c, k);
		olen += k;
		c += k;
		n -= k;
	}
}

static void k8s_rotate(struct shim_proc *p)
{
	struct shim_output *o = &p->out;
	ob_flush(o);
	shim_output_sync(p);
	size_t len = strlen(o->cfg.k8s_path);
	char *old = malloc(len + 3);
	if (old) {
		memcpy(old, o->cfg.k8s_path, len);
		memcpy(old + len, ".1", 3);
		if (rename(o->cfg.k8s_path, old) < 0)
			shim_warn("rotate \"%s\": %s", o->cfg.k8s_path, strerrorname_np(errno));
		free(old);
	}
	shim_output_reopen(p);
}

/* "2006-01-02T15:04:05.000000000+07:00 stdout " */
static size_t k8s_prefix(char *buf, size_t cap, const char *stream)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%c%02ld:%02ld %s ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, sign, off / 3600,
			 (off % 3600) / 60, stream);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void k8s_write(struct shim_proc *p, const char *stream, const char *buf, size_t len)
{
	struct shim_output *o = &p->out;
	char prefix[64];
	size_t plen = k8s_prefix(prefix, sizeof(prefix), stream);
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t line = nl ? (size_t)(nl - buf) + 1 : len;
		bool partial = !nl;
		int64_t rec = (int64_t)(plen + 2 + line + (partial ? 1 : 0));
		if (o->cfg.global_size_max > 0 && o->total_bytes >= o->cfg.global_size_max)
			break;
		if (o->cfg.size_max > 0 && o->k8s_bytes + rec > o->cfg.size_max && o->k8s_bytes > 0)
			k8s_rotate(p);
		ob_put(o, prefix, plen);
		ob_put(o, partial ? "P " : "F ", 2);
		ob_put(o, buf, line);
		if (partial)
			ob_put(o, "\n", 1);
		o->k8s_bytes += rec;
		o->total_bytes += rec;
		buf += line;
		len -= line;
	}
	ob_flush(o);
}

/* ---- journald ---- */

static void journal_send(struct shim_output *o, int type, const char *a, size_t alen, const char *b, size_t blen,
			 bool partial)
{
	if (o->journal_fd < 0)
		return;
	char head[512];
	const char *tag = o->cfg.journal_tag, *name = o->cfg.journal_name;
	char shortid[13];
	memcpy(shortid, o->cfg.journal_id, 12);
	shortid[12] = '\0';
	const char *ident = tag ? tag : name ? name : shortid;
	int h = snprintf(head, sizeof(head), "CONTAINER_ID_FULL=%s\nCONTAINER_ID=%s\nPRIORITY=%d\n%s%s%s%s%s%sSYSLOG_IDENTIFIER=%s\n%s",
			 o->cfg.journal_id, shortid, type == 3 ? 3 : 6, tag ? "CONTAINER_TAG=" : "", tag ? tag : "",
			 tag ? "\n" : "", name ? "CONTAINER_NAME=" : "", name ? name : "", name ? "\n" : "", ident,
			 partial ? "CONTAINER_PARTIAL_MESSAGE=true\n" : "");
	if (h < 0 || (size_t)h >= sizeof(head))
		return;
	/* MESSAGE in the binary form: a name, a newline, a little-endian
	 * 64-bit length, the bytes, a newline; any byte may be in it. */
	uint64_t n = (uint64_t)(alen + blen);
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(n >> (8 * i));
	struct iovec iov[] = {
		{ head, (size_t)h }, { "MESSAGE\n", 8 }, { le, 8 }, { (void *)a, alen }, { (void *)b, blen }, { "\n", 1 },
	};
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov, .msg_iovlen = 6 };
	if (sendmsg(o->journal_fd, &mh, MSG_NOSIGNAL) < 0 && !o->journal_failed) {
		o->journal_failed = true;
		shim_warn("journald: %s", strerrorname_np(errno));
	}
}

static void journal_write(struct shim_output *o, int type, const char *buf, size_t len, bool flush)
{
	if (o->journal_fd < 0)
		return;
	struct shim_jpartial *p = &o->jpart[type == 3];
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		if (!nl) {
			/* Keep a tail for the rest of its line, while it fits. */
			if (p->len + len <= sizeof(p->data)) {
				memcpy(p->data + p->len, buf, len);
				p->len += len;
				break;
			}
			journal_send(o, type, p->data, p->len, buf, len, true);
			p->len = 0;
			break;
		}
		size_t line = (size_t)(nl - buf);
		journal_send(o, type, p->data, p->len, buf, line, false);
		p->len = 0;
		buf += line + 1;
		len -= line + 1;
	}
	if (flush && p->len) {
		journal_send(o, type, p->data, p->len, "", 0, true);
		p->len = 0;
	}
}

/* ---- reading ---- */

static void consume(struct shim_proc *p, enum stream s, char *msg, size_t len)
{
	/* msg[0] is free for the sink's type byte. */
	int type = s == ERR ? 3 : 2;
	const char *data = msg + 1;
	if (p->out.k8s_fd >= 0)
		k8s_write(p, type == 3 ? "stderr" : "stdout", data, len);
	journal_write(&p->out, type, data, len, false);
	msg[0] = (char)type;
	if (p->out.sink)
		p->out.sink(p->out.sink_ctx, msg, len + 1);
}

static void close_stream(struct shim_proc *p, enum stream s)
{
	int *fd = s == OUT ? &p->io.out_fd : &p->io.err_fd;
	if (*fd < 0)
		return;
	shim_loop_unwatch(p->ctr->loop, *fd);
	close(*fd);
	*fd = -1;
	if (s == OUT && p->out.hup_timer >= 0) {
		shim_loop_unwatch(p->ctr->loop, p->out.hup_timer);
		close(p->out.hup_timer);
		p->out.hup_timer = -1;
	}
	journal_write(&p->out, s == ERR ? 3 : 2, "", 0, true);
	if (p->out.sink_end)
		p->out.sink_end(p->out.sink_ctx, s == ERR ? 3 : 2);
}

static void out_ready(void *ctx, uint32_t events);

/* 100 ms after a pty reported no slave: look again (conmon polls too). */
static void hup_timer_ready(void *ctx, uint32_t events)
{
	struct shim_proc *p = ctx;
	uint64_t n;
	(void)events;
	if (read(p->out.hup_timer, &n, sizeof(n)) < 0)
		return;
	struct sk_err err;
	/* Released from a hold meanwhile, it may be watched already. */
	shim_loop_unwatch(p->ctr->loop, p->io.out_fd);
	if (p->io.out_fd >= 0 && !p->out.held[OUT] &&
	    shim_loop_watch(p->ctr->loop, p->io.out_fd, EPOLLIN, out_ready, p, &err) < 0)
		shim_warn("%s", err.msg);
}

static void pty_hup(struct shim_proc *p)
{
	shim_loop_unwatch(p->ctr->loop, p->io.out_fd);
	struct sk_err err;
	if (p->out.hup_timer < 0) {
		p->out.hup_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (p->out.hup_timer < 0 ||
		    shim_loop_watch(p->ctr->loop, p->out.hup_timer, EPOLLIN, hup_timer_ready, p, &err) < 0) {
			shim_warn("pty poll timer: %s", strerrorname_np(errno));
			return;
		}
	}
	struct itimerspec its = { .it_value = { .tv_nsec = 100 * 1000000 } };
	if (timerfd_settime(p->out.hup_timer, 0, &its, NULL) < 0)
		shim_warn("pty poll timer: %s", strerrorname_np(errno));
}

enum rd { RD_MORE, RD_DRY, RD_END };

/* Up to `reads` reads: RD_MORE when they were all used, RD_DRY when the
 * stream had nothing more for now, RD_END at its end (it is closed). */
static enum rd read_some(struct shim_proc *p, enum stream s, int reads)
{
	/* One buffer for every process: each piece is consumed at once. */
	static char buf[1 + SHIM_READ_MAX];
	int fd = s == OUT ? p->io.out_fd : p->io.err_fd;
	if (fd < 0)
		return RD_END;
	while (reads > 0) {
		if (p->out.held[s])
			return RD_DRY;
		ssize_t n = read(fd, buf + 1, SHIM_READ_MAX);
		if (n > 0) {
			consume(p, s, buf, (size_t)n);
			reads--;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return RD_DRY;
		if (n < 0 && errno == EIO && s == OUT && p->io.out_is_pty && !p->child.done) {
			/* No slave open for now; one may come back. */
			pty_hup(p);
			return RD_DRY;
		}
		if (n < 0 && errno != EIO)
			shim_warn("read container %s: %s", s == OUT ? "stdout" : "stderr", strerrorname_np(errno));
		close_stream(p, s);
		return RD_END;
	}
	return RD_MORE;
}

/* A few reads, then back to the loop so that nothing else starves under
 * a flood. */
static void out_ready(void *ctx, uint32_t events)
{
	(void)events;
	read_some(ctx, OUT, 16);
}

static void err_ready(void *ctx, uint32_t events)
{
	(void)events;
	read_some(ctx, ERR, 16);
}

int shim_output_start(struct shim_proc *p, struct sk_err *err)
{
	if (p->io.out_fd >= 0 && shim_loop_watch(p->ctr->loop, p->io.out_fd, EPOLLIN, out_ready, p, err) < 0)
		return -1;
	if (p->io.err_fd >= 0 && shim_loop_watch(p->ctr->loop, p->io.err_fd, EPOLLIN, err_ready, p, err) < 0)
		return -1;
	return 0;
}

void shim_output_hold(struct shim_proc *p, int type, bool hold)
{
	enum stream s = type == 3 ? ERR : OUT;
	int fd = s == OUT ? p->io.out_fd : p->io.err_fd;
	if (p->out.held[s] == hold)
		return;
	p->out.held[s] = hold;
	if (fd < 0)
		return;
	shim_loop_unwatch(p->ctr->loop, fd);
	if (hold)
		return;
	struct sk_err err;
	if (shim_loop_watch(p->ctr->loop, fd, EPOLLIN, s == OUT ? out_ready : err_ready, p, &err) < 0)
		shim_warn("%s", err.msg);
}

void shim_output_drain(struct shim_proc *p)
{
	while (read_some(p, OUT, 64) == RD_MORE)
		;
	while (read_some(p, ERR, 64) == RD_MORE)
		;
	journal_write(&p->out, 2, "", 0, true);
	journal_write(&p->out, 3, "", 0, true);
}
