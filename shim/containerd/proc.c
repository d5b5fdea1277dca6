/* The Task service's processes (proc.h). */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd/events.pb-c.h"
#include "containerd/shim.pb-c.h"
#include "core/diag.h"
#include "core/exitrec.h"
#include "publish.h"
#include "rtcmd.h"

Google__Protobuf__Timestamp *ctrd_stamp(Google__Protobuf__Timestamp *ts, const struct timespec *t)
{
	google__protobuf__timestamp__init(ts);
	ts->seconds = t->tv_sec;
	ts->nanos = (int32_t)t->tv_nsec;
	return ts;
}

/* ---- exits ---- */

static void answer_waiters(struct ctrd_proc *cp)
{
	Google__Protobuf__Timestamp ts;
	Containerd__Task__V2__WaitResponse r = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	r.exit_status = cp->exit_status;
	r.exited_at = ctrd_stamp(&ts, &cp->exited_at);
	while (cp->waiters) {
		struct waiter *w = cp->waiters;
		cp->waiters = w->next;
		struct sk_err err;
		if (ttrpc_respond(w->c, w->stream, TTRPC_OK, NULL, &r.base, &err) < 0)
			shim_warn("answer Wait: %s", err.msg);
		else if (ctrd_conn_flush)
			ctrd_conn_flush(w->c);
		free(w);
	}
}

/* The process has ended: its output drained and closed, its status
 * recorded, TaskExit sent, its Waits answered. */
void ctrd_proc_finish(struct ctrd_proc *cp)
{
	struct shim_proc *p = cp->p;
	shim_output_drain(p);
	if (p->rec_fd >= 0)
		shim_record_exit(p);
	int code = shim_exit_code(p);
	/* An unknown status (not our child) is reported as containerd's
	 * shims do for a killed process. */
	cp->exit_status = code < 0 ? 128 + SIGKILL : (uint32_t)code;
	clock_gettime(CLOCK_REALTIME, &cp->exited_at);
	cp->status = CONTAINERD__V1__TYPES__STATUS__STOPPED;
	/* Output still waiting for a slow reader goes on (io.h). */
	if (cp->io_open)
		ctrd_io_close_stdin(&cp->io);
	if (cp == cp->t->init)
		shim_oom_check(cp->t->ctr);

	Google__Protobuf__Timestamp ts;
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	ev.container_id = cp->t->id;
	ev.id = cp->exec_id ? cp->exec_id : cp->t->id;
	ev.pid = cp->pid;
	ev.exit_status = cp->exit_status;
	ev.exited_at = ctrd_stamp(&ts, &cp->exited_at);
	ctrd_publish("/tasks/exit", &ev.base);
	answer_waiters(cp);
}

static void proc_exited(void *ctx, struct shim_child *c)
{
	struct ctrd_proc *cp = ctx;
	if (cp->starting) {
		cp->exit_pending = true; /* after TaskStart */
		return;
	}
	ctrd_proc_finish(cp);
}

static void on_oom(void *ctx, struct shim_ctr *ctr)
{
	struct ctrd_task *t = ctx;
	Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;
	ev.container_id = t->id;
	ctrd_publish("/tasks/oom", &ev.base);
}

/* ---- processes ---- */

struct ctrd_proc *ctrd_proc_new(struct ctrd_task *t, const char *exec_id, const char *in, const char *out,
				  const char *errp, bool terminal, struct sk_err *err)
{
	struct ctrd_proc *cp = calloc(1, sizeof(*cp));
	if (!cp) {
		sk_error(err, ENOMEM, "process");
		return NULL;
	}
	cp->t = t;
	cp->exec_id = exec_id ? strdup(exec_id) : NULL;
	cp->stdin_ = strdup(in ? in : "");
	cp->stdout_ = strdup(out ? out : "");
	cp->stderr_ = strdup(errp ? errp : "");
	cp->terminal = terminal;
	cp->status = CONTAINERD__V1__TYPES__STATUS__CREATED;
	cp->runtime.pidfd = -1;
	cp->p = shim_proc_new(t->ctr, !exec_id, err);
	if (!cp->p || (exec_id && !cp->exec_id) || !cp->stdin_ || !cp->stdout_ || !cp->stderr_) {
		if (cp->p)
			shim_proc_free(cp->p);
		free(cp->exec_id);
		free(cp->stdin_);
		free(cp->stdout_);
		free(cp->stderr_);
		free(cp);
		if (!err->msg[0])
			sk_error(err, ENOMEM, "process");
		return NULL;
	}
	return cp;
}

