/* rootfs: the container's file system, built by its init before exec.
 * The init is in its new mount namespace (and, when asked, a new user
 * namespace where it is root).  Its plan (plan.h) calls these as steps: the
 * rootfs made a mount point, each mount inside it, /dev, pivot_root, then
 * the masked and read-only paths.  Every path from
 * config.json is resolved inside the rootfs with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) and mounted on through "/proc/self/fd/N", so a
 * symlink in the rootfs never leads out of it.  These functions run in the
 * child: they do not allocate (stack buffers; an overlay with bundle-relative
 * layers aside), and fill err with
 * messages such as `mounts[2]: mount "proc" on "/proc": EPERM`. */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/base/error.h"
#include "skiff/plan/mount.h"
#include "skiff/spec/spec.h"

struct sk_rootfs_ctx {
	const struct sk_spec *spec;
	const struct sk_mount_plan *plan;
	const char *rootfs;      /* absolute host path, realpath'd by the parent */
	bool userns;             /* the init is in a new user namespace */
	bool new_netns;          /* the init is in a network namespace of its own */
	bool new_cgroupns;       /* ... and a cgroup namespace of its own */
	bool shared_mntns;       /* no mount namespace of its own: ... */
	int shared_rootfd;       /* ... the bind from sk_rootfs_bind_shared() */
};

/* Before pivot, the steps ROOTFS, MOUNT and DEVICES of the plan (plan.h).
 * sk_rootfs_open: with a mount namespace of its own, set "/" to
 * linux.rootfsPropagation (default rslave) and make the rootfs a mount
 * point (recursive bind onto itself), *rootfd its O_PATH fd; sharing the
 * runtime's mount namespace (shared_mntns), "/" is left alone and *rootfd
 * is shared_rootfd.  sk_rootfs_mount: one step of the mount plan, in
 * config order (the step's prepared tree fd is closed).
 * sk_rootfs_devices: /dev's default devices, symlinks and linux.devices
 * (dev.c), unless /dev is a bind mount.  Each runs under umask 0. */
int sk_rootfs_open(const struct sk_rootfs_ctx *c, int *rootfd, struct sk_err *err);
int sk_rootfs_mount(int rootfd, const struct sk_rootfs_ctx *c, const struct sk_mount_step *st, struct sk_err *err);
int sk_rootfs_devices(int rootfd, const struct sk_rootfs_ctx *c, struct sk_err *err);

/* A /dev mounted "ro" made read-only once its devices and submounts are
 * in place (it was mounted read-write for them, as runc does).  console:
 * the terminal's /dev/console mount point is made first, since the
 * terminal step binds the pty there later. */
int sk_rootfs_dev_readonly(int rootfd, bool console, struct sk_err *err);

/* Make rootfs the root: pivot_root(".", ".") then a lazy unmount of the old
 * root (made rslave first so the unmount does not propagate to the host),
 * and chdir("/").  With no_pivot (runc's --no-pivot, for a rootfs on
 * ramfs): first take the host's procfs and sysfs out of reach (hostfs.h),
 * then move the rootfs onto "/" and chroot into it. */
int sk_rootfs_pivot(const char *rootfs, bool no_pivot, struct sk_err *err);

/* Without a mount namespace of its own: chroot into rootfd (pivot_root
 * and moving onto "/" would change the runtime's own root). */
int sk_rootfs_chroot(int rootfd, struct sk_err *err);

/* After pivot (paths are container paths, rootfd is "/"), the steps
 * READONLY, MASK, ROOT_READONLY and ROOT_PROPAGATION: a path of
 * linux.readonlyPaths bound read-only onto itself, one of
 * linux.maskedPaths covered (a directory by a read-only tmpfs, anything
 * else by the container's /dev/null, which must be the null device); a
 * missing path is skipped.  The masked directories share one tmpfs: the
 * first gets it, the others a bind of it, so that hundreds of them (a
 * thermal_throttle per CPU) are one superblock.  *m caches the null device
 * and that tmpfs (SK_MASK_FDS_INIT at first; the caller closes what is
 * >= 0).  Then root.readonly and linux.rootfsPropagation on "/". */
struct sk_mask_fds { int null, dir; };
#define SK_MASK_FDS_INIT { .null = -1, .dir = -1 }
int sk_rootfs_readonly(int rootfd, const char *path, struct sk_err *err);
int sk_rootfs_mask(int rootfd, const char *path, struct sk_mask_fds *m, struct sk_err *err);
int sk_rootfs_root_readonly(int rootfd, struct sk_err *err);
int sk_rootfs_root_propagation(const struct sk_mount_plan *plan, struct sk_err *err);

/* For a container without a mount namespace, in the runtime, before the
 * clone, in two steps so that the state can name the bind before it is in
 * any mount table: sk_rootfs_bind_shared() makes a detached recursive bind
 * of rootfs (*fd, its root) and gives its mount id and that of the mount it
 * will cover (*ids, kept in the state for delete); nothing is left if the
 * runtime dies now.  sk_rootfs_attach_shared() then mounts it on rootfs
 * and makes it private, recursively, so that nothing mounted under it
 * propagates to the runtime's peers.  Undone by sk_rootfs_unbind_shared():
 * a lazy unmount of the bind with everything under it, after anything
 * stacked on it at rootfs (the process may have mounted on its own "/"); 0
 * at once when the covered mount is on top again (nothing of ours left). */
struct sk_rootfs_ids { uint64_t bind, base; };
int sk_rootfs_bind_shared(const char *rootfs, int *fd, struct sk_rootfs_ids *ids, struct sk_err *err);
int sk_rootfs_attach_shared(const char *rootfs, int fd, struct sk_err *err);
int sk_rootfs_unbind_shared(const char *rootfs, const struct sk_rootfs_ids *ids, struct sk_err *err);

#endif
