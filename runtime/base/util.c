/* util: the one reader of files a user or a container controls, atomic
 * writes, mkdir -p and other small file helpers (util.h). */
#include "skiff/base/util.h"
#include "skiff/base/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sk_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read fd to its end into a malloc()ed, NUL-terminated buffer, refusing
 * more than max bytes (never reading more than max + 1).  hint: the
 * expected size (0 for pipes and /proc files, which report none).  A
 * non-blocking fd is waited on, at most wait_ms for each read. */
static int read_to_end(int fd, const char *name, size_t hint, size_t max, char **out, size_t *len, int wait_ms,
		       struct sk_err *err)
{
	/* One byte of room past max proves a file too large; one for the NUL. */
	size_t cap = (hint ? hint : 4096) + 2, used = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			return sk_error(err, ENOMEM, "read \"%s\"", name);
		if (used + 1 == cap) {
			size_t ncap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb)
				free(buf);
			buf = nb;
			cap = ncap;
			continue;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_ms > 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int pr = poll(&p, 1, wait_ms);
			if (pr > 0 || (pr < 0 && errno == EINTR))
				continue;
			free(buf);
			return sk_error(err, pr == 0 ? ETIMEDOUT : errno, "read \"%s\": nothing for %d s", name,
					wait_ms / 1000);
		}
		if (n < 0) {
			int e = errno;
			free(buf);
			return sk_error(err, e, "read \"%s\"", name);
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			free(buf);
			return sk_error(err, 0, "%s: file is too large (limit %zu bytes)", name, max);
		}
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

/* The two readers below: a regular file, and a pipe too when pipes (read
 * until its writers close, waiting at most wait_ms between writes). */
static int read_at(int dir_fd, const char *path, const char *name, size_t max, bool pipes, int wait_ms, char **out,
		   size_t *len, struct sk_err *err)
{
	name = name ? name : path;
	/* O_NONBLOCK: a FIFO in the file's place must not hang us until it is
	 * refused or read below (regular files ignore the flag). */
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	struct stat sb;
	int r;
	if (fstat(fd, &sb) < 0)
		r = sk_error(err, errno, "stat \"%s\"", path);
	else if (pipes && S_ISFIFO(sb.st_mode))
		r = read_to_end(fd, name, 0, max, out, len, wait_ms, err);
	else if (!S_ISREG(sb.st_mode))
		r = sk_error(err, 0, "%s: not a regular file%s", name, pipes ? " or a pipe" : "");
	else if ((uintmax_t)sb.st_size > max)
		r = sk_error(err, 0, "%s: file is too large (limit %zu bytes)", name, max);
	else
		r = read_to_end(fd, name, (size_t)sb.st_size, max, out, len, 0, err);
	close(fd);
	return r;
}

int sk_read_file_at(int dir_fd, const char *path, const char *name, size_t max, char **out, size_t *len,
		    struct sk_err *err)
{
	return read_at(dir_fd, path, name, max, false, 0, out, len, err);
}

int sk_read_file_or_pipe_at(int dir_fd, const char *path, const char *name, size_t max, int wait_ms, char **out,
			    size_t *len, struct sk_err *err)
{
	return read_at(dir_fd, path, name, max, true, wait_ms, out, len, err);
}

int sk_read_fd(int fd, const char *name, size_t max, char **out, size_t *len, struct sk_err *err)
{
	return read_to_end(fd, name, 0, max, out, len, 0, err);
}

ssize_t sk_read_small_at(int dir_fd, const char *path, char *buf, size_t cap, struct sk_err *err)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	size_t used = 0;
	while (used + 1 < cap) {
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return sk_error(err, e, "read \"%s\"", path);
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (ssize_t)used;
}

int sk_write_file_replace_at(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode, unsigned flags,
			     struct sk_err *err)
{
	/* The pid keeps concurrent writers (which callers should exclude with
	 * a lock anyway) from sharing a temporary file. */
	char tmp[NAME_MAX + 1];
	int n = snprintf(tmp, sizeof(tmp), ".%s.tmp-%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sk_error(err, ENAMETOOLONG, "write %s", name);
	int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return sk_error(err, errno, "create %s", tmp);
	if (sk_write_all(fd, buf, len) < 0) {
		sk_error(err, errno, "write %s", tmp);
		goto fail;
	}
	if ((flags & SK_WRITE_SYNC) && fsync(fd) < 0) {
		sk_error(err, errno, "fsync %s", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		sk_error(err, errno, "close %s", tmp);
		goto fail;
	}
	fd = -1;
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		sk_error(err, errno, "rename %s to %s", tmp, name);
		goto fail;
	}
	/* The rename is an entry of the directory: without this a crash may
	 * bring back the old content, or none. */
	if ((flags & SK_WRITE_SYNC_DIR) && fsync(dir_fd) < 0)
		return sk_error(err, errno, "fsync the directory of %s", name);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dir_fd, tmp, 0);
	return -1;
}

