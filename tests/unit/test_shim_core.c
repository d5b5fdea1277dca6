/* shim/core: the loop's handlers (each fd to its function and context, no
 * stale event to a reused fd), and several containers and processes in one
 * loop: each process's output to its own sink, each exit to its owner
 * (also one reaped before its owner registered), each exit record in its
 * own directory.  No root needed. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/child.h"
#include "core/ctr.h"
#include "core/exitrec.h"
#include "core/loop.h"
#include "core/output.h"
#include "core/runtime.h"
#include "skiff/container/exitrec.h"

static struct shim_loop loop;
static struct shim_reaper reaper;

static void on_signal(void *ctx, int sig)
{
	if (sig == SIGCHLD)
		shim_reap(ctx);
}

static void init_loop(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	struct sk_err err;
	shim_reaper_init(&reaper, &loop);
	cr_assert_eq(shim_loop_init(&loop, &set, on_signal, &reaper, &err), 0, "%s", err.msg);
}

TestSuite(shim_core, .init = init_loop);

struct hit {
	int calls;
	uint32_t events;
};

static void count(void *ctx, uint32_t events)
{
	struct hit *h = ctx;
	h->calls++;
	h->events = events;
}

static bool hit_once(void *ctx)
{
	return ((struct hit *)ctx)->calls > 0;
}

Test(shim_core, handler_gets_its_context)
{
	int a[2], b[2];
	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	struct hit ha = { 0 }, hb = { 0 };
	struct sk_err err;
	cr_assert_eq(shim_loop_watch(&loop, a[0], EPOLLIN, count, &ha, &err), 0);
	cr_assert_eq(shim_loop_watch(&loop, b[0], EPOLLIN, count, &hb, &err), 0);
	cr_assert_eq(write(b[1], "x", 1), 1);
	cr_assert_eq(shim_loop_run(&loop, hit_once, &hb, 1000, &err), 0);
	cr_assert_eq(hb.calls, 1);
	cr_assert(hb.events & EPOLLIN);
	cr_assert_eq(ha.calls, 0);
	/* Unwatched: no more calls, and a wait with nothing ready returns. */
	shim_loop_unwatch(&loop, b[0]);
	cr_assert_eq(shim_loop_run(&loop, hit_once, &ha, 50, &err), 0);
	cr_assert_eq(hb.calls, 1);
	cr_assert_eq(ha.calls, 0);
}

/* Two readable fds in one batch: whichever handler runs first closes the
 * other fd and puts a new, idle pipe on its number.  The other's event of
 * the same batch must not reach the new fd's handler. */
static int fds[2];
static struct hit stale;
static int first = -1;

static void closer(void *ctx, uint32_t events)
{
	int me = (int)(intptr_t)ctx;
	(void)events;
	if (first >= 0)
		return;
	first = me;
	int other = fds[1 - me];
	shim_loop_unwatch(&loop, other);
	close(other);
	int p[2];
	cr_assert_eq(pipe(p), 0);
	if (p[0] != other) {
		cr_assert_eq(dup2(p[0], other), other);
		close(p[0]);
	}
	struct sk_err err;
	cr_assert_eq(shim_loop_watch(&loop, other, EPOLLIN, count, &stale, &err), 0, "%s", err.msg);
}

static bool first_ran(void *ctx)
{
	(void)ctx;
	return first >= 0;
}

Test(shim_core, no_stale_event_for_a_reused_fd)
{
	int a[2], b[2];
	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	fds[0] = a[0];
	fds[1] = b[0];
	struct sk_err err;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(shim_loop_watch(&loop, fds[i], EPOLLIN, closer, (void *)(intptr_t)i, &err), 0);
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "x", 1), 1);
	cr_assert_eq(shim_loop_run(&loop, first_ran, NULL, 1000, &err), 0);
	cr_assert_eq(stale.calls, 0);
}

/* ---- two containers in one loop ---- */

struct sinkbuf {
	char data[256];
	size_t len;
};

static void sink(void *ctx, const char *msg, size_t len)
{
	struct sinkbuf *s = ctx;
	cr_assert_lt(s->len + len, sizeof(s->data));
	memcpy(s->data + s->len, msg, len);
	s->len += len;
}

struct world {
	struct shim_child run[2];
	struct shim_proc *p[2];
};

static bool runs_done(void *ctx)
{
	struct world *w = ctx;
	return w->run[0].done && w->run[1].done;
}

static bool procs_done(void *ctx)
{
	struct world *w = ctx;
	return w->p[0]->child.done && w->p[1]->child.done;
}

