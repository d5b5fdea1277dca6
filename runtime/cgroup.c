/* cgroup: placement, lifecycle and statistics of the container's cgroup. */
#include "skiff/cgroup.h"
#include "skiff/log.h"
#include "skiff/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define DESTROY_WAIT_MS 2000
#define KILL_WAIT_MS 1000
#define FREEZE_WAIT_MS 10000
/* Walks that keep a directory open per level (pids, the kill fallback)
 * stop here rather than run out of fds on a hostile tree. */
#define MAX_WALK_DEPTH 32

/* ---- small helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listing of the directory at fd from its start: an fd of its own, as a
 * dup() would share (and leave at the end) the offset of fd. */
static DIR *opendir_at(int fd)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	return d;
}

/* Find a sub-cgroup of fd: its name into name, 1; 0 when none; -1. */
static int first_subdir(int fd, char *name, size_t size)
{
	DIR *d = opendir_at(fd);
	if (!d)
		return -1;
	int found = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(name, size, "%s", e->d_name);
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

/* The whole of a file of unknown size, NUL-terminated and malloc()ed.
 * Errors name dir/name (name alone when dir is NULL). */
static int read_all(int dir_fd, const char *dir, const char *name, char **out, size_t *len, struct sk_err *err)
{
	const char *sep = dir ? "/" : "";
	dir = dir ? dir : "";
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s%s%s\"", dir, sep, name);
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			return sk_error(err, ENOMEM, "read \"%s%s%s\"", dir, sep, name);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return sk_error(err, e, "read \"%s%s%s\"", dir, sep, name);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* The value of "key N" in a flat keyed file's text, or -1 when absent. */
static int64_t keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

/* cgroup.events of the cgroup at dir_fd: populated and frozen (-1 when
 * unreadable). */
static int events(int dir_fd, int *populated, int *frozen)
{
	char buf[128];
	int fd = openat(dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	if (populated)
		*populated = (int)keyed(buf, "populated");
	if (frozen)
		*frozen = (int)keyed(buf, "frozen");
	return 0;
}

/* Wait until cgroup.events has `key` equal to want, or the deadline.
 * cgroup.events signals every change with POLLPRI.  Returns 1 when reached,
 * 0 on timeout, -1 when the file cannot be read. */
static int wait_event(int dir_fd, const char *key, int want, int64_t deadline)
{
	int fd = openat(dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = -1;
	for (;;) {
		char buf[128];
		ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
		if (r < 0)
			break;
		buf[r] = '\0';
		if (keyed(buf, key) == want) {
			rc = 1;
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			rc = 0;
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLPRI };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
	}
	close(fd);
	return rc;
}

/* ---- the mount and our own cgroup ------------------------------------------- */

static char *mount_point;   /* cached for the process */
static char *mount_root;    /* the hierarchy path mounted there ("/" usually) */

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

int sk_cgroup_mount_find(const char **mount, struct sk_err *err)
{
	if (mount_point) {
		*mount = mount_point;
		return 0;
	}
	char *text;
	if (read_all(AT_FDCWD, NULL, "/proc/self/mountinfo", &text, NULL, err))
		return -1;
	char *best = NULL, *best_root = NULL;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* id parent maj:min root mountpoint opts [optional...] - fstype ... */
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		char *f[5], *save = NULL, *p = line;
		int nf = 0;
		*sep = '\0';
		while (nf < 5 && (f[nf] = strtok_r(p, " ", &save)))
			nf++, p = NULL;
		if (nf < 5)
			continue;
		if (!best || (strcmp(best_root, "/") && !strcmp(f[3], "/"))) {
			best = f[4];
			best_root = f[3];
		}
	}
	if (!best) {
		free(text);
		return sk_error(err, 0, "cgroup: no cgroup2 filesystem is mounted (none in /proc/self/mountinfo)");
	}
	unescape(best);
	unescape(best_root);
	mount_point = strdup(best);
	mount_root = strdup(best_root);
	free(text);
	if (!mount_point || !mount_root) {
		free(mount_point);
		free(mount_root);
		mount_point = mount_root = NULL;
		return sk_error(err, ENOMEM, "cgroup mount");
	}
	*mount = mount_point;
	return 0;
}

/* Our own cgroup ("0::" of /proc/self/cgroup) relative to the mount. */
static int own_cgroup(char **own, struct sk_err *err)
{
	char *text;
	if (read_all(AT_FDCWD, NULL, "/proc/self/cgroup", &text, NULL, err))
		return -1;
	char *p = strstr(text, "0::");
	if (p && p != text && p[-1] != '\n')
		p = NULL;
	if (!p) {
		free(text);
		return sk_error(err, 0, "cgroup: no cgroup v2 line (\"0::\") in /proc/self/cgroup");
	}
	p += 3;
	p[strcspn(p, "\n")] = '\0';
	/* The mount may show a subtree: our path must be inside it. */
	size_t rl = strcmp(mount_root, "/") ? strlen(mount_root) : 0;
	if (strncmp(p, mount_root, rl) || (p[rl] != '/' && p[rl] != '\0')) {
		sk_error(err, 0, "cgroup: skiff's own cgroup \"%s\" is outside the cgroup2 mount at %s", p, mount_point);
		free(text);
		return -1;
	}
	*own = strdup(p[rl] ? p + rl : "/");
	free(text);
	return *own ? 0 : sk_error(err, ENOMEM, "cgroup");
}

/* ---- placement -------------------------------------------------------------- */

int sk_cgroup_resolve(const char *cp, const char *id, const char *own, char **rel, struct sk_err *err)
{
	*rel = NULL;
	if (cp && !*cp)
		cp = NULL;
	if (cp && cp[0] != '/' && strchr(cp, ':'))
		return sk_error(err, 0, "linux.cgroupsPath \"%s\": needs --systemd-cgroup, not supported yet", cp);
	const char *base = "", *rest = cp ? cp : id;
	size_t base_len = 0;
	if (!cp || cp[0] != '/') {
		/* Beside our own cgroup, as runc: our own holds processes (us), so
		 * no controller could be enabled for a child of it. */
		if (!own)
			return sk_error(err, EINVAL, "cgroup: own cgroup needed for a relative path");
		const char *slash = strrchr(own, '/');
		base = own;
		base_len = slash ? (size_t)(slash - own) : 0;
	}
	if (!rest || !*rest)
		return sk_error(err, 0, "cgroup: no container id to name the cgroup after");
	size_t cap = base_len + strlen(rest) + 2;
	char *out = malloc(cap);
	if (!out)
		return sk_error(err, ENOMEM, "cgroup path");
	memcpy(out, base, base_len);
	size_t n = base_len;
	for (const char *p = rest; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			free(out);
			if (cp)
				return sk_error(err, 0, "linux.cgroupsPath \"%s\": \"%.*s\" components are not allowed", cp, (int)len, p);
			return sk_error(err, 0, "cgroup: container id \"%s\" cannot name a cgroup", id);
		}
		out[n++] = '/';
		memcpy(out + n, p, len);
		n += len;
		p += len;
	}
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return sk_error(err, 0, "linux.cgroupsPath \"%s\": must name a cgroup below the root", cp ? cp : "");
	}
	if (n >= PATH_MAX / 2) {
		free(out);
		return sk_error(err, ENAMETOOLONG, "linux.cgroupsPath");
	}
	*rel = out;
	return 0;
}

