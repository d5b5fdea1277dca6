/* cgroup: the container's cgroups, the one interface the rest of skiff uses
 * (create, exec, kill, delete, pause/resume, update, ps, events, state).
 * The host's hierarchies are found in /proc/self/mountinfo, never assumed.
 * Each controller is served where the host has it: by its cgroup v1
 * hierarchy when one is mounted, else by the cgroup2 hierarchy (the
 * backend of cgroup_v2.c, skiff's model; cgroup_v1.c for the other).  A
 * cgroup2-only host is "unified", v1 controllers plus a cgroup2 mount
 * "hybrid" (the process is also placed in cgroup2 at its own path, as runc
 * does), v1 only "legacy".  The container gets one cgroup in every
 * hierarchy; its resources are written before any process enters it; a
 * limit that cannot be enforced is refused, never dropped.  Callers use
 * struct sk_cgroup through these functions only; docs/cgroups.md
 * describes every mapping. */
#ifndef SKIFF_CGROUP_H
#define SKIFF_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/cgroup/systemd.h"
#include "skiff/spec/spec.h"

/* Controllers.  The first eight have a cgroup v2 interface; io is v1's
 * blkio.  The others are v1 controllers whose v2 counterpart is built in
 * (devices, freezer, cpuacct) or absent (net_cls, net_prio, perf_event). */
enum sk_cgroup_ctrl {
	SK_CG_CPU, SK_CG_CPUSET, SK_CG_IO, SK_CG_MEMORY, SK_CG_PIDS, SK_CG_HUGETLB, SK_CG_RDMA, SK_CG_MISC,
	SK_CG_CPUACCT, SK_CG_DEVICES, SK_CG_FREEZER, SK_CG_NET_CLS, SK_CG_NET_PRIO, SK_CG_PERF_EVENT,
	SK_CG_NCTRL
};
#define SK_CG_V2_NCTRL (SK_CG_MISC + 1)

/* At most this many hierarchies (cgroup2 and v1) are used. */
#define SK_CG_MAX_DIRS 16

/* The container's cgroup in one hierarchy. */
struct sk_cgroup_dir {
	char *path;          /* its directory */
	int fd;              /* O_RDONLY|O_DIRECTORY, -1 once closed */
	int procs_fd;        /* v1, until the process is placed: cgroup.procs, O_WRONLY */
	unsigned ctrls;      /* v1: its hierarchy's controllers (1u << SK_CG_*) */
	char name[48];       /* v1: the hierarchy, "cpu,cpuacct" or "name=systemd" */
	int made;            /* prepare: the first path component it made, or -1 */
	size_t mount_len;    /* prepare: length of the mount point that path starts with */
};

/* dir[0] is the cgroup2 one when v2 is set; at[c] is 1 + the index of the
 * v1 directory holding controller c, 0 when no v1 hierarchy has it. */
struct sk_cgroup {
	struct sk_cgroup_dir dir[SK_CG_MAX_DIRS];
	size_t n;
	bool v2;
	bool created;        /* prepare made the leaf (it did not exist before) */
	struct sk_sd_unit sd;   /* the systemd driver's unit (sd.name NULL
				 * with cgroupfs): its directories are the
				 * unit's, started by make, stopped by destroy */
	pid_t holder;        /* make: the process that keeps the new unit
			      * alive until the init is in it (enter_done) */
	unsigned char at[SK_CG_NCTRL];
};

#define SK_CGROUP_INIT { .n = 0 }

/* ---- the host ------------------------------------------------------------ */

/* "unified", "hybrid" or "legacy" (see above), or "none" without any cgroup
 * mount; from /proc/self/mountinfo, read once per process. */
const char *sk_cgroup_backend(void);

/* The cgroup2 mount point, cached for the life of the process; an error
 * when there is none. */
int sk_cgroup_mount_find(const char **mount, struct sk_err *err);

