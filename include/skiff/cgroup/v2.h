/* cgroup_v2: the cgroup2 backend, skiff's model, internal to the cgroup
 * module (cgroup.c dispatches to it for each controller cgroup2 serves).
 * Controllers are enabled in cgroup.subtree_control of each ancestor from
 * the mount down to the leaf's parent; resources become the v2 files
 * (memory.max, cpu.max, io.weight...); device rules an eBPF program
 * (cgroup_dev.c); freezing cgroup.freeze; killing cgroup.kill. */
#ifndef SKIFF_CGROUP_V2_H
#define SKIFF_CGROUP_V2_H

#include <stdbool.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/cgroup/res.h"
#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* Make the controllers in mask usable in the cgroup mount + rel: each must
 * be listed in the mount root's cgroup.controllers (else "cgroup:
 * controller \"memory\" is not available in /sys/fs/cgroup (needed by
 * linux.resources.memory)"), and is enabled in each ancestor's
 * cgroup.subtree_control where it is not yet. */
int sk_cg2_enable(const char *mount, const char *rel, unsigned mask, const struct sk_cgroup_needs *needs,
		  struct sk_err *err);

/* For update, complete r from the files of controller c in the cgroup2
 * directory fd: a quota or a period alone keeps the other from cpu.max, a
 * memory+swap alone is taken against memory.max. */
void sk_cg2_complete(int fd, enum sk_cgroup_ctrl c, struct sk_resources *r);

/* Write the files of controller c (one with a v2 interface) from r into
 * the cgroup2 directory fd (path for messages); update honours
 * memory.checkBeforeUpdate. */
int sk_cg2_write(int fd, const char *path, enum sk_cgroup_ctrl c, const struct sk_resources *r, bool update,
		 struct sk_err *err);

/* linux.resources.unified, each line of a value in its own write. */
int sk_cg2_write_unified(int fd, const char *path, const struct sk_resources *r, struct sk_err *err);

/* Build the device program from rules (and the always-allowed list) and
 * attach it, replacing the programs attached there before when replace. */
int sk_cg2_devices(int fd, const char *path, const struct sk_device_rule *rules, size_t n, bool replace,
		   struct sk_err *err);

/* cgroup.freeze, then wait on cgroup.events until "frozen" agrees. */
int sk_cg2_freeze(int fd, const char *path, bool freeze, struct sk_err *err);

/* cgroup.kill: 0, or -1 (errnum ENOENT before Linux 5.14). */
int sk_cg2_kill(int fd, const char *path, struct sk_err *err);

/* Hand the directory and its delegatable files to owner. */
int sk_cg2_delegate(int fd, const char *path, uid_t owner, struct sk_err *err);

#endif
