/* walk: take the steps of a plan in the child (walk.h). */
#include "skiff/plan/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "skiff/plan/caps.h"
#include "skiff/plan/hooks.h"
#include "skiff/base/log.h"
#include "skiff/plan/rootfs.h"
#include "skiff/base/sync.h"
#include "skiff/plan/sysctl.h"
#include "skiff/plan/terminal.h"
#include "skiff/base/signals.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* What the walk carries from one step to the next. */
struct state {
	struct sk_walk *w;
	struct sk_rootfs_ctx rc;
	int rootfd;                    /* the rootfs before pivot, "/" after */
	struct sk_mask_fds mask;       /* the container's /dev/null and the
					* masking tmpfs */
	char *hook_states;             /* the parent's "<creating>\0<created>" */
};

/* Before READY the parent is listening: report there and die. */
static _Noreturn void fail(struct state *s, struct sk_err *err)
{
	if (s->w->sync_fd >= 0)
		sk_sync_send_error(s->w->sync_fd, err);
	else
		sk_log(SK_LOG_ERROR, "%s", err->msg);
	_exit(1);
}

static int wait_parent(struct state *s, uint32_t type, char **payload, struct sk_err *err)
{
	struct sk_sync_msg m;
	return sk_sync_expect(s->w->sync_fd, type, &m, NULL, payload, err);
}

/* Slow path only: the pid namespace made by unshare() holds our children,
 * so the real init is forked, as a sibling (CLONE_PARENT) so that the
 * runtime can wait for it. */
static int fork_real_init(struct state *s, struct sk_err *err)
{
	struct clone_args args = { .flags = CLONE_PARENT, .exit_signal = 0 };
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return sk_error(err, errno, "fork the container init");
	if (pid > 0) {
		if (sk_sync_send(s->w->sync_fd, SK_SYNC_INIT_PID, (int32_t)pid, -1, NULL, 0, err) < 0)
			fail(s, err);
		_exit(0);
	}
	/* Say nothing on the shared socket before the parent knows our pid. */
	return wait_parent(s, SK_SYNC_PID_ACK, NULL, err);
}

/* The parent writes our id maps.  An unprivileged parent (or its
 * newuidmap) may open our /proc files only while we are dumpable, which
 * the sealed binary is not (exe_seal.h): dumpable for that moment only,
 * before any process of the container exists. */
static int userns_maps(struct state *s, struct sk_err *err)
{
	bool undump = geteuid() != 0 && prctl(PR_GET_DUMPABLE) == 0;
	if (undump && prctl(PR_SET_DUMPABLE, 1) < 0)
		return sk_error(err, errno, "prctl PR_SET_DUMPABLE 1");
	if (sk_sync_send(s->w->sync_fd, SK_SYNC_USERNS_READY, 0, -1, NULL, 0, err) < 0 ||
	    wait_parent(s, SK_SYNC_MAPS_DONE, NULL, err) < 0)
		return -1;
	if (undump && prctl(PR_SET_DUMPABLE, 0) < 0)
		return sk_error(err, errno, "prctl PR_SET_DUMPABLE 0");
	return 0;
}

