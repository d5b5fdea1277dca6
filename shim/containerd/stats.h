/* stats: Stats' answer, the container's cgroup counters in containerd's
 * metrics types, filled as containerd's own shim fills them (containerd/
 * cgroups 1.0): on a unified host an Any of io.containerd.cgroups.v2.Metrics
 * (pids, cpu and memory always, zeros for a missing controller; memory
 * events; io from io.stat; hugetlb per page size; rdma), elsewhere, hybrid
 * hosts included, of io.containerd.cgroups.v1.Metrics (pids, cpu, memory
 * with its usage, swap, kmem and kmem.tcp entries and oom_control; blkio
 * from the CFQ/BFQ recursive files or else the throttle counters; hugetlb;
 * rdma), a v1 controller the container is not in left out.  The cgroup is
 * the init's (/proc/PID/cgroup) under the host's mounts (mountinfo). */
#ifndef SKIFF_SHIM_CONTAINERD_STATS_H
#define SKIFF_SHIM_CONTAINERD_STATS_H

#include <sys/types.h>

#include "google/protobuf/any.pb-c.h"
#include "skiff/base/error.h"

/* A new Any (free with google__protobuf__any__free_unpacked). */
int ctrd_stats(pid_t pid, Google__Protobuf__Any **out, struct sk_err *err);

#endif
