/* rootfs: the container's file system, built by its init before exec.
 * The init is in its new mount namespace (and, when asked, a new user
 * namespace where it is root).  sk_rootfs_setup() walks the mount plan
 * inside the rootfs, sk_rootfs_pivot() makes the rootfs "/", and
 * sk_rootfs_finalize() masks and write-protects paths.  Every path from
 * config.json is resolved inside the rootfs with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) and mounted on through "/proc/self/fd/N", so a
 * symlink in the rootfs never leads out of it.  These functions run in the
 * child: they do not allocate (stack buffers only), and fill err with
 * messages such as `mounts[2]: mount "proc" on "/proc": EPERM`. */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "skiff/error.h"
#include "skiff/mount.h"
#include "skiff/spec.h"

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

/* Before pivot.  With a mount namespace of its own: set "/" to linux.rootfsPropagation (default rslave), make
 * the rootfs a mount point (recursive bind onto itself), perform every plan
 * step in config order, then create /dev's default devices, symlinks and
 * linux.devices (dev.c) unless /dev is a bind mount.  Sharing the
 * runtime's mount namespace (shared_mntns), "/" is left alone and
 * the steps are made under shared_rootfd.  Runs under umask 0, restored
 * before returning. */
int sk_rootfs_setup(const struct sk_rootfs_ctx *c, struct sk_err *err);

/* Make rootfs the root: pivot_root(".", ".") then a lazy unmount of the old
 * root (made rslave first so the unmount does not propagate to the host),
 * and chdir("/").  With no_pivot (runc's --no-pivot, for a rootfs on
 * ramfs): move the rootfs onto "/" and chroot into it. */
int sk_rootfs_pivot(const char *rootfs, bool no_pivot, struct sk_err *err);

/* Without a mount namespace of its own: chroot into rootfd (pivot_root
 * and moving onto "/" would change the runtime's own root). */
int sk_rootfs_chroot(int rootfd, struct sk_err *err);

/* After pivot (paths are container paths): linux.readonlyPaths, then
 * linux.maskedPaths (missing paths are skipped), root.readonly, and
 * linux.rootfsPropagation applied to "/". */
int sk_rootfs_finalize(const struct sk_rootfs_ctx *c, struct sk_err *err);

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

/* What sk_rootfs_resolve() creates when the last component is missing. */
enum sk_rootfs_create { SK_CREATE_NONE, SK_CREATE_DIR, SK_CREATE_FILE };

/* Open path (absolute in the container) inside the root directory rootfd
 * as an O_PATH|O_CLOEXEC fd in *out.  Unless create is SK_CREATE_NONE,
 * missing parent directories are made (0755, under the caller's umask) and
 * the last component too (a 0755 directory or an empty 0644 file).
 * Symlinks met on the way, dangling ones included, are followed as if
 * rootfd were "/"; nothing outside rootfd is touched. */
int sk_rootfs_resolve(int rootfd, const char *path, enum sk_rootfs_create create, int *out,
		      struct sk_err *err);

/* "/proc/self/fd/N" for fd into buf (at least 32 bytes). */
const char *sk_fd_path(char *buf, int fd);

#endif
