/* task: containerd's Task service (containerd.task.v2.Task) over the core:
 * every container of the shim's group (a pod) with its execs, in one loop.
 *
 * A container is created by Create (rootfs mounted, the runtime's create
 * spawned by the core with the process's stdio, its pid watched), started
 * by Start (the runtime's start; an exec's runtime exec), and its end
 * reaches containerd as TaskExit and as the answer to every Wait.  The
 * events follow containerd's order (TaskStart before TaskExit: an exit
 * reaped while Start runs waits for it).  The runtime is skiff, or the
 * runc options' BinaryName, with their Root and SystemdCgroup; it is
 * recorded in the bundle for `delete`.
 *
 * Stats answers with containerd's cgroup v1 or v2 metrics (stats.h).
 * Not implemented (answered with Unimplemented): Checkpoint. */
#ifndef SKIFF_SHIM_CONTAINERD_TASK_H
#define SKIFF_SHIM_CONTAINERD_TASK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/child.h"
#include "core/loop.h"
#include "ttrpc.h"

struct ctrd_task;

struct ctrd_service {
	struct shim_loop *loop;
	struct shim_reaper *reaper;
	const char *ns;
	struct ctrd_task *tasks;
	bool shutdown;               /* Shutdown with no task left: exit */
};

/* The service the methods serve (one per shim process). */
void ctrd_service_set(struct ctrd_service *s);
/* Set by the server: write what a connection has queued (a Wait answered
 * from outside the connection's own handler). */
extern void (*ctrd_conn_flush)(struct ttrpc_conn *c);

extern const struct ttrpc_method ctrd_task_methods[];
extern const size_t ctrd_task_n_methods;

/* A connection is gone: forget the Waits that would answer on it. */
void ctrd_service_conn_closed(struct ctrd_service *s, struct ttrpc_conn *c);

#endif
