/* create: the parent side of `create` and `run`: compile the bundle (plan.h),
 * record the container, make its cgroup, clone the init that walks the plan
 * (walk.h), serve it until READY, and undo everything on any failure.  See
 * container.h. */
#include "skiff/container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/fault.h"
#include "skiff/plan/hooks.h"
#include "skiff/base/log.h"
#include "skiff/plan/mount.h"
#include "skiff/plan/plan.h"
#include "skiff/plan/ns.h"
#include "skiff/plan/process.h"
#include "skiff/plan/rootfs.h"
#include "skiff/seccomp/seccomp.h"
#include "skiff/spec/spec.h"
#include "skiff/container/state.h"
#include "skiff/base/sync.h"
#include "skiff/plan/sysctl.h"
#include "skiff/plan/terminal.h"
#include "skiff/plan/walk.h"
#include "skiff/base/util.h"
#include "skiff/base/pidfd.h"
#include "skiff/base/fdpass.h"
#include "skiff/base/signals.h"
#include "skiff/container/netdev.h"
#include "skiff/cgroup/resctrl.h"
#include "skiff/base/rootless.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif


/* Everything create holds, so that one cleanup path can undo it all. */
struct create {
	const struct sk_create_opts *o;
	struct sk_plan plan;
	bool have_plan;
	int root_fd, dir_fd, fifo_fd, console_fd;
	int console_peer;              /* run's end of the pty hand-over socket */
	int sync[2];
	struct sk_cgroup cg;
	bool have_cg, cg_made;         /* planned (to free), made (to destroy) */
	struct sk_kv cg_paths[SK_CG_MAX_DIRS];   /* the v1 directories, for the state */
	pid_t stage_pid, init_pid;
	bool net_moved;                /* linux.netDevices done */
	int pidfd_sock;                /* --pidfd-socket, or -1 */
	struct sk_resctrl rdt;         /* linux.intelRdt's groups */
	bool has_rdt, rdt_tried;       /* asked for; applied (to undo) */
	int pidfd;
	int pty_master;
	struct sk_state st;
	char created[48];
	bool dir_made;
	int shared_rootfd;             /* no mount namespace: our bind of the rootfs */
	struct sk_rootfs_ids shared_mnt; /* ... its mount id and the one it covers */
	uint64_t oom_kills;            /* the cgroup's count before the init */
};

/* A cgroup the caller may not make: the kernel's answers to mkdir or
 * write under a directory it does not own, or a read-only cgroupfs. */
static bool denied(int e)
{
	return e == EACCES || e == EPERM || e == EROFS;
}

static int state_json_for(struct create *c, enum sk_status status, char **out, struct sk_err *err)
{
	*out = sk_state_oci_json(&c->st, status, err);
	return *out ? 0 : -1;
}

static int run_parent_hooks(struct create *c, struct sk_err *err)
{
	const struct sk_hooks *h = &c->plan.spec.hooks;
	char *json = NULL, *later = NULL;
	if (state_json_for(c, SK_STATUS_CREATING, &json, err) < 0)
		return -1;
	int r = 0;
	bool child = h->n[SK_HOOK_CREATE_CONTAINER] || h->n[SK_HOOK_START_CONTAINER];
	if (h->n[SK_HOOK_PRESTART] || child)
		r = state_json_for(c, SK_STATUS_CREATED, &later, err);
	/* prestart, the legacy hook, sees "created" as crun and the runtime-tools
	 * suite expect; createRuntime sees "creating", as runc. */
	if (r == 0 && h->n[SK_HOOK_PRESTART])
		r = sk_hooks_run(SK_HOOK_PRESTART, h, later, c->plan.bundle, err);
	if (r == 0 && h->n[SK_HOOK_CREATE_RUNTIME])
		r = sk_hooks_run(SK_HOOK_CREATE_RUNTIME, h, json, c->plan.bundle, err);
	/* The child's hooks get "<creating state>\0<created state>": the first
	 * for createContainer, the second for startContainer. */
	if (r == 0 && child) {
		size_t a = strlen(json), b = strlen(later);
		char *both = malloc(a + b + 2);
		if (!both)
			r = sk_error(err, ENOMEM, "hooks state");
		if (r == 0) {
			memcpy(both, json, a + 1);
			memcpy(both + a + 1, later, b + 1);
			r = sk_sync_send(c->sync[0], SK_SYNC_HOOKS_DONE, 0, -1, both, (uint32_t)(a + b + 2), err);
		}
		free(both);
	} else if (r == 0) {
		r = sk_sync_send(c->sync[0], SK_SYNC_HOOKS_DONE, 0, -1, NULL, 0, err);
	}
	free(later);
	free(json);
	return r;
}

