/* hostfs: the host's procfs and sysfs taken out of a --no-pivot
 * container's mount namespace.  See hostfs.h. */
#include "skiff/plan/hostfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/log.h"

#define MAX_COVERED 64

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* path is rootfs or below it. */
static bool inside(const char *path, const char *rootfs)
{
	size_t n = strlen(rootfs);
	while (n > 1 && rootfs[n - 1] == '/')
		n--;
	return !strncmp(path, rootfs, n) && (path[n] == '\0' || path[n] == '/');
}

static bool listed(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* One mountinfo line (modified): a full proc or sysfs mount outside rootfs
 * not in skip?  Its mount point into mp. */
static bool candidate(char *line, const char *rootfs, const uint64_t *skip, size_t nskip, char *mp, size_t mpsize,
		      uint64_t *id)
{
	/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
	char *sep = strstr(line, " - ");
	if (!sep || (strncmp(sep + 3, "proc ", 5) && strncmp(sep + 3, "sysfs ", 6)))
		return false;
	*sep = '\0';
	char *f[5], *save = NULL, *p = line;
	int nf = 0;
	while (nf < 5 && (f[nf] = strtok_r(p, " ", &save)))
		nf++, p = NULL;
	if (nf < 5 || strcmp(f[3], "/"))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(f[0], &end, 10);
	if (errno || *end || listed(skip, nskip, v))
		return false;
	unescape(f[4]);
	if (inside(f[4], rootfs) || strlen(f[4]) >= mpsize)
		return false;
	strcpy(mp, f[4]);
	*id = v;
	return true;
}

/* The next mount to hide, read from the start of mountinfo (fd): 1 with
 * *mp and *id, 0 when there is none. */
static int next_mount(int fd, const char *rootfs, const uint64_t *skip, size_t nskip, char *mp, size_t mpsize,
		      uint64_t *id, struct sk_err *err)
{
	char buf[32768];
	size_t have = 0;
	bool eof = false, overlong = false;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sk_error(err, errno, "rewind /proc/self/mountinfo");
	while (!eof || have) {
		if (!eof && have < sizeof(buf) - 1) {
			ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return sk_error(err, errno, "read /proc/self/mountinfo");
			eof = n == 0;
			have += (size_t)n;
		}
		buf[have] = '\0';
		char *nl = memchr(buf, '\n', have);
		if (!nl && !eof && have < sizeof(buf) - 1)
			continue;
		size_t len = nl ? (size_t)(nl - buf) + 1 : have;
		if (nl)
			*nl = '\0';
		/* A line longer than the buffer is not a mount we can name. */
		if (!overlong && (nl || eof) && candidate(buf, rootfs, skip, nskip, mp, mpsize, id))
			return 1;
		overlong = !nl && !eof;
		memmove(buf, buf + len, have - len);
		have -= len;
	}
	return 0;
}

/* The mount at path is the one with mountinfo id want (not shadowed). */
static bool on_top(const char *path, uint64_t want)
{
	struct statx sx;
	return statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) == 0 &&
	       (sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id == want;
}

int sk_hostfs_hide(const char *rootfs, struct sk_err *err)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open /proc/self/mountinfo");
	uint64_t skip[MAX_COVERED], id = 0;
	size_t nskip = 0;
	char mp[PATH_MAX];
	int r;
	while ((r = next_mount(fd, rootfs, skip, nskip, mp, sizeof(mp), &id, err)) == 1) {
		if (nskip == MAX_COVERED) {
			r = sk_error(err, E2BIG, "--no-pivot: more than %d procfs and sysfs mounts to hide", MAX_COVERED);
			break;
		}
		if (!on_top(mp, id)) {
			/* Shadowed, or out of reach below a detached parent:
			 * whatever is on top of it already covers it. */
			skip[nskip++] = id;
			continue;
		}
		if (mount(NULL, mp, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			r = sk_error(err, errno, "--no-pivot: make the host's \"%s\" rslave", mp);
			break;
		}
		if (umount2(mp, MNT_DETACH) == 0) {
			sk_debug("--no-pivot: unmounted the host's \"%s\"", mp);
			continue;
		}
		if (errno != EINVAL && errno != EPERM) {
			r = sk_error(err, errno, "--no-pivot: unmount the host's \"%s\"", mp);
			break;
		}
		if (mount("tmpfs", mp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=000") < 0) {
			r = sk_error(err, errno, "--no-pivot: cover the host's \"%s\"", mp);
			break;
		}
		sk_debug("--no-pivot: covered the host's \"%s\" with a tmpfs", mp);
		skip[nskip++] = id;
	}
	close(fd);
	return r < 0 ? -1 : 0;
}