const char *sk_cgroup_ctrl_name(enum sk_cgroup_ctrl c);   /* "memory"; v1's "blkio" is "io" */

/* The host's v1 hierarchies, for a container's cgroup mount on a hybrid or
 * legacy host (runc's layout: a tmpfs with one directory per hierarchy,
 * named as the host's mount point).  Each: its host mount point, the
 * hierarchy's path mounted there, and its name, which is also the
 * options that mount it again ("cpu,cpuacct", "name=systemd").  *n is 0 on
 * a unified host.  Cached for the life of the process. */
struct sk_cgroup_v1_mount { const char *mount, *root, *name; };
int sk_cgroup_v1_mounts(const struct sk_cgroup_v1_mount **out, size_t *n, struct sk_err *err);

/* The host path of the calling process's cgroup in the hierarchy of m,
 * from /proc/self/cgroup, into out.  Allocates nothing: the init calls it
 * to bind its cgroups when it has no cgroup namespace. */
int sk_cgroup_v1_own_path(const struct sk_cgroup_v1_mount *m, char *out, size_t cap, struct sk_err *err);

/* ---- placement and lifecycle --------------------------------------------- */

/* The cgroup's path inside one hierarchy for linux.cgroupsPath (NULL when
 * absent) and the container id.  Pure: `own` is skiff's own cgroup in that
 * hierarchy (relative to its mount) and is only used for a relative or
 * absent cgroupsPath (it may be NULL otherwise):
 *   "/a/b"  -> "/a/b"
 *   "a/b"   -> parent(own) + "/a/b" with beside (cgroup2, as runc: a cgroup
 *              holding processes cannot hand controllers down), else
 *              own + "/a/b" (v1, as runc)
 *   NULL    -> the same with the id for "a/b"
 * A relative value with ':' is systemd's "slice:prefix:name" (sk_cgroup_plan_unit) and refused;
 * so are "." and ".." components and the root itself.  *rel is malloc()ed. */
int sk_cgroup_resolve(const char *cgroups_path, const char *id, const char *own, bool beside, char **rel,
		      struct sk_err *err);

/* Check res against the host's hierarchies as plan does (validate and
 * create's compile step agree with it): a field no serving backend can
 * enforce, a value that cannot be written, a controller nothing serves. */
int sk_cgroup_check(const struct sk_resources *res, struct sk_err *err);

/* res sets a limit (anything but device rules, which a cgroup the caller
 * may not make cannot need: runc's rootless rule). */
bool sk_cgroup_has_limits(const struct sk_resources *res);

/* The container's cgroup in two steps, so that create can record its
 * directories before anything exists that a killed create would leave.
 *  plan  checks the resources against the host's hierarchies and finds
 *        the directory in each for spec and id; makes nothing.  On failure
 *        cg is left empty.
 *  make  creates (or reuses, when it exists and holds no process nor
 *        sub-cgroup) each directory (refusing one that is frozen), writes the resources, sets up device
 *        access and opens what placing the process needs: the init is then
 *        born in the cgroup2 one with clone3(CLONE_INTO_CGROUP,
 *        sk_cgroup_v2_fd()) and enters the v1 ones with sk_cgroup_enter().
 *        On failure, removes the directories it made and leaves cg empty.
 *  prepare  both. */
int sk_cgroup_plan(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err);
int sk_cgroup_make(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err);
int sk_cgroup_prepare(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err);

/* The systemd driver's plan (cgroup/systemd.h): systemd must run (else
 * an error naming the driver), cgroupsPath is "slice:prefix:name", the
 * directories are the unit's.  make then starts the unit around a holder
 * process (its PIDs), waits for the job, checks the holder landed in the
 * planned cgroup, and writes the resources to cgroupfs as for any cgroup;
 * the holder ends in sk_cgroup_enter_done, once the init is in.  user:
 * the user manager (rootless). */
int sk_cgroup_plan_unit(const struct sk_spec *spec, const char *id, bool user, struct sk_cgroup *cg,
			struct sk_err *err);

