/* output: what the container writes, read in pieces of at most 8 KiB and
 * sent to each log driver and attach client.
 *
 * -l specs (conmon's): "k8s-file:PATH", "PATH" (k8s-file), ":PATH"
 * (k8s-file, even for a file named "none"), "journald[:...]",
 * "passthrough" (the runtime keeps the caller's stdio), "none", "off",
 * "null"; several may be given.
 *
 * k8s-file records, as podman and the kubelet parse them:
 *   2006-01-02T15:04:05.000000000+07:00 stdout F text\n
 * local time with nanoseconds and a numeric offset, one timestamp per
 * read; each read is cut at newlines: a line with its newline is an F
 * record, a tail without one a P record (given a newline).  No F record is
 * invented for a tail left at exit: CRI-O and the kubelet took that badly
 * when conmon tried it.
 * --log-size-max N: the file never passes N bytes; when the next record
 * would, it is renamed to PATH.1 (replacing an older one) and a new file
 * starts: the last N bytes or more are kept, where conmon truncated.  The
 * count starts at the file's size, so restarts do not let it grow.
 * --log-global-size-max N: nothing more is written after N bytes.
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
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "skiff/base/util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static struct {
	bool passthrough, journald;
	const char *k8s_path;
	int k8s_fd;
	int64_t k8s_bytes, total_bytes;
	bool write_failed;
	int journal_fd;
	bool journal_failed;
} L = { .k8s_fd = -1, .journal_fd = -1 };

bool shim_logs_passthrough(void)
{
	return L.passthrough;
}

static int parse_spec(const char *spec, struct sk_err *err)
{
	if (!*spec)
		return sk_error(err, 0, "log-path must not be empty");
	const char *colon = strchr(spec, ':');
	size_t dlen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *path = colon ? colon + 1 : NULL;
	if (colon == spec) {
		/* ":PATH": a file, whatever its name. */
		if (!*path)
			return sk_error(err, 0, "log-path \"%s\": no file name", spec);
		L.k8s_path = path;
		return 0;
	}
#define IS(name) (dlen == strlen(name) && memcmp(spec, name, dlen) == 0)
	if (IS("none") || IS("off") || IS("null"))
		return 0;
	if (IS("passthrough")) {
		L.passthrough = true;
		return 0;
	}
	if (IS("journald")) {
		L.journald = true;
		return 0;
	}
	if (IS("k8s-file")) {
		if (!path || !*path)
			return sk_error(err, 0, "log-path \"%s\": k8s-file requires a file name", spec);
		L.k8s_path = path;
		return 0;
	}
#undef IS
	if (!colon) {
		L.k8s_path = spec;
		return 0;
	}
	return sk_error(err, 0, "log-path \"%s\": no such log driver", spec);
}

/* Parsing happens before the shim leaves its caller's directory, so a
 * relative file name is made absolute here. */
int shim_logs_parse(struct sk_err *err)
{
	if (!S.o.log_paths.n)
		return sk_error(err, 0, "Log driver not provided. Use --log-path");
	for (size_t i = 0; i < S.o.log_paths.n; i++) {
		if (parse_spec(S.o.log_paths.v[i], err) < 0)
			return -1;
	}
	if (L.k8s_path && L.k8s_path[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd)))
			return sk_error(err, errno, "log-path \"%s\": getcwd", L.k8s_path);
		L.k8s_path = shim_path_join(cwd, L.k8s_path);
		if (!L.k8s_path)
			return sk_error(err, ENOMEM, "log-path");
	}
	if (L.journald && (!S.o.cuuid || strlen(S.o.cuuid) <= 12))
		return sk_error(err, 0, "journald logging needs a container UUID (-u) longer than 12 characters");
	return 0;
}

