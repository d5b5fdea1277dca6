/* rootfs: the child side of the mount plan, pivot_root and the finishing
 * touches (masked and read-only paths).  See rootfs.h.  Nothing here
 * allocates: it runs in the container's init after the clone; the two
 * *_shared() functions at the end, for containers without a mount
 * namespace, are the runtime's. */
#include "skiff/plan/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/plan/copyup.h"
#include "skiff/plan/dev.h"
#include "skiff/plan/hostfs.h"
#include "skiff/base/util.h"
#include "skiff/plan/inroot.h"


static int mnt_id(int fd, uint64_t *id)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0)
		return -1;
	*id = sx.stx_mnt_id;
	return 0;
}

/* An fd of what was just mounted on below (an fd of the covered target):
 * the path is opened again, and must now land on another mount. */
static int reopen_top(int rootfd, const char *path, int below, int *top, struct sk_err *err)
{
	uint64_t a, b;
	if (sk_inroot_resolve(rootfd, path, SK_CREATE_NONE, top, err) < 0)
		return -1;
	if (mnt_id(below, &a) < 0 || mnt_id(*top, &b) < 0) {
		int e = errno;
		close(*top);
		*top = -1;
		return sk_error(err, e, "statx \"%s\"", path);
	}
	if (a == b) {
		close(*top);
		*top = -1;
		return sk_error(err, ESTALE, "\"%s\" is not the new mount after mounting", path);
	}
	return 0;
}

/* Flags of fd's mount that a remount must keep: in a user namespace they
 * are locked when they came from a more privileged one. */
static int locked_flags(int fd, unsigned long *out, struct sk_err *err)
{
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return sk_error(err, errno, "statvfs");
	*out = 0;
	if (sv.f_flag & ST_RDONLY)
		*out |= MS_RDONLY;
	if (sv.f_flag & ST_NOSUID)
		*out |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		*out |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		*out |= MS_NOEXEC;
	return 0;
}

/* ---- one plan step ---------------------------------------------------------------- */

/* The init's cgroup directory on the host's cgroup2 mount, for binding
 * when there is no cgroup namespace. */
static int cgroup_dir(const struct sk_mount_plan *plan, char *out, size_t cap, struct sk_err *err)
{
	if (!plan->cgroup2_mount)
		return sk_error(err, ENOENT, "no cgroup2 mount found on the host");
	char text[4096];
	if (sk_read_small_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text), err) < 0)
		return -1;
	const char *p = text;
	while (p && strncmp(p, "0::", 3)) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return sk_error(err, ENOENT, "no cgroup2 entry in /proc/self/cgroup");
	p += 3;
	int n = snprintf(out, cap, "%s%.*s", plan->cgroup2_mount, (int)strcspn(p, "\n"), p);
	if (n < 0 || (size_t)n >= cap)
		return sk_error(err, ENAMETOOLONG, "cgroup path");
	return 0;
}

/* Paths of procfs that may be mounted over (lxcfs-style), besides /proc. */
static const char *const proc_ok[] = {
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
	"/proc/sys/kernel/ns_last_pid",
};

/* Refuse a target inside procfs (reached by path or a symlink), where a
 * mount could hide /proc/self/attr or similar from the runtime. */
static int check_proc(const struct sk_rootfs_ctx *c, int fd, const struct sk_mount_step *st, struct sk_err *err)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return sk_error(err, errno, "mounts[%zu]: statfs \"%s\"", st->index, st->destination);
	if (sf.f_type != PROC_SUPER_MAGIC)
		return 0;
	char fdp[32], where[PATH_MAX];
	ssize_t n = readlink(sk_fd_path(fdp, fd), where, sizeof(where) - 1);
	if (n < 0)
		return sk_error(err, errno, "mounts[%zu]: readlink \"%s\"", st->index, fdp);
	where[n] = '\0';
	size_t rl = strlen(c->rootfs);
	const char *rel = where + rl;
	if (!strncmp(where, c->rootfs, rl) && *rel == '/') {
		if (!strcmp(rel, "/proc"))
			return 0;
		for (size_t i = 0; i < sizeof(proc_ok) / sizeof(proc_ok[0]); i++)
			if (!strcmp(rel, proc_ok[i]))
				return 0;
	}
	return sk_error(err, EPERM, "mounts[%zu]: destination \"%s\" is \"%s\" in procfs: refused", st->index,
			st->destination, where);
}

