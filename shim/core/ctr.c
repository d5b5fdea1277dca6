/* ctr: containers and processes (core/ctr.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/ctr.h"
#include "core/diag.h"
#include "skiff/container/state.h"

struct shim_ctr *shim_ctr_new(struct shim_loop *loop, struct shim_reaper *reaper, const char *id,
			      struct sk_err *err)
{
	struct shim_ctr *ctr = calloc(1, sizeof(*ctr));
	char *dup = id ? strdup(id) : NULL;
	if (!ctr || (id && !dup)) {
		free(ctr);
		free(dup);
		sk_error(err, ENOMEM, "container %s", id ? id : "");
		return NULL;
	}
	ctr->id = dup;
	ctr->loop = loop;
	ctr->reaper = reaper;
	ctr->oom = (struct shim_oom){ .fd = -1, .inotify_fd = -1, .event_fd = -1 };
	return ctr;
}

void shim_ctr_free(struct shim_ctr *ctr)
{
	if (!ctr)
		return;
	shim_oom_unwatch(ctr);
	free(ctr->id);
	free(ctr);
}

struct shim_proc *shim_proc_new(struct shim_ctr *ctr, bool init, struct sk_err *err)
{
	struct shim_proc *p = calloc(1, sizeof(*p));
	if (!p) {
		sk_error(err, ENOMEM, "process of %s", ctr->id ? ctr->id : "a container");
		return NULL;
	}
	p->ctr = ctr;
	p->child.pidfd = -1;
	p->io = (struct shim_stdio){ .in_fd = -1, .out_fd = -1, .err_fd = -1, .worker_in = -1, .worker_out = -1,
				     .worker_err = -1, .win_rows = -1, .win_cols = -1, .console_fd = -1 };
	p->out.k8s_fd = p->out.journal_fd = p->out.hup_timer = -1;
	p->rec_fd = p->timer_fd = -1;
	p->rec_space.fd = -1;
	if (init)
		ctr->init = p;
	return p;
}

static void close_watched(struct shim_loop *loop, int *fd)
{
	if (*fd < 0)
		return;
	shim_loop_unwatch(loop, *fd);
	close(*fd);
	*fd = -1;
}

void shim_proc_free(struct shim_proc *p)
{
	if (!p)
		return;
	struct shim_loop *loop = p->ctr->loop;
	shim_child_remove(&p->child);
	int *fds[] = { &p->io.in_fd, &p->io.out_fd, &p->io.err_fd, &p->io.worker_in, &p->io.worker_out,
		       &p->io.worker_err, &p->io.console_fd, &p->out.k8s_fd, &p->out.journal_fd,
		       &p->out.hup_timer, &p->rec_fd, &p->timer_fd };
	sk_reserve_close(&p->rec_space);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close_watched(loop, fds[i]);
	shim_proc_scratch_remove(p);
	free(p->io.console_path);
	free(p->out.jpart);
	if (p->ctr->init == p)
		p->ctr->init = NULL;
	free(p);
}

int shim_proc_started(struct shim_proc *p, pid_t pid, struct sk_err *err)
{
	shim_child_add(p->ctr->reaper, &p->child, pid);
	if (shim_child_watch(&p->child, err) < 0)
		return -1;
	struct sk_err ignored;
	if (sk_proc_start_time(pid, &p->start_time, &ignored) < 0)
		p->start_time = 0;
	return 0;
}

static void timer_ready(void *ctx, uint32_t events)
{
	struct shim_proc *p = ctx;
	uint64_t n;
	(void)events;
	if (read(p->timer_fd, &n, sizeof(n)) < 0)
		return;
	close_watched(p->ctr->loop, &p->timer_fd);
	if (p->child.done)
		return;
	shim_log(SHIM_L_INFO, "process %d timed out: killing it", (int)p->child.pid);
	p->timed_out = true;
	/* conmon's rule: the whole process group, unless that is ours or
	 * init's. */
	pid_t pg = getpgid(p->child.pid);
	if (pg > 1 && pg != getpgrp())
		kill(-pg, SIGKILL);
	shim_child_signal(&p->child, SIGKILL);
}

int shim_proc_timeout(struct shim_proc *p, int seconds, struct sk_err *err)
{
	p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->timer_fd < 0)
		return sk_error(err, errno, "timerfd_create");
	struct itimerspec its = { .it_value = { .tv_sec = seconds } };
	if (timerfd_settime(p->timer_fd, 0, &its, NULL) < 0)
		return sk_error(err, errno, "timerfd_settime");
	return shim_loop_watch(p->ctr->loop, p->timer_fd, EPOLLIN, timer_ready, p, err);
}
