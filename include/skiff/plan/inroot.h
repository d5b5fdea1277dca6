/* inroot: paths that must stay inside a directory.  The container's
 * config and rootfs are hostile (docs/security.md): a path from the config
 * is opened inside the rootfs as if the rootfs were "/", so that no "..",
 * symlink or magic link leads out of it, and files of the container's
 * procfs are written only beneath a verified procfs, never across a mount
 * below it.  No allocation: these run in the container's init. */
#ifndef SKIFF_INROOT_H
#define SKIFF_INROOT_H

#include <stddef.h>

#include "skiff/base/error.h"

/* "/proc/self/fd/N" for fd into buf (at least 32 bytes): how a resolved fd
 * is named to mount(2) and friends. */
const char *sk_fd_path(char *buf, int fd);

/* openat2(rootfd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), retried on EAGAIN; -1 with errno. */
int sk_inroot_open(int rootfd, const char *path, int flags);

/* What sk_inroot_resolve() creates when the last component is missing. */
enum sk_inroot_create { SK_CREATE_NONE, SK_CREATE_DIR, SK_CREATE_FILE };

/* Open path (absolute in the container) inside the root directory rootfd
 * as an O_PATH|O_CLOEXEC fd in *out.  Unless create is SK_CREATE_NONE,
 * missing parent directories are made (0755, under the caller's umask) and
 * the last component too (a 0755 directory or an empty 0644 file).
 * Symlinks met on the way, dangling ones included, are followed as if
 * rootfd were "/"; nothing outside rootfd is touched. */
int sk_inroot_resolve(int rootfd, const char *path, enum sk_inroot_create create, int *out,
		      struct sk_err *err);

/* Lexically clean an absolute path into out: collapse "//", "." and ".."
 * ("/a/../b/./" -> "/b").  Fails with ENAMETOOLONG when it does not fit,
 * EINVAL when in is not absolute. */
int sk_path_clean(char *out, size_t cap, const char *in, struct sk_err *err);

/* The container's procfs, in its init after pivot_root.  sk_proc_open: an
 * O_PATH fd of /proc, refused unless it is a procfs.  sk_proc_write: write
 * len bytes of val to path (relative to /proc, e.g. "self/attr/exec"),
 * resolved beneath proc_fd without crossing a mount or a magic link. */
int sk_proc_open(struct sk_err *err);
int sk_proc_write(int proc_fd, const char *path, const char *val, size_t len, struct sk_err *err);

#endif
