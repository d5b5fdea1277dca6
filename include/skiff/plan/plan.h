/* plan: a container's set-up, compiled from its config before anything is
 * made, as an ordered list of steps that the child walks (walk.h).
 *
 *   sk_plan_bundle()  create and validate: the bundle's config.json read
 *                     (util.h's hardened reader), parsed, every cross-field
 *                     check, the rootfs found, and every module's plan
 *                     (process, mounts, namespaces, seccomp, resources).
 *                     What it refuses, create refuses, and nothing else
 *                     of the config: `validate` says ok exactly when this
 *                     succeeds.
 *   sk_plan_process() exec: the shorter plan of one more process in a
 *                     live container (join its namespaces, then the same
 *                     process steps as the init's).
 *
 * Steps are data: `--debug` prints them (sk_plan_log) and unit tests check
 * them without root.  The order is the one place where the set-up sequence
 * is written down; the process tail (TERMINAL .. CAPS_FINAL) is shared by
 * the init and exec, so the two cannot drift. */
#ifndef SKIFF_PLAN_H
#define SKIFF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"
#include "skiff/plan/mount.h"
#include "skiff/plan/ns.h"
#include "skiff/plan/process.h"
#include "skiff/seccomp/seccomp.h"
#include "skiff/spec/spec.h"

enum sk_step_kind {
	/* The init only. */
	SK_STEP_NAMESPACES,       /* join paths, unshare, id maps (parent), time
				   * offsets, root of the user namespace, the
				   * second fork of the slow path (ns.h) */
	SK_STEP_KEYRING,          /* a new session keyring (not --no-new-keyring) */
	SK_STEP_ROOTFS,           /* "/"'s propagation and the rootfs bound onto
				   * itself, or the runtime's bind (no mount ns) */
	SK_STEP_MOUNT,            /* mounts[index] (mount.h's plan step) */
	SK_STEP_DEVICES,          /* /dev's devices, links and linux.devices */
	SK_STEP_DEV_READONLY,     /* a "ro" /dev remounted read-only, once set up */
	SK_STEP_HOOKS_CREATE,     /* the parent's prestart and createRuntime,
				   * then createContainer here */
	SK_STEP_PIVOT,            /* pivot_root; index: SK_PIVOT_* */
	SK_STEP_SYSCTL,           /* linux.sysctl, before /proc/sys goes read-only */
	SK_STEP_READONLY,         /* linux.readonlyPaths[index] */
	SK_STEP_MASK,             /* linux.maskedPaths[index] */
	SK_STEP_ROOT_READONLY,    /* root.readonly */
	SK_STEP_ROOT_PROPAGATION, /* linux.rootfsPropagation on "/" */
	SK_STEP_HOSTNAME,
	SK_STEP_DOMAINNAME,
	/* exec only. */
	SK_STEP_JOIN,             /* the init's namespaces through its pidfd, its
				   * time namespace, its root without a mount
				   * namespace, root of the user namespace */
	/* The process: the init's and exec's alike. */
	SK_STEP_TERMINAL,         /* the pty; the init binds it on /dev/console */
	SK_STEP_HOME,             /* HOME from the container's /etc/passwd */
	SK_STEP_LSM,              /* apparmorProfile / selinuxLabel for execve */
	SK_STEP_PERSONALITY,
	SK_STEP_SCHEDULER,
	SK_STEP_IO_PRIORITY,
	SK_STEP_MEMORY_POLICY,    /* linux.memoryPolicy (exec's process too) */
	SK_STEP_CPU_AFFINITY,     /* execCPUAffinity.final (exec only, as the spec says) */
	SK_STEP_RLIMITS,          /* last of the root steps: a low RLIMIT_NOFILE
				   * must not stop the ones that open files */
	SK_STEP_USER,             /* cwd, groups, gid, uid, umask */
	SK_STEP_CAPS,             /* the final sets (CAP_SYS_ADMIN kept for the
				   * filter when keep_admin) */
	SK_STEP_RESOLVE,          /* args[0] in PATH, as the final user */
	SK_STEP_NO_NEW_PRIVS,
	SK_STEP_FDS,              /* fds past 2 + preserved close-on-exec */
	SK_STEP_SECCOMP,          /* load the filter; hand a listener to the parent */
	SK_STEP_CAPS_FINAL,       /* drop the CAP_SYS_ADMIN kept for the filter */
	SK_STEP_READY,            /* tell the parent, which writes oomScoreAdj
				   * from outside, and wait for its go */
	/* The init only. */
	SK_STEP_WAIT_START,       /* until `start` writes exec.fifo */
	SK_STEP_HOOKS_START,      /* startContainer */
	/* Both. */
	SK_STEP_EXEC,
	SK_STEP_NKINDS
};

enum { SK_PIVOT_ROOT, SK_PIVOT_MOVE /* --no-pivot */, SK_PIVOT_CHROOT /* no mount namespace */ };

struct sk_step {
	enum sk_step_kind kind;
	uint32_t index;
};

enum sk_plan_kind { SK_PLAN_CREATE, SK_PLAN_EXEC };

struct sk_plan {
	enum sk_plan_kind kind;
	struct sk_spec spec;           /* create: parsed from config_buf */
	const struct sk_spec *cspec;   /* the container's config (&spec, or exec's) */
	const struct sk_process *process; /* the process to run */
	char *config_buf;              /* create: config.json as read */
	size_t config_len;
	char *bundle, *rootfs;         /* create: absolute, real paths */
	struct sk_process_plan proc;
	struct sk_mount_plan mounts;   /* create */
	struct sk_ns_plan ns;          /* create */
	struct sk_seccomp_prog seccomp;
	bool has_seccomp;
	bool share_mntns;              /* create: mounts in the runtime's mount
					* namespace, under a bind of the rootfs */
	bool keep_admin;               /* seccomp without noNewPrivileges: keep
					* CAP_SYS_ADMIN until the filter is in */
	struct sk_step *steps;
	size_t n_steps;
	unsigned made;                 /* what sk_plan_free releases */
};

struct sk_plan_opts {
	const char *bundle;            /* create: NULL is "." */
	bool no_pivot, no_new_keyring; /* create's flags */
	long listen_fds;               /* create: LISTEN_FDS to pass (adds LISTEN_* to env) */
	int seccomp_cache_fd;          /* --root's fd for the seccomp cache, -1: none */
};

/* create and validate.  Errors name the file and the JSON path
 * ("config.json: mounts[2].options[1]: ..."), or the bundle/rootfs. */
int sk_plan_bundle(const struct sk_plan_opts *o, struct sk_plan *p, struct sk_err *err);

/* exec: spec is the config saved by create, process the one to run; both
 * must outlive p.  Errors start with the JSON path. */
int sk_plan_process(const struct sk_spec *spec, const struct sk_process *process, int seccomp_cache_fd,
		    struct sk_plan *p, struct sk_err *err);

void sk_plan_free(struct sk_plan *p);

/* The name of a step kind ("mount", "caps-final"...). */
const char *sk_step_name(enum sk_step_kind k);

/* One line per step at debug level: "plan: 3 mount mounts[0] proc on /proc". */
void sk_plan_log(const struct sk_plan *p);

#endif