/* Move pid into the cgroup2 directory of cg's unit through its manager
 * (AttachProcessesToUnit), then check it is there: for a caller that may
 * not move a process there itself, as clone3(CLONE_INTO_CGROUP) says with
 * EACCES: a rootless caller outside its user manager's tree, which may not
 * write the common ancestor's cgroup.procs (the user manager then asks the
 * system one).  pid must not run anything of the container's before. */
int sk_cgroup_attach_unit(const struct sk_cgroup *cg, pid_t pid, struct sk_err *err);

/* Tie an opened cgroup (sk_cgroup_open) to its unit, as the state records
 * it: sk_cgroup_apply(update) then sets the unit's properties before the
 * files, sk_cgroup_destroy stops the unit first. */
int sk_cgroup_set_unit(struct sk_cgroup *cg, const char *unit, bool user, struct sk_err *err);

/* Delegation (runc's rule, cgroup2 only): a container with new user and
 * cgroup namespaces and a cgroup mount on /sys/fs/cgroup that is not
 * read-only gets its cgroup, the directory and the files
 * /sys/kernel/cgroup/delegate lists, owned by the host uid of
 * process.user.uid.  prepare does it; this pure half says whether (1,
 * *owner set) or not (0; also when the uid is not mapped). */
int sk_cgroup_owner(const struct sk_spec *spec, uid_t *owner);

/* Open a container's cgroup as its state records it: path (the cgroup2
 * directory, or the first v1 one) and, on a host with v1 hierarchies, the
 * v1 directories keyed by hierarchy name (sk_cgroup_v1_paths).  Refuses a
 * path that is not a directory of the cgroup filesystem it should be on. */
int sk_cgroup_open(const char *path, const struct sk_kv *v1, size_t n_v1, struct sk_cgroup *cg,
		   struct sk_err *err);

/* The directories to record: the path for sk_cgroup_open, and the v1 ones
 * as {name, path} pairs pointing into cg (n 0 on a unified host). */
const char *sk_cgroup_path(const struct sk_cgroup *cg);
size_t sk_cgroup_v1_paths(const struct sk_cgroup *cg, struct sk_kv *out, size_t max);

/* The cgroup2 directory's fd, for clone3(CLONE_INTO_CGROUP); -1 without. */
int sk_cgroup_v2_fd(const struct sk_cgroup *cg);

/* Replace the cgroup2 directory by the one pid is in (exec: a container
 * cgroup that hands controllers down takes no process; runc falls back to
 * the init's cgroup the same way). */
int sk_cgroup_v2_of_pid(struct sk_cgroup *cg, pid_t pid, struct sk_err *err);

/* Replace each directory by its sub-cgroup sub (exec --cgroup; resolved
 * beneath it: no "..", no symlink).  "ctrl[,ctrl]:sub" (v1, as runc) does
 * so only for the hierarchies of those controllers. */
int sk_cgroup_open_sub(struct sk_cgroup *cg, const char *sub, struct sk_err *err);
/* exec's repeatable --cgroup, runc's rules: a plain path only alone; with
 * prefixes, one per controller (`memory:a --cgroup cpu,cpuacct:b`), a
 * controller named twice refused; then sk_cgroup_open_sub for each. */
int sk_cgroup_open_subs(struct sk_cgroup *cg, const char *const *subs, size_t n, struct sk_err *err);

/* Open the v1 cgroup.procs files for sk_cgroup_enter (prepare does). */
int sk_cgroup_enter_prepare(struct sk_cgroup *cg, struct sk_err *err);

/* In the new process, first thing: join the v1 directories (the cgroup2
 * one is joined by clone3).  Opens and allocates nothing. */
int sk_cgroup_enter(const struct sk_cgroup *cg, struct sk_err *err);

/* The parent's copy of what enter needed, once the child is born. */
void sk_cgroup_enter_done(struct sk_cgroup *cg);