static int k8s_open(struct sk_err *err)
{
	L.k8s_fd = open(L.k8s_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (L.k8s_fd < 0)
		return sk_error(err, errno, "open log file \"%s\"", L.k8s_path);
	struct stat sb;
	L.k8s_bytes = fstat(L.k8s_fd, &sb) == 0 ? (int64_t)sb.st_size : 0;
	return 0;
}

int shim_logs_open(struct sk_err *err)
{
	if (L.k8s_path && k8s_open(err) < 0)
		return -1;
	if (L.journald) {
		if (access(JOURNAL_SOCKET, F_OK) < 0)
			return sk_error(err, errno, "journald logging: \"%s\"", JOURNAL_SOCKET);
		L.journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (L.journal_fd < 0)
			return sk_error(err, errno, "journald logging: socket");
	}
	return 0;
}

void shim_logs_sync(void)
{
	if (L.k8s_fd >= 0 && !S.o.no_sync_log && fsync(L.k8s_fd) < 0)
		shim_warn("fsync \"%s\": %s", L.k8s_path, strerrorname_np(errno));
}

void shim_logs_reopen(void)
{
	if (L.k8s_fd < 0)
		return;
	shim_logs_sync();
	close(L.k8s_fd);
	L.k8s_fd = -1;
	struct sk_err err;
	if (k8s_open(&err) < 0)
		shim_warn("reopen: %s", err.msg);
}

/* ---- k8s-file ---- */

static char obuf[32768];
static size_t olen;

static void ob_flush(void)
{
	if (!olen)
		return;
	if (L.k8s_fd >= 0 && sk_write_all(L.k8s_fd, obuf, olen) < 0 && !L.write_failed) {
		/* Said once; output goes on to attach clients meanwhile. */
		L.write_failed = true;
		shim_warn("write \"%s\": %s", L.k8s_path, strerrorname_np(errno));
	}
	olen = 0;
}

static void ob_put(const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		if (olen == sizeof(obuf))
			ob_flush();
		size_t k = sizeof(obuf) - olen < n ? sizeof(obuf) - olen : n;
		memcpy(obuf + olen, c, k);
		olen += k;
		c += k;
		n -= k;
	}
}

static void k8s_rotate(void)
{
	ob_flush();
	shim_logs_sync();
	size_t len = strlen(L.k8s_path);
	char *old = malloc(len + 3);
	if (old) {
		memcpy(old, L.k8s_path, len);
		memcpy(old + len, ".1", 3);
		if (rename(L.k8s_path, old) < 0)
			shim_warn("rotate \"%s\": %s", L.k8s_path, strerrorname_np(errno));
		free(old);
	}
	shim_logs_reopen();
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

static void k8s_write(const char *stream, const char *buf, size_t len)
{
	char prefix[64];
	size_t plen = k8s_prefix(prefix, sizeof(prefix), stream);
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t line = nl ? (size_t)(nl - buf) + 1 : len;
		bool partial = !nl;
		int64_t rec = (int64_t)(plen + 2 + line + (partial ? 1 : 0));
		if (S.o.log_global_size_max > 0 && L.total_bytes >= S.o.log_global_size_max)
			break;
		if (S.o.log_size_max > 0 && L.k8s_bytes + rec > S.o.log_size_max && L.k8s_bytes > 0)
			k8s_rotate();
		ob_put(prefix, plen);
		ob_put(partial ? "P " : "F ", 2);
		ob_put(buf, line);
		if (partial)
			ob_put("\n", 1);
		L.k8s_bytes += rec;
		L.total_bytes += rec;
		buf += line;
		len -= line;
	}
	ob_flush();
}

/* ---- journald ---- */

struct jpartial {
	char data[SHIM_READ_MAX];
	size_t len;
};
static struct jpartial jpart[2];

