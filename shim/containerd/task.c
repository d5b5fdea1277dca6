/* containerd's Task service (task.h). */
#include "task.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerd/events.pb-c.h"
#include "containerd/shim.pb-c.h"
#include "core/ctr.h"
#include "core/diag.h"
#include "core/exitrec.h"
#include "io.h"
#include "manage.h"
#include "publish.h"
#include "rootfs.h"
#include "rtcmd.h"
#include "rtopts.h"
#include "skiff/base/util.h"
#include "stats.h"

#define SHIM_VERSION_STR "skiff-0.1.0"

/* The one service the methods see (one per shim process). */
static struct ctrd_service *S;
void (*ctrd_conn_flush)(struct ttrpc_conn *c);

static int fail(int *code, int c, struct sk_err *err, const char *fmt, const char *arg)
{
	*code = c;
	return sk_error(err, 0, fmt, arg);
}

static struct ctrd_task *find_task(const char *id)
{
	for (struct ctrd_task *t = S->tasks; t; t = t->next)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

/* The process of id/exec_id, or NULL with NOT_FOUND. */
static struct ctrd_proc *find_proc(const char *id, const char *exec_id, int *code, struct sk_err *err)
{
	struct ctrd_task *t = find_task(id);
	if (!t) {
		fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", id);
		return NULL;
	}
	if (!exec_id || !*exec_id)
		return t->init;
	for (struct ctrd_proc *p = t->execs; p; p = p->next)
		if (!strcmp(p->exec_id, exec_id))
			return p;
	fail(code, TTRPC_NOT_FOUND, err, "exec %s: not found", exec_id);
	return NULL;
}

/* ---- tasks ---- */

static void task_free(struct ctrd_task *t)
{
	while (t->execs) {
		struct ctrd_proc *e = t->execs;
		t->execs = e->next;
		ctrd_proc_free(e);
	}
	if (t->init)
		ctrd_proc_free(t->init);
	if (t->mounted)
		ctrd_rootfs_unmount(t->bundle);
	shim_ctr_free(t->ctr);
	free(t->id);
	free(t->bundle);
	free(t);
}

static void task_unlink(struct ctrd_task *t)
{
	for (struct ctrd_task **pp = &S->tasks; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

/* name (in a buffer of cap bytes) replaced by its path in PATH. */
static int which(char *name, size_t cap)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0 && strlen(buf) < cap) {
			strcpy(name, buf);
			return 0;
		}
		p += n + (p[n] == ':');
	}
	return -1;
}

/* The runtime from Create's options (rtopts.h). */
static int task_runtime(struct ctrd_task *t, const Google__Protobuf__Any *opt, struct sk_err *err)
{
	struct ctrd_rtopts o;
	if (ctrd_rtopts_parse(opt, &o, err) < 0)
		return -1;
	ctrd_runtime_default(&t->rt, o.binary, NULL, S->ns);
	/* Root is the runtimes' parent directory, per namespace (as runc's). */
	if (o.root && *o.root && snprintf(t->rt.root, sizeof(t->rt.root), "%s/%s", o.root, S->ns) >= (int)sizeof(t->rt.root))
		t->rt.root[0] = '\0';
	t->rt.systemd_cgroup = o.systemd_cgroup;
	ctrd_rtopts_free(&o);
	/* The core execs a path: look the name up in PATH now. */
	if (!strchr(t->rt.binary, '/') && which(t->rt.binary, sizeof(t->rt.binary)) < 0)
		return sk_error(err, ENOENT, "runtime %s: not found in PATH", t->rt.binary);
	return 0;
}