/* Close every fd and free the paths; cg is left empty. */
void sk_cgroup_close(struct sk_cgroup *cg);

/* Remove the cgroup and any sub-cgroups the container made from every
 * hierarchy, deepest first, waiting up to 2 s in all for exiting processes
 * (cgroup.events on cgroup2, bounded retries on v1).  Parents are left in
 * place.  A cgroup already gone is not an error; one still holding
 * processes is, naming their pids. */
int sk_cgroup_destroy(struct sk_cgroup *cg, struct sk_err *err);

/* Send sig to every process in the cgroup and below.  SIGKILL uses
 * cgroup.kill where the kernel has it (cgroup2, 5.14+); otherwise the
 * cgroup is frozen while the processes are signalled (so that none forks
 * meanwhile, where a freezer exists), then thawed, again until no process
 * is left (SIGKILL, at most 1 s) or each has had it once. */
int sk_cgroup_signal(const struct sk_cgroup *cg, int sig, struct sk_err *err);

/* SIGKILL each pid of the cgroup and below, again until none is left (a
 * process may fork meanwhile); at most 1 s.  No freezer, no cgroup.kill. */
int sk_cgroup_kill_each(const struct sk_cgroup *cg, struct sk_err *err);

/* Freeze or thaw: the v1 freezer (freezer.state, waiting for FROZEN or
 * THAWED) where mounted, else cgroup.freeze (waiting for "frozen 1"/"0" in
 * cgroup.events); at most 10 s; a freeze that does not complete is undone.
 * A thaw on a hybrid host also thaws a frozen cgroup2 directory. */
int sk_cgroup_freeze(const struct sk_cgroup *cg, bool freeze, struct sk_err *err);

/* Whether the cgroup recorded by path and v1 (as for sk_cgroup_open) is
 * frozen, by the v1 freezer or cgroup2's cgroup.freeze: small reads, for
 * `state`.  0 also when it cannot be read. */
int sk_cgroup_is_frozen(const char *path, const struct sk_kv *v1, size_t n_v1);

/* The first of cg's directories whose freezer stops its processes (v1
 * freezer.state not THAWED; cgroup2 cgroup.freeze 1 or cgroup.events
 * "frozen 1", set or inherited), or NULL. */
const char *sk_cgroup_frozen_dir(const struct sk_cgroup *cg);

/* Whether any process's cgroup freezes pid (v1 freezer.state not THAWED,
 * cgroup2 "frozen 1"): 1 with that directory in where, else 0. */
int sk_cgroup_pid_frozen(pid_t pid, char *where, size_t cap);

/* The OOM kills the memory controller counted in cg (cgroup2
 * memory.events, v1 memory.oom_control "oom_kill"); 0 when unknown. */
uint64_t sk_cgroup_oom_kills(const struct sk_cgroup *cg);

/* The pids in the cgroup and its descendants, malloc()ed (NULL when none). */
int sk_cgroup_pids(const struct sk_cgroup *cg, pid_t **pids, size_t *n, struct sk_err *err);

/* ---- resources ----------------------------------------------------------- */

/* Write res into cg, each controller's files through its backend (order
 * and files in docs/cgroups.md).  update=false is the first application
 * (from prepare): device access is always set.  update=true (the `update`
 * command): values that go together are completed from the cgroup's files
 * (a quota alone keeps the period...), memory.checkBeforeUpdate is honoured
 * and device rules are left as they are. */
int sk_cgroup_apply(const struct sk_cgroup *cg, const struct sk_resources *res, bool update,
		    struct sk_err *err);

/* Where controller c is served for cg: the fd of its directory (*v2 tells
 * which kind) and its path, for readers of statistics and events; -1 when
 * nowhere (a v1-only controller on a unified host). */
int sk_cgroup_ctrl_fd(const struct sk_cgroup *cg, enum sk_cgroup_ctrl c, bool *v2, const char **path);

#endif
