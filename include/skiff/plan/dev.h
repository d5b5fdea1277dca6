/* dev: the container's /dev, made by its init before pivot (the plan's
 * DEVICES step, sk_rootfs_devices; it is skipped when /dev is a bind
 * mount, as runc does).  Like runc: the default devices null, zero, full,
 * random, urandom and tty (0666, root), the symlinks fd, stdin, stdout,
 * stderr and core (when the host has /proc/kcore), the pts and shm
 * directories, linux.devices, then ptmx -> pts/ptmx when /dev/pts is a
 * devpts mount.  Device nodes are made with mknod, or in a user namespace
 * (where mknod is refused) by bind-mounting the host's node onto an empty
 * file.  An entry that already exists is left alone.  No allocation. */
#ifndef SKIFF_DEV_H
#define SKIFF_DEV_H

#include <stdbool.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* rootfd: the rootfs (after its self-bind), an O_PATH directory fd;
 * userns: the init is in a new user namespace (no mknod); devpts: /dev/pts
 * is a devpts mount (ptmx links to it).  Expects umask 0
 * (sk_rootfs_devices sets it). */
int sk_dev_setup(int rootfd, const struct sk_spec *spec, bool userns, bool devpts, struct sk_err *err);

#endif