/* Set flags[c] for each controller named in a space-separated list. */
static void parse_ctrls(char *list, char flags[SK_CG_NCTRL])
{
	for (char *save = NULL, *t = strtok_r(list, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		for (int c = 0; c < SK_CG_NCTRL; c++)
			if (!strcmp(t, sk_cgroup_ctrl_name(c)))
				flags[c] = 1;
}

static int read_path(const char *path, char *buf, size_t size, struct sk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", path);
	ssize_t r = read(fd, buf, size - 1);
	int e = errno;
	close(fd);
	if (r < 0)
		return sk_error(err, e, "read \"%s\"", path);
	buf[r] = '\0';
	return 0;
}

int sk_cgroup_enable(const struct sk_cgroup *cg, const struct sk_cgroup_needs *needs, struct sk_err *err)
{
	char file[PATH_MAX], buf[512], have[SK_CG_NCTRL] = { 0 };
	snprintf(file, sizeof(file), "%s/cgroup.controllers", cg->mount);
	if (read_path(file, buf, sizeof(buf), err))
		return -1;
	parse_ctrls(buf, have);
	for (int c = 0; c < SK_CG_NCTRL; c++) {
		if (!(needs->mask & (1u << c)) || have[c])
			continue;
		if (needs->why_key[c])
			return sk_error(err, 0, "cgroup: controller \"%s\" is not available in %s (needed by linux.resources.unified[\"%s\"])",
					sk_cgroup_ctrl_name(c), cg->mount, needs->why_key[c]);
		return sk_error(err, 0, "cgroup: controller \"%s\" is not available in %s (needed by %s)",
				sk_cgroup_ctrl_name(c), cg->mount, needs->why[c]);
	}
	/* Each ancestor, from the root down to the leaf's parent (the prefix
	 * of rel before each of its '/'), must hand the controllers down;
	 * enable only what is missing. */
	for (const char *slash = cg->rel; slash; slash = strchr(slash + 1, '/')) {
		int plen = (int)(slash - cg->rel);
		snprintf(file, sizeof(file), "%s%.*s/cgroup.subtree_control", cg->mount, plen, cg->rel);
		char on[SK_CG_NCTRL] = { 0 }, add[256];
		if (read_path(file, buf, sizeof(buf), err))
			return -1;
		parse_ctrls(buf, on);
		size_t n = 0;
		for (int c = 0; c < SK_CG_NCTRL; c++)
			if ((needs->mask & (1u << c)) && !on[c])
				n += (size_t)snprintf(add + n, sizeof(add) - n, "%s+%s", n ? " " : "", sk_cgroup_ctrl_name(c));
		if (!n)
			continue;
		int fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return sk_error(err, errno, "open \"%s\"", file);
		ssize_t w = write(fd, add, n);
		int e = errno;
		close(fd);
		if (w == (ssize_t)n) {
			sk_debug("cgroup: enabled \"%s\" in %s", add, file);
			continue;
		}
		if (e == EBUSY)
			return sk_error(err, e, "cgroup: enable \"%s\" in \"%s\" (a cgroup holding processes cannot hand controllers down)",
					add, file);
		return sk_error(err, e, "cgroup: enable \"%s\" in \"%s\"", add, file);
	}
	return 0;
}

static void cg_clear(struct sk_cgroup *cg)
{
	free(cg->mount);
	free(cg->path);
	free(cg->rel);
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
}

/* Remove the directories prepare made: the components of rel from index
 * `first` on, deepest first. */
static void unmake(const char *mount, const char *rel, int first)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s%s", mount, rel), comps = 0;
	for (const char *p = rel; *p; p++)
		comps += *p == '/';
	for (int i = comps - 1; i >= first && n > 0; i--) {
		if (rmdir(path) < 0)
			sk_debug("cgroup: cleanup: rmdir %s: %s", path, sk_errno_name(errno));
		char *slash = strrchr(path, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
}

int sk_cgroup_owner(const struct sk_spec *s, uid_t *owner)
{
	const struct sk_namespace *user = sk_spec_namespace(s, SK_NS_USER), *cgns = sk_spec_namespace(s, SK_NS_CGROUP);
	if (!user || user->path || !cgns || cgns->path || !s->has_process)
		return 0;
	bool rw = false;
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct sk_mount *m = &s->mounts[i];
		if (!m->type || (strcmp(m->type, "cgroup") && strcmp(m->type, "cgroup2")) ||
		    strcmp(m->destination, "/sys/fs/cgroup"))
			continue;
		rw = true;
		for (size_t j = 0; j < m->n_options; j++)
			if (!strcmp(m->options[j], "ro") || !strcmp(m->options[j], "rw"))
				rw = m->options[j][1] == 'w';
	}
	uint32_t uid = s->process.user.uid;
	for (size_t i = 0; rw && i < s->linux_.n_uid_mappings; i++) {
		const struct sk_idmap *m = &s->linux_.uid_mappings[i];
		if (uid >= m->container_id && uid - m->container_id < m->size) {
			*owner = (uid_t)(m->host_id + (uid - m->container_id));
			return 1;
		}
	}
	return 0;
}

/* Hand cg to owner: the directory and the files the kernel lists as
 * delegatable (cgroups(7)'s three when it lists none). */
static int delegate(const struct sk_cgroup *cg, uid_t owner, struct sk_err *err)
{
	char list[1024];
	static const char fallback[] = "cgroup.procs\ncgroup.subtree_control\ncgroup.threads\n";
	struct sk_err ignored;
	if (sk_read_small_at(AT_FDCWD, "/sys/kernel/cgroup/delegate", list, sizeof(list), &ignored) < 0)
		memcpy(list, fallback, sizeof(fallback));
	if (fchownat(cg->dir_fd, "", owner, (gid_t)-1, AT_EMPTY_PATH) < 0)
		return sk_error(err, errno, "chown cgroup \"%s\" to %u", cg->path, (unsigned)owner);
	char *save = NULL;
	for (char *name = strtok_r(list, "\n", &save); name; name = strtok_r(NULL, "\n", &save))
		if (!strchr(name, '/') && fchownat(cg->dir_fd, name, owner, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOENT)
			return sk_error(err, errno, "chown \"%s/%s\" to %u", cg->path, name, (unsigned)owner);
	return 0;
}

int sk_cgroup_plan(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
	const struct sk_resources *res = spec->has_linux ? &spec->linux_.resources : NULL;
	const char *cp = spec->has_linux ? spec->linux_.cgroups_path : NULL;
	struct sk_cgroup_needs needs;
	const char *mount;
	char *own = NULL, *rel = NULL;
	/* Bad input stops before anything is made. */
	if (sk_cgroup_needs(res, &needs, err) || sk_cgroup_mount_find(&mount, err))
		return -1;
	if ((!cp || cp[0] != '/') && own_cgroup(&own, err))
		return -1;
	int rc = sk_cgroup_resolve(cp, id, own, &rel, err);
	free(own);
	if (rc)
		return -1;
	cg->rel = rel;
	cg->mount = strdup(mount);
	cg->path = malloc(strlen(mount) + strlen(rel) + 1);
	if (!cg->mount || !cg->path) {
		cg_clear(cg);
		return sk_error(err, ENOMEM, "cgroup");
	}
	strcat(strcpy(cg->path, mount), rel);
	return 0;
}

int sk_cgroup_make(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err)
{
	const struct sk_resources *res = spec->has_linux ? &spec->linux_.resources : NULL;
	const char *rel = cg->rel;
	/* Walk down from the mount, making what is missing. */
	int fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC), first_made = -1, idx = 0;
	if (fd < 0) {
		sk_error(err, errno, "open \"%s\"", cg->mount);
		cg_clear(cg);
		return -1;
	}
	char comp[NAME_MAX + 1];
	for (const char *p = rel + 1; *p; idx++) {
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			close(fd);
			sk_error(err, ENAMETOOLONG, "cgroup \"%s\"", cg->path);
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len + (p[len] == '/');
		if (mkdirat(fd, comp, 0755) == 0) {
			if (first_made < 0)
				first_made = idx;
		} else if (errno != EEXIST) {
			sk_error(err, errno, "mkdir cgroup \"%s\" (at \"%s\")", cg->path, comp);
			close(fd);
			goto fail;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			sk_error(err, errno, "open cgroup \"%s\" (at \"%s\")", cg->path, comp);
			close(fd);
			goto fail;
		}
		close(fd);
		fd = next;
	}
	cg->dir_fd = fd;
	cg->created = first_made >= 0;
	if (!cg->created) {
		/* runc reuses an existing cgroup; one with processes belongs to
		 * someone else (or to us: skiff's own). */
		int populated = -1;
		if (events(fd, &populated, NULL) < 0) {
			sk_error(err, errno, "read \"%s/cgroup.events\"", cg->path);
			goto fail;
		}
		if (populated != 0) {
			sk_error(err, 0, "cgroup \"%s\" already exists and has processes in it", cg->path);
			goto fail;
		}
		/* The init would join an inner node (and with controllers handed
		 * down, clone3 would refuse it). */
		char sub[NAME_MAX + 1];
		int r = first_subdir(fd, sub, sizeof(sub));
		if (r != 0) {
			sk_error(err, r < 0 ? errno : 0, "cgroup \"%s\" already exists%s", cg->path,
				 r < 0 ? "" : " and has sub-cgroups");
			goto fail;
		}
	}
	if (sk_cgroup_apply(cg, res, false, err))
		goto fail;
	uid_t owner;
	if (sk_cgroup_owner(spec, &owner) && delegate(cg, owner, err) < 0)
		goto fail;
	sk_debug("cgroup %s ready (%s)", cg->path, cg->created ? "created" : "reused");
	return 0;
fail:
	if (cg->dir_fd >= 0)
		close(cg->dir_fd);
	cg->dir_fd = -1;
	if (first_made >= 0)
		unmake(cg->mount, cg->rel, first_made);
	cg_clear(cg);
	return -1;
}

int sk_cgroup_prepare(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	return sk_cgroup_plan(spec, id, cg, err) < 0 ? -1 : sk_cgroup_make(spec, cg, err);
}

int sk_cgroup_open(const char *path, struct sk_cgroup *cg, struct sk_err *err)
{
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
	const char *mount;
	if (sk_cgroup_mount_find(&mount, err))
		return -1;
	size_t ml = strlen(mount);
	size_t pl = strlen(path);
	if (strncmp(path, mount, ml) || path[ml] != '/' || !path[ml + 1] || path[pl - 1] == '/' || strstr(path, "/../"))
		return sk_error(err, 0, "cgroup \"%s\" is not below the cgroup2 mount %s", path, mount);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open cgroup \"%s\"", path);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		close(fd);
		return sk_error(err, 0, "\"%s\" is not a cgroup2 directory", path);
	}
	cg->mount = strdup(mount);
	cg->path = strdup(path);
	cg->rel = strdup(path + ml);
	cg->dir_fd = fd;
	if (!cg->mount || !cg->path || !cg->rel) {
		sk_cgroup_close(cg);
		return sk_error(err, ENOMEM, "cgroup");
	}
	return 0;
}

