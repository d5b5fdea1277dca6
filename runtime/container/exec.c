/* exec: one more process in a live container: its plan, a child cloned
 * into the container's cgroup and pid namespace that walks it, and the wait.
 * See exec.h. */
#include "skiff/container/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


#include "skiff/plan/caps.h"
#include "skiff/cgroup/cgroup.h"
#include "skiff/container/container.h"
#include "skiff/base/features.h"
#include "skiff/plan/plan.h"
#include "skiff/plan/process.h"
#include "skiff/plan/rootfs.h"
#include "skiff/seccomp/seccomp.h"
#include "skiff/spec/spec.h"
#include "skiff/container/state.h"
#include "skiff/base/sync.h"
#include "skiff/plan/terminal.h"
#include "skiff/base/util.h"
#include "skiff/plan/walk.h"
#include "skiff/base/pidfd.h"
#include "skiff/base/rootless.h"
#include "skiff/base/fdpass.h"
#include "skiff/base/signals.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Everything exec holds, so that one cleanup path undoes it all. */
struct exec {
	const struct sk_exec_opts *o;
	int root_fd, init_pidfd;
	struct sk_state st;
	bool have_state;
	enum sk_status status;
	struct sk_spec spec;           /* the config saved by create */
	bool have_spec;
	struct sk_process pproc;       /* --process, parsed */
	bool have_pproc;
	struct sk_process proc;        /* the process: a shallow copy of
					* spec.process or pproc with
					* the flags' overrides, which point
					* into opts or the two arrays below */
	char **env;
	uint32_t *gids;
	struct sk_plan plan;           /* the process's steps */
	bool have_plan;
	struct sk_cgroup cg;
	bool have_cg;
	unsigned long ns_flags;        /* joined through init_pidfd */
	bool userns;
	int time_fd;                   /* the init's time_for_children, or -1 */
	int chroot_fd;                 /* the init's root when it shares our
					* mount namespace, or -1 */
	int own_pidns;                 /* ours, to come back after the clone, or -1 */
	int sync[2];
	int console_fd;                /* where the child sends the pty master */
	int console_peer;              /* our end of it without --console-socket */
	int pidfd_sock;                /* --pidfd-socket, or -1 */
	int n_keep_fds;
	uint64_t sig_ign;              /* bit N-1: we ignore signal N */
	pid_t pid;
	int pidfd;
};

/* ---- parent: the container ---- */


/* Whether the process behind pidfd is still there: a pidfd polls readable
 * once it has exited.  While it has not, its pid names it alone. */
static bool alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

/* The state, the init (a pidfd, its start time checked) and the saved
 * config, under the container's lock, which is released before anything
 * is started: a `resume` must be able to run while an exec into a paused
 * container waits for it. */
