/* container: the lifecycle commands on an existing container (start, kill,
 * delete, pause/resume), holding it under its lock, and `run`'s wait.
 * create is create.c.  See container.h. */
#include "skiff/container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/rootless.h"
#include "skiff/cgroup/resctrl.h"
#include "skiff/plan/hooks.h"
#include "skiff/base/log.h"
#include "skiff/cgroup/systemd.h"
#include "skiff/plan/rootfs.h"
#include "skiff/spec/spec.h"
#include "skiff/container/state.h"
#include "skiff/plan/terminal.h"
#include "skiff/base/util.h"
#include "skiff/base/pidfd.h"


/* The recorded cgroup, tied to its systemd unit when it has one (update
 * then sets the unit's properties, destroy stops it). */
static int open_cgroup(const struct sk_held *h, struct sk_cgroup *cg, struct sk_err *err)
{
	if (sk_cgroup_open(h->st.cgroup_path, h->st.cgroup_paths, h->st.n_cgroup_paths, cg, err) < 0)
		return -1;
	if (h->st.cgroup_unit && sk_cgroup_set_unit(cg, h->st.cgroup_unit, h->st.cgroup_unit_user, err) < 0) {
		sk_cgroup_close(cg);
		return -1;
	}
	return 0;
}

int sk_container_hold_cgroup(const char *root, const char *id, struct sk_held *h, struct sk_cgroup *cg,
			     struct sk_err *err)
{
	if (sk_container_hold(root, id, false, h, err) < 0)
		return -1;
	int r = -1;
	/* Without state, err says why it could not be read: a missing one (a
	 * create killed early) is a container that is not running; any other
	 * reason is the error. */
	if (h->have_state || err->errnum == ENOENT) {
		if (h->status == SK_STATUS_STOPPED)
			sk_error(err, 0, "container \"%s\" is not running", id);
		else if (!h->st.cgroup_path)
			sk_error(err, 0, "container \"%s\" has no cgroup", id);
		else
			r = open_cgroup(h, cg, err);
	}
	if (r < 0)
		sk_container_release(h);
	return r;
}

void sk_container_release(struct sk_held *h)
{
	if (h->have_state)
		sk_state_free(&h->st);
	if (h->dir_fd >= 0)
		close(h->dir_fd);
	if (h->root_fd >= 0)
		close(h->root_fd);
	h->have_state = false;
	h->dir_fd = h->root_fd = -1;
}

int sk_container_hold(const char *root, const char *id, bool need_state, struct sk_held *h, struct sk_err *err)
{
	*h = (struct sk_held){ .root_fd = -1, .dir_fd = -1 };
	if (sk_state_validate_id(id, err) < 0)
		return -1;
	h->root_fd = sk_state_open_root(root, err);
	if (h->root_fd < 0)
		return -1;
	h->dir_fd = sk_state_lock(h->root_fd, id, false, err);
	if (h->dir_fd < 0)
		goto fail;
	if (sk_state_read(h->dir_fd, &h->st, err) < 0) {
		if (need_state)
			goto fail;
		/* Only a state not written yet (a create killed early) is a
		 * container with nothing running; a state that cannot be read
		 * may hide a live one. */
		h->status = err->errnum == ENOENT ? SK_STATUS_STOPPED : SK_STATUS_UNKNOWN;
		return 0;
	}
	h->have_state = true;
	h->status = sk_state_status(h->dir_fd, &h->st);
	return 0;
fail:
	sk_container_release(h);
	return -1;
}

/* Open a pidfd on the init and make sure it is still the same process. */
static int init_pidfd(const struct sk_state *st, struct sk_err *err)
{
	if (st->pid <= 0)
		return sk_error(err, ESRCH, "container \"%s\" has no init process", st->id);
	int fd = sk_pidfd_open(st->pid);
	if (fd < 0)
		return sk_error(err, errno, "pidfd_open %d", (int)st->pid);
	uint64_t t;
	if (sk_proc_start_time(st->pid, &t, err) < 0 || t != st->start_time) {
		close(fd);
		return sk_error(err, ESRCH, "container \"%s\": container not running (its init has exited)", st->id);
	}
	return fd;
}