void sk_cgroup_close(struct sk_cgroup *cg)
{
	if (cg->dir_fd >= 0)
		close(cg->dir_fd);
	cg_clear(cg);
}

/* ---- processes ---------------------------------------------------------------- */

struct pidset { pid_t *v; size_t n, cap; };

static int pidset_add(struct pidset *s, pid_t p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		pid_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	return 0;
}

static bool pidset_has(const struct pidset *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return true;
	return false;
}

/* Add the pids of cgroup.procs at dir_fd and below. */
static int collect(int dir_fd, const char *path, int depth, struct pidset *s, struct sk_err *err)
{
	if (depth > MAX_WALK_DEPTH)
		return sk_error(err, ELOOP, "cgroup \"%s\": more than %d levels of sub-cgroups", path, MAX_WALK_DEPTH);
	char *text;
	if (read_all(dir_fd, path, "cgroup.procs", &text, NULL, err))
		return -1;
	for (char *p = text; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && !pidset_has(s, (pid_t)v) && pidset_add(s, (pid_t)v)) {
			free(text);
			return sk_error(err, ENOMEM, "cgroup pids");
		}
		p = end + (*end == '\n');
	}
	free(text);
	DIR *d = opendir_at(dir_fd);
	if (!d)
		return sk_error(err, errno, "list \"%s\"", path);
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int sub = openat(dir_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno == ENOENT)   /* removed meanwhile */
				continue;
			rc = sk_error(err, errno, "open \"%s/%s\"", path, e->d_name);
			break;
		}
		char subpath[PATH_MAX];
		snprintf(subpath, sizeof(subpath), "%s/%s", path, e->d_name);
		rc = collect(sub, subpath, depth + 1, s, err);
		close(sub);
	}
	closedir(d);
	return rc;
}

