/* rootfs: the container's root file system, which the shim mounts from
 * Create's mounts (containerd's snapshots: overlay, or a bind mount) onto
 * the bundle's rootfs/ and unmounts at Delete (and `delete`). */
#ifndef SKIFF_SHIM_CONTAINERD_ROOTFS_H
#define SKIFF_SHIM_CONTAINERD_ROOTFS_H

#include <stddef.h>

#include "containerd/types.pb-c.h"
#include "skiff/base/error.h"

/* Mount each of mounts (n) on bundle/rootfs in order; on failure what was
 * mounted is unmounted again. */
int ctrd_rootfs_mount(const char *bundle, Containerd__Types__Mount *const *mounts, size_t n, struct sk_err *err);
/* Unmount everything on bundle/rootfs (lazily). */
void ctrd_rootfs_unmount(const char *bundle);

#endif
