/* mount: config.json's mounts[] compiled into a plan.
 * The parent turns every mount into one step, in config order, holding all
 * the child needs (mount(2) flags, propagation, fs data, setattr bits,
 * resolved source, cleaned destination), so the container's init performs
 * the mounts with no parsing and no allocation (the init takes them as steps of its plan: plan.h, rootfs.c).
 * Option names come from libmount's Linux table (ro, nosuid, relatime,
 * bind/rbind, rshared...); skiff adds runc's recursive mount_setattr
 * options (rro, rnosuid, rnosymfollow...), idmap/ridmap and tmpcopyup.
 * libmount's userspace-only options (defaults, nofail, x-*...) mean nothing
 * to the kernel and are dropped; any other option is fs data (as runc).
 * docs/mounts.md lists every option and decision. */
#ifndef SKIFF_MOUNT_H
#define SKIFF_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct sk_cgroup_v1_mount;

enum sk_mount_kind {
	SK_MOUNT_GENERIC,   /* mount(source, dest, type, flags, data) */
	SK_MOUNT_BIND,      /* bind or rbind of source, then a remount for flags */
	SK_MOUNT_TMPFS,     /* generic, plus tmpcopyup */
	SK_MOUNT_SYSFS,     /* generic; rbind of /sys when refused (userns, no netns) */
	SK_MOUNT_DEVPTS,    /* generic; retried without gid= in a user namespace */
	SK_MOUNT_CGROUP,    /* cgroup2 in a cgroup namespace, else bind of our cgroup */
};

/* Propagation changes applied in order after the mount ("rslave,rshared"
 * makes a shared slave). */
#define SK_MOUNT_MAX_PROPAGATION 4

struct sk_mount_step {
	enum sk_mount_kind kind;
	size_t index;                 /* position in mounts[], for messages */
	char *source;                 /* binds: absolute; else as given, or the type */
	char *destination;            /* absolute in the container, lexically cleaned */
	char *type;                   /* fs type; NULL for binds */
	char *data;                   /* fs data ("mode=755,size=65536k"), NULL if none */
	unsigned long flags;          /* MS_*; binds: MS_BIND[|MS_REC] | remount flags */
	unsigned long propagation[SK_MOUNT_MAX_PROPAGATION];
	size_t n_propagation;
	uint64_t attr_set, attr_clr;  /* MOUNT_ATTR_* applied with AT_RECURSIVE */
	bool copyup;                  /* tmpcopyup: fill the tmpfs from what it covers */
	bool idmap;                   /* idmapped bind: tree_fd is moved into place */
	bool idmap_recursive;         /* ridmap, or rbind without an explicit idmap */
	struct sk_idmap *uid_map, *gid_map;
	size_t n_uid_map, n_gid_map;
	int tree_fd;                  /* prepared idmapped clone, -1 when none */
	char *overlay_bundle;         /* overlay whose data has bundle-relative
	                               * directories: the bundle, else NULL */
};

struct sk_mount_plan {
	struct sk_mount_step *steps;
	size_t n_steps;
	bool dev_is_bind;             /* /dev is bind-mounted: no device set-up */
	bool has_devpts;              /* /dev/pts is a devpts mount */
	bool dev_readonly;            /* /dev asked "ro": mounted read-write, made
	                               * read-only once set up (runc's order) */
	bool has_root_propagation;    /* linux.rootfsPropagation given */
	unsigned long root_propagation; /* its MS_* value (MS_REC for r* forms) */
	const char *cgroup2_mount;    /* host cgroup2 mount point for cgroup binds, found
	                               * by prepare (cgroup.c's cached copy, not owned) */
	const struct sk_cgroup_v1_mount *cg1; /* a hybrid or legacy host's v1 hierarchies, */
	size_t n_cg1;                 /* for a cgroup mount (prepare; cgroup.c's cache) */
};

/* Compile spec->mounts (and linux.rootfsPropagation) into out.  Relative
 * bind sources are made absolute against bundle_abs; relative overlay
 * lowerdir/upperdir/workdir are kept (see sk_mount_overlay_data).  Touches
 * nothing on the system.  Errors name the JSON
 * path: `mounts[3].options[1]: "ro=1": takes no value`.  On failure out is
 * left empty (nothing to free). */
int sk_mount_plan_build(const struct sk_spec *spec, const char *bundle_abs,
			struct sk_mount_plan *out, struct sk_err *err);

/* In the parent, on the host, just before the clone: open each idmapped
 * mount's source as a detached tree (open_tree) idmapped to a throw-away
 * user namespace holding its mappings, kept as step->tree_fd for the child
 * to move_mount(); and find the host cgroup2 mount when a cgroup mount will
 * be a bind.  host_binds: every other bind's source is cloned the same way
 * (without the idmap), for a container in a new user namespace made by the
 * host's root: inside that namespace, a source only the host's root may
 * reach could not be opened (runc opens them on the host side too).  Costs
 * nothing when no step needs any of this. */
int sk_mount_plan_prepare(struct sk_mount_plan *plan, bool host_binds, struct sk_err *err);

/* In the container's init, in its mount namespace (overlay refuses layers
 * from another): the data of st, an overlay step with overlay_bundle set,
 * with each bundle-relative directory opened beneath the bundle (openat2
 * RESOLVE_BENEATH, no magic links: a symlink of an untrusted image cannot
 * lead it out) and named /proc/self/fd/N.  One that leads out is refused,
 * naming the option: `mounts[2].options: overlay upperdir "rootfs/up" leads
 * out of the bundle: EXDEV`.  *data, *fds (n_fds of them, to close once
 * mounted) are malloc()ed. */
int sk_mount_overlay_data(const struct sk_mount_step *st, char **data, int **fds, size_t *n_fds,
			  struct sk_err *err);

/* Free the strings and close the prepared fds; plan is left empty. */
void sk_mount_plan_free(struct sk_mount_plan *plan);

#endif