static int load_container(struct exec *c, struct sk_err *err)
{
	const struct sk_exec_opts *o = c->o;
	if (sk_state_validate_id(o->id, err) < 0)
		return -1;
	c->root_fd = sk_state_open_root(o->root, err);
	if (c->root_fd < 0)
		return -1;
	int dir_fd = sk_state_lock(c->root_fd, o->id, false, err);
	if (dir_fd < 0)
		return -1;
	int r = -1;
	if (sk_state_read(dir_fd, &c->st, err) < 0)
		goto out;
	c->have_state = true;
	/* The pidfd first: the status, which checks the start time, then
	 * proves that it names the init (a pid is not reused before the
	 * status could see the init alive). */
	c->init_pidfd = c->st.pid > 0 ? sk_pidfd_open(c->st.pid) : -1;
	if (c->init_pidfd < 0 && c->st.pid > 0 && errno != ESRCH) {
		sk_error(err, errno, "pidfd_open %d (the init of \"%s\")", (int)c->st.pid, o->id);
		goto out;
	}
	c->status = c->init_pidfd < 0 ? SK_STATUS_STOPPED : sk_state_status(dir_fd, &c->st);
	if (c->status == SK_STATUS_STOPPED) {
		sk_error(err, 0, "cannot exec in a stopped container");
		goto out;
	}
	if (c->status == SK_STATUS_PAUSED && !o->ignore_paused) {
		sk_error(err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
		goto out;
	}
	char *buf;
	size_t len;
	if (sk_read_file_at(dir_fd, "config.json", NULL, SK_SPEC_MAX_BYTES, &buf, &len, err) < 0)
		goto out;
	r = sk_spec_parse("config.json", buf, len, &c->spec, err);
	free(buf);
	if (r == 0)
		c->have_spec = true;
	else
		sk_error_wrap(err, "the config saved by create");
out:
	close(dir_fd);
	return r;
}

/* ---- parent: the process ---- */

/* --process FILE: runc's process.json, checked as config.json's process;
 * a pipe too (`-p <(...)`), as runc, given 30 s between its writes. */
static int load_process_file(struct exec *c, struct sk_err *err)
{
	const char *name = c->o->process_file;
	char *buf;
	size_t len;
	if (sk_read_file_or_pipe_at(AT_FDCWD, name, NULL, SK_SPEC_MAX_BYTES, 30000, &buf, &len, err) < 0)
		return sk_error_wrap(err, "--process");
	int r = sk_spec_parse_process(name, buf, len, &c->pproc, err);
	free(buf);
	if (r < 0)
		return -1;
	c->have_pproc = true;
	c->proc = c->pproc;
	/* runc writes the container's oomScoreAdj for every exec. */
	if (!c->proc.has_oom_score_adj && c->spec.process.has_oom_score_adj) {
		c->proc.has_oom_score_adj = true;
		c->proc.oom_score_adj = c->spec.process.oom_score_adj;
	}
	return 0;
}

/* runc's getProcess: the container's process, args from the command line,
 * the flags on top. */
static int build_process(struct exec *c, struct sk_err *err)
{
	const struct sk_exec_opts *o = c->o;
	struct sk_process *p = &c->proc;
	if (!c->spec.has_process)
		return sk_error(err, 0, "the config saved by create has no process");
	*p = c->spec.process;
	p->args = o->args;
	p->n_args = o->n_args;
	p->terminal = o->tty;
	if (o->cwd)
		p->cwd = (char *)o->cwd;
	if (o->apparmor)
		p->apparmor_profile = (char *)o->apparmor;
	if (o->process_label)
		p->selinux_label = (char *)o->process_label;
	if (o->no_new_privs >= 0)
		p->no_new_privileges = o->no_new_privs;
	if (o->has_uid)
		p->user.uid = o->uid;
	if (o->has_gid)
		p->user.gid = o->gid;
	/* Without process.capabilities the sets are left as they are (all of
	 * them for root): there is nothing to add to. */
	if (o->add_caps && p->caps.present) {
		p->caps.set[SK_CAP_BOUNDING] |= o->add_caps;
		p->caps.set[SK_CAP_EFFECTIVE] |= o->add_caps;
		p->caps.set[SK_CAP_PERMITTED] |= o->add_caps;
		if (p->caps.has[SK_CAP_INHERITABLE])
			p->caps.set[SK_CAP_AMBIENT] |= o->add_caps;
	}
	if (o->n_env) {
		c->env = malloc((p->n_env + o->n_env + 1) * sizeof(char *));
		if (!c->env)
			return sk_error(err, ENOMEM, "--env");
		if (p->n_env)
			memcpy(c->env, p->env, p->n_env * sizeof(char *));
		memcpy(c->env + p->n_env, o->env, o->n_env * sizeof(char *));
		p->n_env += o->n_env;
		c->env[p->n_env] = NULL;
		p->env = c->env;
	}
	if (o->n_add_gids) {
		size_t n = p->user.n_additional_gids;
		c->gids = malloc((n + o->n_add_gids) * sizeof(uint32_t));
		if (!c->gids)
			return sk_error(err, ENOMEM, "--additional-gids");
		if (n)
			memcpy(c->gids, p->user.additional_gids, n * sizeof(uint32_t));
		memcpy(c->gids + n, o->add_gids, o->n_add_gids * sizeof(uint32_t));
		p->user.additional_gids = c->gids;
		p->user.n_additional_gids = n + o->n_add_gids;
	}
	return 0;
}

/* runc's checkTerminal, on the final process. */
static int check_terminal(struct exec *c, struct sk_err *err)
{
	const struct sk_exec_opts *o = c->o;
	if (o->detach && c->proc.terminal && !o->console_socket)
		return sk_error(err, 0, "cannot allocate a tty when detaching without --console-socket");
	if ((!o->detach || !c->proc.terminal) && o->console_socket)
		return sk_error(err, 0, "--console-socket needs --detach and a tty");
	return 0;
}

/* --preserve-fds: each must be open (as runc checks), before we open any:
 * then none of ours can land in that range either. */
static int check_keep_fds(struct exec *c, struct sk_err *err)
{
	c->n_keep_fds = c->o->preserve_fds;
	for (int fd = 3; fd < 3 + c->n_keep_fds; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return sk_error(err, errno, "--preserve-fds %d: fd %d", c->n_keep_fds, fd);
	return 0;
}

/* ---- parent: namespaces and cgroup ---- */

static const struct { const char *name; unsigned long flag; } ns_kinds[] = {
	{ "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID }, { "net", CLONE_NEWNET },
	{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "cgroup", CLONE_NEWCGROUP },
};

/* 1 when the two files name different namespaces, 0 when the same or
 * when this kernel lacks the kind (absent for both), -1 on error. */
static int ns_differs(int init_ns, const char *init_name, int own_ns, const char *own_name, struct sk_err *err)
{
	struct stat a, b;
	int ea = fstatat(init_ns, init_name, &a, 0) < 0 ? errno : 0;
	int eb = fstatat(own_ns, own_name, &b, 0) < 0 ? errno : 0;
	if (ea == ENOENT && eb == ENOENT)
		return 0;
	if (ea || eb)
		return sk_error(err, ea ? ea : eb, "stat %s namespace of %s", ea ? init_name : own_name,
				ea ? "the container's init" : "skiff");
	return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Which of the init's namespaces differ from ours.  The time namespace is
 * its time_for_children: the one its process runs in, entered at execve,
 * so before `start` the init itself is not in it yet. */
static int plan_namespaces(struct exec *c, struct sk_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns", (int)c->st.pid);
	int init_ns = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (init_ns < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	int own_ns = open("/proc/self/ns", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (own_ns < 0) {
		close(init_ns);
		return sk_error(err, errno, "open /proc/self/ns");
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		int d = ns_differs(init_ns, ns_kinds[i].name, own_ns, ns_kinds[i].name, err);
		if (d < 0)
			r = -1;
		else if (d)
			c->ns_flags |= ns_kinds[i].flag;
	}
	int d = r < 0 ? 0 : ns_differs(init_ns, "time_for_children", own_ns, "time", err);
	if (d < 0)
		r = -1;
	if (d > 0 && (c->time_fd = openat(init_ns, "time_for_children", O_RDONLY | O_CLOEXEC)) < 0)
		r = sk_error(err, errno, "open \"%s/time_for_children\"", path);
	if (r == 0 && (c->ns_flags & CLONE_NEWPID) &&
	    (c->own_pidns = openat(own_ns, "pid", O_RDONLY | O_CLOEXEC)) < 0)
		r = sk_error(err, errno, "open /proc/self/ns/pid");
	close(own_ns);
	close(init_ns);
	/* No mount namespace to enter: its root is a directory of ours. */
	if (r == 0 && !(c->ns_flags & CLONE_NEWNS)) {
		snprintf(path, sizeof(path), "/proc/%d/root", (int)c->st.pid);
		if ((c->chroot_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = sk_error(err, errno, "open \"%s\"", path);
	}
	if (r == 0 && !alive(c->init_pidfd))
		r = sk_error(err, 0, "cannot exec in a stopped container");
	c->userns = c->ns_flags & CLONE_NEWUSER;
	return r;
}

/* ---- child ---- */

/* Born in the container's cgroup and pid namespace: the walk joins the
 * rest, becomes the process and execs (walk.h). */
static _Noreturn void child_main(struct exec *c)
{
	/* The v1 cgroups before anything else (the cgroup2 one by clone3);
	 * their fds are close-on-exec. */
	struct sk_err err = { 0 };
	if (c->have_cg && sk_cgroup_enter(&c->cg, &err) < 0) {
		sk_sync_send_error(c->sync[1], &err);
		_exit(1);
	}
	struct sk_walk w = {
		.plan = &c->plan, .sig_ign = c->sig_ign, .sync_fd = c->sync[1], .console_fd = c->console_fd,
		.n_keep_fds = c->n_keep_fds, .userns = c->userns, .fifo_fd = -1, .shared_rootfd = -1,
		.init_pidfd = c->init_pidfd, .ns_flags = c->ns_flags, .time_fd = c->time_fd, .chroot_fd = c->chroot_fd,
		.parent_fds = { c->sync[0], c->console_peer, c->have_cg ? sk_cgroup_v2_fd(&c->cg) : -1, c->own_pidns,
				c->root_fd, c->pidfd_sock, -1, -1 },
	};
	sk_walk(&w);
}

/* ---- parent: start and watch ---- */

/* The child, or -1 (errno), or -2 (err): a rootless caller outside its
 * user manager's tree may not move a process into the unit; the child is
 * then born here and waits until the manager has moved it. */
static long clone_child(struct exec *c, int *pidfd, struct sk_err *err)
{
	struct clone_args args = {
		.flags = CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	int cg_fd = c->have_cg ? sk_cgroup_v2_fd(&c->cg) : -1;
	if (cg_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cg_fd;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	int moved[2] = { -1, -1 };
	if (pid < 0 && errno == EACCES && cg_fd >= 0 && c->cg.sd.name && pipe2(moved, O_CLOEXEC) == 0) {
		args.flags &= ~CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (pid == 0) {
		char b;
		if (moved[0] >= 0 && (close(moved[1]) < 0 || read(moved[0], &b, 1) != 1 || close(moved[0]) < 0))
			_exit(1);
		child_main(c);
	}
	if (moved[0] < 0)
		return pid;
	int e = errno;
	close(moved[0]);
	int r = pid < 0 ? 0 : sk_cgroup_attach_unit(&c->cg, (pid_t)pid, err);
	if (r == 0 && pid > 0 && write(moved[1], "", 1) != 1)
		r = sk_error(err, errno, "tell the exec process it is in its cgroup");
	close(moved[1]);
	if (r < 0) {
		/* It ends as the pipe closes. */
		waitpid((pid_t)pid, NULL, 0);
		close(*pidfd);
		*pidfd = -1;
		return -2;
	}
	errno = e;
	return pid;
}

/* clone3 into the container's cgroup, in its pid namespace: entering it
 * ourselves (it only affects our children) spares the child a second
 * fork.  execCPUAffinity.initial is ours meanwhile, for the child to
 * inherit (runtime-spec: the runtime's affinity before the cgroup). */
static int start_child(struct exec *c, struct sk_err *err)
{
	cpu_set_t saved_aff;
	bool aff = c->plan.proc.has_affinity_initial;
	if (aff && (sched_getaffinity(0, sizeof(saved_aff), &saved_aff) < 0 ||
		    sched_setaffinity(0, sizeof(c->plan.proc.affinity_initial), &c->plan.proc.affinity_initial) < 0))
		return sk_error(err, errno, "process.execCPUAffinity.initial \"%s\": sched_setaffinity",
				c->proc.exec_cpu_affinity_initial);
	int r = 0, saved_oom = INT_MIN;
	if (sk_rootless_auto() && sk_process_oom_inherit_begin(&c->plan.proc, &saved_oom, err) < 0)
		r = -1;
	/* An unprivileged caller may enter the container's pid namespace
	 * only from inside the user namespace that owns it: join that first,
	 * for good (our kernel uid stays the same; the child then has one
	 * namespace fewer to join). */
	if (r == 0 && c->own_pidns >= 0 && (c->ns_flags & CLONE_NEWUSER) && geteuid() != 0) {
		if (setns(c->init_pidfd, CLONE_NEWUSER) < 0)
			r = sk_error(err, errno, "enter the user namespace of the container's init");
		c->ns_flags &= ~(unsigned long)CLONE_NEWUSER;
	}
	if (r == 0 && c->own_pidns >= 0 && setns(c->init_pidfd, CLONE_NEWPID) < 0)
		r = sk_error(err, errno, "enter the pid namespace of the container's init");
	long pid = -1;
	int e = 0;
	if (r == 0) {
		pid = clone_child(c, &c->pidfd, err);
		if (pid == -1 && errno == EBUSY && c->have_cg && !c->o->n_cgroups) {
			/* The init's own cgroup, read while it still lives. */
			if (sk_cgroup_v2_of_pid(&c->cg, c->st.pid, err) < 0)
				r = -1;
			else if (!alive(c->init_pidfd))
				r = sk_error(err, 0, "cannot exec in a stopped container");
			else
				pid = clone_child(c, &c->pidfd, err);
		}
		e = errno;
		if (pid == -2) {
			r = -1;
			pid = -1;
		}
	}
	sk_process_oom_inherit_end(saved_oom);
	if (c->have_cg)
		sk_cgroup_enter_done(&c->cg);
	if (pid > 0)
		c->pid = (pid_t)pid;
	if (r == 0 && pid < 0)
		r = sk_error(err, e, "clone the exec process%s", c->have_cg ? " into the container's cgroup" : "");
	/* Back to our own pid namespace for our children (we make no other,
	 * but a library call must not leave its caller changed).
	 * A rootless caller cannot: our pid namespace belongs to an ancestor
	 * user namespace, and we make no other child. */
	if (c->own_pidns >= 0 && !sk_rootless_auto() && setns(c->own_pidns, CLONE_NEWPID) < 0 &&
	    r == 0)
		r = sk_error(err, errno, "return to our pid namespace");
	if (aff && sched_setaffinity(0, sizeof(saved_aff), &saved_aff) < 0 && r == 0)
		r = sk_error(err, errno, "restore our CPU affinity");
	return r;
}

/* Until the child execs (end-of-file: its end of the socket is
 * close-on-exec) or reports an error, serving its seccomp listener. */
static int wait_exec(struct exec *c, struct sk_err *err)
{
	for (;;) {
		char b;
		ssize_t n = recv(c->sync[0], &b, 1, MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_error(err, errno, "sync: receive");
		if (n == 0)
			return 0;
		struct sk_sync_msg m;
		int fd = -1;
		if (sk_sync_recv(c->sync[0], &m, &fd, NULL, err) < 0)
			return -1;
		if (m.type == SK_SYNC_ERROR) {
			err->errnum = m.errnum;
			memcpy(err->msg, m.msg, sizeof(err->msg));
			return -1;
		}
		/* From outside, as for the init: lowering the score needs
		 * CAP_SYS_RESOURCE of the host (runc writes it there too). */
		if (m.type == SK_SYNC_READY) {
			if (fd >= 0)
				close(fd);
			if (sk_process_set_oom_score_adj(&c->plan.proc, c->pid, err) < 0 ||
			    sk_sync_send(c->sync[0], SK_SYNC_GO, 0, -1, NULL, 0, err) < 0)
				return -1;
			continue;
		}
		if (m.type != SK_SYNC_FD || m.value != SK_SYNC_FD_SECCOMP || fd < 0) {
			if (fd >= 0)
				close(fd);
			return sk_error(err, EPROTO, "sync: unexpected message %u from the exec process", m.type);
		}
		const struct sk_seccomp *sc = &c->spec.linux_.seccomp;
		char *json = sk_state_oci_json(&c->st, c->status, err);
		int r = json ? sk_seccomp_send_listener(sc->listener_path, fd, c->pid, sc->listener_metadata, json, err)
			     : -1;
		free(json);
		close(fd);
		if (r < 0)
			return -1;
	}
}

static void kill_child(struct exec *c)
{
	if (c->pidfd < 0)
		return;
	sk_pidfd_signal(c->pidfd, SIGKILL);
	siginfo_t si;
	while (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
}

static void exec_free(struct exec *c)
{
	const int fds[] = { c->root_fd, c->init_pidfd, c->time_fd, c->chroot_fd, c->own_pidns, c->sync[0], c->sync[1],
			    c->console_fd, c->console_peer, c->pidfd, c->pidfd_sock };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (c->have_cg)
		sk_cgroup_close(&c->cg);
	if (c->have_plan)
		sk_plan_free(&c->plan);
	free(c->env);
	free(c->gids);
	if (c->have_pproc)
		sk_spec_process_free(&c->pproc);
	if (c->have_spec)
		sk_spec_free(&c->spec);
	if (c->have_state)
		sk_state_free(&c->st);
}

/* Everything the child needs, made before it exists. */
static int prepare(struct exec *c, struct sk_err *err)
{
	const struct sk_exec_opts *o = c->o;
	if (check_keep_fds(c, err) < 0 || load_container(c, err) < 0)
		return -1;
	if (o->process_file ? load_process_file(c, err) < 0 : build_process(c, err) < 0)
		return -1;
	if (check_terminal(c, err) < 0)
		return -1;
	if (sk_plan_process(&c->spec, &c->proc, c->root_fd, &c->plan, err) < 0)
		return o->process_file ? sk_error_wrap(err, "%s", o->process_file) : -1;
	c->have_plan = true;
	sk_plan_log(&c->plan);
	if (sk_rootless_auto() && sk_process_rootless_check(&c->plan.proc, err) < 0)
		return -1;
	close(c->root_fd);
	c->root_fd = -1;
	if (c->st.cgroup_path) {
		if (sk_cgroup_open(c->st.cgroup_path, c->st.cgroup_paths, c->st.n_cgroup_paths, &c->cg, err) < 0)
			return -1;
		c->have_cg = true;
		/* Its manager places the process where we may not (clone_child). */
		if (c->st.cgroup_unit && sk_cgroup_set_unit(&c->cg, c->st.cgroup_unit, c->st.cgroup_unit_user, err) < 0)
			return -1;
	}
	if (c->o->n_cgroups && !c->have_cg)
		return sk_error(err, 0, "--cgroup \"%s\": the container has no cgroup", c->o->cgroups[0]);
	if (c->o->n_cgroups && sk_cgroup_open_subs(&c->cg, c->o->cgroups, c->o->n_cgroups, err) < 0)
		return -1;
	if (c->have_cg && sk_cgroup_enter_prepare(&c->cg, err) < 0)
		return -1;
	if (plan_namespaces(c, err) < 0 || sk_signals_ignored(&c->sig_ign, err) < 0)
		return -1;
	if (c->proc.terminal) {
		if (o->console_socket) {
			c->console_fd = sk_console_socket_open(o->console_socket, err);
			if (c->console_fd < 0)
				return -1;
		} else {
			int sp[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
				return sk_error(err, errno, "socketpair");
			c->console_peer = sp[0];
			c->console_fd = sp[1];
		}
	}
	if (o->pidfd_socket && (c->pidfd_sock = sk_unix_connect(o->pidfd_socket, err)) < 0)
		return sk_error_wrap(err, "--pidfd-socket");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return sk_error(err, errno, "socketpair");
	return 0;
}

int sk_exec(const struct sk_exec_opts *o, int *status, struct sk_err *err)
{
	struct exec c = { .o = o, .root_fd = -1, .init_pidfd = -1, .time_fd = -1, .chroot_fd = -1, .own_pidns = -1,
			  .sync = { -1, -1 }, .console_fd = -1, .console_peer = -1, .pidfd = -1, .pidfd_sock = -1 };
	c.cg = (struct sk_cgroup)SK_CGROUP_INIT;
	struct sk_created fg = { .pty_master = -1 };
	*status = 0;
	int r = -1;
	if (prepare(&c, err) < 0)
		goto out;
	/* Held from before the clone: no signal to forward is lost. */
	if (!o->detach) {
		sigset_t fwd;
		sk_container_forwarded(&fwd);
		sigprocmask(SIG_BLOCK, &fwd, &fg.saved_mask);
	}
	if (start_child(&c, err) < 0)
		goto fail;
	close(c.sync[1]);
	c.sync[1] = -1;
	if (c.console_fd >= 0) {
		close(c.console_fd);
		c.console_fd = -1;
	}
	if (wait_exec(&c, err) < 0)
		goto fail;
	if (c.console_peer >= 0 && sk_fd_recv(c.console_peer, &fg.pty_master, err) < 0)
		goto fail;
	if (o->pid_file && sk_write_pid_file(o->pid_file, c.pid, err) < 0)
		goto fail;
	/* runc 1.2's --pidfd-socket: the process's pidfd, once it runs. */
	if (c.pidfd_sock >= 0 && sk_fd_send(c.pidfd_sock, c.pidfd, "pidfd", err) < 0) {
		sk_error_wrap(err, "--pidfd-socket");
		goto fail;
	}
	if (o->detach) {
		r = 0;
		goto out;
	}
	fg.pid = c.pid;
	fg.pidfd = c.pidfd;
	r = sk_container_wait(&fg, status, err);
	fg.pty_master = -1;
	goto out;
fail:
	kill_child(&c);
	if (fg.pty_master >= 0)
		close(fg.pty_master);
	if (!o->detach)
		sigprocmask(SIG_SETMASK, &fg.saved_mask, NULL);
out:
	exec_free(&c);
	return r;
}
