/* dev: the container's /dev nodes and links, made in the child before
 * pivot.  See dev.h. */
#include "skiff/plan/dev.h"
#include "skiff/plan/inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct { const char *path; unsigned major, minor; } default_devices[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct { const char *target, *name; } default_links[] = {
	{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
	{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
};

struct node {
	const char *path;        /* as configured, for messages */
	mode_t type;             /* S_IFCHR, S_IFBLK or S_IFIFO */
	dev_t rdev;
	mode_t perm;
	uid_t uid;
	gid_t gid;
};

/* Bind the host's node at the same path onto the empty file name in pfd,
 * after checking it is the device asked for. */
static int bind_host_node(int pfd, const char *name, const char *host, const struct node *n, struct sk_err *err)
{
	char hp[32], tp[32];
	int hfd = open(host, O_PATH | O_CLOEXEC), tfd = -1, rc = -1;
	struct stat sb;
	if (hfd < 0 || fstat(hfd, &sb) < 0) {
		sk_error(err, errno, "device \"%s\": host node", n->path);
		goto out;
	}
	if ((sb.st_mode & S_IFMT) != n->type || sb.st_rdev != n->rdev) {
		sk_error(err, ENODEV, "device \"%s\": the host's \"%s\" is not %s %u:%u", n->path, host,
			 n->type == S_IFBLK ? "b" : "c", major(n->rdev), minor(n->rdev));
		goto out;
	}
	int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f < 0) {
		/* Already there: left alone, like a node mknod finds. */
		if (errno == EEXIST)
			rc = 0;
		else
			sk_error(err, errno, "device \"%s\": create", n->path);
		goto out;
	}
	close(f);
	tfd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0) {
		sk_error(err, errno, "device \"%s\": open", n->path);
		goto out;
	}
	if (mount(sk_fd_path(hp, hfd), sk_fd_path(tp, tfd), NULL, MS_BIND, NULL) < 0) {
		sk_error(err, errno, "device \"%s\": bind the host's node", n->path);
		goto out;
	}
	rc = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (hfd >= 0)
		close(hfd);
	return rc;
}

static int make_node(int rootfd, const struct node *n, bool userns, struct sk_err *err)
{
	char buf[PATH_MAX];
	if (sk_path_clean(buf, sizeof(buf), n->path, err) < 0)
		return sk_error_wrap(err, "device");
	char *slash = strrchr(buf, '/');
	if (!slash[1])
		return sk_error(err, EINVAL, "device \"%s\": not a file path", n->path);
	char name[NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", slash + 1);
	char host[PATH_MAX];
	memcpy(host, buf, strlen(buf) + 1);
	/* The parent: "/dev" from "/dev/null", "/" from "/null". */
	slash[slash == buf ? 1 : 0] = '\0';

	int pfd;
	if (sk_inroot_resolve(rootfd, buf, SK_CREATE_DIR, &pfd, err) < 0)
		return sk_error_wrap(err, "device \"%s\"", n->path);
	int rc = 0;
	/* mknod of a device is refused in a user namespace; a FIFO is not. */
	if (userns && n->type != S_IFIFO) {
		rc = bind_host_node(pfd, name, host, n, err);
	} else if (mknodat(pfd, name, n->type | n->perm, n->rdev) < 0) {
		if (errno != EEXIST)
			rc = sk_error(err, errno, "device \"%s\": mknod", n->path);
	} else if (fchownat(pfd, name, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = sk_error(err, errno, "device \"%s\": chown %u:%u", n->path, n->uid, n->gid);
	}
	close(pfd);
	return rc;
}

/* Whether linux.devices has path, which then replaces the default. */
static bool configured(const struct sk_spec *s, const char *path)
{
	char buf[PATH_MAX];
	for (size_t i = 0; s->has_linux && i < s->linux_.n_devices; i++)
		if (sk_path_clean(buf, sizeof(buf), s->linux_.devices[i].path, NULL) == 0 && !strcmp(buf, path))
			return true;
	return false;
}

static int make_link(int devfd, const char *target, const char *name, struct sk_err *err)
{
	if (symlinkat(target, devfd, name) < 0 && errno != EEXIST)
		return sk_error(err, errno, "symlink \"/dev/%s\" -> \"%s\"", name, target);
	return 0;
}

int sk_dev_setup(int rootfd, const struct sk_spec *spec, bool userns, bool devpts, struct sk_err *err)
{
	const struct sk_spec *s = spec;
	int devfd;
	if (sk_inroot_resolve(rootfd, "/dev", SK_CREATE_DIR, &devfd, err) < 0)
		return -1;
	int rc = -1;
	for (size_t i = 0; i < sizeof(default_links) / sizeof(default_links[0]); i++)
		if (make_link(devfd, default_links[i].target, default_links[i].name, err) < 0)
			goto out;
	if (access("/proc/kcore", F_OK) == 0 && make_link(devfd, "/proc/kcore", "core", err) < 0)
		goto out;
	if ((mkdirat(devfd, "pts", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(devfd, "shm", 01777) < 0 && errno != EEXIST)) {
		sk_error(err, errno, "mkdir in \"/dev\"");
		goto out;
	}

	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		if (configured(s, default_devices[i].path))
			continue;
		struct node n = {
			.path = default_devices[i].path, .type = S_IFCHR, .perm = 0666,
			.rdev = makedev(default_devices[i].major, default_devices[i].minor),
		};
		if (make_node(rootfd, &n, userns, err) < 0)
			goto out;
	}
	for (size_t i = 0; s->has_linux && i < s->linux_.n_devices; i++) {
		const struct sk_device *d = &s->linux_.devices[i];
		struct node n = {
			.path = d->path,
			.type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR,
			.rdev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor),
			.perm = d->has_file_mode ? (d->file_mode & 07777) : 0666,
			.uid = d->has_uid ? d->uid : 0,
			.gid = d->has_gid ? d->gid : 0,
		};
		if (make_node(rootfd, &n, userns, err) < 0) {
			sk_error_wrap(err, "linux.devices[%zu]", i);
			goto out;
		}
	}
	if (devpts && make_link(devfd, "pts/ptmx", "ptmx", err) < 0)
		goto out;
	rc = 0;
out:
	close(devfd);
	return rc;
}
