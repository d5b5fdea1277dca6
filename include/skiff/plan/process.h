/* process: everything about the process the container runs but its
 * namespaces, rootfs, capabilities (caps.h) and seccomp.  docs/process.md
 * has the semantics and their runc references.
 *
 * The parent parses what needs parsing into a struct sk_process_plan
 * (sk_process_plan_build, before clone); the child, which owns a copy of
 * it, allocates nothing and calls the functions below as the steps of its
 * plan (plan.h has the order): the root steps, set_user, caps (caps.h),
 * resolve (before waiting for start: a missing binary fails create, as
 * with runc), no_new_privs, seccomp, exec.  The parent calls
 * sk_process_set_oom_score_adj once the child is READY. */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct sk_process_plan {
	const struct sk_process *proc;
	bool exec;                     /* a process started by `exec`, not the init */
	bool has_personality;
	unsigned long personality;     /* PER_LINUX or PER_LINUX32 */
	bool has_affinity_initial, has_affinity_final;
	cpu_set_t affinity_initial, affinity_final; /* process.execCPUAffinity */
	char **argv;                   /* proc->args, NULL-terminated (strings borrowed) */
	char **envp;                   /* proc->env without duplicates (the last one
					* wins, as runc) nor an empty HOME;
					* NULL-terminated, one spare slot for HOME */
	size_t n_env;
	const char *path;              /* the value of PATH in envp, NULL if none */
	bool need_home;                /* no HOME in envp: prepare adds one */
	char home[PATH_MAX + 8];       /* "HOME=...", filled by sk_process_home */
	char exe[PATH_MAX];            /* args[0] resolved, by sk_process_resolve */
};

/* Parse a CPU list ("0-3,7"; blanks around items and empty items allowed,
 * as spec.c accepts) into set.  CPUs >= CPU_SETSIZE are out of range. */
int sk_cpuset_parse(const char *list, cpu_set_t *set, struct sk_err *err);

/* Parent: build pp for process p of spec (p is &spec->process for the
 * init, or the process of `exec`; both must outlive pp).  Refuses here,
 * before anything is made: linux.personality flags (runtime-spec defines
 * none), env entries not NAME=VALUE, an apparmorProfile when AppArmor is
 * not enabled on the host, a selinuxLabel when SELinux is not, CPU lists
 * out of range.  Errors start with the JSON path ("process.env[2]: ..."),
 * for the caller to prefix with the file's name. */
int sk_process_plan_build(const struct sk_spec *spec, const struct sk_process *p, bool exec,
			  struct sk_process_plan *pp, struct sk_err *err);
void sk_process_plan_free(struct sk_process_plan *pp);

/* Parent, once the process exists and before it execs (at READY): write
 * process.oomScoreAdj to /proc/<pid>/oom_score_adj; nothing when unset.
 * From the parent because in a user namespace the child cannot: its
 * /proc/self files belong to the host's root, and lowering the value
 * needs CAP_SYS_RESOURCE of the host. */
int sk_process_set_oom_score_adj(const struct sk_process_plan *pp, pid_t pid, struct sk_err *err);

/* Rootless (rootless.h), where the parent may not write the child's /proc
 * files either.  check, before anything is made, refuses what an
 * unprivileged caller cannot give: an oomScoreAdj below its own, an rlimit
 * above its own hard limit (one line naming both values).  inherit_begin
 * sets our own oom_score_adj to process.oomScoreAdj for the child to
 * inherit at clone (*saved: ours, or INT_MIN when nothing was done);
 * inherit_end puts ours back.  sk_process_set_oom_score_adj does nothing
 * for a rootless caller. */
int sk_process_rootless_check(const struct sk_process_plan *pp, struct sk_err *err);
int sk_process_oom_inherit_begin(const struct sk_process_plan *pp, int *saved, struct sk_err *err);
void sk_process_oom_inherit_end(int saved);

/* Child, after pivot_root, still root in its namespaces with all its
 * capabilities, each a step of the plan (plan.h) taken only when the config
 * asks for it, in this order:
 *   home         HOME from the container's /etc/passwd for process.user.uid
 *                when env has none ("/" when the uid is not there, as runc)
 *   lsm          the AppArmor profile and SELinux label for the next execve
 *   personality, scheduler, io_priority (of the process, inherited by its
 *                children), cpu_affinity (execCPUAffinity.final: exec
 *                processes only, the spec says it does not apply to the init)
 *   rlimits      last: a low RLIMIT_NOFILE must not stop the steps that
 *                open files.
 * Files under /proc are opened only on the procfs mounted at /proc, never
 * across a mount below it. */
void sk_process_home(struct sk_process_plan *pp);
int sk_process_lsm(const struct sk_process_plan *pp, struct sk_err *err);
int sk_process_personality(const struct sk_process_plan *pp, struct sk_err *err);
int sk_process_scheduler(const struct sk_process_plan *pp, struct sk_err *err);
int sk_process_io_priority(const struct sk_process_plan *pp, struct sk_err *err);
/* linux.memoryPolicy: set_mempolicy(2), which fork and execve keep. */
int sk_process_memory_policy(const struct sk_memory_policy *m, struct sk_err *err);
int sk_process_cpu_affinity(const struct sk_process_plan *pp, struct sk_err *err);
int sk_process_rlimits(const struct sk_process_plan *pp, struct sk_err *err);

/* Child: become process.user.  chdir(cwd) first (as root; retried after the
 * switch when root was refused, for root-squashing or user-namespace-owned
 * directories), stdio pipes, sockets and terminals handed to the uid (as
 * runc, so that /proc/self/fd/1 can be reopened), setgroups(additionalGids)
 * (in a user namespace that denies setgroups, skipped when the list is
 * empty, else an error), setresgid, setresuid, with PR_SET_KEEPCAPS around
 * so that the permitted set survives for sk_caps_apply().  Then the umask
 * (process.user.umask; unset: 0022 for the init, as runc, unchanged for an
 * exec process), a check that the cwd is inside the container's root, and
 * the parent-death signal restored (a uid change clears it).
 * in_userns: the process is in a non-initial user namespace. */
int sk_process_set_user(const struct sk_process_plan *pp, bool in_userns, struct sk_err *err);

/* Child, after sk_caps_apply() so that the check is made with the final
 * credentials (faccessat AT_EACCESS): resolve args[0] into pp->exe like
 * Go's exec.LookPath, which runc uses: with a "/" it is taken as is;
 * otherwise it is searched in PATH of process.env (not the runtime's; no
 * PATH finds nothing; relative entries are skipped).  The file must be a
 * regular file executable by the process.  Errors as runc's:
 *   exec: "foo": executable file not found in $PATH
 *   exec: "/bin/foo": ENOENT */
int sk_process_resolve(struct sk_process_plan *pp, struct sk_err *err);

/* Child: prctl(PR_SET_NO_NEW_PRIVS) when process.noNewPrivileges. */
int sk_process_no_new_privs(const struct sk_process_plan *pp, struct sk_err *err);

/* Child, after start: execve(pp->exe, argv, envp).  Returns only on error. */
int sk_process_exec(const struct sk_process_plan *pp, struct sk_err *err);

#endif
