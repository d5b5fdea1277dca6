/* child: the shim's children, reaped and each status given to its owner.
 *
 * The shim is a child subreaper: besides what it forks (the runtime's
 * runs, an exit command), the container processes the runtime leaves
 * behind become its children.  Every process someone waits for is a
 * struct shim_child registered with the reaper.  SIGCHLD leads to
 * shim_reap(), which collects every exit and hands it to its owner, or
 * keeps it (a few) for an owner that registers later: a container that
 * exits before its runtime has told us its pid.  A container process is
 * also watched by pidfd, which covers a process that is not our child;
 * its status is then unknown, never made up. */
#ifndef SHIM_CORE_CHILD_H
#define SHIM_CORE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/loop.h"

struct shim_reaper;

struct shim_child {
	pid_t pid;
	int pidfd;                   /* -1 unless watched (and once done) */
	int status;                  /* the wait status, when known */
	bool done;                   /* it has ended */
	bool known;                  /* ... and status is its real status */
	/* Called once when it is done (optional; may be from within
	 * shim_child_add when the exit came first).  on_exit and ctx are the
	 * owner's: set them before registering, the rest is the reaper's. */
	void (*on_exit)(void *ctx, struct shim_child *c);
	void *ctx;
	struct shim_reaper *reaper;
	struct shim_child *next;
};

struct shim_pidstatus {
	pid_t pid;
	int status;
};

struct shim_reaper {
	struct shim_loop *loop;
	struct shim_child *children;
	struct shim_pidstatus early[16]; /* exits nobody claimed yet */
	size_t n_early;
	int child_oom_adj;               /* for children; INT_MIN: leave ours */
};

void shim_reaper_init(struct shim_reaper *r, struct shim_loop *loop);
/* Collect every exited child (WNOHANG); call it on SIGCHLD. */
void shim_reap(struct shim_reaper *r);
/* Register c for pid; takes its status at once when it was reaped
 * already.  c stays registered until shim_child_remove. */
void shim_child_add(struct shim_reaper *r, struct shim_child *c, pid_t pid);
/* Also watch c's pidfd.  A process that is gone already and was not our
 * child is done with an unknown status.  -1 only when the loop fails. */
int shim_child_watch(struct shim_child *c, struct sk_err *err);
void shim_child_remove(struct shim_child *c);
/* Signal c through its pidfd, else by pid; nothing once it is done. */
int shim_child_signal(struct shim_child *c, int sig);
/* In a new child before exec: the signal mask and oom_score_adj the shim
 * was given, not its own. */
void shim_child_reset(const struct shim_reaper *r);

#endif