static int namespaces(struct state *s, struct sk_err *err)
{
	const struct sk_ns_plan *ns = &s->w->plan->ns;
	if (ns->child_joins && sk_ns_join(ns, err) < 0)
		return -1;
	unsigned long early = ns->child_joins ? ns->unshare_flags & ~(unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME) : 0;
	if (early && unshare((int)early) < 0)
		return sk_error(err, errno, "unshare namespaces 0x%lx", early);
	if (ns->userns_new && userns_maps(s, err) < 0)
		return -1;
	/* cgroup and time: the init sits in its cgroup already; the time
	 * offsets must be written before any process enters the namespace (the
	 * real init does at the second fork, the init at execve), and while we
	 * are still the user namespace's creator: once our uid changes our
	 * /proc files belong to the host's root. */
	unsigned long late = ns->unshare_flags & (unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME);
	if (late && unshare((int)late) < 0)
		return sk_error(err, errno, "unshare %s namespace", late & CLONE_NEWCGROUP ? "cgroup" : "time");
	if ((late & CLONE_NEWTIME) && sk_ns_write_time_offsets(ns, err) < 0)
		return -1;
	/* Become root of the user namespace (needs 0 mapped, as runc). */
	if (ns->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return sk_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
	if (ns->netns_new && sk_ns_loopback_up(err) < 0)
		return -1;
	return ns->second_fork ? fork_real_init(s, err) : 0;
}

/* exec: one setns() on the init's pidfd for all its namespaces that differ
 * from ours (the kernel orders them, user first; CLONE_NEWNS puts us at
 * the root of its mount tree), its time namespace, its root without a
 * mount namespace, then root of the user namespace. */
static int join(struct state *s, struct sk_err *err)
{
	struct sk_walk *w = s->w;
	if (w->ns_flags && setns(w->init_pidfd, (int)w->ns_flags) < 0)
		return sk_error(err, errno, "join the namespaces of the container's init (0x%lx)", w->ns_flags);
	if (w->time_fd >= 0 && setns(w->time_fd, CLONE_NEWTIME) < 0)
		return sk_error(err, errno, "join the time namespace of the container");
	close(w->init_pidfd);
	if (w->time_fd >= 0)
		close(w->time_fd);
	if (w->chroot_fd >= 0 && sk_rootfs_chroot(w->chroot_fd, err) < 0)
		return -1;
	if (w->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return sk_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
	return 0;
}

static int keyring(struct sk_err *err)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS && errno != EACCES &&
	    errno != EPERM)
		return sk_error(err, errno, "join a new session keyring");
	return 0;
}

static int hooks_create(struct state *s, struct sk_err *err)
{
	const struct sk_hooks *h = &s->w->plan->spec.hooks;
	if (sk_sync_send(s->w->sync_fd, SK_SYNC_HOOKS, 0, -1, NULL, 0, err) < 0 ||
	    wait_parent(s, SK_SYNC_HOOKS_DONE, &s->hook_states, err) < 0)
		return -1;
	/* In the rootfs, not yet the root: runc's createContainer cwd. */
	return h->n[SK_HOOK_CREATE_CONTAINER]
		       ? sk_hooks_run(SK_HOOK_CREATE_CONTAINER, h, s->hook_states, s->w->plan->rootfs, err)
		       : 0;
}

static int pivot(struct state *s, uint32_t how, struct sk_err *err)
{
	struct sk_walk *w = s->w;
	int r;
	if (how == SK_PIVOT_CHROOT) {
		r = sk_rootfs_chroot(w->shared_rootfd, err);
		close(w->shared_rootfd);
		w->shared_rootfd = -1;
	} else {
		close(s->rootfd);
		r = sk_rootfs_pivot(w->plan->rootfs, how == SK_PIVOT_MOVE, err);
	}
	s->rootfd = r < 0 ? -1 : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r == 0 && s->rootfd < 0)
		r = sk_error(err, errno, "open \"/\"");
	return r;
}