static void journal_send(int type, const char *a, size_t alen, const char *b, size_t blen, bool partial)
{
	if (L.journal_fd < 0)
		return;
	char head[512];
	const char *tag = S.o.log_tag, *name = S.o.name;
	char shortid[13];
	memcpy(shortid, S.o.cuuid, 12);
	shortid[12] = '\0';
	const char *ident = tag ? tag : name ? name : shortid;
	int h = snprintf(head, sizeof(head), "CONTAINER_ID_FULL=%s\nCONTAINER_ID=%s\nPRIORITY=%d\n%s%s%s%s%s%sSYSLOG_IDENTIFIER=%s\n%s",
			 S.o.cuuid, shortid, type == 3 ? 3 : 6, tag ? "CONTAINER_TAG=" : "", tag ? tag : "", tag ? "\n" : "",
			 name ? "CONTAINER_NAME=" : "", name ? name : "", name ? "\n" : "", ident,
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
	if (sendmsg(L.journal_fd, &mh, MSG_NOSIGNAL) < 0 && !L.journal_failed) {
		L.journal_failed = true;
		shim_warn("journald: %s", strerrorname_np(errno));
	}
}

static void journal_write(int type, const char *buf, size_t len, bool flush)
{
	struct jpartial *p = &jpart[type == 3];
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		if (!nl) {
			/* Keep a tail for the rest of its line, while it fits. */
			if (p->len + len <= sizeof(p->data)) {
				memcpy(p->data + p->len, buf, len);
				p->len += len;
				break;
			}
			journal_send(type, p->data, p->len, buf, len, true);
			p->len = 0;
			break;
		}
		size_t line = (size_t)(nl - buf);
		journal_send(type, p->data, p->len, buf, line, false);
		p->len = 0;
		buf += line + 1;
		len -= line + 1;
	}
	if (flush && p->len) {
		journal_send(type, p->data, p->len, "", 0, true);
		p->len = 0;
	}
}

/* ---- reading ---- */

static void consume(int kind, char *msg, size_t len)
{
	/* msg[0] is free for the attach message's type byte. */
	int type = kind == T_ERR ? 3 : 2;
	const char *data = msg + 1;
	if (L.k8s_fd >= 0)
		k8s_write(type == 3 ? "stderr" : "stdout", data, len);
	if (L.journal_fd >= 0)
		journal_write(type, data, len, false);
	msg[0] = (char)type;
	shim_clients_send(type, msg, len + 1);
}

static void close_stream(int kind)
{
	int *fd = kind == T_OUT ? &S.out_fd : &S.err_fd;
	if (*fd < 0)
		return;
	shim_unwatch(*fd);
	close(*fd);
	*fd = -1;
	if (L.journal_fd >= 0)
		journal_write(kind == T_ERR ? 3 : 2, "", 0, true);
}

enum rd { RD_MORE, RD_DRY, RD_END };

/* Up to `reads` reads: RD_MORE when they were all used, RD_DRY when the
 * stream had nothing more for now, RD_END at its end (it is closed). */
static enum rd read_some(int kind, int reads)
{
	static char buf[1 + SHIM_READ_MAX];
	int fd = kind == T_OUT ? S.out_fd : S.err_fd;
	if (fd < 0)
		return RD_END;
	while (reads > 0) {
		ssize_t n = read(fd, buf + 1, SHIM_READ_MAX);
		if (n > 0) {
			consume(kind, buf, (size_t)n);
			reads--;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return RD_DRY;
		if (n < 0 && errno == EIO && kind == T_OUT && S.out_is_pty && !S.ctr_done) {
			/* No slave open for now; one may come back. */
			shim_unwatch(fd);
			S.pty_hup = true;
			return RD_DRY;
		}
		if (n < 0 && errno != EIO)
			shim_warn("read container %s: %s", kind == T_OUT ? "stdout" : "stderr", strerrorname_np(errno));
		close_stream(kind);
		return RD_END;
	}
	return RD_MORE;
}

void shim_output_ready(int kind)
{
	/* A few reads, then back to the loop so that nothing else starves
	 * under a flood. */
	read_some(kind, 16);
}

void shim_output_drain(void)
{
	while (read_some(T_OUT, 64) == RD_MORE)
		;
	while (read_some(T_ERR, 64) == RD_MORE)
		;
	if (L.journal_fd >= 0) {
		journal_write(2, "", 0, true);
		journal_write(3, "", 0, true);
	}
}