static struct shim_proc *make_proc(const char *id, const char *dir, struct sinkbuf *out)
{
	struct sk_err err;
	struct shim_ctr *ctr = shim_ctr_new(&loop, &reaper, id, &err);
	cr_assert_not_null(ctr, "%s", err.msg);
	struct shim_proc *p = shim_proc_new(ctr, true, &err);
	cr_assert_not_null(p, "%s", err.msg);
	cr_assert_eq(ctr->init, p);
	p->out.sink = sink;
	p->out.sink_ctx = out;
	p->rec_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(p->rec_fd, 0);
	cr_assert_eq(shim_stdio_pipes(p, false, &err), 0, "%s", err.msg);
	return p;
}

/* Stands in for a runtime: starts the process in the background, writes
 * its pid, says something, exits. */
static void spawn(struct shim_proc *p, struct shim_child *run, const char *script, const char *dir)
{
	char pidfile[300];
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	const char *argv[] = { "/bin/sh", "-c", script, "sh", pidfile, NULL };
	struct shim_spawn sp = { 0 };
	struct sk_err err;
	cr_assert_eq(shim_runtime_spawn(p, argv, &sp, run, &err), 0, "%s", err.msg);
	cr_assert_eq(shim_output_start(p, &err), 0, "%s", err.msg);
}

static void started(struct shim_proc *p, const char *dir)
{
	char pidfile[300];
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	pid_t pid;
	struct sk_err err;
	cr_assert_eq(shim_read_pidfile(pidfile, &pid, &err), 0, "%s", err.msg);
	cr_assert_eq(shim_proc_started(p, pid, &err), 0, "%s", err.msg);
	cr_assert_eq(p->child.pid, pid);
}

Test(shim_core, two_containers_one_loop)
{
	/* The container processes are orphaned to us, as to a shim. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char dir[2][64];
	for (int i = 0; i < 2; i++) {
		snprintf(dir[i], sizeof(dir[i]), "/tmp/skiff-test-shimcore.XXXXXX");
		cr_assert_not_null(mkdtemp(dir[i]));
	}
	struct sinkbuf out[2] = { 0 };
	struct world w = { 0 };
	w.p[0] = make_proc("one", dir[0], &out[0]);
	w.p[1] = make_proc("two", dir[1], &out[1]);
	/* One lives on after its runtime; the other exits before its
	 * runtime does, so it is reaped before anyone owns it. */
	spawn(w.p[0], &w.run[0], "( (sleep 0.3; echo one; exit 3) & echo $! > \"$1\" )", dir[0]);
	spawn(w.p[1], &w.run[1], "( (exec sh -c 'echo two >&2; kill -KILL $$') & echo $! > \"$1\" ); sleep 0.3", dir[1]);
	struct sk_err err;
	cr_assert_eq(shim_loop_run(&loop, runs_done, &w, -1, &err), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert(w.run[i].known);
		cr_assert(WIFEXITED(w.run[i].status) && WEXITSTATUS(w.run[i].status) == 0);
		started(w.p[i], dir[i]);
	}
	cr_assert(w.p[1]->child.done, "the early exit was kept for its owner");
	cr_assert_eq(shim_loop_run(&loop, procs_done, &w, -1, &err), 0);
	for (int i = 0; i < 2; i++) {
		shim_output_drain(w.p[i]);
		shim_record_exit(w.p[i]);
	}
	cr_assert_eq(shim_exit_code(w.p[0]), 3);
	cr_assert_eq(shim_exit_code(w.p[1]), 128 + SIGKILL);
	cr_assert_eq(out[0].len, 5);
	cr_assert_eq(memcmp(out[0].data, "\2one\n", 5), 0);
	cr_assert_eq(out[1].len, 5);
	cr_assert_eq(memcmp(out[1].data, "\3two\n", 5), 0);
	struct sk_exit_rec r;
	cr_assert_eq(sk_exit_rec_read(w.p[0]->rec_fd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_EXITED);
	cr_assert_eq(r.code, 3);
	cr_assert_eq(r.pid, w.p[0]->child.pid);
	cr_assert_eq(sk_exit_rec_read(w.p[1]->rec_fd, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.state, SK_EXIT_SIGNALED);
	cr_assert_eq(r.signal, SIGKILL);
	for (int i = 0; i < 2; i++) {
		struct shim_ctr *ctr = w.p[i]->ctr;
		shim_child_remove(&w.run[i]);
		shim_proc_free(w.p[i]);
		shim_ctr_free(ctr);
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir[i]);
		cr_assert_eq(system(cmd), 0);
	}
	cr_assert_null(reaper.children);
}