/* Bind src onto fd, then remount with the step's other flags (keeping the
 * locked ones in a user namespace).  *top gets the new mount when asked
 * for or needed. */
static int bind_onto(int rootfd, const struct sk_rootfs_ctx *c, const struct sk_mount_step *st, int fd,
		     const char *src, unsigned long flags, bool want_top, int *top, struct sk_err *err)
{
	char fdp[32];
	if (mount(src, sk_fd_path(fdp, fd), NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
		return sk_error(err, errno, "mounts[%zu]: bind \"%s\" on \"%s\"", st->index, src, st->destination);
	unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC);
	if (!extra && !want_top)
		return 0;
	if (reopen_top(rootfd, st->destination, fd, top, err) < 0)
		return sk_error_wrap(err, "mounts[%zu]", st->index);
	if (!extra)
		return 0;
	unsigned long keep = 0;
	if (c->userns && locked_flags(*top, &keep, err) < 0)
		return sk_error_wrap(err, "mounts[%zu]: \"%s\"", st->index, st->destination);
	if (mount(NULL, sk_fd_path(fdp, *top), NULL, MS_REMOUNT | MS_BIND | extra | keep, NULL) < 0)
		return sk_error(err, errno, "mounts[%zu]: remount the bind mount on \"%s\"", st->index,
				st->destination);
	return 0;
}

/* fs data without its gid= option, for devpts in a user namespace where
 * the group (tty, 5) is not mapped. */
static void strip_gid(const char *data, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = data; *p;) {
		size_t n = strcspn(p, ",");
		if (strncmp(p, "gid=", 4) && o + n + 2 <= cap) {
			if (o)
				out[o++] = ',';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		if (*p)
			p++;
	}
	out[o] = '\0';
}

/* On a host with v1 hierarchies, the cgroup mount is runc's layout: a
 * tmpfs (dir, mounted by the caller) with a directory per hierarchy, named
 * as its host mount point ("cpu,cpuacct", with a symlink per controller),
 * holding the hierarchy mounted again in the container's cgroup namespace,
 * or without one a bind of the init's own cgroup there. */
static int cgroup_v1(int rootfd, const struct sk_rootfs_ctx *c, const struct sk_mount_step *st, int dir,
		     struct sk_err *err)
{
	unsigned long flags = (st->flags & ~(unsigned long)(MS_BIND | MS_REC)) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	for (size_t i = 0; i < c->plan->n_cg1; i++) {
		const struct sk_cgroup_v1_mount *m = &c->plan->cg1[i];
		const char *base = strrchr(m->mount, '/');
		base = base && base[1] ? base + 1 : m->name;
		if (!strcmp(base, ".") || !strcmp(base, ".."))
			base = m->name;
		if (mkdirat(dir, base, 0755) < 0)
			return sk_error(err, errno, "mounts[%zu]: mkdir \"%s/%s\"", st->index, st->destination, base);
		int fd = openat(dir, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return sk_error(err, errno, "mounts[%zu]: open \"%s/%s\"", st->index, st->destination, base);
		char fdp[32], own[PATH_MAX], where[PATH_MAX];
		int r = 0;
		if (c->new_cgroupns) {
			if (mount("cgroup", sk_fd_path(fdp, fd), "cgroup", flags, m->name) < 0)
				r = sk_error(err, errno, "mounts[%zu]: mount cgroup \"%s\" on \"%s/%s\"", st->index,
					     m->name, st->destination, base);
		} else if (sk_cgroup_v1_own_path(m, own, sizeof(own), err) < 0) {
			r = sk_error_wrap(err, "mounts[%zu]", st->index);
		} else if ((size_t)snprintf(where, sizeof(where), "%s/%s", st->destination, base) >= sizeof(where)) {
			r = sk_error(err, ENAMETOOLONG, "mounts[%zu]: \"%s\"", st->index, st->destination);
		} else {
			/* The step, at the hierarchy's directory. */
			struct sk_mount_step sub = *st;
			sub.destination = where;
			int top = -1;
			r = bind_onto(rootfd, c, &sub, fd, own, flags | MS_BIND | MS_REC, false, &top, err);
			if (top >= 0)
				close(top);
		}
		close(fd);
		if (r < 0)
			return -1;
		for (const char *p = strchr(base, ',') ? base : ""; *p;) {
			char one[48];
			size_t len = strcspn(p, ",");
			snprintf(one, sizeof(one), "%.*s", (int)len, p);
			if (symlinkat(base, dir, one) < 0 && errno != EEXIST)
				return sk_error(err, errno, "mounts[%zu]: symlink \"%s/%s\"", st->index, st->destination, one);
			p += len + (p[len] == ',');
		}
	}
	if ((st->flags & MS_RDONLY) &&
	    mount(NULL, sk_fd_path((char[32]){ 0 }, dir), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return sk_error(err, errno, "mounts[%zu]: remount the tmpfs on \"%s\" read-only", st->index,
				st->destination);
	return 0;
}

/* runc's rule for proc and sysfs: an existing destination must be an
 * ordinary directory, not a symlink (to somewhere a mount would hide or
 * expose more than meant) nor anything else. */
static int check_ordinary_dir(int rootfd, const struct sk_mount_step *st, struct sk_err *err)
{
	char path[PATH_MAX];
	if (sk_path_clean(path, sizeof(path), st->destination, err) < 0)
		return sk_error_wrap(err, "mounts[%zu]", st->index);
	char *slash = strrchr(path, '/');
	if (!slash[1])
		return 0;   /* "/" itself */
	*slash = '\0';
	int dir;
	if (sk_inroot_resolve(rootfd, path[0] ? path : "/", SK_CREATE_NONE, &dir, err) < 0) {
		/* A missing parent is made, with the directory, by the mount. */
		return err->errnum == ENOENT ? 0 : sk_error_wrap(err, "mounts[%zu]", st->index);
	}
	struct stat sb;
	int r = fstatat(dir, slash + 1, &sb, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(dir);
	if (r < 0)
		return e == ENOENT ? 0 : sk_error(err, e, "mounts[%zu]: stat \"%s\"", st->index, st->destination);
	if (!S_ISDIR(sb.st_mode))
		return sk_error(err, ENOTDIR, "mounts[%zu]: filesystem \"%s\" must be mounted on ordinary directory (\"%s\" is %s)",
				st->index, st->type, st->destination, S_ISLNK(sb.st_mode) ? "a symlink" : "not a directory");
	return 0;
}

static int do_step(int rootfd, const struct sk_rootfs_ctx *c, const struct sk_mount_step *st, struct sk_err *err)
{
	if ((st->kind == SK_MOUNT_SYSFS || (st->kind == SK_MOUNT_GENERIC && st->type && !strcmp(st->type, "proc"))) &&
	    check_ordinary_dir(rootfd, st, err) < 0)
		return -1;
	char fdp[32], cgdir[PATH_MAX];
	bool bind = st->kind == SK_MOUNT_BIND;
	bool cg1 = st->kind == SK_MOUNT_CGROUP && c->plan->n_cg1;
	const char *src = cg1 ? "tmpfs" : st->source;
	if (st->kind == SK_MOUNT_CGROUP && !cg1 && !c->new_cgroupns) {
		if (cgroup_dir(c->plan, cgdir, sizeof(cgdir), err) < 0)
			return sk_error_wrap(err, "mounts[%zu]: cgroup on \"%s\"", st->index, st->destination);
		bind = true;
		src = cgdir;
	}

	enum sk_inroot_create create = SK_CREATE_DIR;
	if (bind) {
		struct stat sb;
		if ((st->tree_fd >= 0 ? fstat(st->tree_fd, &sb) : stat(src, &sb)) < 0)
			return sk_error(err, errno, "mounts[%zu]: source \"%s\"", st->index, src);
		if (!S_ISDIR(sb.st_mode))
			create = SK_CREATE_FILE;
	}
	int fd, top = -1, old = -1, rc = -1;
	if (sk_inroot_resolve(rootfd, st->destination, create, &fd, err) < 0)
		return sk_error_wrap(err, "mounts[%zu]", st->index);
	if (check_proc(c, fd, st, err) < 0)
		goto out;

	bool post = cg1 || st->n_propagation || st->attr_set || st->attr_clr || st->copyup;
	/* A tree the parent cloned on the host: idmapped, or a bind whose
	 * source this user namespace may not reach. */
	if (st->tree_fd >= 0) {
		if (move_mount(st->tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
			sk_error(err, errno, "mounts[%zu]: move the %s \"%s\" onto \"%s\"", st->index,
				 st->idmap ? "idmapped" : "bind of", src, st->destination);
			goto out;
		}
		/* The tree fd now names the attached mount. */
		top = st->tree_fd;
		unsigned long extra = st->flags & ~(unsigned long)(MS_BIND | MS_REC), keep = 0;
		if (extra && c->userns && locked_flags(top, &keep, err) < 0)
			goto out;
		if (extra && mount(NULL, sk_fd_path(fdp, top), NULL, MS_REMOUNT | MS_BIND | extra | keep, NULL) < 0) {
			sk_error(err, errno, "mounts[%zu]: remount the bind mount on \"%s\"", st->index,
				 st->destination);
			goto out;
		}
	} else if (bind) {
		if (bind_onto(rootfd, c, st, fd, src, st->flags, post, &top, err) < 0)
			goto out;
	} else {
		if (st->copyup) {
			old = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (old < 0) {
				sk_error(err, errno, "mounts[%zu]: tmpcopyup: open \"%s\"", st->index, st->destination);
				goto out;
			}
		}
		const char *type = cg1 ? "tmpfs" : st->kind == SK_MOUNT_CGROUP ? "cgroup2" : st->type;
		char *odata = st->data;
		int *layers = NULL;
		size_t n_layers = 0;
		if (st->overlay_bundle && sk_mount_overlay_data(st, &odata, &layers, &n_layers, err) < 0)
			goto out;
		/* The v1 layout's tmpfs is made read-only once filled. */
		unsigned long mflags = cg1 ? (st->flags & ~(unsigned long)MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC
					   : st->flags;
		int r = mount(src, sk_fd_path(fdp, fd), type, mflags, cg1 ? "mode=755" : odata);
		int e = errno;
		if (odata != st->data) {
			for (size_t i = 0; i < n_layers; i++)
				close(layers[i]);
			free(layers);
			free(odata);
		}
		if (r < 0 && st->kind == SK_MOUNT_DEVPTS && e == EINVAL && c->userns && st->data &&
		    strstr(st->data, "gid=")) {
			char data[4096];
			strip_gid(st->data, data, sizeof(data));
			r = mount(src, fdp, type, st->flags, data);
			e = errno;
		}
		if (r < 0 && st->kind == SK_MOUNT_SYSFS && e == EPERM && !c->new_netns) {
			/* sysfs belongs to the network namespace: without one of
			 * our own, take the host's view read as configured. */
			if (bind_onto(rootfd, c, st, fd, "/sys", st->flags | MS_BIND | MS_REC, post, &top, err) < 0)
				goto out;
		} else if (r < 0 && st->kind == SK_MOUNT_CGROUP && !cg1 && (e == EPERM || e == EBUSY)) {
			if (cgroup_dir(c->plan, cgdir, sizeof(cgdir), err) < 0) {
				sk_error_wrap(err, "mounts[%zu]: cgroup on \"%s\"", st->index, st->destination);
				goto out;
			}
			if (bind_onto(rootfd, c, st, fd, cgdir, st->flags | MS_BIND | MS_REC, post, &top, err) < 0)
				goto out;
		} else if (r < 0) {
			sk_error(err, e, "mounts[%zu]: mount \"%s\" on \"%s\"", st->index, type, st->destination);
			goto out;
		} else if (post && reopen_top(rootfd, st->destination, fd, &top, err) < 0) {
			sk_error_wrap(err, "mounts[%zu]", st->index);
			goto out;
		}
	}

	if (cg1 && cgroup_v1(rootfd, c, st, top, err) < 0)
		goto out;
	if (st->copyup && sk_copyup(old, top, st->data, err) < 0) {
		sk_error_wrap(err, "mounts[%zu]: tmpcopyup on \"%s\"", st->index, st->destination);
		goto out;
	}
	for (size_t k = 0; k < st->n_propagation; k++) {
		if (mount(NULL, sk_fd_path(fdp, top), NULL, st->propagation[k], NULL) < 0) {
			sk_error(err, errno, "mounts[%zu]: set the propagation of \"%s\"", st->index, st->destination);
			goto out;
		}
	}
	if (st->attr_set || st->attr_clr) {
		struct mount_attr a = { .attr_set = st->attr_set, .attr_clr = st->attr_clr };
		if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0) {
			sk_error(err, errno, "mounts[%zu]: set recursive attributes on \"%s\"", st->index,
				 st->destination);
			goto out;
		}
	}
	rc = 0;
out:
	/* The tree fd is the plan's; the caller closes it. */
	if (top >= 0 && top != st->tree_fd)
		close(top);
	if (old >= 0)
		close(old);
	close(fd);
	return rc;
}

/* ---- setup, pivot, finalize ---------------------------------------------------------- */

/* Make the mount holding rootfs private, so its self-bind does not join a
 * shared peer group (pivot_root refuses shared mounts). */
static int parent_mount_private(const char *rootfs, struct sk_err *err)
{
	char fdp[32];
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open rootfs \"%s\"", rootfs);
	for (;;) {
		if (mount(NULL, sk_fd_path(fdp, fd), NULL, MS_PRIVATE, NULL) == 0)
			break;
		/* EINVAL: not a mount point; go up. */
		struct stat a, b;
		int up = errno == EINVAL ? openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (up < 0 || fstat(fd, &a) < 0 || fstat(up, &b) < 0 || (a.st_dev == b.st_dev && a.st_ino == b.st_ino)) {
			int e = errno;
			if (up >= 0)
				close(up);
			close(fd);
			return sk_error(err, e, "make the mount of the rootfs \"%s\" private", rootfs);
		}
		close(fd);
		fd = up;
	}
	close(fd);
	return 0;
}

/* Bind the rootfs onto itself (pivot_root wants a mount point) and open
 * the new mount. */
static int bind_rootfs(const char *rootfs, int *rootfd, struct sk_err *err)
{
	char fdp[32];
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open rootfs \"%s\"", rootfs);
	sk_fd_path(fdp, fd);
	if (mount(fdp, fdp, NULL, MS_BIND | MS_REC, NULL) < 0) {
		int e = errno;
		close(fd);
		return sk_error(err, e, "bind the rootfs \"%s\" onto itself", rootfs);
	}
	int nfd = open(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat a, b;
	uint64_t ma, mb;
	int bad = nfd < 0 || fstat(fd, &a) < 0 || fstat(nfd, &b) < 0 || mnt_id(fd, &ma) < 0 || mnt_id(nfd, &mb) < 0;
	int e = bad ? errno : ESTALE;
	close(fd);
	if (bad || a.st_dev != b.st_dev || a.st_ino != b.st_ino || ma == mb) {
		if (nfd >= 0)
			close(nfd);
		return sk_error(err, e, "reopen the rootfs \"%s\" after binding it", rootfs);
	}
	*rootfd = nfd;
	return 0;
}

int sk_rootfs_open(const struct sk_rootfs_ctx *c, int *rootfd, struct sk_err *err)
{
	/* Sharing the runtime's mount namespace, "/" is the host's: leave it. */
	if (c->shared_mntns) {
		*rootfd = c->shared_rootfd;
		return 0;
	}
	const struct sk_mount_plan *plan = c->plan;
	unsigned long prop = plan->has_root_propagation ? plan->root_propagation : MS_SLAVE | MS_REC;
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return sk_error(err, errno, "set the propagation of \"/\"");
	/* rslave and rprivate leave no shared mount; anything else may. */
	if (!((prop & MS_REC) && (prop & (MS_SLAVE | MS_PRIVATE))) && parent_mount_private(c->rootfs, err) < 0)
		return -1;
	return bind_rootfs(c->rootfs, rootfd, err);
}

int sk_rootfs_mount(int rootfd, const struct sk_rootfs_ctx *c, const struct sk_mount_step *st, struct sk_err *err)
{
	mode_t old = umask(0);
	int r = do_step(rootfd, c, st, err);
	umask(old);
	if (st->tree_fd >= 0)
		close(st->tree_fd);
	return r;
}

int sk_rootfs_devices(int rootfd, const struct sk_rootfs_ctx *c, struct sk_err *err)
{
	mode_t old = umask(0);
	int r = sk_dev_setup(rootfd, c->spec, c->userns, c->plan->has_devpts, err);
	umask(old);
	return r;
}

int sk_rootfs_pivot(const char *rootfs, bool no_pivot, struct sk_err *err)
{
	int newroot = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), oldroot = -1, rc = -1;
	if (newroot < 0)
		return sk_error(err, errno, "open rootfs \"%s\"", rootfs);
	if (fchdir(newroot) < 0) {
		sk_error(err, errno, "chdir to the rootfs \"%s\"", rootfs);
		goto out;
	}
	if (no_pivot) {
		if (sk_hostfs_hide(rootfs, err) < 0)
			goto out;
		/* "." is the rootfs mount itself: "." does not cross mounts. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) {
			sk_error(err, errno, "move the rootfs \"%s\" onto \"/\"", rootfs);
			goto out;
		}
		if (chroot(".") < 0) {
			sk_error(err, errno, "chroot to the rootfs \"%s\"", rootfs);
			goto out;
		}
	} else {
		oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0) {
			sk_error(err, errno, "open \"/\"");
			goto out;
		}
		/* The old root is stacked on the new one; oldroot names it, so
		 * it can be detached without a directory to put it in. */
		if (syscall(SYS_pivot_root, ".", ".") < 0) {
			sk_error(err, errno, "pivot_root to \"%s\"", rootfs);
			goto out;
		}
		if (fchdir(oldroot) < 0) {
			sk_error(err, errno, "chdir to the old root");
			goto out;
		}
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			sk_error(err, errno, "make the old root rslave");
			goto out;
		}
		if (umount2(".", MNT_DETACH) < 0) {
			sk_error(err, errno, "unmount the old root");
			goto out;
		}
	}
	if (chdir("/") < 0) {
		sk_error(err, errno, "chdir to \"/\"");
		goto out;
	}
	rc = 0;
out:
	if (oldroot >= 0)
		close(oldroot);
	close(newroot);
	return rc;
}

int sk_rootfs_chroot(int rootfd, struct sk_err *err)
{
	if (fchdir(rootfd) < 0)
		return sk_error(err, errno, "chdir to the rootfs");
	if (chroot(".") < 0)
		return sk_error(err, errno, "chroot to the rootfs");
	if (chdir("/") < 0)
		return sk_error(err, errno, "chdir to \"/\"");
	return 0;
}

int sk_rootfs_readonly(int rootfd, const char *path, struct sk_err *err)
{
	char fdp[32];
	int fd = sk_inroot_open(rootfd, path, O_PATH), top = -1, rc = -1;
	if (fd < 0)
		return errno == ENOENT ? 0 : sk_error(err, errno, "readonly path \"%s\"", path);
	sk_fd_path(fdp, fd);
	if (mount(fdp, fdp, NULL, MS_BIND | MS_REC, NULL) < 0) {
		sk_error(err, errno, "readonly path \"%s\": bind", path);
		goto out;
	}
	unsigned long keep;
	if (reopen_top(rootfd, path, fd, &top, err) < 0 || locked_flags(top, &keep, err) < 0) {
		sk_error_wrap(err, "readonly path \"%s\"", path);
		goto out;
	}
	if (mount(NULL, sk_fd_path(fdp, top), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0) {
		sk_error(err, errno, "readonly path \"%s\": remount read-only", path);
		goto out;
	}
	rc = 0;
out:
	if (top >= 0)
		close(top);
	close(fd);
	return rc;
}

int sk_rootfs_mask(int rootfd, const char *path, struct sk_mask_fds *m, struct sk_err *err)
{
	char fdp[32], nullp[32];
	int *nullfd = &m->null;
	int fd = sk_inroot_open(rootfd, path, O_PATH), rc = -1;
	if (fd < 0)
		return errno == ENOENT ? 0 : sk_error(err, errno, "masked path \"%s\"", path);
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		sk_error(err, errno, "masked path \"%s\"", path);
		goto out;
	}
	if (S_ISDIR(sb.st_mode) && m->dir >= 0) {
		/* A bind keeps the source mount's read-only flag. */
		if (mount(sk_fd_path(nullp, m->dir), sk_fd_path(fdp, fd), NULL, MS_BIND, NULL) < 0) {
			sk_error(err, errno, "masked path \"%s\": bind the masking tmpfs", path);
			goto out;
		}
	} else if (S_ISDIR(sb.st_mode)) {
		if (mount("tmpfs", sk_fd_path(fdp, fd), "tmpfs", MS_RDONLY, NULL) < 0) {
			sk_error(err, errno, "masked path \"%s\": mount a read-only tmpfs", path);
			goto out;
		}
		/* fd is the directory under it: look the path up again. */
		m->dir = sk_inroot_open(rootfd, path, O_PATH | O_DIRECTORY);
		if (m->dir < 0) {
			sk_error(err, errno, "masked path \"%s\": open the tmpfs", path);
			goto out;
		}
	} else {
		if (*nullfd < 0) {
			/* The container's /dev/null, which must be the real one. */
			struct stat nb;
			*nullfd = sk_inroot_open(rootfd, "/dev/null", O_PATH);
			if (*nullfd < 0 || fstat(*nullfd, &nb) < 0) {
				sk_error(err, errno, "masked path \"%s\": open /dev/null", path);
				goto out;
			}
			if (!S_ISCHR(nb.st_mode) || nb.st_rdev != makedev(1, 3)) {
				sk_error(err, 0, "masked path \"%s\": /dev/null is not the null device", path);
				goto out;
			}
		}
		if (mount(sk_fd_path(nullp, *nullfd), sk_fd_path(fdp, fd), NULL, MS_BIND, NULL) < 0) {
			sk_error(err, errno, "masked path \"%s\": bind /dev/null", path);
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int sk_rootfs_dev_readonly(int rootfd, bool console, struct sk_err *err)
{
	char fdp[32];
	int fd = sk_inroot_open(rootfd, "/dev", O_PATH), rc = -1;
	if (fd < 0)
		return sk_error(err, errno, "read-only /dev: open \"/dev\"");
	unsigned long keep;
	if (console && mknodat(fd, "console", S_IFREG | 0666, 0) < 0 && errno != EEXIST)
		sk_error(err, errno, "read-only /dev: create \"/dev/console\"");
	else if (locked_flags(fd, &keep, err) < 0)
		sk_error_wrap(err, "read-only /dev");
	else if (mount(NULL, sk_fd_path(fdp, fd), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		sk_error(err, errno, "read-only /dev: remount \"/dev\" read-only");
	else
		rc = 0;
	close(fd);
	return rc;
}

int sk_rootfs_root_readonly(int rootfd, struct sk_err *err)
{
	unsigned long keep;
	if (locked_flags(rootfd, &keep, err) < 0)
		return sk_error_wrap(err, "root.readonly: \"/\"");
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
		return sk_error(err, errno, "root.readonly: remount \"/\" read-only");
	return 0;
}

int sk_rootfs_root_propagation(const struct sk_mount_plan *plan, struct sk_err *err)
{
	if (mount(NULL, "/", NULL, plan->root_propagation, NULL) < 0)
		return sk_error(err, errno, "linux.rootfsPropagation: set the propagation of \"/\"");
	return 0;
}

/* ---- no mount namespace: the runtime's side ------------------------------------------- */

int sk_rootfs_bind_shared(const char *rootfs, int *fd, struct sk_rootfs_ids *ids, struct sk_err *err)
{
	int below = open(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (below < 0)
		return sk_error(err, errno, "open rootfs \"%s\"", rootfs);
	int r = mnt_id(below, &ids->base);
	if (r < 0) {
		sk_error(err, errno, "statx rootfs \"%s\"", rootfs);
		close(below);
		return -1;
	}
	/* Detached: until it is attached, a runtime killed here leaves nothing
	 * (the mount goes with its last fd), and its id is already known. */
	*fd = open_tree(below, "", AT_EMPTY_PATH | AT_RECURSIVE | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int e = errno;
	close(below);
	if (*fd < 0)
		return sk_error(err, e, "bind the rootfs \"%s\"", rootfs);
	if (mnt_id(*fd, &ids->bind) < 0) {
		sk_error(err, errno, "statx the bind of the rootfs \"%s\"", rootfs);
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int sk_rootfs_attach_shared(const char *rootfs, int fd, struct sk_err *err)
{
	char fdp[32];
	if (move_mount(fd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sk_error(err, errno, "bind the rootfs \"%s\" onto itself", rootfs);
	/* Attached under a shared mount it is shared too: private before
	 * anything is mounted under it, so that what the init mounts there
	 * stays in this one mount tree. */
	if (mount(NULL, sk_fd_path(fdp, fd), NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return sk_error(err, errno, "make the bind of the rootfs \"%s\" private", rootfs);
	return 0;
}

int sk_rootfs_unbind_shared(const char *rootfs, const struct sk_rootfs_ids *ids, struct sk_err *err)
{
	for (int i = 0; i < 16; i++) {
		int fd = open(rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : sk_error(err, errno, "open rootfs \"%s\"", rootfs);
		uint64_t top = 0;
		char fdp[32];
		bool none = false;
		int r = mnt_id(fd, &top) < 0 ? sk_error(err, errno, "statx rootfs \"%s\"", rootfs) : 0;
		if (r == 0 && top != ids->base && umount2(sk_fd_path(fdp, fd), MNT_DETACH) < 0) {
			/* EINVAL: not a mount root, so nothing is mounted there. */
			none = errno == EINVAL;
			if (!none)
				r = sk_error(err, errno, "unmount the rootfs \"%s\"", rootfs);
		}
		close(fd);
		if (r < 0 || none || top == ids->base || top == ids->bind)
			return r;
	}
	return sk_error(err, ELOOP, "unmount the rootfs \"%s\": too many mounts on it", rootfs);
}