int sk_cgroup_pids(const struct sk_cgroup *cg, pid_t **pids, size_t *n, struct sk_err *err)
{
	struct pidset s = { 0 };
	*pids = NULL;
	*n = 0;
	if (collect(cg->dir_fd, cg->path, 0, &s, err)) {
		free(s.v);
		return -1;
	}
	*pids = s.v;
	*n = s.n;
	return 0;
}

int sk_cgroup_kill_each(const struct sk_cgroup *cg, struct sk_err *err)
{
	struct pidset killed = { 0 };
	int64_t deadline = now_ms() + KILL_WAIT_MS;
	for (;;) {
		pid_t *pids;
		size_t n;
		if (sk_cgroup_pids(cg, &pids, &n, err)) {
			free(killed.v);
			return -1;
		}
		/* Done once a round finds nobody it has not signalled yet: a
		 * process forked before its parent died is caught by the next. */
		size_t fresh = 0;
		for (size_t i = 0; i < n; i++) {
			if (pidset_has(&killed, pids[i]))
				continue;
			fresh++;
			if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH)
				sk_debug("cgroup %s: kill %d: %s", cg->path, (int)pids[i], sk_errno_name(errno));
			if (pidset_add(&killed, pids[i])) {
				free(pids);
				free(killed.v);
				return sk_error(err, ENOMEM, "cgroup kill");
			}
		}
		free(pids);
		if (!fresh)
			break;
		if (now_ms() > deadline) {
			free(killed.v);
			return sk_error(err, 0, "cgroup \"%s\": processes kept appearing while killing them", cg->path);
		}
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	free(killed.v);
	return 0;
}

