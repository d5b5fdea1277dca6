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
 * (skiff's exit.json is the core's: core/exitrec.h.) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conmon.h"
#include "core/diag.h"
#include "core/exitrec.h"
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

void conmon_sync_send(const struct conmon *c, int fd, int value, const char *message)
{
	if (fd < 0)
		return;
	const char *key = c->o.api ? "data" : c->o.exec ? "exit_code" : "pid";
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

int conmon_write_pidfile(const struct conmon *c, pid_t pid, struct sk_err *err)
{
	char dir[4096], text[16];
	const char *name;
	if (!split(c->o.conmon_pidfile, dir, sizeof(dir), &name))
		return sk_error(err, EINVAL, "conmon pid file \"%s\"", c->o.conmon_pidfile);
	snprintf(text, sizeof(text), "%d", (int)pid);
	return write_in(dir, name, text, false, err);
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

/* Where each exit file goes: its directory and name, NULL when not asked
 * for. */
static const char *exit_file(const struct conmon *c, size_t i, const char **name)
{
	*name = i == 0 ? "exit" : c->o.cid;
	return i == 0 ? c->o.persist_dir : c->o.exit_dir;
}

void conmon_reserve_exit_files(struct conmon *c)
{
	for (size_t i = 0; i < 2; i++) {
		struct conmon_exit_file *f = &c->exit_files[i];
		const char *name, *dir = exit_file(c, i, &name);
		if (!dir || !name)
			continue;
		char tmp[NAME_MAX + 1];
		struct sk_err err;
		f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (f->dir_fd < 0) {
			shim_warn("exit file: open \"%s\": %s", dir, strerrorname_np(errno));
			continue;
		}
		f->reserved = true;
		/* Hidden, as conmon's own temporary files are. */
		snprintf(tmp, sizeof(tmp), ".%.200s.reserved", name);
		if (sk_reserve_open(f->dir_fd, tmp, 16, 0644, &f->space, &err) < 0)
			shim_warn("exit file \"%s/%s\": the exit status may not be recorded: %s", dir, name, err.msg);
	}
}

void conmon_write_exit_files(struct conmon *c)
{
	if (c->ctr->oom_killed && !c->o.exec) {
		if (c->o.bundle)
			touch(c->o.bundle, "oom");
		if (c->o.persist_dir)
			touch(c->o.persist_dir, "oom");
	}
	char text[16];
	int code = shim_exit_code(c->proc);
	snprintf(text, sizeof(text), "%d", code);
	for (size_t i = 0; i < 2; i++) {
		struct conmon_exit_file *f = &c->exit_files[i];
		const char *name, *dir = exit_file(c, i, &name);
		if (!dir || !name)
			continue;
		struct sk_err err;
		int r = -1;
		if (f->reserved && f->space.fd >= 0)
			r = sk_reserve_commit(&f->space, name, text, strlen(text), &err);
		if (f->reserved) {
			r = r < 0 && f->space.committed ? 0 : r;
			sk_reserve_close(&f->space);
			close(f->dir_fd);
			f->reserved = false;
		}
		/* Anew: the reservation freed may be enough. */
		if (r < 0 && write_in(dir, name, text, true, &err) < 0)
			shim_log(SHIM_L_ERROR, "exit file \"%s/%s\": the exit status (%d) could not be recorded: %s", dir,
				 name, code, err.msg);
	}
}
