/* child: reaping, and each exit to its owner (core/child.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/diag.h"
#include "skiff/base/pidfd.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

void shim_reaper_init(struct shim_reaper *r, struct shim_loop *loop)
{
	*r = (struct shim_reaper){ .loop = loop, .child_oom_adj = INT_MIN };
}

static void finish(struct shim_child *c, int status, bool known)
{
	if (c->done)
		return;
	c->status = status;
	c->done = true;
	c->known = known;
	if (c->pidfd >= 0) {
		shim_loop_unwatch(c->reaper->loop, c->pidfd);
		close(c->pidfd);
		c->pidfd = -1;
	}
	if (c->on_exit)
		c->on_exit(c->ctx, c);
}

static void cache_early(struct shim_reaper *r, pid_t pid, int status)
{
	/* Oldest first out: only the runtime's helpers and a container that
	 * exits before its runtime land here, a handful at most. */
	if (r->n_early == sizeof(r->early) / sizeof(r->early[0])) {
		memmove(r->early, r->early + 1, sizeof(r->early) - sizeof(r->early[0]));
		r->n_early--;
	}
	r->early[r->n_early++] = (struct shim_pidstatus){ pid, status };
}

void shim_reap(struct shim_reaper *r)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return;
		struct shim_child *c = r->children;
		while (c && (c->pid != p || c->done))
			c = c->next;
		if (c)
			finish(c, st, true);
		else
			cache_early(r, p, st);
	}
}

void shim_child_add(struct shim_reaper *r, struct shim_child *c, pid_t pid)
{
	c->reaper = r;
	c->pid = pid;
	c->pidfd = -1;
	c->done = c->known = false;
	c->next = r->children;
	r->children = c;
	for (size_t i = 0; i < r->n_early; i++) {
		if (r->early[i].pid == pid) {
			int st = r->early[i].status;
			memmove(r->early + i, r->early + i + 1, (r->n_early - i - 1) * sizeof(r->early[0]));
			r->n_early--;
			finish(c, st, true);
			return;
		}
	}
}

/* The pidfd is readable: the process ended.  A child of ours is reaped
 * here; one that is not (a runtime that did not leave the container to
 * us) ended with a status nobody can know. */
static void pidfd_ready(void *ctx, uint32_t events)
{
	struct shim_child *c = ctx;
	(void)events;
	shim_reap(c->reaper);
	if (c->done)
		return;
	siginfo_t si = { 0 };
	int r = waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG);
	if (r == 0 && si.si_pid > 0) {
		finish(c, si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status, true);
	} else if (r < 0 && errno == ECHILD) {
		shim_warn("process %d is not our child: its exit status is unknown", (int)c->pid);
		finish(c, 0, false);
	}
}

int shim_child_watch(struct shim_child *c, struct sk_err *err)
{
	if (c->done)
		return 0;
	c->pidfd = sk_pidfd_open(c->pid);
	if (c->pidfd < 0) {
		/* Gone, and not reaped by us: not our child. */
		shim_reap(c->reaper);
		if (!c->done) {
			shim_warn("process %d is gone and was not our child: its exit status is unknown", (int)c->pid);
			finish(c, 0, false);
		}
		return 0;
	}
	return shim_loop_watch(c->reaper->loop, c->pidfd, EPOLLIN, pidfd_ready, c, err);
}

void shim_child_remove(struct shim_child *c)
{
	if (!c->reaper)
		return;
	for (struct shim_child **pp = &c->reaper->children; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->pidfd >= 0) {
		shim_loop_unwatch(c->reaper->loop, c->pidfd);
		close(c->pidfd);
		c->pidfd = -1;
	}
	c->reaper = NULL;
	c->next = NULL;
}

int shim_child_signal(struct shim_child *c, int sig)
{
	if (c->done || c->pid <= 0)
		return 0;
	/* Without a pidfd the pid is still ours: a child is not reaped (and
	 * its pid not reused) before the reaper gives it to us. */
	return c->pidfd >= 0 ? sk_pidfd_signal(c->pidfd, sig) : kill(c->pid, sig);
}

void shim_child_reset(const struct shim_reaper *r)
{
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &r->loop->saved_mask, NULL);
	if (r->child_oom_adj == INT_MIN)
		return;
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[16];
	int k = snprintf(buf, sizeof(buf), "%d", r->child_oom_adj);
	if (write(fd, buf, (size_t)k) < 0) {
		/* Then it keeps ours. */
	}
	close(fd);
}
