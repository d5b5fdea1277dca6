/* proc: the Task service's state (task.h): each container (a task) with
 * its init and execs, each process with its stdio (io.h), its status and
 * the Waits it owes.  A process is spawned through the core (the runtime's
 * create or exec, waited for), watched by the core, and finished once:
 * output drained, status recorded, TaskExit sent, Waits answered. */
#ifndef SKIFF_SHIM_CONTAINERD_PROC_H
#define SKIFF_SHIM_CONTAINERD_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "containerd/task.pb-c.h"
#include "core/ctr.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "io.h"
#include "manage.h"
#include "task.h"

typedef Containerd__V1__Types__Status status_t;

struct waiter {
	struct ttrpc_conn *c;
	uint32_t stream;
	struct waiter *next;
};

struct ctrd_proc {
	struct ctrd_task *t;
	char *exec_id;               /* NULL: the container's init */
	struct shim_proc *p;
	struct ctrd_io io;
	bool io_open;
	char *stdin_, *stdout_, *stderr_;
	bool terminal;
	char *spec_path;             /* an exec's process.json */
	status_t status;
	uint32_t pid;
	uint32_t exit_status;
	struct timespec exited_at;
	bool starting;               /* Start runs: an exit waits for TaskStart */
	bool announced;              /* TaskStart / TaskExecStarted sent */
	bool exit_pending;           /* exited while starting */
	struct waiter *waiters;
	struct shim_child runtime;   /* the runtime's create or exec */
	struct ctrd_proc *next;
};

struct ctrd_task {
	struct ctrd_service *s;
	char *id, *bundle;
	struct ctrd_runtime rt;
	char *criu_path;             /* the runtime's --criu, or NULL */
	char *criu_work_path;        /* restore's --work-path, or NULL: <bundle>/work */
	char *checkpoint;            /* Create's images: Start restores them */
	struct shim_ctr *ctr;
	struct ctrd_proc *init, *execs;
	bool mounted;
	struct ctrd_task *next;
};


/* The service's flush hook (task.h). */
extern void (*ctrd_conn_flush)(struct ttrpc_conn *c);

Google__Protobuf__Timestamp *ctrd_stamp(Google__Protobuf__Timestamp *ts, const struct timespec *t);
/* A process of t (exec_id NULL: its init) with containerd's stdio. */
struct ctrd_proc *ctrd_proc_new(struct ctrd_task *t, const char *exec_id, const char *in, const char *out,
				const char *errp, bool terminal, struct sk_err *err);
void ctrd_proc_free(struct ctrd_proc *cp);
/* The runtime's create or exec for cp (restore for an init whose task has
 * a checkpoint), waited for: cp then has its pid, watched, its output
 * flowing. */
int ctrd_proc_spawn(struct ctrd_proc *cp, struct sk_err *err);
/* It has ended (see above). */
void ctrd_proc_finish(struct ctrd_proc *cp);
/* An exec that could not start: its Waits end (with 255). */
void ctrd_proc_start_failed(struct ctrd_proc *cp);

#endif