static int m_create(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		    ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__CreateTaskRequest *r = (const void *)in;
	if (find_task(r->id))
		return fail(code, TTRPC_ALREADY_EXISTS, err, "container %s: already exists", r->id);
	if (r->checkpoint && *r->checkpoint)
		return fail(code, TTRPC_UNIMPLEMENTED, err, "%s: restore from a checkpoint: not implemented", r->id);
	if (!r->bundle || r->bundle[0] != '/')
		return fail(code, TTRPC_INVALID_ARGUMENT, err, "%s: the bundle must be an absolute path", r->id);
	struct ctrd_task *t = calloc(1, sizeof(*t));
	if (!t || !(t->id = strdup(r->id)) || !(t->bundle = strdup(r->bundle))) {
		if (t)
			free(t->id);
		free(t);
		return sk_error(err, ENOMEM, "create");
	}
	t->s = S;
	int dfd = -1;
	if (task_runtime(t, r->options, err) < 0 || !(t->ctr = shim_ctr_new(S->loop, S->reaper, t->id, err)))
		goto fail;
	dfd = open(t->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		sk_error(err, errno, "bundle %s", t->bundle);
		goto fail;
	}
	if (ctrd_runtime_save(dfd, &t->rt, err) < 0)
		goto fail;
	close(dfd);
	dfd = -1;
	if (r->n_rootfs) {
		if (ctrd_rootfs_mount(t->bundle, r->rootfs, r->n_rootfs, err) < 0)
			goto fail;
		t->mounted = true;
	}
	if (!(t->init = ctrd_proc_new(t, NULL, r->stdin, r->stdout, r->stderr, r->terminal, err)))
		goto fail;
	if (ctrd_proc_spawn(t->init, err) < 0) {
		/* Whatever the runtime left (a half-made container). */
		struct sk_err ignored;
		const char *del[] = { "delete", "--force", t->id, NULL };
		ctrd_rtcmd(&t->rt, del, NULL, 0, &ignored);
		goto fail;
	}
	t->next = S->tasks;
	S->tasks = t;

	Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
	tio.stdin = r->stdin;
	tio.stdout = r->stdout;
	tio.stderr = r->stderr;
	tio.terminal = r->terminal;
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	ev.container_id = t->id;
	ev.bundle = t->bundle;
	ev.n_rootfs = r->n_rootfs;
	ev.rootfs = r->rootfs;
	ev.io = &tio;
	ev.pid = t->init->pid;
	ctrd_publish("/tasks/create", &ev.base);

	Containerd__Task__V2__CreateTaskResponse *o = malloc(sizeof(*o));
	if (!o)
		return sk_error(err, ENOMEM, "create");
	containerd__task__v2__create_task_response__init(o);
	o->pid = t->init->pid;
	*out = &o->base;
	return 0;
fail:
	if (dfd >= 0)
		close(dfd);
	*code = TTRPC_UNKNOWN;
	sk_error_wrap(err, "create %s", r->id);
	task_free(t);
	return -1;
}

/* The runtime's exec of an exec, or its start of the init. */
static int start_proc(struct ctrd_proc *cp, const char *id, int *code, struct sk_err *err)
{
	*code = TTRPC_UNKNOWN;
	if (cp->exec_id) {
		if (ctrd_proc_spawn(cp, err) < 0) {
			ctrd_proc_start_failed(cp);
			return sk_error_wrap(err, "OCI runtime exec failed");
		}
		return 0;
	}
	const char *args[] = { "start", id, NULL };
	return ctrd_rtcmd(&cp->t->rt, args, NULL, 0, err);
}

