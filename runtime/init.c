#include "skiff/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/caps.h"
#include "skiff/hooks.h"
#include "skiff/log.h"
#include "skiff/process.h"
#include "skiff/rootfs.h"
#include "skiff/sync.h"
#include "skiff/sysctl.h"
#include "skiff/terminal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* Before READY the parent is listening: report there and die. */
static _Noreturn void fail(struct sk_init *c, struct sk_err *err)
{
	if (c->sync_fd >= 0)
		sk_sync_send_error(c->sync_fd, err);
	else
		sk_log(SK_LOG_ERROR, "%s", err->msg);
	_exit(1);
}

static int wait_parent(struct sk_init *c, uint32_t type, char **payload, struct sk_err *err)
{
	struct sk_sync_msg m;
	return sk_sync_expect(c->sync_fd, type, &m, NULL, payload, err);
}

/* Slow path only: the pid namespace made by unshare() holds our children,
 * so the real init is forked, as a sibling (CLONE_PARENT) so that the
 * runtime can wait for it. */
static void fork_real_init(struct sk_init *c, struct sk_err *err)
{
	struct clone_args args = { .flags = CLONE_PARENT, .exit_signal = 0 };
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		sk_error(err, errno, "fork the container init");
		fail(c, err);
	}
	if (pid > 0) {
		if (sk_sync_send(c->sync_fd, SK_SYNC_INIT_PID, (int32_t)pid, -1, NULL, 0, err) < 0)
			fail(c, err);
		_exit(0);
	}
	/* Say nothing on the shared socket before the parent knows our pid. */
	if (wait_parent(c, SK_SYNC_PID_ACK, NULL, err) < 0)
		fail(c, err);
}

static void set_namespaces(struct sk_init *c, struct sk_err *err)
{
	const struct sk_ns_plan *ns = c->ns;
	if (ns->child_joins && sk_ns_join(ns, err) < 0)
		fail(c, err);
	unsigned long early = ns->child_joins ? ns->unshare_flags & ~(unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME) : 0;
	if (early && unshare((int)early) < 0) {
		sk_error(err, errno, "unshare namespaces 0x%lx", early);
		fail(c, err);
	}
	if (ns->userns_new) {
		if (sk_sync_send(c->sync_fd, SK_SYNC_USERNS_READY, 0, -1, NULL, 0, err) < 0 ||
		    wait_parent(c, SK_SYNC_MAPS_DONE, NULL, err) < 0)
			fail(c, err);
	}
	/* cgroup and time: the init sits in its cgroup already; the time
	 * offsets must be written before any process enters the namespace (the
	 * real init does at the second fork, the init at execve), and while we
	 * are still the user namespace's creator: once our uid changes we are
	 * not dumpable and our /proc files belong to the host's root. */
	unsigned long late = ns->unshare_flags & (unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME);
	if (late && unshare((int)late) < 0) {
		sk_error(err, errno, "unshare %s namespace", late & CLONE_NEWCGROUP ? "cgroup" : "time");
		fail(c, err);
	}
	if ((late & CLONE_NEWTIME) && sk_ns_write_time_offsets(ns, err) < 0)
		fail(c, err);
	if (ns->userns) {
		/* Become root of the user namespace (needs 0 mapped, as runc). */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			sk_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
			fail(c, err);
		}
	}
	if (ns->second_fork)
		fork_real_init(c, err);
}

static void run_child_hooks(struct sk_init *c, enum sk_hook_kind kind, const char *state, struct sk_err *err)
{
	if (!c->spec->hooks.n[kind])
		return;
	if (sk_hooks_run(kind, &c->spec->hooks, state, err) < 0)
		fail(c, err);
}