int sk_cgroup_kill(const struct sk_cgroup *cg, struct sk_err *err)
{
	if (sk_cgroup_write(cg, "cgroup.kill", "1", err) == 0)
		return 0;
	if (err->errnum != ENOENT)
		return -1;
	return sk_cgroup_kill_each(cg, err);
}

int sk_cgroup_freeze(const struct sk_cgroup *cg, bool freeze, struct sk_err *err)
{
	if (sk_cgroup_write(cg, "cgroup.freeze", freeze ? "1" : "0", err))
		return -1;
	int r = wait_event(cg->dir_fd, "frozen", freeze, now_ms() + FREEZE_WAIT_MS);
	if (r == 1)
		return 0;
	if (r < 0)
		return sk_error(err, errno, "read \"%s/cgroup.events\"", cg->path);
	if (freeze) {
		struct sk_err ignored;
		sk_cgroup_write(cg, "cgroup.freeze", "0", &ignored);
	}
	return sk_error(err, ETIMEDOUT, "cgroup \"%s\" did not %s within %d s", cg->path,
			freeze ? "freeze" : "thaw", FREEZE_WAIT_MS / 1000);
}

int sk_cgroup_is_frozen(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int frozen = 0;
	if (events(fd, NULL, &frozen) < 0)
		frozen = 0;
	close(fd);
	return frozen == 1;
}

