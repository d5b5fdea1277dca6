/* oom: whether the kernel's OOM killer killed a process of a
 * container's cgroup while the shim watched, from the oom_kill counter:
 *   cgroup v2  memory.events, watched with inotify (the counter is read
 *              on every change, so a cgroup that its manager removes as
 *              soon as it is empty is not missed) and read once more at
 *              exit;
 *   cgroup v1  memory.oom_control, with an eventfd registered through
 *              cgroup.event_control, and read at exit.
 * The counter's value when the watch starts is the baseline: kills before
 * this shim (an earlier run in the same cgroup) do not count.  Hierarchies
 * are found in /proc/self/mountinfo; the container's cgroup in
 * /proc/<pid>/cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/ctr.h"
#include "core/diag.h"
#include "core/oom.h"
#include "core/util.h"
#include "skiff/base/util.h"

/* The oom_kill counter of an open memory.events or memory.oom_control;
 * false when it cannot be read (the cgroup is gone). */
static bool read_counter(int fd, uint64_t *out)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, "oom_kill ", 9) == 0) {
			*out = strtoull(line + 9, NULL, 10);
			return true;
		}
	}
	return false;
}

/* The directory of a hierarchy's cgroup: mountpoint + (cgroup path less
 * the mount's root).  v2 when controller is NULL. */
static char *cgroup_dir(const char *cgpath, const char *controller)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts ... - fstype source super */
		char *f4 = NULL, *f5 = NULL, *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char *save, *tok = strtok_r(line, " ", &save);
		for (int i = 1; tok && i <= 5; i++, tok = strtok_r(NULL, " ", &save)) {
			if (i == 4)
				f4 = tok;
			else if (i == 5)
				f5 = tok;
		}
		char *fstype = sep + 3, *rest = strchr(fstype, ' ');
		if (!f4 || !f5 || !rest)
			continue;
		*rest++ = '\0';
		if (controller) {
			if (strcmp(fstype, "cgroup") != 0)
				continue;
			char *super = strchr(rest, ' ');
			if (!super)
				continue;
			super++;
			super[strcspn(super, "\n")] = '\0';
			bool has = false;
			char *s2, *o = strtok_r(super, ",", &s2);
			for (; o && !has; o = strtok_r(NULL, ",", &s2))
				has = strcmp(o, controller) == 0;
			if (!has)
				continue;
		} else if (strcmp(fstype, "cgroup2") != 0) {
			continue;
		}
		size_t rl = strcmp(f4, "/") == 0 ? 0 : strlen(f4);
		if (rl && (strncmp(cgpath, f4, rl) != 0 || (cgpath[rl] && cgpath[rl] != '/')))
			continue;
		size_t need = strlen(f5) + strlen(cgpath + rl) + 2;
		found = malloc(need);
		if (found)
			snprintf(found, need, "%s%s", f5, cgpath + rl);
	}
	free(line);
	fclose(f);
	return found;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char *p = shim_path_join(dir, name);
	int fd = p ? open(p, flags | O_CLOEXEC) : -1;
	free(p);
	return fd;
}

static void oom_event(void *ctx, uint32_t events);

static bool watch_v2(struct shim_ctr *ctr, const char *dir)
{
	struct shim_oom *w = &ctr->oom;
	w->fd = open_in(dir, "memory.events", O_RDONLY);
	if (w->fd < 0 || !read_counter(w->fd, &w->base))
		goto fail;
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char *p = shim_path_join(dir, "memory.events");
	bool ok = w->inotify_fd >= 0 && p && inotify_add_watch(w->inotify_fd, p, IN_MODIFY) >= 0;
	free(p);
	struct sk_err err;
	if (!ok || shim_loop_watch(ctr->loop, w->inotify_fd, EPOLLIN, oom_event, ctr, &err) < 0)
		goto fail;
	w->v2 = true;
	return true;
fail:
	if (w->fd >= 0)
		close(w->fd);
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->fd = w->inotify_fd = -1;
	return false;
}

static bool watch_v1(struct shim_ctr *ctr, const char *dir)
{
	struct shim_oom *w = &ctr->oom;
	w->fd = open_in(dir, "memory.oom_control", O_RDONLY);
	if (w->fd < 0 || !read_counter(w->fd, &w->base))
		goto fail;
	int ctl = open_in(dir, "cgroup.event_control", O_WRONLY);
	if (ctl < 0)
		goto fail;
	w->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	char line[32];
	int n = snprintf(line, sizeof(line), "%d %d", w->event_fd, w->fd);
	bool ok = w->event_fd >= 0 && write(ctl, line, (size_t)n) == n;
	close(ctl);
	struct sk_err err;
	if (!ok || shim_loop_watch(ctr->loop, w->event_fd, EPOLLIN, oom_event, ctr, &err) < 0)
		goto fail;
	return true;
fail:
	if (w->fd >= 0)
		close(w->fd);
	if (w->event_fd >= 0)
		close(w->event_fd);
	w->fd = w->event_fd = -1;
	return false;
}

void shim_oom_watch(struct shim_ctr *ctr, pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	struct sk_err err;
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), &err) < 0) {
		shim_debug("oom: %s", err.msg);
		return;
	}
	char *v2 = NULL, *v1 = NULL;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *cg = c2 + 1;
		if (!*ctrls && strncmp(line, "0:", 2) == 0) {
			v2 = (char *)cg;
			continue;
		}
		char tmp[256];
		snprintf(tmp, sizeof(tmp), ",%s,", ctrls);
		if (strstr(tmp, ",memory,"))
			v1 = (char *)cg;
	}
	char *dir;
	/* On a hybrid host the unified hierarchy has no memory controller:
	 * memory.events is then missing and v1 is used. */
	if (v2 && (dir = cgroup_dir(v2, NULL))) {
		bool ok = watch_v2(ctr, dir);
		free(dir);
		if (ok)
			return;
	}
	if (v1 && (dir = cgroup_dir(v1, "memory"))) {
		if (!watch_v1(ctr, dir))
			shim_debug("oom: no memory.oom_control in %s", dir);
		free(dir);
	}
}

void shim_oom_check(struct shim_ctr *ctr)
{
	uint64_t v;
	if (ctr->oom.fd < 0 || !read_counter(ctr->oom.fd, &v) || v <= ctr->oom.base)
		return;
	/* Each kill once: the next one moves the counter again. */
	ctr->oom.base = v;
	ctr->oom_killed = true;
	if (ctr->on_oom)
		ctr->on_oom(ctr->ctx, ctr);
}

static void oom_event(void *ctx, uint32_t events)
{
	struct shim_ctr *ctr = ctx;
	char drain[4096];
	(void)events;
	int fd = ctr->oom.v2 ? ctr->oom.inotify_fd : ctr->oom.event_fd;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	shim_oom_check(ctr);
}

void shim_oom_unwatch(struct shim_ctr *ctr)
{
	int *fds[] = { &ctr->oom.inotify_fd, &ctr->oom.event_fd, &ctr->oom.fd };
	for (size_t i = 0; i < 3; i++) {
		if (*fds[i] < 0)
			continue;
		shim_loop_unwatch(ctr->loop, *fds[i]);
		close(*fds[i]);
		*fds[i] = -1;
	}
}