/* The saved config, parsed only when a command needs its hooks. */
static int saved_hooks(int dir_fd, enum sk_hook_kind kind, struct sk_spec *spec, bool *have, struct sk_err *err)
{
	*have = false;
	char *buf;
	size_t len;
	if (sk_read_file_at(dir_fd, "config.json", NULL, SK_SPEC_MAX_BYTES, &buf, &len, err) < 0)
		return -1;
	int r = sk_spec_parse("config.json", buf, len, spec, err);
	free(buf);
	if (r < 0)
		return -1;
	if (!spec->hooks.n[kind]) {
		sk_spec_free(spec);
		return 0;
	}
	*have = true;
	return 0;
}

/* The saved config's hooks of one kind, with the state they get as status. */
static int run_hooks(struct sk_held *h, enum sk_hook_kind kind, enum sk_status status, struct sk_err *err)
{
	/* Create recorded whether there are any: most configs have none, and
	 * parsing the saved config is much of start's and delete's own work. */
	if (!(kind == SK_HOOK_POSTSTART ? h->st.poststart_hooks : h->st.poststop_hooks))
		return 0;
	struct sk_spec spec;
	bool have;
	if (saved_hooks(h->dir_fd, kind, &spec, &have, err) < 0)
		return sk_error_wrap(err, "%s hooks", sk_hook_kind_name(kind));
	if (!have)
		return 0;
	int r = -1;
	char *json = sk_state_oci_json(&h->st, status, err);
	if (json)
		/* The runtime's hooks run in the bundle, as runc's. */
		r = sk_hooks_run(kind, &spec.hooks, json, h->st.bundle, err);
	free(json);
	sk_spec_free(&spec);
	return r;
}

/* runtime-spec: a failing poststop hook is only a warning. */
static void run_poststop_hooks(struct sk_held *h)
{
	struct sk_err err = { 0 };
	if (run_hooks(h, SK_HOOK_POSTSTOP, SK_STATUS_STOPPED, &err) < 0)
		sk_warn("%s", err.msg);
}

