/* ckpt: Task.Checkpoint's runtime command, as containerd's runc shim runs
 * it (pkg/process: Init.checkpoint):
 *   RUNTIME --root R [--criu P] checkpoint --image-path PATH
 *     --work-path W [--parent-path D] [--leave-running] [--tcp-established]
 *     [--ext-unix-sk] [--shell-job] [--file-locks]
 *     [--manage-cgroups-mode M] [--empty-ns NS]... ID
 * PATH is the request's (containerd's own directory, or what the client
 * named); the options are containerd.runc.v1.CheckpointOptions: exit drops
 * --leave-running, open_tcp, external_unix_sockets, terminal (--shell-job)
 * and file_locks are flags, cgroups_mode, empty_namespaces and parent_path
 * take values (the runc shim drops cgroups_mode).  W is work_path, or else
 * <bundle>/work/criu-work, removed afterwards.  When the runtime fails, its
 * CRIU log (W/dump.log) is copied to <bundle>/criu-dump.log, which the
 * error names as the runc shim's does ("... path= <bundle>/criu-dump.log").
 * The restore is the core's (core/runtime.h), run by Start. */
#ifndef SKIFF_SHIM_CONTAINERD_CKPT_H
#define SKIFF_SHIM_CONTAINERD_CKPT_H

#include "containerd/shim.pb-c.h"
#include "proc.h"
#include "skiff/base/error.h"

/* At most this many empty_namespaces (runc knows one: network). */
#define CTRD_CKPT_EMPTY_NS_MAX 4

/* Checkpoint t's init for r.  On a bad request *code is
 * INVALID_ARGUMENT; a failure of the runtime leaves it alone. */
int ctrd_checkpoint(struct ctrd_task *t, const Containerd__Task__V2__CheckpointTaskRequest *r, int *code,
		    struct sk_err *err);

#endif