static int m_start(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		   ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__StartRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	if (cp->status != CONTAINERD__V1__TYPES__STATUS__CREATED || cp->announced)
		return fail(code, TTRPC_FAILED_PRECONDITION, err, "%s: not in the created state", r->id);
	if (cp->exec_id && cp->t->init->status != CONTAINERD__V1__TYPES__STATUS__RUNNING)
		return fail(code, TTRPC_FAILED_PRECONDITION, err, "container %s is not running", r->id);
	cp->starting = true;
	int rc = start_proc(cp, r->id, code, err);
	cp->starting = false;
	if (rc < 0) {
		if (cp->exit_pending) {
			cp->exit_pending = false;
			ctrd_proc_finish(cp);
		}
		return -1;
	}
	cp->status = CONTAINERD__V1__TYPES__STATUS__RUNNING;
	if (cp->exec_id) {
		Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		ev.container_id = cp->t->id;
		ev.exec_id = cp->exec_id;
		ev.pid = cp->pid;
		ctrd_publish("/tasks/exec-started", &ev.base);
	} else {
		Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
		ev.container_id = cp->t->id;
		ev.pid = cp->pid;
		ctrd_publish("/tasks/start", &ev.base);
	}
	cp->announced = true;
	if (cp->exit_pending) {
		cp->exit_pending = false;
		ctrd_proc_finish(cp);
	}
	Containerd__Task__V2__StartResponse *o = malloc(sizeof(*o));
	if (!o)
		return sk_error(err, ENOMEM, "start");
	containerd__task__v2__start_response__init(o);
	o->pid = cp->pid;
	*out = &o->base;
	return 0;
}

static int m_delete(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		    ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__DeleteRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	struct ctrd_task *t = cp->t;
	bool stopped = cp->status == CONTAINERD__V1__TYPES__STATUS__STOPPED;
	if (!stopped && (cp->exec_id || cp->status != CONTAINERD__V1__TYPES__STATUS__CREATED))
		return fail(code, TTRPC_FAILED_PRECONDITION, err, "%s: the process is running", r->id);
	if (!cp->exec_id && t->execs)
		for (struct ctrd_proc *e = t->execs; e; e = e->next)
			if (e->status == CONTAINERD__V1__TYPES__STATUS__RUNNING)
				return fail(code, TTRPC_FAILED_PRECONDITION, err, "%s: an exec is running", r->id);
	if (!stopped)
		clock_gettime(CLOCK_REALTIME, &cp->exited_at);
	Containerd__Task__V2__DeleteResponse *o = malloc(sizeof(*o));
	Google__Protobuf__Timestamp *ts = malloc(sizeof(*ts));
	if (!o || !ts) {
		free(o);
		free(ts);
		return sk_error(err, ENOMEM, "delete");
	}
	containerd__task__v2__delete_response__init(o);
	o->pid = cp->pid;
	o->exit_status = cp->exit_status;
	o->exited_at = ctrd_stamp(ts, &cp->exited_at);
	*out = &o->base;
	if (cp->exec_id) {
		for (struct ctrd_proc **pp = &t->execs; *pp; pp = &(*pp)->next)
			if (*pp == cp) {
				*pp = cp->next;
				break;
			}
		ctrd_proc_free(cp);
		return 0;
	}
	const char *args[] = { "delete", "--force", t->id, NULL };
	struct sk_err derr;
	if (ctrd_rtcmd(&t->rt, args, NULL, 0, &derr) < 0)
		shim_warn("%s", derr.msg);
	Google__Protobuf__Timestamp ets;
	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	ev.container_id = t->id;
	ev.id = t->id;
	ev.pid = cp->pid;
	ev.exit_status = cp->exit_status;
	ev.exited_at = ctrd_stamp(&ets, &cp->exited_at);
	ctrd_publish("/tasks/delete", &ev.base);
	task_unlink(t);
	task_free(t);
	return 0;
}

static int m_state(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		   ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__StateRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	Containerd__Task__V2__StateResponse *o = malloc(sizeof(*o));
	Google__Protobuf__Timestamp *ts = malloc(sizeof(*ts));
	if (!o || !ts) {
		free(o);
		free(ts);
		return sk_error(err, ENOMEM, "state");
	}
	containerd__task__v2__state_response__init(o);
	o->exited_at = ctrd_stamp(ts, &cp->exited_at);
	o->id = strdup(cp->t->id);
	o->bundle = strdup(cp->t->bundle);
	o->stdin = strdup(cp->stdin_);
	o->stdout = strdup(cp->stdout_);
	o->stderr = strdup(cp->stderr_);
	o->exec_id = strdup(cp->exec_id ? cp->exec_id : "");
	if (!o->id || !o->bundle || !o->stdin || !o->stdout || !o->stderr || !o->exec_id) {
		protobuf_c_message_free_unpacked(&o->base, NULL);
		return sk_error(err, ENOMEM, "state");
	}
	o->pid = cp->pid;
	o->status = cp->status;
	o->terminal = cp->terminal;
	o->exit_status = cp->exit_status;
	*out = &o->base;
	return 0;
}