int sk_container_start(const char *root, const char *id, struct sk_err *err)
{
	struct sk_held h;
	if (sk_container_hold(root, id, true, &h, err) < 0)
		return -1;
	int r = -1;
	bool poststart_failed = false;
	if (h.status != SK_STATUS_CREATED) {
		sk_error(err, 0, "cannot start container \"%s\": it is %s, not created", id, sk_status_name(h.status));
		goto out;
	}
	int fd = openat(h.dir_fd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		sk_error(err, errno == ENXIO ? ESRCH : errno, "start \"%s\": the init is not waiting on exec.fifo", id);
		goto out;
	}
	char b = '0';
	ssize_t n = write(fd, &b, 1);
	int e = errno;
	/* The init holds the read end until its execve (or its death): the
	 * last reader gone is POLLERR here.  poststart hooks run after the
	 * process has started, as runtime-spec says, not merely been told. */
	struct pollfd p = { .fd = fd, .events = 0 };
	while (n == 1 && poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	close(fd);
	if (n != 1) {
		sk_error(err, e, "start \"%s\": write exec.fifo", id);
		goto out;
	}
	unlinkat(h.dir_fd, "exec.fifo", 0);
	r = run_hooks(&h, SK_HOOK_POSTSTART, SK_STATUS_RUNNING, err);
	poststart_failed = r < 0;
out:
	sk_container_release(&h);
	/* runtime-spec 1.3 (runtime.md step 9), as runc 1.5 and crun 1.27: a
	 * failing poststart hook fails start, and the container is stopped
	 * and destroyed (its poststop hooks run).  The lock is released first:
	 * delete takes it again. */
	if (r < 0 && poststart_failed) {
		struct sk_err derr = { 0 };
		if (sk_container_delete(root, id, true, &derr) < 0)
			sk_warn("delete \"%s\" after its poststart hook failed: %s", id, derr.msg);
	}
	return r;
}

static int signal_all(struct sk_held *h, int sig, struct sk_err *err)
{
	struct sk_cgroup cg;
	if (open_cgroup(h, &cg, err) < 0)
		return -1;
	int r = sk_cgroup_signal(&cg, sig, err);
	sk_cgroup_close(&cg);
	return r;
}

int sk_container_freeze(const char *root, const char *id, bool freeze, struct sk_err *err)
{
	struct sk_held h;
	const char *verb = freeze ? "pause" : "resume";
	if (sk_container_hold(root, id, false, &h, err) < 0)
		return -1;
	int r = -1;
	bool ok = freeze ? h.status == SK_STATUS_RUNNING || h.status == SK_STATUS_CREATED
			 : h.status == SK_STATUS_PAUSED;
	struct sk_cgroup cg;
	if (h.status == SK_STATUS_UNKNOWN)
		sk_error_wrap(err, "cannot %s container \"%s\"", verb, id);
	else if (!ok)
		sk_error(err, 0, "cannot %s container \"%s\": it is %s, not %s", verb, id,
			 h.have_state ? sk_status_name(h.status) : "being created", freeze ? "running" : "paused");
	else if (!h.st.cgroup_path)
		sk_error(err, 0, "cannot %s container \"%s\": it has no cgroup", verb, id);
	else if (open_cgroup(&h, &cg, err) == 0) {
		r = sk_cgroup_freeze(&cg, freeze, err);
		sk_cgroup_close(&cg);
	}
	sk_container_release(&h);
	return r;
}

int sk_container_kill(const char *root, const char *id, int sig, bool all, struct sk_err *err)
{
	struct sk_held h;
	if (sk_container_hold(root, id, true, &h, err) < 0)
		return -1;
	int r = -1;
	bool stopped = h.status == SK_STATUS_STOPPED;
	/* runc's rules, and its "container not running", which containerd,
	 * CRI-O and podman match on: --all still reaches what is left in the
	 * cgroup of a stopped container, and is no error once that is gone. */
	if (stopped && !all) {
		sk_error(err, 0, "kill \"%s\": container not running", id);
		goto out;
	}
	if (all && h.st.cgroup_path) {
		r = signal_all(&h, sig, err);
		if (r < 0 && stopped && err->errnum == ENOENT)
			r = 0;
		goto out;
	}
	if (stopped) {
		r = 0;
		goto out;
	}
	int fd = init_pidfd(&h.st, err);
	if (fd < 0)
		goto out;
	if (sk_pidfd_signal(fd, sig) == 0)
		r = 0;
	else if (errno == ESRCH)
		r = sk_error(err, ESRCH, "kill \"%s\": container not running (its init has exited)", id);
	else
		r = sk_error(err, errno, "kill container \"%s\" with signal %d", id, sig);
	close(fd);
out:
	sk_container_release(&h);
	return r;
}

/* Bounded wait for a killed init to be gone. */
static int wait_gone(int pidfd, int timeout_ms, struct sk_err *err)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return sk_error(err, ETIMEDOUT, "init did not exit after SIGKILL");
	return n < 0 ? sk_error(err, errno, "poll pidfd") : 0;
}

/* Open the cgroup planned for spec and id by cgroupfs or, with unit, by
 * the systemd driver; one that is gone leaves cg empty.  unit: the unit
 * is tied to cg (destroy stops it) if its cgroup exists or always. */
static int open_planned(const struct sk_spec *spec, const char *id, bool unit, bool always, struct sk_cgroup *cg,
			struct sk_err *err)
{
	struct sk_cgroup planned;
	int r = unit ? sk_cgroup_plan_unit(spec, id, sk_rootless_auto(), &planned, err)
		     : sk_cgroup_plan(spec, id, &planned, err);
	if (r < 0)
		return -1;
	struct sk_kv v1[SK_CG_MAX_DIRS];
	size_t n = sk_cgroup_v1_paths(&planned, v1, SK_CG_MAX_DIRS);
	r = sk_cgroup_open(sk_cgroup_path(&planned), v1, n, cg, err);
	if (r < 0 && err->errnum == ENOENT)
		r = 0;
	if (r == 0 && unit && (cg->n || always))
		r = sk_cgroup_set_unit(cg, planned.sd.name, planned.sd.user, err);
	sk_cgroup_close(&planned);
	return r;
}

