/* inroot: paths inside a directory that must not lead out of it: the
 * container's rootfs (RESOLVE_IN_ROOT) and its procfs (RESOLVE_BENEATH
 * without crossing a mount), plus the lexical cleaning of container paths.
 * See inroot.h. */
#include "skiff/plan/inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff/base/util.h"

/* Kernel's limit on symlinks followed in one lookup, used for ours. */
#define MAX_SYMLINKS 40

const char *sk_fd_path(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

int sk_inroot_open(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	/* EAGAIN: a concurrent rename made the kernel unsure; just retry. */
	for (int tries = 0;; tries++) {
		int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN || tries == 16)
			return fd;
	}
}

/* The missing component buf[pos..end] (NUL-terminated there; save is the
 * byte it replaced) is a dangling symlink in dir: splice its target into
 * buf in place of buf[..end] so the walk can restart. */
static int splice_symlink(int dir, char *buf, size_t pos, size_t end, char save, struct sk_err *err)
{
	char link[PATH_MAX], tmp[PATH_MAX];
	ssize_t ln = readlinkat(dir, buf + pos, link, sizeof(link) - 1);
	if (ln < 0)
		return sk_error(err, errno == EINVAL ? EEXIST : errno, "create \"%s\" in rootfs", buf);
	link[ln] = '\0';
	buf[end] = save;
	bool more = save != '\0';
	int n = snprintf(tmp, sizeof(tmp), "%.*s%s%s%s", link[0] == '/' ? 0 : (int)pos, buf, link,
			 more ? "/" : "", more ? buf + end + 1 : "");
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sk_error(err, ENAMETOOLONG, "follow \"%s\" in rootfs", buf);
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}

int sk_inroot_resolve(int rootfd, const char *path, enum sk_inroot_create create, int *out,
		      struct sk_err *err)
{
	int fd = sk_inroot_open(rootfd, path, O_PATH);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	if (errno != ENOENT || create == SK_CREATE_NONE)
		return sk_error(err, errno, "open \"%s\" in rootfs", path);

	/* Slow path: walk the components, each prefix opened from the root
	 * (so ".." and symlinks resolve as they would in the container), and
	 * create what is missing in the directory it belongs to. */
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return sk_error(err, ENAMETOOLONG, "open \"%.64s...\" in rootfs", path);
	strcpy(buf, path);
	int links = 0;
restart:;
	int dir = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (dir < 0)
		return sk_error(err, errno, "dup");
	size_t pos = 0;
	for (;;) {
		pos += strspn(buf + pos, "/");
		if (!buf[pos])
			break;
		size_t end = pos + strcspn(buf + pos, "/");
		bool more = buf[end] && buf[end + strspn(buf + end, "/")];
		char save = buf[end];
		buf[end] = '\0';
		int nfd = sk_inroot_open(rootfd, buf, O_PATH);
		if (nfd < 0 && errno == ENOENT) {
			int r;
			if (!more && create == SK_CREATE_FILE) {
				r = openat(dir, buf + pos, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(dir, buf + pos, 0755);
			}
			if (r < 0 && errno == EEXIST) {
				if (++links > MAX_SYMLINKS) {
					close(dir);
					return sk_error(err, ELOOP, "open \"%s\" in rootfs", path);
				}
				int sr = splice_symlink(dir, buf, pos, end, save, err);
				close(dir);
				if (sr < 0)
					return -1;
				goto restart;
			}
			if (r < 0) {
				int e = errno;
				close(dir);
				return sk_error(err, e, "%s \"%s\" in rootfs",
						!more && create == SK_CREATE_FILE ? "create" : "mkdir", buf);
			}
			nfd = sk_inroot_open(rootfd, buf, O_PATH);
		}
		if (nfd < 0) {
			int e = errno;
			close(dir);
			return sk_error(err, e, "open \"%s\" in rootfs", buf);
		}
		buf[end] = save;
		close(dir);
		dir = nfd;
		pos = end;
	}
	*out = dir;
	return 0;
}

int sk_path_clean(char *out, size_t cap, const char *in, struct sk_err *err)
{
	if (!in || in[0] != '/')
		return sk_error(err, EINVAL, "path \"%s\": not absolute", in ? in : "");
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			p += n;
			continue;
		}
		if (o + 1 + n + 1 > cap)
			return sk_error(err, ENAMETOOLONG, "path \"%.64s...\"", in);
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0) {
		if (cap < 2)
			return sk_error(err, ENAMETOOLONG, "path \"/\"");
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

int sk_proc_open(struct sk_err *err)
{
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"/proc\"");
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "statfs \"/proc\"");
	}
	if (sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return sk_error(err, 0, "\"/proc\" is not a procfs mount");
	}
	return fd;
}

int sk_proc_write(int proc_fd, const char *path, const char *val, size_t len, struct sk_err *err)
{
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, proc_fd, path, &how, sizeof(how));
	if (fd < 0)
		return sk_error(err, errno, "open \"/proc/%s\"", path);
	int r = 0;
	if (sk_write_all(fd, val, len) < 0)
		r = sk_error(err, errno, "write \"%.*s\" to \"/proc/%s\"", (int)(len < 64 ? len : 64), val, path);
	close(fd);
	return r;
}