static int m_wait(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		  ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__WaitRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	if (cp->status == CONTAINERD__V1__TYPES__STATUS__STOPPED) {
		Containerd__Task__V2__WaitResponse *o = malloc(sizeof(*o));
		Google__Protobuf__Timestamp *ts = malloc(sizeof(*ts));
		if (!o || !ts) {
			free(o);
			free(ts);
			return sk_error(err, ENOMEM, "wait");
		}
		containerd__task__v2__wait_response__init(o);
		o->exit_status = cp->exit_status;
		o->exited_at = ctrd_stamp(ts, &cp->exited_at);
		*out = &o->base;
		return 0;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return sk_error(err, ENOMEM, "wait");
	w->c = c;
	w->stream = stream;
	w->next = cp->waiters;
	cp->waiters = w;
	return 1;
}

static int empty(ProtobufCMessage **out, struct sk_err *err)
{
	Google__Protobuf__Empty *o = malloc(sizeof(*o));
	if (!o)
		return sk_error(err, ENOMEM, "answer");
	google__protobuf__empty__init(o);
	*out = &o->base;
	return 0;
}

static int m_kill(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		  ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__KillRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	if (r->all && !cp->exec_id) {
		char sig[16];
		snprintf(sig, sizeof(sig), "%u", r->signal);
		const char *args[] = { "kill", "--all", r->id, sig, NULL };
		if (ctrd_rtcmd(&cp->t->rt, args, NULL, 0, err) < 0 &&
		    cp->status != CONTAINERD__V1__TYPES__STATUS__STOPPED)
			return -1;
		return empty(out, err);
	}
	if (cp->status == CONTAINERD__V1__TYPES__STATUS__STOPPED || cp->p->child.done)
		return fail(code, TTRPC_NOT_FOUND, err, "%s: process already finished", r->id);
	if (!cp->pid)
		return fail(code, TTRPC_FAILED_PRECONDITION, err, "%s: the process has not started", r->id);
	if (shim_child_signal(&cp->p->child, (int)r->signal) < 0 && errno != ESRCH)
		return sk_error(err, errno, "kill %s", r->id);
	return empty(out, err);
}

static int m_pids(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		  ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__PidsRequest *r = (const void *)in;
	struct ctrd_task *t = find_task(r->id);
	if (!t)
		return fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", r->id);
	static char buf[65536];
	const char *args[] = { "ps", "--format", "json", r->id, NULL };
	if (ctrd_rtcmd(&t->rt, args, buf, sizeof(buf), err) < 0)
		return -1;
	size_t n = 0;
	for (const char *p = buf; *p; p++)
		if (*p >= '0' && *p <= '9' && (p == buf || p[-1] < '0' || p[-1] > '9'))
			n++;
	Containerd__Task__V2__PidsResponse *o = malloc(sizeof(*o));
	Containerd__V1__Types__ProcessInfo **v = calloc(n + 1, sizeof(*v));
	if (!o || !v) {
		free(o);
		free(v);
		return sk_error(err, ENOMEM, "pids");
	}
	containerd__task__v2__pids_response__init(o);
	o->processes = v;
	*out = &o->base;
	for (char *p = buf, *end; *p; p++) {
		if (*p < '0' || *p > '9')
			continue;
		unsigned long pid = strtoul(p, &end, 10);
		Containerd__V1__Types__ProcessInfo *pi = malloc(sizeof(*pi));
		if (!pi)
			return sk_error(err, ENOMEM, "pids");
		containerd__v1__types__process_info__init(pi);
		pi->pid = (uint32_t)pid;
		v[o->n_processes++] = pi;
		p = end - 1;
	}
	return 0;
}

static int pause_resume(const char *id, bool pause, ProtobufCMessage **out, int *code, struct sk_err *err)
{
	struct ctrd_task *t = find_task(id);
	if (!t)
		return fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", id);
	const char *args[] = { pause ? "pause" : "resume", id, NULL };
	if (ctrd_rtcmd(&t->rt, args, NULL, 0, err) < 0)
		return -1;
	t->init->status = pause ? CONTAINERD__V1__TYPES__STATUS__PAUSED : CONTAINERD__V1__TYPES__STATUS__RUNNING;
	if (pause) {
		Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		ev.container_id = t->id;
		ctrd_publish("/tasks/paused", &ev.base);
	} else {
		Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		ev.container_id = t->id;
		ctrd_publish("/tasks/resumed", &ev.base);
	}
	return empty(out, err);
}

static int m_pause(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		   ProtobufCMessage **out, int *code, struct sk_err *err)
{
	return pause_resume(((const Containerd__Task__V2__PauseRequest *)in)->id, true, out, code, err);
}

static int m_resume(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		    ProtobufCMessage **out, int *code, struct sk_err *err)
{
	return pause_resume(((const Containerd__Task__V2__ResumeRequest *)in)->id, false, out, code, err);
}

/* An id that may name a file in the bundle. */
static bool plain_name(const char *s)
{
	return s && *s && strlen(s) < 200 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Write an Any's value (JSON from containerd) to bundle/name. */
static char *write_json(struct ctrd_task *t, const char *name, const Google__Protobuf__Any *any, struct sk_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", t->bundle, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		sk_error(err, errno, "open %s", path);
		return NULL;
	}
	int rc = sk_write_all(fd, any->value.data, any->value.len);
	close(fd);
	if (rc < 0) {
		sk_error(err, errno, "write %s", path);
		return NULL;
	}
	char *p = strdup(path);
	if (!p)
		sk_error(err, ENOMEM, "exec");
	return p;
}

static int m_exec(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		  ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__ExecProcessRequest *r = (const void *)in;
	struct ctrd_task *t = find_task(r->id);
	if (!t)
		return fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", r->id);
	if (!plain_name(r->exec_id))
		return fail(code, TTRPC_INVALID_ARGUMENT, err, "exec id \"%s\": not a valid name", r->exec_id);
	for (struct ctrd_proc *e = t->execs; e; e = e->next)
		if (!strcmp(e->exec_id, r->exec_id))
			return fail(code, TTRPC_ALREADY_EXISTS, err, "exec %s: already exists", r->exec_id);
	if (!r->spec || !r->spec->value.len)
		return fail(code, TTRPC_INVALID_ARGUMENT, err, "exec %s: no process spec", r->exec_id);
	struct ctrd_proc *cp = ctrd_proc_new(t, r->exec_id, r->stdin, r->stdout, r->stderr, r->terminal, err);
	if (!cp)
		return -1;
	char name[256];
	snprintf(name, sizeof(name), "exec-%s.json", r->exec_id);
	if (!(cp->spec_path = write_json(t, name, r->spec, err))) {
		ctrd_proc_free(cp);
		return -1;
	}
	cp->next = t->execs;
	t->execs = cp;
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	ev.container_id = t->id;
	ev.exec_id = cp->exec_id;
	ctrd_publish("/tasks/exec-added", &ev.base);
	return empty(out, err);
}

static int m_resize(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		    ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__ResizePtyRequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	shim_stdio_resize(cp->p, (int)r->height, (int)r->width);
	return empty(out, err);
}

static int m_closeio(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		     ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__CloseIORequest *r = (const void *)in;
	struct ctrd_proc *cp = find_proc(r->id, r->exec_id, code, err);
	if (!cp)
		return -1;
	if (r->stdin && cp->io_open)
		ctrd_io_close_stdin(&cp->io);
	return empty(out, err);
}

static int m_update(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		    ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__UpdateTaskRequest *r = (const void *)in;
	struct ctrd_task *t = find_task(r->id);
	if (!t)
		return fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", r->id);
	if (!r->resources || !r->resources->value.len)
		return empty(out, err);
	char *path = write_json(t, "update-resources.json", r->resources, err);
	if (!path)
		return -1;
	const char *args[] = { "update", "--resources", path, r->id, NULL };
	int rc = ctrd_rtcmd(&t->rt, args, NULL, 0, err);
	unlink(path);
	free(path);
	return rc < 0 ? -1 : empty(out, err);
}

static int m_connect(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		     ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__ConnectRequest *r = (const void *)in;
	struct ctrd_task *t = find_task(r->id);
	Containerd__Task__V2__ConnectResponse *o = malloc(sizeof(*o));
	if (!o)
		return sk_error(err, ENOMEM, "connect");
	containerd__task__v2__connect_response__init(o);
	o->shim_pid = (uint32_t)getpid();
	o->task_pid = t && t->init ? t->init->pid : 0;
	o->version = strdup(SHIM_VERSION_STR);
	*out = &o->base;
	return 0;
}

static int m_stats(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		   ProtobufCMessage **out, int *code, struct sk_err *err)
{
	const Containerd__Task__V2__StatsRequest *r = (const void *)in;
	struct ctrd_task *t = find_task(r->id);
	if (!t)
		return fail(code, TTRPC_NOT_FOUND, err, "container %s: not found", r->id);
	if (t->init->status == CONTAINERD__V1__TYPES__STATUS__STOPPED || !t->init->pid)
		return fail(code, TTRPC_FAILED_PRECONDITION, err, "container %s is not running", r->id);
	Containerd__Task__V2__StatsResponse *o = malloc(sizeof(*o));
	if (!o)
		return sk_error(err, ENOMEM, "stats");
	containerd__task__v2__stats_response__init(o);
	*out = &o->base;
	return ctrd_stats((pid_t)t->init->pid, &o->stats, err);
}

static int m_shutdown(void *ctx, struct ttrpc_conn *c, uint32_t stream, const ProtobufCMessage *in,
		      ProtobufCMessage **out, int *code, struct sk_err *err)
{
	/* Only once the last container of the group is deleted. */
	if (!S->tasks)
		S->shutdown = true;
	return empty(out, err);
}

#define TASK "containerd.task.v2.Task"
#define M(name, req, fn) { TASK, name, &containerd__task__v2__##req##__descriptor, fn }
const struct ttrpc_method ctrd_task_methods[] = {
	M("State", state_request, m_state),
	M("Create", create_task_request, m_create),
	M("Start", start_request, m_start),
	M("Delete", delete_request, m_delete),
	M("Pids", pids_request, m_pids),
	M("Pause", pause_request, m_pause),
	M("Resume", resume_request, m_resume),
	M("Kill", kill_request, m_kill),
	M("Exec", exec_process_request, m_exec),
	M("ResizePty", resize_pty_request, m_resize),
	M("CloseIO", close_iorequest, m_closeio),
	M("Update", update_task_request, m_update),
	M("Wait", wait_request, m_wait),
	M("Stats", stats_request, m_stats),
	M("Connect", connect_request, m_connect),
	M("Shutdown", shutdown_request, m_shutdown),
};
const size_t ctrd_task_n_methods = sizeof(ctrd_task_methods) / sizeof(ctrd_task_methods[0]);

void ctrd_service_set(struct ctrd_service *s)
{
	S = s;
}

void ctrd_service_conn_closed(struct ctrd_service *s, struct ttrpc_conn *c)
{
	for (struct ctrd_task *t = s->tasks; t; t = t->next) {
		struct ctrd_proc *procs[] = { t->init, t->execs };
		for (int k = 0; k < 2; k++)
			for (struct ctrd_proc *cp = procs[k]; cp; cp = k ? cp->next : NULL)
				for (struct waiter **pp = &cp->waiters; *pp;) {
					struct waiter *w = *pp;
					if (w->c == c) {
						*pp = w->next;
						free(w);
					} else {
						pp = &w->next;
					}
				}
	}
}