/* Fill the holes in stdio and in the fds passed to the process with
 * /dev/null, so that none of the fds create opens lands there and leaks
 * into the container.  Lowest first: each open() lands on its hole. */
static void reserve_fds(int n_keep)
{
	for (int fd = 0; fd < 3 + n_keep; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) < 0)
			return;
}

/* --preserve-fds plus systemd's socket activation: LISTEN_FDS fds from 3
 * on, when LISTEN_PID says they are ours (sd_listen_fds(3)). */
static int count_keep_fds(const struct sk_create_opts *o, long *listen, struct sk_err *err)
{
	*listen = 0;
	const char *lf = getenv("LISTEN_FDS"), *lp = getenv("LISTEN_PID");
	if (lf && *lf && lp && strtol(lp, NULL, 10) == (long)getpid()) {
		char *end;
		*listen = strtol(lf, &end, 10);
		if (*end || *listen < 0 || *listen > 1024)
			return sk_error(err, EINVAL, "LISTEN_FDS=\"%s\"", lf);
	}
	return o->preserve_fds + (int)*listen;
}

static void create_cleanup(struct create *c)
{
	struct sk_err ignored;
	/* A v1 freezer keeps a killed init from dying: thaw it first. */
	if (c->cg_made && sk_cgroup_frozen_dir(&c->cg) && sk_cgroup_freeze(&c->cg, false, &ignored) < 0)
		sk_log(SK_LOG_WARN, "%s", ignored.msg);
	if (c->pidfd >= 0 && c->init_pid > 0) {
		sk_pidfd_signal(c->pidfd, SIGKILL);
		waitpid(c->init_pid, NULL, 0);
	} else if (c->init_pid > 0) {
		kill(c->init_pid, SIGKILL);
		waitpid(c->init_pid, NULL, 0);
	}
	if (c->stage_pid > 0 && c->stage_pid != c->init_pid) {
		kill(c->stage_pid, SIGKILL);
		waitpid(c->stage_pid, NULL, 0);
	}
	if (c->shared_mnt.bind && sk_rootfs_unbind_shared(c->plan.rootfs, &c->shared_mnt, &ignored) < 0)
		sk_log(SK_LOG_WARN, "%s", ignored.msg);
	if (c->cg_made && sk_cgroup_destroy(&c->cg, &ignored) < 0)
		sk_log(SK_LOG_WARN, "%s", ignored.msg);
	if (c->rdt_tried && sk_resctrl_remove(c->rdt.own_group ? c->rdt.group : NULL, c->rdt.mon, &ignored) < 0)
		sk_log(SK_LOG_WARN, "%s", ignored.msg);
	if (c->dir_made)
		sk_state_remove(c->root_fd, c->o->id, &ignored);
	if (c->pty_master >= 0)
		close(c->pty_master);
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pty_master = c->pidfd = -1;
}

