/* cgroup_v1: the cgroup v1 backend, internal to the cgroup module
 * (cgroup.c dispatches to it for each controller a v1 hierarchy serves).
 * Resources become the v1 files with runc's rules (memory.limit_in_bytes
 * and memory.memsw.limit_in_bytes in the order the kernel accepts,
 * cpu.cfs_period_us before or after cfs_quota_us...), device rules
 * devices.allow/deny lines (cgroup_dev.c), freezing freezer.state; pids
 * and rdma, whose files v1 shares with cgroup2, go through cgroup_v2.c.  New
 * cpuset cgroups get their parent's cpus and mems (an empty cpuset takes
 * no process). */
#ifndef SKIFF_CGROUP_V1_H
#define SKIFF_CGROUP_V1_H

#include <stdbool.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/cgroup/fs.h"
#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* sk_cgroup_mkpath's on_each for the cpuset hierarchy: an empty
 * cpuset.cpus or cpuset.mems (a new cgroup's, or one someone else made and
 * left empty) takes its parent's, since a cpuset without cpus or mems
 * takes no process (ENOSPC).  Walking down from the mount, every level is
 * filled before its child, as runc does. */
sk_cgroup_step_fn sk_cg1_cpuset_fill;

/* For update, complete r from the files of controller c in the directory
 * fd: a memory+swap alone is taken against memory.limit_in_bytes. */
void sk_cg1_complete(int fd, enum sk_cgroup_ctrl c, struct sk_resources *r);

/* Write the files of controller c from r into the v1 directory fd (path
 * for messages).  Kernel memory limits are read back: a kernel that takes
 * the value and ignores it (5.16+) gets an error, not a silent no-op.
 * update honours memory.checkBeforeUpdate. */
int sk_cg1_write(int fd, const char *path, enum sk_cgroup_ctrl c, const struct sk_resources *r, bool update,
		 struct sk_err *err);

/* Device rules into the devices hierarchy's directory. */
int sk_cg1_devices(int fd, const char *path, const struct sk_device_rule *rules, size_t n, struct sk_err *err);

/* freezer.state FROZEN (retried while it reads FREEZING, as runc does) or
 * THAWED, waiting for the state; at most 10 s; a failed freeze is undone. */
int sk_cg1_freeze(int fd, const char *path, bool freeze, struct sk_err *err);

/* 1 when freezer.state of the freezer directory at path reads FROZEN. */
int sk_cg1_frozen(const char *path);

#endif