/* The fds the process keeps: 0-2 and the preserved ones. */
static int keep_fds(struct state *s, struct sk_err *err)
{
	int n = s->w->n_keep_fds;
	for (int fd = 3; fd < 3 + n; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
			return sk_error(err, errno, "preserved fd %d", fd);
	}
	if (syscall(SYS_close_range, 3 + n, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return sk_error(err, errno, "mark fds close-on-exec");
	return 0;
}

static int seccomp(struct state *s, struct sk_err *err)
{
	int listener = -1;
	if (sk_seccomp_load(&s->w->plan->seccomp, &listener, err) < 0)
		return -1;
	if (listener < 0)
		return 0;
	int r = sk_sync_send(s->w->sync_fd, SK_SYNC_FD, SK_SYNC_FD_SECCOMP, listener, NULL, 0, err);
	close(listener);
	return r;
}

static int ready(struct state *s, struct sk_err *err)
{
	struct sk_walk *w = s->w;
	if (sk_sync_send(w->sync_fd, SK_SYNC_READY, 0, -1, NULL, 0, err) < 0 ||
	    wait_parent(s, SK_SYNC_GO, NULL, err) < 0)
		return -1;
	/* The init's parent is done with it; exec's waits for the execve. */
	if (w->plan->kind == SK_PLAN_CREATE) {
		close(w->sync_fd);
		w->sync_fd = -1;
	}
	return 0;
}

/* Block until `start` writes to exec.fifo.  poll() on a FIFO whose writer
 * never came waits (no POLLHUP until a writer has come and gone). */
static int wait_start(struct state *s, struct sk_err *err)
{
	struct pollfd p = { .fd = s->w->fifo_fd, .events = POLLIN };
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return sk_error(err, errno, "wait for start");
	char b;
	ssize_t n = read(s->w->fifo_fd, &b, 1);
	if (n != 1)
		return sk_error(err, n < 0 ? errno : EPIPE, "wait for start: exec.fifo closed without a start");
	/* Kept open: execve closes it (O_CLOEXEC), which is how `start` learns
	 * that the process runs, after the startContainer hooks. */
	return 0;
}

/* What CRIU needs to dump the container later, as runc provides it: every
 * process a session leader (a terminal made it one already; CRIU refuses a
 * session leader outside the pid namespace), and the init's stdio on the
 * host's /dev/null reopened from the container's /dev (CRIU cannot dump a
 * file of a mount outside the container). */
static int checkpointable(const struct sk_process *pr, bool init, struct sk_err *err)
{
	if (!pr->terminal && setsid() < 0 && getsid(0) != getpid())
		return sk_error(err, errno, "setsid");
	if (!init)
		return 0;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat ns;
	if (fd < 0 || fstat(fd, &ns) < 0) {
		if (fd >= 0)
			close(fd);
		return errno == ENOENT ? 0 : sk_error(err, errno, "open the container's /dev/null");
	}
	int r = 0;
	for (int i = 0; i < 3 && r == 0; i++) {
		struct stat sb;
		if (fstat(i, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == ns.st_rdev &&
		    (sb.st_dev != ns.st_dev || sb.st_ino != ns.st_ino) && dup3(fd, i, 0) < 0)
			r = sk_error(err, errno, "reopen fd %d on /dev/null", i);
	}
	close(fd);
	return r;
}

static int step(struct state *s, const struct sk_step *st, struct sk_err *err)
{
	struct sk_walk *w = s->w;
	struct sk_plan *p = w->plan;
	const struct sk_spec *spec = p->cspec;
	const struct sk_process *pr = p->process;
	switch (st->kind) {
	case SK_STEP_NAMESPACES:
		return namespaces(s, err);
	case SK_STEP_KEYRING:
		return keyring(err);
	case SK_STEP_ROOTFS:
		return sk_rootfs_open(&s->rc, &s->rootfd, err);
	case SK_STEP_MOUNT:
		return sk_rootfs_mount(s->rootfd, &s->rc, &p->mounts.steps[st->index], err);
	case SK_STEP_DEVICES:
		return sk_rootfs_devices(s->rootfd, &s->rc, err);
	case SK_STEP_DEV_READONLY:
		return sk_rootfs_dev_readonly(s->rootfd, spec->process.terminal, err);
	case SK_STEP_HOOKS_CREATE:
		return hooks_create(s, err);
	case SK_STEP_PIVOT:
		return pivot(s, st->index, err);
	case SK_STEP_SYSCTL:
		return sk_sysctl_apply(spec, err);
	case SK_STEP_READONLY:
		return sk_rootfs_readonly(s->rootfd, spec->linux_.readonly_paths[st->index], err);
	case SK_STEP_MASK:
		return sk_rootfs_mask(s->rootfd, spec->linux_.masked_paths[st->index], &s->mask, err);
	case SK_STEP_ROOT_READONLY:
		return sk_rootfs_root_readonly(s->rootfd, err);
	case SK_STEP_ROOT_PROPAGATION:
		return sk_rootfs_root_propagation(&p->mounts, err);
	case SK_STEP_HOSTNAME:
		return sethostname(spec->hostname, strlen(spec->hostname)) < 0
			       ? sk_error(err, errno, "set hostname \"%s\"", spec->hostname) : 0;
	case SK_STEP_DOMAINNAME:
		return setdomainname(spec->domainname, strlen(spec->domainname)) < 0
			       ? sk_error(err, errno, "set domainname \"%s\"", spec->domainname) : 0;
	case SK_STEP_JOIN:
		return join(s, err);
	case SK_STEP_TERMINAL:
		/* /dev/console is the init's: exec's process does not take it. */
		return sk_terminal_setup(w->console_fd, pr, p->kind == SK_PLAN_CREATE, err);
	case SK_STEP_HOME:
		sk_process_home(&p->proc);
		return 0;
	case SK_STEP_LSM:
		return sk_process_lsm(&p->proc, err);
	case SK_STEP_PERSONALITY:
		return sk_process_personality(&p->proc, err);
	case SK_STEP_SCHEDULER:
		return sk_process_scheduler(&p->proc, err);
	case SK_STEP_IO_PRIORITY:
		return sk_process_io_priority(&p->proc, err);
	case SK_STEP_MEMORY_POLICY:
		return sk_process_memory_policy(&spec->linux_.memory_policy, err);
	case SK_STEP_CPU_AFFINITY:
		return sk_process_cpu_affinity(&p->proc, err);
	case SK_STEP_RLIMITS:
		return sk_process_rlimits(&p->proc, err);
	case SK_STEP_USER:
		if (checkpointable(pr, p->kind == SK_PLAN_CREATE, err) < 0)
			return -1;
		return sk_process_set_user(&p->proc, w->userns, err);
	case SK_STEP_CAPS:
		return sk_caps_apply(&pr->caps, p->keep_admin, err);
	case SK_STEP_RESOLVE:
		return sk_process_resolve(&p->proc, err);
	case SK_STEP_NO_NEW_PRIVS:
		return sk_process_no_new_privs(&p->proc, err);
	case SK_STEP_FDS:
		return keep_fds(s, err);
	case SK_STEP_SECCOMP:
		return seccomp(s, err);
	case SK_STEP_CAPS_FINAL:
		return sk_caps_apply_final(&pr->caps, err);
	case SK_STEP_READY:
		return ready(s, err);
	case SK_STEP_WAIT_START:
		return wait_start(s, err);
	case SK_STEP_HOOKS_START:
		return sk_hooks_run(SK_HOOK_START_CONTAINER, &spec->hooks,
				    s->hook_states ? s->hook_states + strlen(s->hook_states) + 1 : NULL, NULL, err);
	case SK_STEP_EXEC:
		return sk_process_exec(&p->proc, err);
	case SK_STEP_NKINDS:
		break;
	}
	return sk_error(err, EINVAL, "plan: unknown step %d", (int)st->kind);
}

void sk_walk_close_parent_fds(struct sk_walk *w)
{
	for (size_t i = 0; i < sizeof(w->parent_fds) / sizeof(w->parent_fds[0]); i++) {
		if (w->parent_fds[i] >= 0)
			close(w->parent_fds[i]);
		w->parent_fds[i] = -1;
	}
}

_Noreturn void sk_walk(struct sk_walk *w)
{
	struct sk_err err = { 0 };
	struct sk_plan *p = w->plan;
	struct state s = { .w = w, .rootfd = -1, .mask = SK_MASK_FDS_INIT };
	if (p->kind == SK_PLAN_CREATE)
		s.rc = (struct sk_rootfs_ctx){
			.spec = &p->spec, .plan = &p->mounts, .rootfs = p->rootfs, .userns = p->ns.mounts_in_userns,
			/* A joined network namespace may belong to another
			 * user namespace, where sysfs cannot be mounted. */
			.new_netns = p->ns.netns_new,
			.new_cgroupns = p->ns.cgroupns_new || p->ns.join_fd[SK_NS_CGROUP] >= 0,
			.shared_mntns = w->shared_rootfd >= 0, .shared_rootfd = w->shared_rootfd,
		};
	/* No PR_SET_PDEATHSIG: clearing it at the end would race with a parent
	 * that exits at once.  A parent that dies makes our next sync read see
	 * end-of-file, and we exit there. */
	sk_walk_close_parent_fds(w);
	/* Not how skiff was started: the mask the runtime blocks while it
	 * waits, or what its caller ignored, would pass through execve.  First,
	 * before a seccomp filter could refuse it. */
	sk_signals_reset(w->sig_ign);
	for (size_t i = 0; i < p->n_steps; i++) {
		/* The rootfs steps are over: their fds are not the process's. */
		if (p->steps[i].kind >= SK_STEP_JOIN && s.rootfd >= 0) {
			if (s.rootfd != w->shared_rootfd)
				close(s.rootfd);
			if (s.mask.null >= 0)
				close(s.mask.null);
			if (s.mask.dir >= 0)
				close(s.mask.dir);
			s.rootfd = s.mask.null = s.mask.dir = -1;
		}
		if (step(&s, &p->steps[i], &err) < 0)
			fail(&s, &err);
	}
	sk_error(&err, 0, "plan: no exec step");
	fail(&s, &err);
}