/* ---- removal ------------------------------------------------------------------ */

/* rmdir name at parent_fd (the cgroup at fd), waiting for its processes to
 * finish exiting until the deadline.  0 when gone, 1 when it has grown a
 * sub-cgroup meanwhile (rescan), -1 with errno. */
static int remove_one(int parent_fd, const char *name, int fd, int64_t deadline)
{
	for (;;) {
		if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		int populated = 1;
		if (events(fd, &populated, NULL) == 0 && populated == 0)
			return 1;
		if (wait_event(fd, "populated", 0, deadline) != 1) {
			errno = EBUSY;
			return -1;
		}
	}
}

static int busy_error(const struct sk_cgroup *cg, const char *where, int e, struct sk_err *err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	struct sk_err ignored;
	if (e != EBUSY || sk_cgroup_pids(cg, &pids, &n, &ignored) || !n) {
		free(pids);
		return sk_error(err, e, "remove cgroup \"%s\"", where);
	}
	char list[256];
	size_t o = 0;
	for (size_t i = 0; i < n && o + 16 < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%d", i ? " " : "", (int)pids[i]);
	free(pids);
	return sk_error(err, 0, "remove cgroup \"%s\": processes still in it: %s%s", where, list,
			o + 16 >= sizeof(list) ? " ..." : "");
}

int sk_cgroup_destroy(struct sk_cgroup *cg, struct sk_err *err)
{
	int64_t deadline = now_ms() + DESTROY_WAIT_MS;
	const char *base = strrchr(cg->path, '/');
	char parent_path[PATH_MAX];
	snprintf(parent_path, sizeof(parent_path), "%.*s", (int)(base - cg->path), cg->path);
	int top = open(cg->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return errno == ENOENT ? 0 : sk_error(err, errno, "open cgroup \"%s\"", cg->path);
	int top_parent = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top_parent < 0) {
		int e = errno;
		close(top);
		return sk_error(err, e, "open \"%s\"", parent_path);
	}
	/* Deepest first: descend along first sub-cgroups to one without any,
	 * remove it, start over.  Two fds at a time, whatever the nesting the
	 * container made. */
	char name[NAME_MAX + 1], where[PATH_MAX];
	int rc = 0;
	for (;;) {
		int parent = dup(top_parent), cur = dup(top), depth = 0, r = 0;
		size_t wl = (size_t)snprintf(where, sizeof(where), "%s", cg->path);
		snprintf(name, sizeof(name), "%s", base + 1);
		while (parent >= 0 && cur >= 0 && (r = first_subdir(cur, name, sizeof(name))) == 1) {
			close(parent);
			parent = cur;
			cur = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			depth++;
			if (wl < sizeof(where))
				wl += (size_t)snprintf(where + wl, sizeof(where) - wl, "/%s", name);
		}
		int e = errno;
		if (parent < 0 || cur < 0 || r < 0) {
			if (parent >= 0)
				close(parent);
			if (cur >= 0)
				close(cur);
			if (cur < 0 && e == ENOENT)
				continue;   /* removed under us */
			rc = sk_error(err, e, "list cgroup \"%s\"", where);
			break;
		}
		r = remove_one(parent, name, cur, deadline);
		e = errno;
		close(parent);
		close(cur);
		if (r < 0) {
			rc = busy_error(cg, where, e, err);
			break;
		}
		if (r == 0 && depth == 0)
			break;
	}
	close(top);
	close(top_parent);
	if (rc == 0)
		sk_debug("cgroup %s removed", cg->path);
	return rc;
}

/* ---- statistics --------------------------------------------------------------- */

static uint64_t parse_limit(const char *s)
{
	return !strncmp(s, "max", 3) ? SK_CG_MAX : strtoull(s, NULL, 10);
}

/* A single-value file: a number or "max"; false when absent. */
static bool read_value(const struct sk_cgroup *cg, const char *name, uint64_t *out)
{
	char buf[64];
	struct sk_err ignored;
	if (sk_cgroup_read(cg, name, buf, sizeof(buf), &ignored) < 0)
		return false;
	*out = parse_limit(buf);
	return true;
}

static int stats_memory(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err)
{
	if (!read_value(cg, "memory.current", &st->mem_current))
		return 0;
	st->has_memory = true;
	read_value(cg, "memory.max", &st->mem_max);
	read_value(cg, "memory.peak", &st->mem_peak);
	read_value(cg, "memory.swap.current", &st->mem_swap_current);
	read_value(cg, "memory.swap.max", &st->mem_swap_max);
	char *text;
	if (read_all(cg->dir_fd, cg->path, "memory.events", &text, NULL, err))
		return -1;
	int64_t v;
	if ((v = keyed(text, "max")) >= 0)
		st->mem_events_max = (uint64_t)v;
	if ((v = keyed(text, "oom")) >= 0)
		st->mem_events_oom = (uint64_t)v;
	if ((v = keyed(text, "oom_kill")) >= 0)
		st->mem_events_oom_kill = (uint64_t)v;
	free(text);
	if (read_all(cg->dir_fd, cg->path, "memory.stat", &text, NULL, err))
		return -1;
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	st->mem_stat = calloc(lines ? lines : 1, sizeof(*st->mem_stat));
	if (!st->mem_stat) {
		free(text);
		return sk_error(err, ENOMEM, "memory.stat");
	}
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (!sp || (size_t)(sp - l) >= sizeof(st->mem_stat[0].key))
			continue;
		struct sk_cgroup_kv *kv = &st->mem_stat[st->n_mem_stat++];
		memcpy(kv->key, l, (size_t)(sp - l));
		kv->value = strtoull(sp + 1, NULL, 10);
	}
	free(text);
	return 0;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N". */
static int stats_io(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err)
{
	char *text;
	struct sk_err ignored;
	if (read_all(cg->dir_fd, cg->path, "io.stat", &text, NULL, &ignored))
		return 0;
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	st->io = calloc(lines ? lines : 1, sizeof(*st->io));
	if (!st->io) {
		free(text);
		return sk_error(err, ENOMEM, "io.stat");
	}
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct sk_cgroup_io *d = &st->io[st->n_io];
		char *p;
		d->major = (uint32_t)strtoul(l, &p, 10);
		if (*p != ':')
			continue;
		d->minor = (uint32_t)strtoul(p + 1, &p, 10);
		static const struct { const char *k; size_t off; } f[] = {
			{ "rbytes=", offsetof(struct sk_cgroup_io, rbytes) }, { "wbytes=", offsetof(struct sk_cgroup_io, wbytes) },
			{ "rios=", offsetof(struct sk_cgroup_io, rios) }, { "wios=", offsetof(struct sk_cgroup_io, wios) },
			{ "dbytes=", offsetof(struct sk_cgroup_io, dbytes) }, { "dios=", offsetof(struct sk_cgroup_io, dios) },
		};
		for (char *s2 = NULL, *t = strtok_r(p, " ", &s2); t; t = strtok_r(NULL, " ", &s2))
			for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
				if (!strncmp(t, f[i].k, strlen(f[i].k)))
					*(uint64_t *)((char *)d + f[i].off) = strtoull(t + strlen(f[i].k), NULL, 10);
		st->n_io++;
	}
	free(text);
	return 0;
}

