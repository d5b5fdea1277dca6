/* checkpoint: dump a running or paused container's process tree with CRIU
 * (CRIU's RPC, criu.h) into an image directory, as runc's `checkpoint`
 * does.
 *  - refuses created and stopped containers;
 *  - the container's bind mounts, masked files and devices are recorded
 *    as external mounts, namespaces given by path (net, pid) as external
 *    namespaces, so that restore can plug the host's back in;
 *  - <image>/descriptors.json records what the init's fds 0-2 were (runc's
 *    format), which restore needs to hand the caller's pipes over;
 *  - --empty-ns network: the network namespace's contents are not dumped
 *    (runc always does so), and <image>/skiff-empty-ns tells restore;
 *  - --lazy-pages with --page-server: CRIU serves the memory from the
 *    dumped tree until the restoring side has taken it all, and the call
 *    returns then; --status-fd gets a '\0' when the server is ready;
 *  - the tree is frozen through the container's cgroup; a paused container
 *    stays paused with leave_running;
 *  - after a dump without leave_running (or pre_dump) the container is
 *    deleted (CRIU has killed its processes), as runc does.  On failure it
 *    keeps running untouched and the error points at <work>/dump.log. */
#ifndef SKIFF_CHECKPOINT_H
#define SKIFF_CHECKPOINT_H

#include <stdbool.h>

#include "skiff/base/error.h"
#include "skiff/container/criu.h"

struct sk_checkpoint_opts {
	const char *root, *id;
	struct sk_criu_opts criu;
	bool leave_running;
	bool pre_dump;                 /* memory only, the container keeps running */
	const char *parent_path;       /* a previous (pre-)dump, relative to the image path */
	const char *page_server;       /* "ADDR:PORT" or NULL */
};

int sk_container_checkpoint(const struct sk_checkpoint_opts *o, struct sk_err *err);

#endif
