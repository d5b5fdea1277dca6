/* exec: start another process in a live container, runc's `exec`
 * (docs/exec.md).
 *
 * The process is --process's JSON object (runtime-spec "process"), or the
 * container's own process.* from the config saved by create with args
 * replaced and the flags' overrides applied.  It is cloned into the
 * container's cgroup (CLONE_INTO_CGROUP) and its pid namespace (the
 * parent enters the init's for the clone), then joins every other
 * namespace of the init that differs from ours with one setns() on a pidfd
 * of the init (the time namespace through time_for_children, which is the
 * container's one even before `start`), and walks its plan (plan.h): the
 * init's process steps, then execve.  Its errors
 * come back over a SOCK_SEQPACKET socket that execve closes: end-of-file
 * without a message means the execve happened. */
#ifndef SKIFF_EXEC_H
#define SKIFF_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

struct sk_exec_opts {
	const char *root;
	const char *id;
	const char *process_file;      /* --process: replaces all below up to caps */
	char **args; size_t n_args;    /* COMMAND [ARGS...] (without --process) */
	bool tty;                      /* --tty */
	const char *cwd;               /* --cwd, NULL: the config's */
	const char **env; size_t n_env; /* --env NAME=VALUE, appended (later wins) */
	bool has_uid, has_gid;         /* --user UID[:GID] */
	uint32_t uid, gid;
	const uint32_t *add_gids; size_t n_add_gids; /* --additional-gids, appended */
	uint64_t add_caps;             /* --cap: bits added to the bounding,
					* effective and permitted sets, and to
					* the ambient one when the config has an
					* inheritable set */
	int no_new_privs;              /* --no-new-privs: -1 unset, else 0/1 */
	const char *apparmor;          /* --apparmor */
	const char *process_label;     /* --process-label */
	/* These apply with --process too. */
	const char *console_socket;
	const char *pidfd_socket;      /* --pidfd-socket: gets the process's pidfd */
	bool detach;
	const char *pid_file;
	int preserve_fds;              /* fds 3 .. 3+N-1 pass to the process */
	bool ignore_paused;
	const char **cgroups;          /* --cgroup: sub-cgroups of the container's */
	size_t n_cgroups;              /* to run in (no fallback); see
					* sk_cgroup_open_subs */
};

/* Run the process.  Without detach: wait for it, forwarding signals (and
 * proxying the terminal when tty without a console socket); *status gets
 * its exit code or 128+N for signal N.  With detach: return once it has
 * exec'd, *status = 0.  Refuses a stopped container, and a paused one
 * unless ignore_paused (its process then runs once the container is
 * resumed).  -1 with err filled when the process could not be started
 * (its own errors included: bad user, missing binary...). */
int sk_exec(const struct sk_exec_opts *o, int *status, struct sk_err *err);

#endif
