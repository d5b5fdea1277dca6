/* ctr: the core's state, one struct per container and one per process,
 * allocated by a face: conmon's makes one container with one process (its
 * first, or an exec); containerd's many containers, each with its execs,
 * all in one loop.
 *
 * A container owns its OOM watch; a process its child (pid, pidfd,
 * status), stdio, output and log, exit record and timeout.  A process
 * starts by shim_runtime_spawn (core/runtime.h), is watched once the face
 * knows its pid (shim_proc_started), and is done when p->child.done:
 * p->child.on_exit tells the face. */
#ifndef SHIM_CORE_CTR_H
#define SHIM_CORE_CTR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/child.h"
#include "core/loop.h"
#include "core/oom.h"
#include "core/output.h"
#include "core/runtime.h"
#include "skiff/base/error.h"
#include "skiff/base/util.h"

struct shim_proc;

struct shim_ctr {
	char *id;
	struct shim_loop *loop;
	struct shim_reaper *reaper;
	struct shim_proc *init;          /* its first process, once made; NULL for an exec-only face */
	struct shim_oom oom;
	bool oom_killed;
	/* An OOM kill was seen (optional; containerd's TaskOOM). */
	void (*on_oom)(void *ctx, struct shim_ctr *ctr);
	void *ctx;
};

struct shim_proc {
	struct shim_ctr *ctr;
	struct shim_child child;         /* the process, once its pid is known */
	uint64_t start_time;             /* of child.pid, for exit.json; 0: unknown */
	struct shim_stdio io;
	struct shim_output out;
	int rec_fd;                      /* exit.json's directory, or -1: none */
	bool rec_lock;                   /* flock rec_fd around each write */
	struct sk_reserved rec_space;    /* the final record's space, reserved
					  * with the running record */
	bool timed_out;
	int timer_fd;
	char *scratch;                   /* private directory, or NULL */
};

/* A container of id on loop and reaper. */
struct shim_ctr *shim_ctr_new(struct shim_loop *loop, struct shim_reaper *reaper, const char *id,
			      struct sk_err *err);
/* Its OOM watch ends; its processes must be freed first. */
void shim_ctr_free(struct shim_ctr *ctr);
/* A process of ctr, every fd -1; the first one made is ctr->init when
 * init is true. */
struct shim_proc *shim_proc_new(struct shim_ctr *ctr, bool init, struct sk_err *err);
/* Stops watching, closes its fds, removes its scratch directory. */
void shim_proc_free(struct shim_proc *p);
/* The runtime has reported pid: watch it (pidfd and reaping) and note its
 * start time.  p->child.done may be true at once (it exited already). */
int shim_proc_started(struct shim_proc *p, pid_t pid, struct sk_err *err);
/* Kill the process (its process group too, unless that is the shim's or
 * init's) after seconds; p->timed_out says it happened. */
int shim_proc_timeout(struct shim_proc *p, int seconds, struct sk_err *err);

#endif
