/* cgroup: the container's cgroup on the cgroup v2 hierarchy.
 * The cgroup2 mount is found in /proc/self/mountinfo (never assumed).  A
 * container gets one leaf cgroup; its resources are written as files before
 * any process enters it (the init is cloned into it with CLONE_INTO_CGROUP
 * through dir_fd); device rules become an eBPF program attached to it.
 * Only the controllers the resources need are enabled, in the
 * cgroup.subtree_control of each ancestor from the mount's root down to the
 * leaf's parent.  docs/cgroups.md describes every mapping and decision. */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/error.h"
#include "skiff/spec.h"

struct sk_cgroup {
	char *mount;       /* cgroup2 mount point, e.g. "/sys/fs/cgroup" */
	char *path;        /* the cgroup's directory: mount + rel */
	char *rel;         /* its path inside the hierarchy, starting with '/' */
	int dir_fd;        /* O_RDONLY|O_DIRECTORY fd of path, -1 when closed */
	bool created;      /* prepare made the leaf (it did not exist before) */
};

#define SK_CGROUP_INIT { .dir_fd = -1 }

/* ---- placement ---------------------------------------------------------- */

/* The cgroup2 mount point (first cgroup2 entry of /proc/self/mountinfo whose
 * root is "/", else the first one).  Read once per process, then cached;
 * *mount stays valid for the life of the process. */
int sk_cgroup_mount_find(const char **mount, struct sk_err *err);

/* The cgroup's path inside the hierarchy for linux.cgroupsPath (NULL when
 * absent) and the container id.  Pure: `own` is skiff's own cgroup ("0::"
 * line of /proc/self/cgroup, relative to the mount) and is only used for a
 * relative or absent cgroupsPath (it may be NULL otherwise):
 *   "/a/b"  -> "/a/b"
 *   "a/b"   -> parent(own) + "/a/b"    (as runc: beside our own cgroup)
 *   NULL    -> parent(own) + "/" + id
 * A relative value with ':' is systemd's "slice:prefix:name" and refused;
 * so are "." and ".." components and the root itself.  *rel is malloc()ed. */
int sk_cgroup_resolve(const char *cgroups_path, const char *id, const char *own,
		      char **rel, struct sk_err *err);

/* The container's cgroup in two steps, so that create can record its path
 * before anything exists that a killed create would leave behind.
 *  plan  checks the resources and finds the path for spec and id (cg->path,
 *        mount, rel); makes nothing.  On failure cg is left empty.
 *  make  creates (or reuses, when it exists and holds no process) that
 *        cgroup, enables the controllers its resources need, writes the
 *        resources and attaches the device program; dir_fd is then ready
 *        for CLONE_INTO_CGROUP.  On failure, removes the directories it made
 *        and leaves cg empty.
 *  prepare  both. */
int sk_cgroup_plan(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err);
int sk_cgroup_make(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err);
int sk_cgroup_prepare(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg,
		      struct sk_err *err);

/* Delegation (runc's rule): a container with new user and cgroup
 * namespaces and a cgroup mount on /sys/fs/cgroup that is not read-only
 * gets its cgroup, the directory and the files /sys/kernel/cgroup/delegate
 * lists, owned by the host uid of process.user.uid, so that it can manage
 * the tree below (systemd in a container).  prepare does it; this pure
 * half says whether (1, *owner set) or not (0; also when the uid is not
 * mapped). */
int sk_cgroup_owner(const struct sk_spec *spec, uid_t *owner);

/* Open an existing cgroup by its directory path (sk_cgroup.path as saved in
 * the state); refuses a path that is not a directory of the cgroup2 mount. */
int sk_cgroup_open(const char *path, struct sk_cgroup *cg, struct sk_err *err);

/* Close dir_fd and free the strings; cg is left as SK_CGROUP_INIT. */
void sk_cgroup_close(struct sk_cgroup *cg);

/* ---- resources ---------------------------------------------------------- */