void ctrd_proc_free(struct ctrd_proc *cp)
{
	if (cp->io_open)
		ctrd_io_close(&cp->io);
	while (cp->waiters) {
		struct waiter *w = cp->waiters;
		cp->waiters = w->next;
		free(w);
	}
	shim_child_remove(&cp->runtime);
	shim_proc_free(cp->p);
	if (cp->spec_path) {
		unlink(cp->spec_path);
		free(cp->spec_path);
	}
	free(cp->exec_id);
	free(cp->stdin_);
	free(cp->stdout_);
	free(cp->stderr_);
	free(cp);
}

/* Spawn the runtime's create or exec for cp and wait for it: cp then has
 * its pid, watched, with its output flowing. */
int ctrd_proc_spawn(struct ctrd_proc *cp, struct sk_err *err)
{
	struct ctrd_task *t = cp->t;
	struct shim_proc *p = cp->p;
	int r = cp->terminal ? shim_stdio_console(p, err) : shim_stdio_pipes(p, cp->stdin_[0] != '\0', err);
	if (r < 0)
		return -1;
	if (ctrd_io_open(&cp->io, p, cp->stdin_, cp->stdout_, cp->stderr_, cp->exec_id ? cp->exec_id : t->id,
			 t->s->ns, err) < 0)
		return -1;
	cp->io_open = true;
	char pidfile[PATH_MAX];
	if (cp->exec_id)
		snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", t->bundle, cp->exec_id);
	else
		snprintf(pidfile, sizeof(pidfile), "%s/init.pid", t->bundle);
	const char *args[] = { "--root", t->rt.root, "--criu", t->criu_path };
	/* restore: as the runc shim runs it, the restored init passing to us
	 * (the subreaper) when the runtime exits. */
	bool restore = !cp->exec_id && t->checkpoint;
	const char *ropts[] = { "--no-subreaper" };
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s/work", t->bundle);
	struct shim_runtime_cmd cmd = {
		.verb = cp->exec_id ? SHIM_RT_EXEC : restore ? SHIM_RT_RESTORE : SHIM_RT_CREATE,
		.runtime = t->rt.binary, .id = t->id, .bundle = t->bundle, .pid_file = pidfile,
		.process_spec = cp->spec_path, .args = { args, t->criu_path ? 4 : 2 },
		.systemd_cgroup = t->rt.systemd_cgroup, .image_path = t->checkpoint,
		.work_path = t->criu_work_path ? t->criu_work_path : work, .opts = { ropts, restore ? 1 : 0 },
	};
	const char **argv = shim_runtime_argv(&cmd, p);
	if (!argv)
		return sk_error(err, ENOMEM, "runtime arguments");
	struct shim_spawn sp = { 0 };
	r = shim_runtime_spawn(p, argv, &sp, &cp->runtime, err);
	free(argv);
	if (r < 0)
		return -1;
	if (ctrd_wait_child(t->s->reaper, &cp->runtime, restore ? RTCMD_CRIU_TIMEOUT_MS : RTCMD_TIMEOUT_MS, err) < 0)
		return -1;
	if (cp->terminal)
		shim_stdio_take_console(p);
	bool ok = cp->runtime.known && WIFEXITED(cp->runtime.status) && WEXITSTATUS(cp->runtime.status) == 0;
	if (!ok) {
		char msg[SK_ERR_MSG_MAX - 64];
		shim_runtime_error(p, &cp->runtime, t->rt.binary, msg, sizeof(msg));
		shim_child_remove(&cp->runtime);
		return sk_error(err, 0, "%s", msg);
	}
	shim_child_remove(&cp->runtime);
	pid_t pid;
	if (shim_read_pidfile(pidfile, &pid, err) < 0)
		return -1;
	cp->pid = (uint32_t)pid;
	p->child.on_exit = proc_exited;
	p->child.ctx = cp;
	if (shim_proc_started(p, pid, err) < 0)
		return -1;
	p->out.sink = ctrd_io_sink;
	p->out.sink_end = ctrd_io_end;
	p->out.sink_ctx = &cp->io;
	if (shim_output_start(p, err) < 0 || ctrd_io_start_stdin(&cp->io, err) < 0)
		return -1;
	if (!cp->exec_id) {
		t->ctr->on_oom = on_oom;
		t->ctr->ctx = t;
		shim_oom_watch(t->ctr, pid);
		p->rec_fd = open(t->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->rec_fd >= 0)
			shim_record_running(p);
	}
	return 0;
}

/* An exec that could not start: its Waits end (with 255), as the process
 * will never run. */
void ctrd_proc_start_failed(struct ctrd_proc *cp)
{
	cp->status = CONTAINERD__V1__TYPES__STATUS__STOPPED;
	cp->exit_status = 255;
	clock_gettime(CLOCK_REALTIME, &cp->exited_at);
	if (cp->io_open)
		ctrd_io_close(&cp->io);
	cp->io_open = false;
	answer_waiters(cp);
}

