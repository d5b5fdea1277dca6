/* util: small file helpers shared by modules.  All take a directory fd
 * (or AT_FDCWD) and a path relative to it, and report failures through
 * struct sk_err naming the path. */
#ifndef SKIFF_UTIL_H
#define SKIFF_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "skiff/base/error.h"

/* The one reader of whole files that a user or a container controls
 * (config.json, --process, state.json, the seccomp cache...).  It never
 * blocks (a FIFO in the file's place is refused, not waited on), refuses
 * anything but a regular file, and a file over max bytes without reading
 * it all.  *out is malloc()ed and NUL-terminated (the NUL not in *len; len
 * may be NULL).  Messages name the file `name`, or path when name is NULL:
 * "config.json: not a regular file", "... file is too large (limit N
 * bytes)". */
int sk_read_file_at(int dir_fd, const char *path, const char *name, size_t max, char **out, size_t *len,
		    struct sk_err *err);
/* The same for an open fd that may be a pipe (`update -r -`'s stdin). */
int sk_read_fd(int fd, const char *name, size_t max, char **out, size_t *len, struct sk_err *err);

/* Read at most cap - 1 bytes of a small file (/proc, cgroup knobs) into buf,
 * NUL-terminated, with no allocation.  Returns the byte count or -1. */
ssize_t sk_read_small_at(int dir_fd, const char *path, char *buf, size_t cap, struct sk_err *err);

/* Replace name atomically: write a temporary file in the same directory,
 * fsync it, rename it over name.  Readers see the old or the new content,
 * never a mix; on failure the temporary file is removed. */
int sk_write_file_atomic_at(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode, struct sk_err *err);
/* The same, choosing what is synced: SK_WRITE_SYNC, the file before the
 * rename; SK_WRITE_SYNC_DIR, the directory after it (then the new content
 * survives a crash once this returns; dir_fd must not be O_PATH).  With
 * no flag, only atomic. */
#define SK_WRITE_SYNC 1u
#define SK_WRITE_SYNC_DIR 2u
int sk_write_file_replace_at(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode, unsigned flags,
			     struct sk_err *err);

/* A record whose space is taken in advance, so that writing it later needs
 * no new allocation (a full file system cannot refuse it): open makes
 * dir_fd/tmp, size bytes of blanks; commit pwrite()s buf over them,
 * truncates the file to len, fsyncs it, renames it to name and fsyncs the
 * directory (dir_fd must not be O_PATH); close closes the fd and, unless
 * committed, removes tmp.  A file killed between its write and its
 * rename holds the whole record (followed by blanks) under tmp. */
struct sk_reserved {
	int dir_fd;                    /* not owned */
	int fd;                        /* -1: none */
	bool committed;
	char tmp[NAME_MAX + 1];
};
int sk_reserve_open(int dir_fd, const char *tmp, size_t size, mode_t mode, struct sk_reserved *r,
		    struct sk_err *err);
int sk_reserve_commit(struct sk_reserved *r, const char *name, const void *buf, size_t len, struct sk_err *err);
void sk_reserve_close(struct sk_reserved *r);

/* write() all of buf, retrying short writes and EINTR.  0 or -1 (errno). */
int sk_write_all(int fd, const void *buf, size_t len);

/* mkdir -p: create path and its missing parents with mode (parents that
 * exist are left as they are).  An existing directory is not an error. */
int sk_mkdir_p(const char *path, mode_t mode, struct sk_err *err);

/* --pid-file: the pid alone, written atomically in path's directory. */
int sk_write_pid_file(const char *path, pid_t pid, struct sk_err *err);

#endif