enum sk_cgroup_ctrl {
	SK_CG_CPU, SK_CG_CPUSET, SK_CG_IO, SK_CG_MEMORY, SK_CG_PIDS,
	SK_CG_HUGETLB, SK_CG_RDMA, SK_CG_MISC, SK_CG_NCTRL
};

/* What a set of resources needs from the hierarchy: a bit (1u << ctrl) per
 * controller and, for messages, the JSON path of the first field needing it
 * (why_key set: it is linux.resources.unified[why_key]). */
struct sk_cgroup_needs {
	unsigned mask;
	const char *why[SK_CG_NCTRL];
	const char *why_key[SK_CG_NCTRL];
};

const char *sk_cgroup_ctrl_name(enum sk_cgroup_ctrl c);   /* "memory" */

/* Check res against what cgroup v2 can do (fields with no v2 file are
 * refused, see docs/cgroups.md; values that cannot be written are refused)
 * and fill needs.  Pure; res may be NULL (nothing needed). */
int sk_cgroup_needs(const struct sk_resources *res, struct sk_cgroup_needs *needs,
		    struct sk_err *err);

/* Make the controllers in needs usable in cg: each must be listed in the
 * mount root's cgroup.controllers (else "cgroup: controller \"memory\" is not
 * available in /sys/fs/cgroup (needed by linux.resources.memory)"), and is
 * enabled in each ancestor's cgroup.subtree_control where it is not yet. */
int sk_cgroup_enable(const struct sk_cgroup *cg, const struct sk_cgroup_needs *needs,
		     struct sk_err *err);

/* Write res into cg: controllers enabled first, then the files (pids,
 * memory, io, cpu, cpuset, hugetlb, rdma, unified last so it overrides),
 * then the device program.  update=false is the first application (from
 * prepare): the device program is always installed.  update=true (the
 * `update` command): memory.checkBeforeUpdate is honoured and the device
 * program is replaced only when res has device rules. */
int sk_cgroup_apply(const struct sk_cgroup *cg, const struct sk_resources *res, bool update,
		    struct sk_err *err);

/* cpu.shares (cgroup v1, 2..262144) to cpu.weight (1..10000), the mapping
 * runc and crun use: 1024 (the v1 default) gives 100 (the v2 default).
 * 0 means unset and gives 0. */
uint64_t sk_cgroup_shares_to_weight(uint64_t shares);

/* blkio weight (10..1000) to io.weight (1..10000): 1 + (w - 10) * 9999 / 990. */
uint64_t sk_cgroup_blkio_to_io_weight(uint16_t weight);

/* memory.swap.max from the spec's memory+swap "swap" and "limit" (absent =
 * 0, as runc).  Returns 1 with *out set (-1 = "max"), 0 when there is
 * nothing to write, -1 on a combination that has no meaning. */
int sk_cgroup_swap_max(int64_t swap, int64_t limit, int64_t *out, struct sk_err *err);

/* The cpu.max line for quota/period ("max 100000", "50000 100000"), or ""
 * when neither is set.  buf must hold 48 bytes. */
void sk_cgroup_cpu_max(const struct sk_resources *res, char *buf, size_t size);

/* A linux.resources.unified key must be a plain file name ("memory.high"):
 * no '/', not starting with '.', not one of the files skiff owns
 * (cgroup.procs, cgroup.threads, cgroup.subtree_control, cgroup.type,
 * cgroup.freeze, cgroup.kill).  *ctrl gets its controller, or -1 for a
 * "cgroup." key, which needs none. */
int sk_cgroup_unified_key(const char *key, int *ctrl, struct sk_err *err);

/* ---- files -------------------------------------------------------------- */

/* Write value to the file `name` of cg in one write(2).  Errors name the
 * value and the file's path. */
int sk_cgroup_write(const struct sk_cgroup *cg, const char *name, const char *value,
		    struct sk_err *err);

/* Read the file `name` of cg into buf (NUL-terminated, at most size - 1
 * bytes).  Returns the length read, or -1. */
ssize_t sk_cgroup_read(const struct sk_cgroup *cg, const char *name, char *buf, size_t size,
		       struct sk_err *err);

