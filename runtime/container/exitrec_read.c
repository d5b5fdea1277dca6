/* exitrec: reading exit.json, and waiting for it to be final (see
 * skiff/exitrec.h). */
#include "skiff/container/exitrec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "skiff/base/pidfd.h"
#include "skiff/container/state.h"
#include "skiff/base/util.h"

/* A record is a few hundred bytes; this bounds a corrupted one. */
#define EXIT_MAX_BYTES 4096u

static yajl_val get(yajl_val root, const char *key, yajl_type type)
{
	const char *path[] = { key, NULL };
	return yajl_tree_get(root, path, type);
}

static int get_int(yajl_val root, const char *key, long long min, long long max, long long *out, struct sk_err *err)
{
	yajl_val v = get(root, key, yajl_t_number);
	if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max)
		return sk_error(err, EINVAL, "%s: %s: missing or out of range", SK_EXIT_FILE, key);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

static int parse(yajl_val root, struct sk_exit_rec *r, struct sk_err *err)
{
	yajl_val state = get(root, "state", yajl_t_string);
	if (!state)
		return sk_error(err, EINVAL, "%s: state: missing", SK_EXIT_FILE);
	const char *s = YAJL_GET_STRING(state);
	if (strcmp(s, "running") == 0)
		r->state = SK_EXIT_RUNNING;
	else if (strcmp(s, "exited") == 0)
		r->state = SK_EXIT_EXITED;
	else if (strcmp(s, "signaled") == 0)
		r->state = SK_EXIT_SIGNALED;
	else if (strcmp(s, "unknown") == 0)
		r->state = SK_EXIT_UNKNOWN;
	else
		return sk_error(err, EINVAL, "%s: state \"%s\": not one skiff writes", SK_EXIT_FILE, s);
	long long v;
	if (get_int(root, "pid", 0, INT32_MAX, &v, err) < 0)
		return -1;
	r->pid = (pid_t)v;
	if (get_int(root, "pidStartTime", 0, INT64_MAX, &v, err) < 0)
		return -1;
	r->pid_start = (uint64_t)v;
	if (get_int(root, "shimPid", 0, INT32_MAX, &v, err) < 0)
		return -1;
	r->shim_pid = (pid_t)v;
	if (get_int(root, "shimStartTime", 0, INT64_MAX, &v, err) < 0)
		return -1;
	r->shim_start = (uint64_t)v;
	if (r->state == SK_EXIT_EXITED) {
		if (get_int(root, "exitCode", 0, 255, &v, err) < 0)
			return -1;
		r->code = (int)v;
	} else if (r->state == SK_EXIT_SIGNALED) {
		if (get_int(root, "signal", 1, 64, &v, err) < 0)
			return -1;
		r->signal = (int)v;
	}
	if (r->state != SK_EXIT_RUNNING) {
		r->oom_killed = get(root, "oomKilled", yajl_t_true) != NULL;
		r->timed_out = get(root, "timedOut", yajl_t_true) != NULL;
		yajl_val f = get(root, "finished", yajl_t_string);
		const char *t = f ? YAJL_GET_STRING(f) : "";
		/* A timestamp, which is printed again as it is. */
		if (strlen(t) >= sizeof(r->finished) || t[strspn(t, "0123456789-:.TZ+")])
			return sk_error(err, EINVAL, "%s: finished: not a timestamp", SK_EXIT_FILE);
		snprintf(r->finished, sizeof(r->finished), "%s", t);
	}
	return 0;
}

static int read_named(int dir_fd, const char *name, struct sk_exit_rec *r, struct sk_err *err)
{
	memset(r, 0, sizeof(*r));
	char *buf;
	if (sk_read_file_at(dir_fd, name, NULL, EXIT_MAX_BYTES, &buf, NULL, err) < 0)
		return -1;
	char ebuf[128];
	yajl_val root = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
	free(buf);
	if (!root)
		return sk_error(err, EINVAL, "%s: not JSON", SK_EXIT_FILE);
	int rc = YAJL_IS_OBJECT(root) ? parse(root, r, err) : sk_error(err, EINVAL, "%s: not an object", SK_EXIT_FILE);
	yajl_tree_free(root);
	return rc;
}

int sk_exit_rec_read(int dir_fd, struct sk_exit_rec *r, struct sk_err *err)
{
	return read_named(dir_fd, SK_EXIT_FILE, r, err);
}

/* The final record a shim killed before its rename left whole in
 * SK_EXIT_FINAL, for the process of the running record run. */
static bool left_final(int dir_fd, const struct sk_exit_rec *run, struct sk_exit_rec *r)
{
	struct sk_err ignored;
	struct sk_exit_rec f;
	/* Blanks alone, or a torn write, do not parse. */
	if (read_named(dir_fd, SK_EXIT_FINAL, &f, &ignored) < 0 || f.state == SK_EXIT_RUNNING ||
	    f.pid != run->pid || f.pid_start != run->pid_start || f.shim_pid != run->shim_pid || !f.finished[0])
		return false;
	*r = f;
	return true;
}

/* The errno of an SK_EXIT_FAILED marker, or 0. */
static int lost_errno(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int e = 0;
	size_t pl = strlen(SK_EXIT_FAILED);
	struct dirent *de;
	while (!e && (de = readdir(d)))
		if (!strncmp(de->d_name, SK_EXIT_FAILED, pl))
			for (int i = 1; i < 4096 && !e; i++)
				if (!strcmp(sk_errno_name(i), de->d_name + pl))
					e = i;
	closedir(d);
	return e;
}

/* Wait until pid (which started at start) is gone; at once when it is
 * already, or when the pid now names another process. */
static int wait_gone(pid_t pid, uint64_t start, struct sk_err *err)
{
	if (pid <= 0)
		return 0;
	int fd = sk_pidfd_open(pid);
	/* EINVAL: the pid is still held but its process is gone. */
	if (fd < 0)
		return errno == ESRCH || errno == EINVAL ? 0 : sk_error(err, errno, "pidfd_open %d", (int)pid);
	uint64_t now;
	struct sk_err ignored;
	/* Checked after the pidfd is open: the pidfd then names the process
	 * whose start time matched, even if it exits meanwhile. */
	if (sk_proc_start_time(pid, &now, &ignored) == 0 && now == start) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	close(fd);
	return 0;
}

int sk_exit_rec_wait(int dir_fd, struct sk_exit_rec *r, struct sk_err *err)
{
	if (sk_exit_rec_read(dir_fd, r, err) < 0) {
		/* Not even the running record could be written, and then not
		 * the final one either: the shim left why. */
		if (err->errnum == ENOENT && (r->lost_errno = lost_errno(dir_fd))) {
			r->state = SK_EXIT_UNKNOWN;
			return 0;
		}
		return -1;
	}
	if (r->state != SK_EXIT_RUNNING)
		return 0;
	if (wait_gone(r->shim_pid, r->shim_start, err) < 0)
		return -1;
	/* The shim writes the final record before it exits. */
	if (sk_exit_rec_read(dir_fd, r, err) < 0)
		return -1;
	if (r->state != SK_EXIT_RUNNING)
		return 0;
	/* The shim died first: the process may live on, but how it ends
	 * nobody will know. */
	if (left_final(dir_fd, r, r))
		return 0;
	if (wait_gone(r->pid, r->pid_start, err) < 0)
		return -1;
	r->state = SK_EXIT_UNKNOWN;
	r->lost_errno = lost_errno(dir_fd);
	return 0;
}
