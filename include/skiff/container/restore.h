/* restore: a container from CRIU images (checkpoint.h), as runc's
 * `restore` does: the bundle's config.json is read as by create, the id
 * must be new, the cgroup is made as by create and CRIU puts the tree back
 * into it; the restored init is our child (CRIU's rst_sibling), and from
 * then on an ordinary container (state, kill, exec, pause, update, delete).
 *  - bind mounts get their sources from the config, namespaces given by
 *    path are plugged back in (net, pid) or joined (the others);
 *  - at CRIU's setup-namespaces the prestart and createRuntime hooks run
 *    with the restored init's pid (runc's choice; createContainer and
 *    startContainer belong to a container create builds, and do not run);
 *    a failing hook fails the restore;
 *  - a dump marked as having left the network namespace out (or
 *    --empty-ns network) gets a new, empty one;
 *  - the init's stdio that was a pipe becomes the restore command's own
 *    fds 0-2 (runc's descriptors.json), a terminal's new pty master goes
 *    to --console-socket;
 *  - on any failure nothing is left (processes, cgroup, mounts, state),
 *    and the error points at <work>/restore.log. */
#ifndef SKIFF_RESTORE_H
#define SKIFF_RESTORE_H

#include <stdbool.h>

#include "skiff/base/error.h"
#include "skiff/container/container.h"
#include "skiff/container/criu.h"

struct sk_restore_opts {
	const char *root, *id;
	const char *bundle;            /* NULL: current directory */
	const char *pid_file, *console_socket;
	const char *lsm_profile, *lsm_mount_context;
	bool no_pivot;                 /* accepted: CRIU restores the mounts itself */
	bool foreground;               /* the caller waits: out gets a pidfd, and
					* the forwarded signals are blocked, as
					* for create's foreground */
	struct sk_criu_opts criu;
};

/* out as create's: pid, and for foreground the pidfd and saved mask
 * (pty_master is always -1). */
int sk_container_restore(const struct sk_restore_opts *o, struct sk_created *out, struct sk_err *err);

#endif
