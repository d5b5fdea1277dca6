/* procs: the processes of a container, for `ps` and for any program that
 * manages skiff's containers.
 *  - sk_container_pids(): the pids in the container's cgroup and its
 *    sub-cgroups, read with the container held (container.h).  A stopped
 *    container whose cgroup is still there lists what is left in it (as
 *    runc: usually nothing).
 *  - sk_procs_ps(): ps(1)'s view of them: ps runs with the given arguments
 *    (default -ef), and its header and the rows whose PID column holds one
 *    of the pids are kept, as runc does.  A ps that fails is an error
 *    quoting what it said. */
#ifndef SKIFF_PROCS_H
#define SKIFF_PROCS_H

#include <stddef.h>
#include <sys/types.h>

#include "skiff/base/error.h"

/* *pids (malloc()ed) gets *n pids, in the order the kernel lists them. */
int sk_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct sk_err *err);

/* ps_args: the arguments after "ps" (n_args 0: "-ef").  *out (malloc()ed,
 * NUL-terminated) gets the kept lines, each ending in a newline. */
int sk_procs_ps(const pid_t *pids, size_t n, char *const *ps_args, size_t n_args, char **out, struct sk_err *err);

#endif
