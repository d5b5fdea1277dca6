/* copyup: tmpcopyup, a new tmpfs filled with what it covers (copyup.h). */
#include "skiff/plan/copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* Recursion bound: each level holds a 4 KiB buffer. */
#define COPYUP_MAX_DEPTH 64

static int copy_tree(int src, int dst, int depth, struct sk_err *err);

static __attribute__((noinline)) int copy_symlink(int src, int dst, const char *name, struct sk_err *err)
{
	char link[PATH_MAX];
	ssize_t n = readlinkat(src, name, link, sizeof(link) - 1);
	if (n < 0)
		return sk_error(err, errno, "readlink \"%s\"", name);
	link[n] = '\0';
	if (symlinkat(link, dst, name) < 0)
		return sk_error(err, errno, "symlink \"%s\"", name);
	return 0;
}

static int copy_file(int src, int dst, const char *name, off_t size, struct sk_err *err)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return sk_error(err, errno, "open \"%s\"", name);
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;
		close(in);
		return sk_error(err, e, "create \"%s\"", name);
	}
	int rc = 0;
	for (off_t done = 0; done < size;) {
		ssize_t n = sendfile(out, in, NULL, (size_t)(size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sk_error(err, errno, "copy \"%s\"", name);
			break;
		}
		if (n == 0)
			break;
		done += n;
	}
	close(in);
	close(out);
	return rc;
}

static int copy_entry(int src, int dst, const char *name, int depth, struct sk_err *err)
{
	struct stat sb;
	if (fstatat(src, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return sk_error(err, errno, "stat \"%s\"", name);
	int r = 0;
	switch (sb.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (mkdirat(dst, name, 0700) < 0)
			return sk_error(err, errno, "mkdir \"%s\"", name);
		int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s2 < 0 || d2 < 0)
			r = sk_error(err, errno, "open \"%s\"", name);
		else
			r = copy_tree(s2, d2, depth + 1, err);
		if (s2 >= 0)
			close(s2);
		if (d2 >= 0)
			close(d2);
		if (r < 0)
			return sk_error_wrap(err, "%s", name);
		break;
	}
	case S_IFREG:
		r = copy_file(src, dst, name, sb.st_size, err);
		break;
	case S_IFLNK:
		r = copy_symlink(src, dst, name, err);
		break;
	default:
		if (mknodat(dst, name, sb.st_mode, sb.st_rdev) < 0)
			r = sk_error(err, errno, "mknod \"%s\"", name);
		break;
	}
	if (r < 0)
		return -1;
	/* EINVAL: the owner is not mapped in this user namespace; the copy
	 * stays root's. */
	if (fchownat(dst, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
		return sk_error(err, errno, "chown \"%s\"", name);
	/* After chown, which clears set-id bits. */
	if (!S_ISLNK(sb.st_mode) && fchmodat(dst, name, sb.st_mode & 07777, 0) < 0)
		return sk_error(err, errno, "chmod \"%s\"", name);
	struct timespec ts[2] = { sb.st_atim, sb.st_mtim };
	if (utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return sk_error(err, errno, "set times of \"%s\"", name);
	return 0;
}

static int copy_tree(int src, int dst, int depth, struct sk_err *err)
{
	char buf[4096] __attribute__((aligned(8)));
	if (depth > COPYUP_MAX_DEPTH)
		return sk_error(err, ELOOP, "deeper than %d directories", COPYUP_MAX_DEPTH);
	for (;;) {
		ssize_t n = getdents64(src, buf, sizeof(buf));
		if (n < 0)
			return sk_error(err, errno, "read directory");
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (copy_entry(src, dst, d->d_name, depth, err) < 0)
				return -1;
		}
	}
}

int sk_copyup(int old, int top, const char *data, struct sk_err *err)
{
	int dst = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst < 0)
		return sk_error(err, errno, "open");
	struct stat sb;
	int rc = -1;
	if (fstat(old, &sb) < 0) {
		sk_error(err, errno, "stat");
		goto out;
	}
	if (fchown(dst, sb.st_uid, sb.st_gid) < 0 && errno != EINVAL) {
		sk_error(err, errno, "chown");
		goto out;
	}
	if ((!data || !strstr(data, "mode=")) && fchmod(dst, sb.st_mode & 07777) < 0) {
		sk_error(err, errno, "chmod");
		goto out;
	}
	rc = copy_tree(old, dst, 0, err);
out:
	close(dst);
	return rc;
}