/* hugetlb.<size>.current for every page size the kernel offers. */
static int stats_hugetlb(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err)
{
	DIR *d = opendir_at(cg->dir_fd);
	if (!d)
		return sk_error(err, errno, "list \"%s\"", cg->path);
	size_t cap = 0;
	int rc = 0;
	for (struct dirent *e; (e = readdir(d));) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (strncmp(n, "hugetlb.", 8) || len < 8 + 8 || strcmp(n + len - 8, ".current") ||
		    memchr(n + 8, '.', len - 16) || len - 16 >= sizeof(st->hugetlb[0].size))
			continue;
		if (st->n_hugetlb == cap) {
			cap = cap ? cap * 2 : 4;
			struct sk_cgroup_hugetlb *v = realloc(st->hugetlb, cap * sizeof(*v));
			if (!v) {
				rc = sk_error(err, ENOMEM, "hugetlb stats");
				break;
			}
			st->hugetlb = v;
		}
		struct sk_cgroup_hugetlb *h = &st->hugetlb[st->n_hugetlb++];
		memset(h, 0, sizeof(*h));
		memcpy(h->size, n + 8, len - 16);
		char name[64], text[256];
		read_value(cg, n, &h->usage);
		snprintf(name, sizeof(name), "hugetlb.%s.max", h->size);
		read_value(cg, name, &h->max);
		snprintf(name, sizeof(name), "hugetlb.%s.events", h->size);
		struct sk_err ignored;
		if (sk_cgroup_read(cg, name, text, sizeof(text), &ignored) >= 0 && keyed(text, "max") >= 0)
			h->failcnt = (uint64_t)keyed(text, "max");
	}
	closedir(d);
	return rc;
}