/* The cgroup of a container whose state cannot be read, from what
 * remains: the saved config's cgroupsPath, resolved as create did.  Its
 * driver is not recorded there: systemd's "slice:prefix:name" form can
 * only be the systemd driver's (cgroupfs refuses it), and without a
 * cgroupsPath the driver's default unit is looked for when there is no
 * cgroupfs cgroup and systemd runs.  A cgroup that is gone leaves cg
 * empty, but for a named unit, stopped all the same (it may linger
 * failed). */
static int cgroup_from_config(struct sk_held *h, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	char *buf;
	size_t len;
	struct sk_spec spec;
	if (sk_read_file_at(h->dir_fd, "config.json", NULL, SK_SPEC_MAX_BYTES, &buf, &len, err) < 0)
		return err->errnum == ENOENT ? 0 : -1;   /* a create killed before it wrote it */
	int r = sk_spec_parse("config.json", buf, len, &spec, err);
	free(buf);
	if (r < 0)
		return -1;
	const char *cp = spec.has_linux ? spec.linux_.cgroups_path : NULL;
	bool sd_form = cp && cp[0] && cp[0] != '/' && strchr(cp, ':');
	struct sk_err ignored;
	if (!sd_form)
		r = open_planned(&spec, id, false, false, cg, err);
	if (r == 0 && !cg->n && (sd_form || !cp || !cp[0]) && sk_sd_check(sk_rootless_auto(), &ignored) == 0)
		r = open_planned(&spec, id, true, sd_form, cg, err);
	sk_spec_free(&spec);
	return r;
}

/* delete --force of a container whose state cannot be read: every process
 * of its cgroup killed, the cgroup, its unit and the directory removed. */
static int delete_unknown(struct sk_held *h, const char *id, struct sk_err *err)
{
	struct sk_cgroup cg = SK_CGROUP_INIT;
	sk_warn("delete: container \"%s\": %s; removing it from its config.json", id, err->msg);
	int r = cgroup_from_config(h, id, &cg, err);
	if (r == 0 && cg.n) {
		/* A frozen cgroup would hold the killed processes. */
		if (sk_cgroup_frozen_dir(&cg))
			r = sk_cgroup_freeze(&cg, false, err);
		if (r == 0)
			r = sk_cgroup_signal(&cg, SIGKILL, err);
	}
	if (r == 0 && (cg.n || cg.sd.name))
		r = sk_cgroup_destroy(&cg, err);
	sk_cgroup_close(&cg);
	if (r < 0)
		return sk_error_wrap(err, "delete container \"%s\" whose state cannot be read", id);
	return sk_state_remove(h->root_fd, id, err);
}

/* Thaw the container's cgroup as its state records it, without its lock:
 * a process frozen there may be what holds the lock. */
static int thaw_unlocked(const char *root, const char *id)
{
	struct sk_err e;
	struct sk_state st;
	struct sk_cgroup cg;
	int root_fd = sk_state_open_root(root, &e);
	int dir = root_fd < 0 ? -1 : sk_state_open(root_fd, id, &e);
	int r = -1;
	if (dir >= 0 && sk_state_read(dir, &st, &e) == 0) {
		if (st.cgroup_path && sk_cgroup_open(st.cgroup_path, st.cgroup_paths, st.n_cgroup_paths, &cg, &e) == 0) {
			r = sk_cgroup_frozen_dir(&cg) ? sk_cgroup_freeze(&cg, false, &e) : -1;
			sk_cgroup_close(&cg);
		}
		sk_state_free(&st);
	}
	if (dir >= 0)
		close(dir);
	if (root_fd >= 0)
		close(root_fd);
	return r;
}

