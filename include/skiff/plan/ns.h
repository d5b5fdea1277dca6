/* ns: how the init gets its namespaces.  sk_ns_plan_build() (parent) opens
 * every linux.namespaces[].path, checks it is a namespace of the stated type
 * (NS_GET_NSTYPE), and decides the mechanism:
 *  - fast path, no namespace joined by path except pid and no new time
 *    namespace: every new namespace but cgroup is created by clone3()
 *    itself; a pid namespace path is entered by the parent around the clone
 *    (it only affects children);
 *  - otherwise (slow path) the child joins the paths (user first) while
 *    still privileged, unshare()s the new ones, and if that made a pid or a
 *    time namespace, forks the real init with CLONE_PARENT: a process
 *    enters those when it forks (a time namespace at execve too, but only
 *    since Linux 6.2).
 * cgroup and time namespaces are unshared by the child after the others and
 * before it changes uid: the cgroup one once it sits in its cgroup, the time
 * one so that its offsets are written before any process enters it. */
#ifndef SKIFF_NS_H
#define SKIFF_NS_H

#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct sk_ns_plan {
	unsigned long clone_flags;      /* CLONE_NEW* for clone3 */
	unsigned long unshare_flags;    /* CLONE_NEW* the child unshares */
	int join_fd[SK_NS_NTYPES];      /* fds of namespaces to join, -1 if none */
	bool child_joins;               /* slow path: the child joins and unshares */
	bool second_fork;               /* slow path made a pid or time namespace */
	bool userns_new;
	bool userns;                    /* the init ends up in a non-initial user ns */
	bool mounts_in_userns;          /* userns, or skiff itself runs in one
					 * (rootless podman): the rootfs is set
					 * up without host privileges (devices
					 * bound, locked flags kept, fallbacks) */
	bool netns_new, cgroupns_new, mntns_new, utsns, ipcns;
	char uid_map[1024], gid_map[1024];
	char timens_offsets[128];
};

int sk_ns_plan_build(const struct sk_spec *spec, struct sk_ns_plan *p, struct sk_err *err);
void sk_ns_plan_close(struct sk_ns_plan *p);
/* CLONE_NEW* flag of a namespace type. */
int sk_ns_flag(enum sk_ns_type t);

/* Parent: write the uid/gid maps of pid (its user namespace). */
int sk_ns_write_maps(const struct sk_ns_plan *p, pid_t pid, struct sk_err *err);
/* Parent: enter a pid namespace given by path before clone; restore after. */
int sk_ns_enter_pid(const struct sk_ns_plan *p, int *saved_fd, struct sk_err *err);
int sk_ns_restore_pid(int saved_fd, struct sk_err *err);

/* Child, slow path: setns() every path (user first). */
int sk_ns_join(const struct sk_ns_plan *p, struct sk_err *err);
/* Child, in the network namespace it made: bring its loopback up, as runc
 * and crun do (a container with no network still talks to 127.0.0.1). */
int sk_ns_loopback_up(struct sk_err *err);
/* Child: after unshare(CLONE_NEWTIME) write the offsets. */
int sk_ns_write_time_offsets(const struct sk_ns_plan *p, struct sk_err *err);

#endif