int sk_cgroup_stats(const struct sk_cgroup *cg, struct sk_cgroup_stats *st, struct sk_err *err)
{
	memset(st, 0, sizeof(*st));
	char *text;
	if (read_all(cg->dir_fd, cg->path, "cpu.stat", &text, NULL, err))
		return -1;
	static const struct { const char *k; size_t off; } cpu[] = {
		{ "usage_usec", offsetof(struct sk_cgroup_stats, cpu_usage_usec) },
		{ "user_usec", offsetof(struct sk_cgroup_stats, cpu_user_usec) },
		{ "system_usec", offsetof(struct sk_cgroup_stats, cpu_system_usec) },
		{ "nr_periods", offsetof(struct sk_cgroup_stats, cpu_nr_periods) },
		{ "nr_throttled", offsetof(struct sk_cgroup_stats, cpu_nr_throttled) },
		{ "throttled_usec", offsetof(struct sk_cgroup_stats, cpu_throttled_usec) },
	};
	for (size_t i = 0; i < sizeof(cpu) / sizeof(cpu[0]); i++) {
		int64_t v = keyed(text, cpu[i].k);
		if (v >= 0)
			*(uint64_t *)((char *)st + cpu[i].off) = (uint64_t)v;
	}
	free(text);
	if (read_value(cg, "pids.current", &st->pids_current)) {
		st->has_pids = true;
		read_value(cg, "pids.max", &st->pids_max);
	}
	if (stats_memory(cg, st, err) || stats_io(cg, st, err) || stats_hugetlb(cg, st, err)) {
		sk_cgroup_stats_free(st);
		return -1;
	}
	return 0;
}

void sk_cgroup_stats_free(struct sk_cgroup_stats *st)
{
	free(st->mem_stat);
	free(st->io);
	free(st->hugetlb);
	memset(st, 0, sizeof(*st));
}
