/* init: the child side of create.  The parent prepares everything in a
 * struct sk_init (plans, compiled filters, open fds) before clone3(); the
 * child, a copy of the parent's memory, walks it: namespaces, rootfs,
 * hooks, pivot, process set-up, then reports READY and blocks on exec.fifo
 * until `start`, then execs.  Before READY every error goes to the parent
 * over the sync socket; after it, to the log. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/mount.h"
#include "skiff/ns.h"
#include "skiff/process.h"
#include "skiff/seccomp.h"
#include "skiff/spec.h"

struct sk_init {
	const struct sk_spec *spec;
	const char *rootfs;            /* absolute */
	struct sk_mount_plan *mounts;
	struct sk_ns_plan *ns;
	struct sk_process_plan *proc;
	struct sk_seccomp_prog *seccomp; /* NULL when none */
	int sync_fd;                   /* child's end */
	int fifo_fd;                   /* exec.fifo, read end, non-blocking */
	int console_fd;                /* --console-socket (or run's socketpair), -1 */
	int parent_fds[6];             /* the parent's own fds (the lock among
					* them): closed first thing, -1 = none */
	int n_keep_fds;                /* fds 3..3+n-1 pass to the process */
	int shared_rootfd;             /* no mount namespace: the parent's
					* private bind of the rootfs, else -1 */
	uint64_t sig_ign;              /* signals skiff ignores: reset them */
	bool no_pivot;
	bool no_new_keyring;
	bool child_hooks;              /* createContainer/startContainer hooks exist */
};

_Noreturn void sk_init_main(struct sk_init *c);

#endif
