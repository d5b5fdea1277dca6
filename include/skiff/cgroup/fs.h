/* cgroup_fs: what the cgroup backends share, internal to the cgroup module
 * (the rest of skiff uses skiff/cgroup.h): the host's hierarchies from
 * /proc/self/mountinfo (read once per process), skiff's own cgroup in each
 * from /proc/self/cgroup, files read and written relative to a directory
 * fd with errors naming the path, and the walks over a cgroup tree (making
 * a path, listing pids, removing it deepest first).  It knows nothing of
 * resources. */
#ifndef SKIFF_CGROUP_FS_H
#define SKIFF_CGROUP_FS_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/base/error.h"

#define SK_CG_MAX UINT64_MAX   /* a limit of "max" (v2) or v1's unlimited */

/* One mounted hierarchy. */
struct sk_cgroup_hier {
	char *mount;        /* mount point */
	char *root;         /* the hierarchy's path mounted there, "/" usually */
	char name[48];      /* v1: "cpu,cpuacct" (controllers in enum order) or
	                     * "name=systemd"; cgroup2: "" */
	unsigned ctrls;     /* v1: its controllers */
	bool v2;
};

/* The cgroup2 hierarchy first (v2 set), then the v1 ones; one mount per
 * hierarchy (the one whose root is "/" preferred, else the first seen). */
struct sk_cgroup_host {
	struct sk_cgroup_hier h[SK_CG_MAX_DIRS];
	size_t n;
	bool v2;
	unsigned v1_ctrls;  /* every controller some v1 hierarchy has */
};

int sk_cgroup_host(const struct sk_cgroup_host **host, struct sk_err *err);

/* The parsing half, on the text of a mountinfo (modified); the strings of
 * h are malloc()ed (sk_cgroup_host_free). */
int sk_cgroup_host_parse(char *text, struct sk_cgroup_host *h, struct sk_err *err);
void sk_cgroup_host_free(struct sk_cgroup_host *h);

/* A v1 hierarchy's name from a comma list (mount options, or the second
 * field of /proc/self/cgroup): its known controllers in enum order, then
 * its name= if any; false when it has neither. */
bool sk_cgroup_hier_name(const char *list, char *name, size_t size, unsigned *ctrls);

/* A v1 hierarchy name ("cpu,cpuacct", "name=systemd") to its controllers;
 * unknown names add nothing. */
unsigned sk_cgroup_v1_ctrls(const char *name);
const char *sk_cgroup_v1_name(enum sk_cgroup_ctrl c);    /* "blkio" for io */

/* skiff's own cgroup in each hierarchy of host, relative to its mount
 * (own[i] for host->h[i]; "/" at the mount's root).  own->text holds them. */
struct sk_cgroup_own { char *text; const char *rel[SK_CG_MAX_DIRS]; };
int sk_cgroup_own(const struct sk_cgroup_host *host, struct sk_cgroup_own *own, struct sk_err *err);
/* The parsing half, on the malloc()ed text of a /proc/PID/cgroup, which
 * own then holds (sk_cgroup_own_free); on failure it is freed. */
int sk_cgroup_own_parse(const struct sk_cgroup_host *host, char *text, struct sk_cgroup_own *own, struct sk_err *err);
void sk_cgroup_own_free(struct sk_cgroup_own *own);

/* ---- files ---------------------------------------------------------------- */

/* Write value to the file name of the directory fd (dir for messages) in
 * one write(2).  Errors name the value and the file's path. */
int sk_cgroup_write_at(int fd, const char *dir, const char *name, const char *value, struct sk_err *err);

/* Read the file into buf (NUL-terminated, at most size - 1 bytes); the
 * length read, or -1. */
ssize_t sk_cgroup_read_at(int fd, const char *dir, const char *name, char *buf, size_t size, struct sk_err *err);

/* The whole file, NUL-terminated and malloc()ed (*len may be NULL). */
int sk_cgroup_read_all(int fd, const char *dir, const char *name, char **out, size_t *len, struct sk_err *err);

/* A single-value file read as a number, "max" and v1's unlimited
 * (>= 2^63 - 4096) as SK_CG_MAX; false when it cannot be read. */
bool sk_cgroup_read_u64(int fd, const char *name, uint64_t *out);

/* The value of "key N" in a flat keyed file's text, or -1 when absent. */
int64_t sk_cgroup_keyed(const char *text, const char *key);

/* A listing of the directory at fd from its start (an fd of its own). */
DIR *sk_cgroup_opendir(int fd);

/* ---- trees ---------------------------------------------------------------- */

/* Make mount + rel (rel starts with '/'), each missing component with mode
 * 0755, holding a directory fd at each step (O_NOFOLLOW).  Returns the
 * leaf's fd; *made is the index of the first component made, -1 when none
 * was.  on_each, when not NULL, is called with the parent's and the
 * directory's fds for each component, made or found (v1 cpuset fills in
 * what is empty; mount and rel for its messages). */
typedef int sk_cgroup_step_fn(int parent, int fd, const char *mount, const char *rel, struct sk_err *err);
int sk_cgroup_mkpath(const char *mount, const char *rel, int *made, sk_cgroup_step_fn *on_each, struct sk_err *err);

/* Remove the components of path (mount + rel) from index first on,
 * deepest first, ignoring errors (clean-up after a failed prepare). */
void sk_cgroup_unmake(const char *path, const char *rel, int first);

/* The cgroup at fd has a sub-cgroup: 1 (its name in name), 0, or -1. */
int sk_cgroup_first_subdir(int fd, char *name, size_t size);

struct sk_pidset { pid_t *v; size_t n, cap; };
int sk_pidset_add(struct sk_pidset *s, pid_t p);
bool sk_pidset_has(const struct sk_pidset *s, pid_t p);

/* Add the pids of cgroup.procs at fd and below (at most 32 levels). */
int sk_cgroup_collect(int fd, const char *path, struct sk_pidset *s, struct sk_err *err);

/* Remove the cgroup at path and its sub-cgroups, deepest first, until the
 * CLOCK_MONOTONIC deadline (ms): a busy cgroup2 one is waited for on its
 * cgroup.events ("populated 0"); a busy v1 one is retried with a growing
 * pause.  Gone already: 0.  Still busy: an error naming its pids. */
int sk_cgroup_remove_tree(const char *path, bool v2, int64_t deadline_ms, struct sk_err *err);

/* cgroup.events of the cgroup2 directory fd: populated and frozen (-1
 * when unreadable); wait until key equals want, or the deadline (1 when
 * reached, 0 on timeout, -1 when unreadable). */
int sk_cgroup_events(int fd, int *populated, int *frozen);
int sk_cgroup_wait_event(int fd, const char *key, int want, int64_t deadline_ms);

int64_t sk_cgroup_now_ms(void);
void sk_cgroup_sleep_ms(int ms);

#endif
