/* walk: the child side of a plan (plan.h).  The init of create and the
 * process of exec are clones of the runtime that hold a copy of its plan
 * and take its steps in order: sk_walk() is the one place that performs
 * them, so that the init and exec cannot drift.  First the fds of the
 * parent are closed and the signals it ignored reset.  Until READY every
 * error goes to the parent over sync_fd (the init then closes it; an exec
 * process keeps it until execve); afterwards to the log.  Any failure
 * ends the child with status 1. */
#ifndef SKIFF_WALK_H
#define SKIFF_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/plan/plan.h"

struct sk_walk {
	struct sk_plan *plan;          /* the child's own copy */
	int parent_fds[8];             /* the parent's fds (its lock among them):
					* closed first thing, -1 = none */
	uint64_t sig_ign;              /* signals the runtime ignores: reset them */
	int sync_fd;                   /* the child's end of the sync socket */
	int console_fd;                /* --console-socket (or a socketpair), -1 */
	int n_keep_fds;                /* fds 3..3+n-1 pass to the process */
	bool userns;                   /* the process runs in a user namespace
					* that is not the runtime's */
	/* create */
	int fifo_fd;                   /* exec.fifo, read end, non-blocking */
	int shared_rootfd;             /* no mount namespace: the runtime's
					* bind of the rootfs, else -1 */
	/* exec's JOIN */
	int init_pidfd;                /* the init, for setns */
	unsigned long ns_flags;        /* its namespaces that differ from ours */
	int time_fd;                   /* its time_for_children, or -1 */
	int chroot_fd;                 /* its root when it shares our mount
					* namespace, or -1 */
};

_Noreturn void sk_walk(struct sk_walk *w);
/* Close w->parent_fds (and mark them closed): sk_walk does it first; a
 * child that may block before its walk (joining a v1 cgroup that gets
 * frozen) calls it earlier, so that it never holds the parent's lock. */
void sk_walk_close_parent_fds(struct sk_walk *w);

#endif
