/* oom: whether the kernel's OOM killer killed a process of a container's
 * cgroup while the shim watched, from the oom_kill counter (cgroup v2
 * memory.events, watched with inotify; v1 memory.oom_control, with an
 * eventfd).  One watch per container. */
#ifndef SHIM_CORE_OOM_H
#define SHIM_CORE_OOM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct shim_ctr;

struct shim_oom {
	int fd;                          /* memory.events or memory.oom_control */
	int inotify_fd, event_fd;        /* what the loop watches (v2, v1) */
	bool v2;
	uint64_t base;                   /* the counter when the watch started */
};

/* Watch the cgroup of pid (a process of ctr).  Without a memory cgroup
 * there is nothing to watch, which is not an error.  Each kill seen sets
 * ctr->oom_killed and calls ctr->on_oom. */
void shim_oom_watch(struct shim_ctr *ctr, pid_t pid);
/* Read the counter a last time (the container has ended). */
void shim_oom_check(struct shim_ctr *ctr);
/* Stop watching; closes the fds. */
void shim_oom_unwatch(struct shim_ctr *ctr);

#endif