/* The fds the process keeps: 0-2 and --preserve-fds / LISTEN_FDS ones. */
static void mark_fds(struct sk_init *c, struct sk_err *err)
{
	for (int fd = 3; fd < 3 + c->n_keep_fds; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && (fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	if (syscall(SYS_close_range, 3 + c->n_keep_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		sk_error(err, errno, "mark fds close-on-exec");
		fail(c, err);
	}
}

/* Block until `start` writes to exec.fifo.  poll() on a FIFO whose writer
 * never came waits (no POLLHUP until a writer has come and gone). */
static int wait_start(struct sk_init *c, struct sk_err *err)
{
	struct pollfd p = { .fd = c->fifo_fd, .events = POLLIN };
	for (;;) {
		int r = poll(&p, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sk_error(err, errno, "wait for start");
		break;
	}
	char b;
	ssize_t n = read(c->fifo_fd, &b, 1);
	if (n != 1)
		return sk_error(err, n < 0 ? errno : EPIPE, "wait for start: exec.fifo closed without a start");
	/* Kept open: execve closes it (O_CLOEXEC), which is how `start` learns
	 * that the process runs, after the startContainer hooks. */
	return 0;
}

_Noreturn void sk_init_main(struct sk_init *c)
{
	struct sk_err err = { 0 };
	const struct sk_spec *s = c->spec;
	const struct sk_process *p = &s->process;
	/* The parent's payload: the state for createContainer ("creating"),
	 * a NUL, the state for startContainer ("created"). */
	char *state_json = NULL;

	/* No PR_SET_PDEATHSIG: clearing it at the end would race with a parent
	 * that exits at once.  A parent that dies makes our next sync read see
	 * end-of-file, and we exit there. */
	for (size_t i = 0; i < sizeof(c->parent_fds) / sizeof(c->parent_fds[0]); i++)
		if (c->parent_fds[i] >= 0)
			close(c->parent_fds[i]);
	/* Not how skiff was started: the mask `run` blocks to hold signals
	 * until the process runs, or what skiff's caller ignored, would pass
	 * through execve.  First, before a seccomp filter could refuse it. */
	sk_signals_reset(c->sig_ign);
	set_namespaces(c, &err);

	if (!c->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS && errno != EACCES && errno != EPERM) {
		sk_error(&err, errno, "join a new session keyring");
		fail(c, &err);
	}

	struct sk_rootfs_ctx rc = {
		.spec = s, .plan = c->mounts, .rootfs = c->rootfs, .userns = c->ns->userns,
		/* A joined network namespace may belong to another user
		 * namespace, where sysfs cannot be mounted. */
		.new_netns = c->ns->netns_new,
		.new_cgroupns = c->ns->cgroupns_new || c->ns->join_fd[SK_NS_CGROUP] >= 0,
		.shared_mntns = c->shared_rootfd >= 0, .shared_rootfd = c->shared_rootfd,
	};
	if (sk_rootfs_setup(&rc, &err) < 0)
		fail(c, &err);

	/* prestart/createRuntime run in the parent, createContainer here, all
	 * before pivot_root (runtime-spec runtime.md steps 5-7). */
	if (s->hooks.n[SK_HOOK_PRESTART] || s->hooks.n[SK_HOOK_CREATE_RUNTIME] || c->child_hooks) {
		if (sk_sync_send(c->sync_fd, SK_SYNC_HOOKS, 0, -1, NULL, 0, &err) < 0 ||
		    wait_parent(c, SK_SYNC_HOOKS_DONE, &state_json, &err) < 0)
			fail(c, &err);
		run_child_hooks(c, SK_HOOK_CREATE_CONTAINER, state_json, &err);
	}

	/* sysctls before read-only and masked paths, which cover /proc/sys. */
	int root = c->shared_rootfd >= 0 ? sk_rootfs_chroot(c->shared_rootfd, &err)
					 : sk_rootfs_pivot(c->rootfs, c->no_pivot, &err);
	if (root < 0 || sk_sysctl_apply(s, &err) < 0 || sk_rootfs_finalize(&rc, &err) < 0)
		fail(c, &err);
	if (c->shared_rootfd >= 0)
		close(c->shared_rootfd);
	if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		sk_error(&err, errno, "set hostname \"%s\"", s->hostname);
		fail(c, &err);
	}
	if (s->domainname && *s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		sk_error(&err, errno, "set domainname \"%s\"", s->domainname);
		fail(c, &err);
	}
	if (p->terminal && sk_terminal_setup(c->console_fd, p, true, &err) < 0)
		fail(c, &err);
	if (sk_process_prepare(c->proc, &err) < 0)
		fail(c, &err);
	if (sk_process_set_user(c->proc, c->ns->userns, &err) < 0)
		fail(c, &err);
	/* Loading a filter without no_new_privs needs CAP_SYS_ADMIN, which the
	 * final capability sets may lack: keep it until the filter is in. */
	bool keep_admin = c->seccomp && !p->no_new_privileges;
	if (sk_caps_apply(&p->caps, keep_admin, &err) < 0)
		fail(c, &err);
	if (sk_process_resolve(c->proc, &err) < 0)
		fail(c, &err);
	if (sk_process_no_new_privs(c->proc, &err) < 0)
		fail(c, &err);
	/* Before the filter, which may not allow close_range; the listener
	 * fd it gives is close-on-exec already. */
	mark_fds(c, &err);
	if (c->seccomp) {
		int listener = -1;
		if (sk_seccomp_load(c->seccomp, &listener, &err) < 0)
			fail(c, &err);
		if (listener >= 0) {
			if (sk_sync_send(c->sync_fd, SK_SYNC_FD, SK_SYNC_FD_SECCOMP, listener, NULL, 0, &err) < 0)
				fail(c, &err);
			close(listener);
		}
		if (keep_admin && sk_caps_apply_final(&p->caps, &err) < 0)
			fail(c, &err);
	}

	if (sk_sync_send(c->sync_fd, SK_SYNC_READY, 0, -1, NULL, 0, &err) < 0 ||
	    wait_parent(c, SK_SYNC_GO, NULL, &err) < 0)
		fail(c, &err);
	close(c->sync_fd);
	c->sync_fd = -1;

	if (wait_start(c, &err) < 0)
		fail(c, &err);
	run_child_hooks(c, SK_HOOK_START_CONTAINER, state_json ? state_json + strlen(state_json) + 1 : NULL, &err);
	sk_process_exec(c->proc, &err);
	fail(c, &err);
}
