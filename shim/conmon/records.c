/* records: what the shim leaves for its caller.
 *
 * sync pipe    one JSON line per message, {"data": N} with --api-version
 *              (podman), else {"pid": N} for create and {"exit_code": N}
 *              for exec (CRI-O); a failure adds "message".  A reader that
 *              went away (podman closes the exec sync pipe early) is fine.
 * pid files    decimal, no newline, replaced atomically.
 * exit files   <persist-dir>/exit and <exit-dir>/<cid>: the decimal status
 *              (code, 128+signal, -1 for a timeout or an unknown end), no
 *              newline, written once (their ctime is the finish time),
 *              atomically and durably, after the log is flushed: podman
 *              takes the file's existence to mean "stopped" and reads the
 *              log right after.
 * oom files    empty <bundle>/oom (where podman 4.3 looks) and
 *              <persist-dir>/oom, before the exit files.
 * exit.json    skiff's record (skiff/exitrec.h), in --state-dir, else
 *              --persist-dir, else the bundle: "running" once the pid is
 *              known, final the moment the process is reaped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "skiff/container/exitrec.h"
#include "skiff/container/state.h"
#include "skiff/base/util.h"

/* JSON string escaping, conmon's set plus every other control byte. */
static char *escape(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len * 6 + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (c == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
}

void shim_sync_send(int fd, int value, const char *message)
{
	if (fd < 0)
		return;
	const char *key = S.o.api ? "data" : S.o.exec ? "exit_code" : "pid";
	char *esc = message ? escape(message) : NULL;
	size_t cap = 64 + (esc ? strlen(esc) : 0);
	char *buf = malloc(cap);
	if (!buf) {
		free(esc);
		return;
	}
	int n = esc ? snprintf(buf, cap, "{\"%s\": %d, \"message\": \"%s\"}\n", key, value, esc)
		    : snprintf(buf, cap, "{\"%s\": %d}\n", key, value);
	if (sk_write_all(fd, buf, (size_t)n) < 0 && errno != EPIPE)
		shim_warn("sync pipe: %s", strerrorname_np(errno));
	free(buf);
	free(esc);
}

/* dir/name replaced atomically by text, synced when durable. */
static int write_in(const char *dir, const char *name, const char *text, bool durable, struct sk_err *err)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return sk_error(err, errno, "open \"%s\"", dir);
	int r = sk_write_file_replace_at(d, name, text, strlen(text), 0644,
					 durable ? SK_WRITE_SYNC | SK_WRITE_SYNC_DIR : 0, err);
	close(d);
	return r < 0 ? sk_error_wrap(err, "%s", dir) : 0;
}

/* Split path into its directory and last name (in buf). */
static const char *split(const char *path, char *buf, size_t cap, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash == path ? 1 : (size_t)(slash - path);
	if (!slash || dl >= cap)
		return NULL;
	memcpy(buf, path, dl);
	buf[dl] = '\0';
	*name = slash + 1;
	return buf;
}

int shim_write_conmon_pidfile(pid_t pid, struct sk_err *err)
{
	char dir[4096], text[16];
	const char *name;
	if (!split(S.o.conmon_pidfile, dir, sizeof(dir), &name))
		return sk_error(err, EINVAL, "conmon pid file \"%s\"", S.o.conmon_pidfile);
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_in(dir, name, text, false, err);
}

int shim_read_pidfile(pid_t *pid, struct sk_err *err)
{
	char buf[32];
	if (sk_read_small_at(AT_FDCWD, S.o.ctr_pidfile, buf, sizeof(buf), err) < 0)
		return sk_error_wrap(err, "the runtime's pid file");
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == buf || *end || v <= 0 || v > 0x3fffffff)
		return sk_error(err, EINVAL, "the runtime's pid file \"%s\" holds \"%s\", not a pid", S.o.ctr_pidfile, buf);
	*pid = (pid_t)v;
	return 0;
}

static void fill(struct sk_exit_rec *r)
{
	*r = (struct sk_exit_rec){ .pid = S.ctr_pid, .pid_start = S.ctr_start_time, .shim_pid = getpid() };
	struct sk_err ignored;
	if (sk_proc_start_time(getpid(), &r->shim_start, &ignored) < 0)
		r->shim_start = 0;
}

static void record_write(const struct sk_exit_rec *r, bool durable)
{
	if (S.state_fd < 0)
		return;
	/* skiff's commands flock the container's directory: a delete under
	 * way finishes before the record lands (then in a directory that is
	 * gone, which is harmless), never halfway through its removal. */
	bool lock = S.o.state_dir != NULL;
	if (lock)
		flock(S.state_fd, LOCK_EX);
	struct sk_err err;
	if (sk_exit_rec_write(S.state_fd, r, durable, &err) < 0 && err.errnum != ENOENT)
		shim_warn("%s", err.msg);
	if (lock)
		flock(S.state_fd, LOCK_UN);
}

void shim_record_running(void)
{
	struct sk_exit_rec r;
	fill(&r);
	r.state = SK_EXIT_RUNNING;
	/* Not synced: after a crash there is no process to describe. */
	record_write(&r, false);
}

void shim_record_exit(void)
{
	struct sk_exit_rec r;
	fill(&r);
	if (!S.ctr_status_known) {
		r.state = SK_EXIT_UNKNOWN;
	} else if (WIFEXITED(S.ctr_status)) {
		r.state = SK_EXIT_EXITED;
		r.code = WEXITSTATUS(S.ctr_status);
	} else {
		r.state = SK_EXIT_SIGNALED;
		r.signal = WTERMSIG(S.ctr_status);
	}
	r.oom_killed = S.oom_killed;
	r.timed_out = S.timed_out;
	sk_exit_rec_stamp(&r);
	record_write(&r, true);
}

int shim_exit_code(void)
{
	if (S.timed_out || !S.ctr_status_known)
		return -1;
	if (WIFEXITED(S.ctr_status))
		return WEXITSTATUS(S.ctr_status);
	return 128 + WTERMSIG(S.ctr_status);
}

static void touch(const char *dir, const char *name)
{
	int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = d < 0 ? -1 : openat(d, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		shim_warn("create \"%s/%s\": %s", dir, name, strerrorname_np(errno));
	else
		close(fd);
	if (d >= 0)
		close(d);
}

void shim_write_exit_files(void)
{
	if (S.oom_killed && !S.o.exec) {
		if (S.o.bundle)
			touch(S.o.bundle, "oom");
		if (S.o.persist_dir)
			touch(S.o.persist_dir, "oom");
	}
	char text[16];
	snprintf(text, sizeof(text), "%d", shim_exit_code());
	struct sk_err err;
	if (S.o.persist_dir && write_in(S.o.persist_dir, "exit", text, true, &err) < 0)
		shim_warn("exit file: %s", err.msg);
	if (S.o.exit_dir && write_in(S.o.exit_dir, S.o.cid, text, true, &err) < 0)
		shim_warn("exit file: %s", err.msg);
}