int sk_reserve_open(int dir_fd, const char *tmp, size_t size, mode_t mode, struct sk_reserved *r,
		    struct sk_err *err)
{
	*r = (struct sk_reserved){ .dir_fd = dir_fd, .fd = -1 };
	if (snprintf(r->tmp, sizeof(r->tmp), "%s", tmp) >= (int)sizeof(r->tmp))
		return sk_error(err, ENAMETOOLONG, "reserve %s", tmp);
	char blank[1024];
	if (size > sizeof(blank))
		return sk_error(err, EINVAL, "reserve %s: %zu bytes", tmp, size);
	memset(blank, ' ', size);
	r->fd = openat(dir_fd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (r->fd < 0)
		return sk_error(err, errno, "create %s", tmp);
	/* Written, not only sized: a sparse file would still allocate later. */
	if (sk_write_all(r->fd, blank, size) < 0) {
		sk_error(err, errno, "reserve %zu bytes in %s", size, tmp);
		sk_reserve_close(r);
		return -1;
	}
	return 0;
}

int sk_reserve_commit(struct sk_reserved *r, const char *name, const void *buf, size_t len, struct sk_err *err)
{
	if (r->fd < 0)
		return sk_error(err, EBADF, "write %s: no space was reserved", name);
	const char *p = buf;
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(r->fd, p + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sk_error(err, n < 0 ? errno : EIO, "write %s", r->tmp);
		done += (size_t)n;
	}
	if (ftruncate(r->fd, (off_t)len) < 0)
		return sk_error(err, errno, "truncate %s", r->tmp);
	if (fsync(r->fd) < 0)
		return sk_error(err, errno, "fsync %s", r->tmp);
	sk_fault_point("reserved-written");
	if (renameat(r->dir_fd, r->tmp, r->dir_fd, name) < 0)
		return sk_error(err, errno, "rename %s to %s", r->tmp, name);
	r->committed = true;
	if (fsync(r->dir_fd) < 0)
		return sk_error(err, errno, "fsync the directory of %s", name);
	return 0;
}

void sk_reserve_close(struct sk_reserved *r)
{
	if (r->fd < 0)
		return;
	close(r->fd);
	r->fd = -1;
	if (!r->committed)
		unlinkat(r->dir_fd, r->tmp, 0);
}

int sk_write_file_atomic_at(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode, struct sk_err *err)
{
	return sk_write_file_replace_at(dir_fd, name, buf, len, mode, SK_WRITE_SYNC, err);
}

int sk_mkdir_p(const char *path, mode_t mode, struct sk_err *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(buf))
		return sk_error(err, len ? ENAMETOOLONG : ENOENT, "mkdir \"%s\"", path);
	memcpy(buf, path, len + 1);
	/* Walk the separators; each prefix is created if missing.  The last
	 * component is handled after the loop. */
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return sk_error(err, errno, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0) {
		if (errno != EEXIST)
			return sk_error(err, errno, "mkdir %s", buf);
		struct stat sb;
		if (stat(buf, &sb) < 0)
			return sk_error(err, errno, "stat %s", buf);
		if (!S_ISDIR(sb.st_mode))
			return sk_error(err, ENOTDIR, "mkdir %s", buf);
	}
	return 0;
}

int sk_write_pid_file(const char *path, pid_t pid, struct sk_err *err)
{
	char buf[32], dir[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	const char *slash = strrchr(path, '/');
	int r;
	if (!slash) {
		r = sk_write_file_atomic_at(AT_FDCWD, path, buf, (size_t)n, 0644, err);
	} else {
		size_t dl = slash == path ? 1 : (size_t)(slash - path);
		if (dl >= sizeof(dir) || !slash[1])
			return sk_error(err, EINVAL, "--pid-file \"%s\"", path);
		memcpy(dir, path, dl);
		dir[dl] = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return sk_error(err, errno, "--pid-file \"%s\": open its directory", path);
		r = sk_write_file_atomic_at(dfd, slash + 1, buf, (size_t)n, 0644, err);
		close(dfd);
	}
	/* The user's file first: the temporary name alone says nothing. */
	return r < 0 ? sk_error_wrap(err, "--pid-file \"%s\"", path) : 0;
}