int sk_container_delete(const char *root, const char *id, bool force, struct sk_err *err)
{
	struct sk_held h;
	int held = sk_container_hold(root, id, false, &h, err);
	/* The lock is held by a process frozen in the container's cgroup:
	 * --force thaws it, and the holder can let go. */
	if (held < 0 && force && err->errnum == EDEADLK && thaw_unlocked(root, id) == 0)
		held = sk_container_hold(root, id, false, &h, err);
	if (held < 0)
		/* runc: forcing the delete of a container that is gone is no error. */
		return force && err->errnum == ENOENT ? 0 : -1;
	int r = -1;
	struct sk_cgroup cg = SK_CGROUP_INIT;
	if (h.status == SK_STATUS_UNKNOWN) {
		if (force)
			r = delete_unknown(&h, id, err);
		else
			sk_error_wrap(err, "cannot delete container \"%s\" (delete --force kills what remains of it)", id);
		goto out;
	}
	if (h.status != SK_STATUS_STOPPED && !force) {
		sk_error(err, 0, "cannot delete container \"%s\" that is not stopped: %s", id, sk_status_name(h.status));
		goto out;
	}
	if (h.have_state && h.st.cgroup_path && open_cgroup(&h, &cg, err) < 0 && err->errnum != ENOENT)
		goto out;
	if (h.status != SK_STATUS_STOPPED) {
		int fd = init_pidfd(&h.st, err);
		if (fd >= 0) {
			/* A frozen cgroup would hold the killed processes: thaw it first. */
			if (h.status == SK_STATUS_PAUSED && cg.n)
				sk_cgroup_freeze(&cg, false, err);
			if (cg.n)
				sk_cgroup_signal(&cg, SIGKILL, err);
			sk_pidfd_signal(fd, SIGKILL);
			int w = wait_gone(fd, 10000, err);
			close(fd);
			if (w < 0)
				goto out;
		}
	}
	/* A stopped container's init is gone, but without a pid namespace its
	 * descendants may live on in its cgroup: they are the container's, and
	 * go with it. */
	if (cg.n && ((h.status == SK_STATUS_STOPPED && sk_cgroup_signal(&cg, SIGKILL, err) < 0) ||
		     sk_cgroup_destroy(&cg, err) < 0))
		goto out;
	if (h.have_state && sk_resctrl_remove(h.st.resctrl_group, h.st.resctrl_mon, err) < 0)
		goto out;
	/* Its directories gone (a create killed early), the unit may not be. */
	if (!cg.n && h.have_state && h.st.cgroup_unit && sk_sd_stop(h.st.cgroup_unit, h.st.cgroup_unit_user, err) < 0)
		goto out;
	/* Without a mount namespace its mounts are in ours, under the rootfs. */
	if (h.have_state && h.st.rootfs_mnt_id &&
	    sk_rootfs_unbind_shared(h.st.rootfs,
				    &(struct sk_rootfs_ids){ h.st.rootfs_mnt_id, h.st.rootfs_base_mnt_id }, err) < 0)
		goto out;
	/* runtime-spec: poststop once the container is deleted, but before
	 * delete returns; the saved config they come from goes last. */
	if (h.have_state)
		run_poststop_hooks(&h);
	r = sk_state_remove(h.root_fd, id, err);
out:
	sk_cgroup_close(&cg);
	sk_container_release(&h);
	return r;
}

/* --- run: waiting for the init and forwarding signals to it --- */

void sk_container_forwarded(sigset_t *set)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCONT, SIGALRM,
				    SIGVTALRM, SIGPROF, SIGPWR };
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(set, sig);
}

static int reap(int pidfd, int *status, struct sk_err *err)
{
	siginfo_t si = { 0 };
	int r;
	do
		r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sk_error(err, errno, "wait for the container's process");
	*status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 0;
}

int sk_container_wait(const struct sk_created *c, int *status, struct sk_err *err)
{
	sigset_t set;
	sk_container_forwarded(&set);
	int r;
	if (c->pty_master >= 0) {
		/* The proxy copies the terminal until the process exits and
		 * forwards the signals meanwhile. */
		r = sk_console_proxy(c->pty_master, c->pidfd, &set, err);
		close(c->pty_master);
		if (r == 0)
			r = reap(c->pidfd, status, err);
		sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
		return r;
	}
	/* Blocked already by create; signals that came since are pending. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = sk_error(err, errno, "signalfd");
		sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
		return r;
	}
	r = 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = c->pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = sk_error(err, errno, "poll");
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				sk_pidfd_signal(c->pidfd, (int)si.ssi_signo);
		}
		if (p[0].revents & POLLIN) {
			r = reap(c->pidfd, status, err);
			break;
		}
	}
	close(sfd);
	sigprocmask(SIG_SETMASK, &c->saved_mask, NULL);
	return r;
}
