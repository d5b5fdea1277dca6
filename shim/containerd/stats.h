/* stats: Stats' answer, the container's cgroup counters in containerd's
 * metrics types: an Any of io.containerd.cgroups.v2.Metrics (pids, cpu,
 * memory, memory events) on the unified hierarchy, of
 * io.containerd.cgroups.v1.Metrics (pids, cpu, memory) where the
 * controllers are v1 hierarchies.  The cgroup is the init's
 * (/proc/PID/cgroup).  A controller the container is not in is left out. */
#ifndef SKIFF_SHIM_CONTAINERD_STATS_H
#define SKIFF_SHIM_CONTAINERD_STATS_H

#include <sys/types.h>

#include "google/protobuf/any.pb-c.h"
#include "skiff/base/error.h"

/* A new Any (free with google__protobuf__any__free_unpacked). */
int ctrd_stats(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err);

#endif