static void create_free(struct create *c)
{
	if (c->have_cg)
		sk_cgroup_close(&c->cg);
	if (c->have_plan)
		sk_plan_free(&c->plan);
	const int fds[] = { c->sync[0], c->sync[1], c->fifo_fd, c->console_fd, c->console_peer, c->shared_rootfd,
			    c->dir_fd, c->root_fd, c->pidfd_sock };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int clone_init(struct create *c, struct sk_walk *w, struct sk_err *err)
{
	int saved_pidns;
	if (sk_ns_enter_pid(&c->plan.ns, &saved_pidns, err) < 0)
		return -1;
	int pidfd = -1;
	struct clone_args args = {
		.flags = c->plan.ns.clone_flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	int cg_fd = c->have_cg ? sk_cgroup_v2_fd(&c->cg) : -1;
	if (cg_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cg_fd;
	}
	int saved_oom = INT_MIN;
	if (sk_rootless_auto() && sk_process_oom_inherit_begin(&c->plan.proc, &saved_oom, err) < 0) {
		sk_ns_restore_pid(saved_pidns, err);
		return -1;
	}
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	/* A rootless caller outside its user manager's tree may not move a
	 * process into the unit (the common ancestor's cgroup.procs is not
	 * the user's): the init is born here, and waits until the manager
	 * has moved it. */
	int moved[2] = { -1, -1 };
	if (pid < 0 && errno == EACCES && cg_fd >= 0 && c->cg.sd.name && pipe2(moved, O_CLOEXEC) == 0) {
		args.flags &= ~CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = syscall(SYS_clone3, &args, sizeof(args));
	}
	if (pid == 0) {
		/* Born in the cgroup2 one; the v1 ones before anything else,
		 * the cgroup namespace's root above all. */
		struct sk_err cerr = { 0 };
		/* The lock among them: a child frozen as it joins must not
		 * keep every other command on the id waiting. */
		sk_walk_close_parent_fds(w);
		char b;
		if (moved[0] >= 0 && (close(moved[1]) < 0 || read(moved[0], &b, 1) != 1 || close(moved[0]) < 0))
			_exit(1);
		if (c->have_cg && sk_cgroup_enter(&c->cg, &cerr) < 0) {
			sk_sync_send_error(w->sync_fd, &cerr);
			_exit(1);
		}
		sk_walk(w);
	}
	int e = errno;
	int moved_r = 0;
	struct sk_err merr = { 0 };
	if (moved[0] >= 0) {
		/* Before enter_done ends the holder: the unit must not empty. */
		close(moved[0]);
		if (pid > 0 && (moved_r = sk_cgroup_attach_unit(&c->cg, (pid_t)pid, &merr)) == 0 &&
		    write(moved[1], "", 1) != 1)
			moved_r = sk_error(&merr, errno, "tell the init it is in its cgroup");
		close(moved[1]);
	}
	sk_process_oom_inherit_end(saved_oom);
	if (c->have_cg)
		sk_cgroup_enter_done(&c->cg);
	if (sk_ns_restore_pid(saved_pidns, err) < 0)
		return -1;
	if (pid < 0)
		return sk_error(err, e, "clone the container init (flags 0x%llx)", (unsigned long long)args.flags);
	c->stage_pid = (pid_t)pid;
	c->pidfd = pidfd;
	if (moved_r < 0) {
		*err = merr;
		return -1;
	}
	if (!c->plan.ns.second_fork)
		c->init_pid = (pid_t)pid;
	close(c->sync[1]);
	c->sync[1] = -1;
	return 0;
}

/* The init hung up without a word: it died.  Say how, when it is known
 * (the socket closes as it exits, it is a zombie a moment later). */
static int init_died(struct create *c, struct sk_err *err)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	siginfo_t si = { 0 };
	if (c->pidfd < 0 || poll(&p, 1, 1000) != 1 ||
	    waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
		return -1;
	if (si.si_code == CLD_EXITED)
		return sk_error(err, 0, "container init exited with status %d before completing set-up", si.si_status);
	/* Its cgroup counted an OOM kill since the init was born: the
	 * limit, not the signal, is the cause. */
	if (si.si_status == SIGKILL && c->cg_made && sk_cgroup_oom_kills(&c->cg) > c->oom_kills) {
		const struct sk_resources *r = &c->plan.spec.linux_.resources;
		if (r->memory.has_limit)
			return sk_error(err, 0, "container init killed by linux.resources.memory.limit (%lld bytes) "
					"before completing set-up: its cgroup ran out of memory",
					(long long)r->memory.limit);
		return sk_error(err, 0, "container init killed by the OOM killer before completing set-up: its "
				"cgroup ran out of memory");
	}
	if (si.si_status == SIGSYS)
		return sk_error(err, 0, "container init killed by SIGSYS before completing set-up: the seccomp profile "
				"refuses a system call the runtime makes after loading it");
	const char *name = sigabbrev_np(si.si_status);
	if (name)
		return sk_error(err, 0, "container init killed by SIG%s before completing set-up", name);
	return sk_error(err, 0, "container init killed by signal %d before completing set-up", si.si_status);
}

/* linux.netDevices, once: before the prestart hooks when there are any
 * (they may configure the devices), else at READY; either way the init has
 * its network namespace and the process has not started. */
static int move_net_devices(struct create *c, struct sk_err *err)
{
	if (c->net_moved || !c->plan.spec.has_linux)
		return 0;
	c->net_moved = true;
	return sk_netdev_move(&c->plan.spec.linux_, c->init_pid, err);
}

/* Wait for the init's next message.  A cgroup frozen under it would
 * keep it silent for ever: checked each second meanwhile. */
static int wait_init(struct create *c, struct sk_err *err)
{
	struct pollfd p = { .fd = c->sync[0], .events = POLLIN };
	for (;;) {
		int n = poll(&p, 1, 1000);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return sk_error(err, errno, "poll the init's sync socket");
		const char *frozen = n == 0 && c->cg_made ? sk_cgroup_frozen_dir(&c->cg) : NULL;
		if (frozen)
			return sk_error(err, 0, "cgroup \"%s\" was frozen while the container's init was setting up",
					frozen);
	}
}

/* Serve the child's requests until it says READY. */
static int parent_loop(struct create *c, struct sk_err *err)
{
	for (;;) {
		struct sk_sync_msg m;
		int fd = -1;
		if (wait_init(c, err) < 0)
			return -1;
		if (sk_sync_recv(c->sync[0], &m, &fd, NULL, err) < 0) {
			if (err->errnum == 0)
				init_died(c, err);
			return -1;
		}
		switch (m.type) {
		case SK_SYNC_ERROR:
			err->errnum = m.errnum;
			memcpy(err->msg, m.msg, sizeof(err->msg));
			return -1;
		case SK_SYNC_USERNS_READY:
			if (sk_ns_write_maps(&c->plan.ns, c->stage_pid, err) < 0 ||
			    sk_sync_send(c->sync[0], SK_SYNC_MAPS_DONE, 0, -1, NULL, 0, err) < 0)
				return -1;
			break;
		case SK_SYNC_INIT_PID:
			c->init_pid = m.value;
			waitpid(c->stage_pid, NULL, 0);
			close(c->pidfd);
			c->pidfd = sk_pidfd_open(c->init_pid);
			if (c->pidfd < 0)
				return sk_error(err, errno, "pidfd_open %d", m.value);
			c->stage_pid = c->init_pid;
			if (sk_sync_send(c->sync[0], SK_SYNC_PID_ACK, 0, -1, NULL, 0, err) < 0)
				return -1;
			break;
		case SK_SYNC_HOOKS:
			c->st.pid = c->init_pid;
			if (move_net_devices(c, err) < 0 || run_parent_hooks(c, err) < 0)
				return -1;
			break;
		case SK_SYNC_FD:
			if (m.value == SK_SYNC_FD_SECCOMP) {
				char *json = NULL;
				c->st.pid = c->init_pid;
				int r = state_json_for(c, SK_STATUS_CREATING, &json, err);
				if (r == 0)
					r = sk_seccomp_send_listener(c->plan.spec.linux_.seccomp.listener_path, fd,
								     c->init_pid,
								     c->plan.spec.linux_.seccomp.listener_metadata, json,
								     err);
				free(json);
				close(fd);
				if (r < 0)
					return -1;
			} else if (fd >= 0) {
				close(fd);
			}
			break;
		case SK_SYNC_READY:
			if (move_net_devices(c, err) < 0)
				return -1;
			/* From outside: in a user namespace the init may not write it. */
			return sk_process_set_oom_score_adj(&c->plan.proc, c->init_pid, err);
		default:
			return sk_error(err, EPROTO, "sync: unexpected message %u from init", m.type);
		}
	}
}

/* The config as read, for the later commands (hooks, exec), whatever
 * happens to the bundle.  Written in place: the directory is new and
 * locked, and nobody replaces the file. */
static int save_config(struct create *c, struct sk_err *err)
{
	int fd = openat(c->dir_fd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_error(err, errno, "create \"%s/%s/config.json\"", c->o->root, c->o->id);
	int r = sk_write_all(fd, c->plan.config_buf, c->plan.config_len);
	int e = errno;
	close(fd);
	return r < 0 ? sk_error(err, e, "write \"%s/%s/config.json\"", c->o->root, c->o->id) : 0;
}

/* The console: --console-socket, or for `run` without one a socketpair
 * over which the pty master comes back to us. */
static int open_console(struct create *c, struct sk_err *err)
{
	const struct sk_create_opts *o = c->o;
	if (!c->plan.spec.process.terminal)
		return 0;
	if (o->console_socket) {
		c->console_fd = sk_console_socket_open(o->console_socket, err);
		return c->console_fd < 0 ? -1 : 0;
	}
	if (!o->foreground)
		return sk_error(err, 0, "process.terminal is true: --console-socket is required");
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return sk_error(err, errno, "socketpair");
	c->console_peer = sp[0];
	c->console_fd = sp[1];
	return 0;
}

int sk_container_create(const struct sk_create_opts *o, struct sk_created *out, struct sk_err *err)
{
	struct create c = { .o = o, .root_fd = -1, .dir_fd = -1, .fifo_fd = -1, .console_fd = -1, .console_peer = -1,
			    .sync = { -1, -1 }, .pidfd = -1, .pty_master = -1, .shared_rootfd = -1, .pidfd_sock = -1 };
	out->pid = 0;
	out->pidfd = out->pty_master = -1;
	int r = -1;

	if (o->preserve_fds < 0)
		return sk_error(err, EINVAL, "--preserve-fds must not be negative");
	if (sk_state_validate_id(o->id, err) < 0)
		return -1;
	long listen;
	int n_keep = count_keep_fds(o, &listen, err);
	if (n_keep < 0)
		return -1;
	reserve_fds(n_keep);
	if (o->foreground) {
		sigset_t fwd;
		sk_container_forwarded(&fwd);
		sigprocmask(SIG_BLOCK, &fwd, &out->saved_mask);
	}
	c.root_fd = sk_state_open_root(o->root, err);
	if (c.root_fd < 0)
		goto out;
	const struct sk_plan_opts po = { .bundle = o->bundle, .no_pivot = o->no_pivot,
					 .no_new_keyring = o->no_new_keyring, .listen_fds = listen,
					 .seccomp_cache_fd = c.root_fd };
	if (sk_plan_bundle(&po, &c.plan, err) < 0)
		goto out;
	c.have_plan = true;
	sk_plan_log(&c.plan);
	if (sk_rootless_auto() && sk_process_rootless_check(&c.plan.proc, err) < 0)
		goto out;
	sk_fault_point("compiled");
	const struct sk_spec *spec = &c.plan.spec;
	/* resctrl is looked for before anything is made: where it is not
	 * mounted, one line and nothing left. */
	if (spec->has_linux && spec->linux_.intel_rdt.present) {
		char rroot[PATH_MAX];
		if (sk_resctrl_find(NULL, rroot, sizeof(rroot), err) < 0 ||
		    sk_resctrl_paths(rroot, &spec->linux_.intel_rdt, o->id, &c.rdt, err) < 0)
			goto out;
		c.has_rdt = true;
	}
	if (o->pidfd_socket && (c.pidfd_sock = sk_unix_connect(o->pidfd_socket, err)) < 0) {
		sk_error_wrap(err, "--pidfd-socket");
		goto out;
	}
	c.dir_fd = sk_state_lock(c.root_fd, o->id, true, err);
	if (c.dir_fd < 0)
		goto out;
	c.dir_made = true;
	sk_fault_point("locked");

	if (save_config(&c, err) < 0)
		goto fail;
	if (mkfifoat(c.dir_fd, "exec.fifo", 0600) < 0) {
		sk_error(err, errno, "mkfifo \"%s/%s/exec.fifo\"", o->root, o->id);
		goto fail;
	}
	c.fifo_fd = openat(c.dir_fd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (c.fifo_fd < 0) {
		sk_error(err, errno, "open \"%s/%s/exec.fifo\"", o->root, o->id);
		goto fail;
	}
	if (open_console(&c, err) < 0)
		goto fail;
	if ((o->systemd_cgroup ? sk_cgroup_plan_unit(spec, o->id, o->systemd_user, &c.cg, err)
			       : sk_cgroup_plan(spec, o->id, &c.cg, err)) < 0)
		goto fail;
	c.have_cg = true;
	if (c.plan.share_mntns && sk_rootfs_bind_shared(c.plan.rootfs, &c.shared_rootfd, &c.shared_mnt, err) < 0)
		goto fail;
	sk_fault_point("planned");

	sk_now_rfc3339(c.created, sizeof(c.created));
	c.st = (struct sk_state){
		.id = (char *)o->id, .bundle = c.plan.bundle, .rootfs = c.plan.rootfs, .created = c.created,
		.cgroup_path = (char *)sk_cgroup_path(&c.cg),
		.cgroup_unit = c.cg.sd.name, .cgroup_unit_user = c.cg.sd.user,
		.cgroup_paths = c.cg_paths, .n_cgroup_paths = sk_cgroup_v1_paths(&c.cg, c.cg_paths, SK_CG_MAX_DIRS),
		.owner = geteuid(),
		.annotations = spec->annotations, .n_annotations = spec->n_annotations,
		.rootfs_mnt_id = c.shared_mnt.bind, .rootfs_base_mnt_id = c.shared_mnt.base,
		.poststart_hooks = spec->hooks.n[SK_HOOK_POSTSTART] > 0,
		.poststop_hooks = spec->hooks.n[SK_HOOK_POSTSTOP] > 0,
		.resctrl_group = c.has_rdt && c.rdt.own_group ? c.rdt.group : NULL,
		.resctrl_mon = c.has_rdt && *c.rdt.mon ? c.rdt.mon : NULL,
	};
	/* Written before the cgroup and the bind exist and before the clone,
	 * so that a runtime killed from here on leaves a state that `delete`
	 * can clean up. */
	if (sk_state_write(c.dir_fd, &c.st, err) < 0)
		goto fail;
	sk_fault_point("state-written");
	if (sk_cgroup_make(spec, &c.cg, err) < 0) {
		if (!o->rootless || o->systemd_cgroup || !denied(err->errnum))
			goto fail;
		if (spec->linux_.cgroups_path || sk_cgroup_has_limits(&spec->linux_.resources)) {
			sk_error_wrap(err, "rootless: %s needs a cgroup the caller may write (delegated)",
				      spec->linux_.cgroups_path ? "linux.cgroupsPath" : "linux.resources");
			goto fail;
		}
		/* runc's rule: nothing asked of cgroups, none is needed; the
		 * container stays in the caller's. */
		sk_debug("rootless: no cgroup (%s)", err->msg);
		c.have_cg = false;
		c.st.cgroup_path = NULL;
		c.st.n_cgroup_paths = 0;
		if (sk_state_write(c.dir_fd, &c.st, err) < 0)
			goto fail;
	} else {
		c.cg_made = true;
		c.oom_kills = sk_cgroup_oom_kills(&c.cg);
	}
	sk_fault_point("cgroup-made");
	if (c.plan.share_mntns && sk_rootfs_attach_shared(c.plan.rootfs, c.shared_rootfd, err) < 0)
		goto fail;
	sk_fault_point("rootfs-bound");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sync) < 0) {
		sk_error(err, errno, "socketpair");
		goto fail;
	}
	struct sk_walk w = {
		.plan = &c.plan, .sync_fd = c.sync[1], .fifo_fd = c.fifo_fd, .console_fd = c.console_fd,
		.n_keep_fds = n_keep, .userns = c.plan.ns.userns, .shared_rootfd = c.shared_rootfd,
		.init_pidfd = -1, .time_fd = -1, .chroot_fd = -1,
		.parent_fds = { c.root_fd, c.dir_fd, c.sync[0], c.console_peer, c.have_cg ? sk_cgroup_v2_fd(&c.cg) : -1,
				c.pidfd_sock, -1, -1 },
	};
	/* The host's root making a user namespace: bind sources are opened
	 * here, where the host's root can reach them. */
	bool host_binds = c.plan.ns.userns && !sk_rootless_auto();
	if (sk_signals_ignored(&w.sig_ign, err) < 0 || sk_mount_plan_prepare(&c.plan.mounts, host_binds, err) < 0)
		goto fail;
	if (clone_init(&c, &w, err) < 0)
		goto fail;
	sk_fault_point("cloned");
	if (parent_loop(&c, err) < 0)
		goto fail;
	sk_fault_point("ready");
	/* The init is set up and waits for GO: its process starts in the group. */
	if (c.has_rdt) {
		c.rdt_tried = true;
		if (sk_resctrl_apply(&c.rdt, &spec->linux_.intel_rdt, c.init_pid, err) < 0)
			goto fail;
	}
	if (c.console_peer >= 0 && sk_fd_recv(c.console_peer, &c.pty_master, err) < 0)
		goto fail;

	c.st.pid = c.init_pid;
	if (sk_proc_start_time(c.init_pid, &c.st.start_time, err) < 0)
		goto fail;
	if (sk_state_write(c.dir_fd, &c.st, err) < 0)
		goto fail;
	sk_fault_point("pid-recorded");
	if (o->pid_file && sk_write_pid_file(o->pid_file, c.init_pid, err) < 0)
		goto fail;
	/* runc 1.2's --pidfd-socket: the init's pidfd, before it may run. */
	if (c.pidfd_sock >= 0 && sk_fd_send(c.pidfd_sock, c.pidfd, "pidfd", err) < 0) {
		sk_error_wrap(err, "--pidfd-socket");
		goto fail;
	}
	if (sk_sync_send(c.sync[0], SK_SYNC_GO, 0, -1, NULL, 0, err) < 0)
		goto fail;

	out->pid = c.init_pid;
	if (o->foreground) {
		out->pidfd = c.pidfd;
		out->pty_master = c.pty_master;
		c.pidfd = c.pty_master = -1;
	}
	r = 0;
	goto out;
fail:
	create_cleanup(&c);
out:
	if (c.pidfd >= 0)
		close(c.pidfd);
	create_free(&c);
	if (r < 0 && o->foreground)
		sigprocmask(SIG_SETMASK, &out->saved_mask, NULL);
	return r;
}