/* ---- devices ------------------------------------------------------------ */

struct bpf_insn;

struct sk_bpf_prog { struct bpf_insn *insns; size_t n; };

/* Build the BPF_PROG_TYPE_CGROUP_DEVICE program for rules: default deny;
 * for each access bit requested (r, w, m) the last rule that matches the
 * device and includes that bit decides; runc's and crun's always-allowed
 * devices (mknod of any device, /dev/null, zero, full, random, urandom,
 * tty, ptmx, the pts devices, net/tun) are appended after the rules.  out->insns is
 * malloc()ed. */
int sk_cgroup_dev_build(const struct sk_device_rule *rules, size_t n_rules,
			struct sk_bpf_prog *out, struct sk_err *err);
void sk_cgroup_dev_free(struct sk_bpf_prog *prog);

/* Load prog and attach it to the cgroup dir_fd (BPF_F_ALLOW_MULTI).  With
 * replace, device programs already attached there are swapped out
 * (BPF_F_REPLACE when there is one, else attach then detach the old). */
int sk_cgroup_dev_install(int dir_fd, const char *path, const struct sk_bpf_prog *prog,
			  bool replace, struct sk_err *err);

/* ---- lifecycle ---------------------------------------------------------- */

/* Remove the cgroup and any sub-cgroups the container made, deepest first,
 * waiting up to 2 s (on cgroup.events "populated 0") for exiting processes.
 * Parents are left in place.  A cgroup already gone is not an error; one
 * still holding processes is, naming their pids. */
int sk_cgroup_destroy(struct sk_cgroup *cg, struct sk_err *err);

/* SIGKILL every process in the cgroup and below: cgroup.kill, or where the
 * kernel lacks it (before 5.14), sk_cgroup_kill_each(). */
int sk_cgroup_kill(const struct sk_cgroup *cg, struct sk_err *err);

/* SIGKILL each pid in cgroup.procs of the cgroup and below, again until
 * none is left (a process may fork meanwhile); at most 1 s. */
int sk_cgroup_kill_each(const struct sk_cgroup *cg, struct sk_err *err);

/* Write cgroup.freeze and wait (poll on cgroup.events) for "frozen 1"/
 * "frozen 0", at most 10 s; a freeze that does not complete is undone. */
int sk_cgroup_freeze(const struct sk_cgroup *cg, bool freeze, struct sk_err *err);

/* 1 when the cgroup at path reports "frozen 1" in cgroup.events, else 0
 * (also when it cannot be read). */
int sk_cgroup_is_frozen(const char *path);

/* The pids in the cgroup and its descendants, malloc()ed (NULL when none). */
int sk_cgroup_pids(const struct sk_cgroup *cg, pid_t **pids, size_t *n, struct sk_err *err);

/* ---- statistics (for `events --stats`, in runc's shape) ------------------ */

#define SK_CG_MAX UINT64_MAX   /* a limit of "max" */

struct sk_cgroup_kv { char key[64]; uint64_t value; };
struct sk_cgroup_io { uint32_t major, minor; uint64_t rbytes, wbytes, rios, wios, dbytes, dios; };
struct sk_cgroup_hugetlb { char size[16]; uint64_t usage, max, failcnt; };

struct sk_cgroup_stats {
	/* cpu.stat (always there) */
	uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
	uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
	bool has_memory;           /* memory controller enabled */
	uint64_t mem_current, mem_max, mem_peak, mem_swap_current, mem_swap_max;
	uint64_t mem_events_max, mem_events_oom, mem_events_oom_kill;
	struct sk_cgroup_kv *mem_stat; size_t n_mem_stat;   /* memory.stat */
	bool has_pids;
	uint64_t pids_current, pids_max;
	struct sk_cgroup_io *io; size_t n_io;               /* io.stat */
	struct sk_cgroup_hugetlb *hugetlb; size_t n_hugetlb;
};

/* Read what the enabled controllers report; absent files leave zeros. */
int sk_cgroup_stats(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err);
void sk_cgroup_stats_free(struct sk_cgroup_stats *st);

#endif
