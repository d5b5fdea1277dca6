/* idmap: writing the id maps of a new user namespace, by who may.
 * Privileged callers (real root, or root of the user namespace skiff runs
 * in, as under rootless podman) write /proc/PID/uid_map and gid_map
 * directly.  An unprivileged caller (euid != 0) may write only the single
 * mapping of its own id, and for gids only after setgroups "deny" (Linux
 * 3.19): that is done directly; any other map goes through the setuid
 * helpers newuidmap/newgidmap (shadow's uidmap package, which check
 * /etc/subuid and /etc/subgid), and setgroups stays allowed.  A map the
 * helper refuses fails with one line naming the map and the helper's own
 * reason. */
#ifndef SKIFF_IDMAP_H
#define SKIFF_IDMAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"

/* map (lines "container host size\n", as /proc/PID/uid_map takes them) is
 * exactly one line mapping a single id onto host id `own`.  Pure. */
bool sk_idmap_single_own(const char *map, unsigned own);

/* Write uid_map (then setgroups, then gid_map) of pid's user namespace;
 * an empty map is left unwritten.  privileged: as above. */
int sk_idmap_write(pid_t pid, const char *uid_map, const char *gid_map, bool privileged, struct sk_err *err);

#endif
