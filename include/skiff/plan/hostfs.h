/* hostfs: before --no-pivot moves the rootfs onto "/", take the host's
 * full procfs and sysfs mounts out of the container's mount namespace.
 *
 * Why: without pivot_root the old root's mounts stay in the namespace,
 * under the rootfs.  The kernel lets a process of a nested user namespace
 * mount a fresh procfs or sysfs when the namespace already shows a full
 * one with nothing locked over it (mount_too_revealing); the container's
 * own /proc has masked paths, the host's /proc has none, so the container
 * could mount an unmasked procfs.  runc does the same before its move.
 *
 * Each proc or sysfs mount whose root is the filesystem's root and which
 * is not inside the rootfs is made rslave (so nothing propagates back to
 * the host) and lazily unmounted; where that is refused (EINVAL, EPERM:
 * a mount locked by a user namespace) a tmpfs covers it instead.  A mount
 * shadowed by another one at the same path is left (what covers it already
 * hides it).  Runs in the init after the mounts, reads
 * /proc/self/mountinfo through one fd opened first (the host's /proc goes
 * away on the way), allocates nothing. */
#ifndef SKIFF_HOSTFS_H
#define SKIFF_HOSTFS_H

#include "skiff/base/error.h"

int sk_hostfs_hide(const char *rootfs, struct sk_err *err);

#endif
