/* exitrec: writing exit.json (see skiff/exitrec.h).  The record is a few
 * numbers and a timestamp, none of which need escaping: it is formatted
 * with snprintf so that skiff-shim needs no JSON library. */
#include "skiff/container/exitrec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "skiff/base/util.h"

int sk_exit_status(const struct sk_exit_rec *r)
{
	switch (r->state) {
	case SK_EXIT_EXITED:
		return r->code;
	case SK_EXIT_SIGNALED:
		return 128 + r->signal;
	default:
		return -1;
	}
}

const char *sk_exit_state_name(enum sk_exit_state s)
{
	static const char *const names[] = { "running", "exited", "signaled", "unknown" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

void sk_exit_rec_stamp(struct sk_exit_rec *r)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(r->finished, sizeof(r->finished), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

int sk_exit_rec_format(const struct sk_exit_rec *r, char *buf, size_t cap)
{
	char detail[64] = "";
	if (r->state == SK_EXIT_EXITED)
		snprintf(detail, sizeof(detail), "\"exitCode\":%d,\"status\":%d,", r->code, sk_exit_status(r));
	else if (r->state == SK_EXIT_SIGNALED)
		snprintf(detail, sizeof(detail), "\"signal\":%d,\"status\":%d,", r->signal, sk_exit_status(r));
	int n;
	if (r->state == SK_EXIT_RUNNING)
		n = snprintf(buf, cap,
			     "{\"state\":\"running\",\"pid\":%d,\"pidStartTime\":%" PRIu64 ",\"shimPid\":%d,"
			     "\"shimStartTime\":%" PRIu64 "}\n",
			     (int)r->pid, r->pid_start, (int)r->shim_pid, r->shim_start);
	else
		n = snprintf(buf, cap,
			     "{\"state\":\"%s\",%s\"oomKilled\":%s,\"timedOut\":%s,\"pid\":%d,\"pidStartTime\":%" PRIu64
			     ",\"shimPid\":%d,\"shimStartTime\":%" PRIu64 ",\"finished\":\"%s\"}\n",
			     sk_exit_state_name(r->state), detail, r->oom_killed ? "true" : "false",
			     r->timed_out ? "true" : "false", (int)r->pid, r->pid_start, (int)r->shim_pid, r->shim_start,
			     r->finished);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int sk_exit_rec_write(int dir_fd, const struct sk_exit_rec *r, bool durable, struct sk_err *err)
{
	char buf[SK_EXIT_REC_MAX];
	int n = sk_exit_rec_format(r, buf, sizeof(buf));
	if (n < 0)
		return sk_error(err, EOVERFLOW, "format %s", SK_EXIT_FILE);
	return sk_write_file_replace_at(dir_fd, SK_EXIT_FILE, buf, (size_t)n, 0644,
					durable ? SK_WRITE_SYNC | SK_WRITE_SYNC_DIR : 0, err);
}

int sk_exit_rec_commit(int dir_fd, struct sk_reserved *res, const struct sk_exit_rec *r, struct sk_err *err)
{
	char buf[SK_EXIT_REC_MAX];
	int n = sk_exit_rec_format(r, buf, sizeof(buf));
	int rc = n < 0 ? sk_error(err, EOVERFLOW, "format %s", SK_EXIT_FILE) : 0;
	/* Into the reserved space; else anew, which may find space again. */
	if (rc == 0 && (res->fd < 0 || sk_reserve_commit(res, SK_EXIT_FILE, buf, (size_t)n, err) < 0) &&
	    !res->committed) {
		sk_reserve_close(res);
		rc = sk_exit_rec_write(dir_fd, r, true, err);
	}
	sk_reserve_close(res);
	if (rc < 0 && err->errnum) {
		/* Empty: it needs an inode and no data block. */
		char name[64];
		snprintf(name, sizeof(name), "%s%s", SK_EXIT_FAILED, sk_errno_name(err->errnum));
		int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
			fsync(dir_fd);
		}
	}
	return rc;
}
