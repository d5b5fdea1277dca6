/* container: the lifecycle operations on <root>/<id>, runc's semantics
 * (runtime-spec runtime.md).  The CLI parses flags and calls these; they
 * print nothing.
 *  create  parse + validate the bundle, make the cgroup, clone the init into
 *          its namespaces, let it build the container and block on
 *          exec.fifo; record state.json and the pid file.  On any failure
 *          everything made is removed (processes, cgroup, state dir).
 *  start   release a created init (exec.fifo) and run poststart hooks.
 *  kill    signal the init (pidfd, start time checked) or, with all, every
 *          process of its cgroup.
 *  delete  remove a stopped container (force: kill it first), poststop
 *          hooks, cgroup, state dir.
 *  wait    for `run`: forward signals to the init, proxy a terminal, and
 *          return its wait status. */
#ifndef SKIFF_CONTAINER_H
#define SKIFF_CONTAINER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/container/state.h"

struct sk_create_opts {
	const char *root;
	const char *id;
	const char *bundle;            /* NULL: current directory */
	const char *pid_file;
	const char *console_socket;
	const char *pidfd_socket;      /* --pidfd-socket: gets the init's pidfd */
	bool no_pivot;
	bool no_new_keyring;
	bool rootless;                 /* --rootless: with no cgroupsPath and no
					* limits, a cgroup the caller may not
					* make is done without, as runc */
	int preserve_fds;
	bool systemd_cgroup;           /* --systemd-cgroup: the cgroup is a systemd
					* unit (cgroup.h sk_cgroup_plan_unit) */
	bool systemd_user;             /* ... of the user manager (rootless) */
	bool foreground;               /* `run`: the init stays our child; with a
					* terminal and no console socket, the pty
					* master comes back to us; the signals
					* to forward are blocked from the start,
					* so that none is lost before the wait */
};

struct sk_created {
	pid_t pid;
	int pidfd;
	int pty_master;                /* -1 unless foreground with a terminal */
	sigset_t saved_mask;           /* foreground: the mask before create */
};

int sk_container_create(const struct sk_create_opts *o, struct sk_created *out, struct sk_err *err);
int sk_container_start(const char *root, const char *id, struct sk_err *err);
int sk_container_kill(const char *root, const char *id, int sig, bool all, struct sk_err *err);
int sk_container_delete(const char *root, const char *id, bool force, struct sk_err *err);
/* Wait for a child process of ours given by c->pidfd (the init of `run`,
 * or the process of `exec`), forwarding the signals we get to it (and
 * proxying the terminal when pty_master >= 0, which is closed); *status
 * gets the exit code or 128+signal.  Restores c->saved_mask (the mask from
 * before the forwarded signals were blocked). */
int sk_container_wait(const struct sk_created *c, int *status, struct sk_err *err);
/* The signals `run` forwards: those a process may get from outside, not
 * the ones about skiff itself (SIGCHLD, job control, faults, SIGPIPE,
 * SIGWINCH which the terminal proxy handles). */
void sk_container_forwarded(sigset_t *set);

/* A container's directory, locked (until release), with its state and
 * derived status: what a command acting on a container starts with.  With
 * need_state, a missing or unreadable state.json is an error; without,
 * have_state is false and err says why: a missing one (a create killed
 * before writing it, errnum ENOENT) is "stopped", one that cannot be read
 * SK_STATUS_UNKNOWN (delete refuses it; --force kills what its saved
 * config's cgroup holds and removes it). */
struct sk_held {
	int root_fd, dir_fd;
	struct sk_state st;
	bool have_state;
	enum sk_status status;
};
int sk_container_hold(const char *root, const char *id, bool need_state, struct sk_held *h, struct sk_err *err);
void sk_container_release(struct sk_held *h);
/* Hold a container that is not stopped and open its cgroup into *cg (the
 * caller closes it and releases h): "container \"x\" is not running" when
 * it is stopped or has no state, "... has no cgroup" without one. */
struct sk_cgroup;
int sk_container_hold_cgroup(const char *root, const char *id, struct sk_held *h, struct sk_cgroup *cg,
			     struct sk_err *err);

/* pause (freeze) a created or running container, or resume (thaw) a
 * paused one, through the cgroup's freezer, returning once it agrees. */
int sk_container_freeze(const char *root, const char *id, bool freeze, struct sk_err *err);


#endif
