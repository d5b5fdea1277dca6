/* exitrec: a process's exit.json (core/exitrec.h). */
#include <errno.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ctr.h"
#include "core/diag.h"
#include "core/exitrec.h"
#include "skiff/container/exitrec.h"
#include "skiff/container/state.h"

static void fill(const struct shim_proc *p, struct sk_exit_rec *r)
{
	*r = (struct sk_exit_rec){ .pid = p->child.pid, .pid_start = p->start_time, .shim_pid = getpid() };
	struct sk_err ignored;
	if (sk_proc_start_time(getpid(), &r->shim_start, &ignored) < 0)
		r->shim_start = 0;
}

static void record_write(const struct shim_proc *p, const struct sk_exit_rec *r)
{
	if (p->rec_fd < 0)
		return;
	/* skiff's commands flock the container's directory: a delete under
	 * way finishes before the record lands (then in a directory that is
	 * gone, which is harmless), never halfway through its removal. */
	if (p->rec_lock)
		flock(p->rec_fd, LOCK_EX);
	struct sk_err err;
	if (sk_exit_rec_write(p->rec_fd, r, false, &err) < 0 && err.errnum != ENOENT)
		shim_warn("%s", err.msg);
	if (p->rec_lock)
		flock(p->rec_fd, LOCK_UN);
}

void shim_record_running(struct shim_proc *p)
{
	struct sk_exit_rec r;
	fill(p, &r);
	r.state = SK_EXIT_RUNNING;
	/* Not synced: after a crash there is no process to describe. */
	record_write(p, &r);
	/* The final record's space, now: a file system that fills up
	 * meanwhile must not lose the status. */
	struct sk_err err;
	if (p->rec_fd >= 0 && sk_reserve_open(p->rec_fd, SK_EXIT_FINAL, SK_EXIT_REC_MAX, 0644, &p->rec_space, &err) < 0)
		shim_warn("the exit status may not be recorded: %s", err.msg);
}

void shim_record_exit(struct shim_proc *p)
{
	struct sk_exit_rec r;
	fill(p, &r);
	int st = p->child.status;
	if (!p->child.known) {
		r.state = SK_EXIT_UNKNOWN;
	} else if (WIFEXITED(st)) {
		r.state = SK_EXIT_EXITED;
		r.code = WEXITSTATUS(st);
	} else {
		r.state = SK_EXIT_SIGNALED;
		r.signal = WTERMSIG(st);
	}
	r.oom_killed = p->ctr->init == p && p->ctr->oom_killed;
	r.timed_out = p->timed_out;
	sk_exit_rec_stamp(&r);
	if (p->rec_fd < 0)
		return;
	if (p->rec_lock)
		flock(p->rec_fd, LOCK_EX);
	struct sk_err err;
	if (sk_exit_rec_commit(p->rec_fd, &p->rec_space, &r, &err) < 0 && err.errnum != ENOENT)
		shim_log(SHIM_L_ERROR, "the exit status (%d) could not be recorded: %s", shim_exit_code(p), err.msg);
	if (p->rec_lock)
		flock(p->rec_fd, LOCK_UN);
}

int shim_exit_code(const struct shim_proc *p)
{
	if (p->timed_out || !p->child.known)
		return -1;
	if (WIFEXITED(p->child.status))
		return WEXITSTATUS(p->child.status);
	return 128 + WTERMSIG(p->child.status);
}
