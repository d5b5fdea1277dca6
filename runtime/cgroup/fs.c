/* cgroup_fs: the host's hierarchies, files and tree walks shared by the
 * cgroup backends (see include/skiff/cgroup/fs.h). */
#include "skiff/cgroup/fs.h"
#include "skiff/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Walks that keep a directory open per level (pids) stop here rather than
 * run out of fds on a hostile tree. */
#define MAX_WALK_DEPTH 32

int64_t sk_cgroup_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sk_cgroup_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const v1_names[SK_CG_NCTRL] = {
	[SK_CG_CPU] = "cpu", [SK_CG_CPUSET] = "cpuset", [SK_CG_IO] = "blkio", [SK_CG_MEMORY] = "memory",
	[SK_CG_PIDS] = "pids", [SK_CG_HUGETLB] = "hugetlb", [SK_CG_RDMA] = "rdma", [SK_CG_MISC] = "misc",
	[SK_CG_CPUACCT] = "cpuacct", [SK_CG_DEVICES] = "devices", [SK_CG_FREEZER] = "freezer",
	[SK_CG_NET_CLS] = "net_cls", [SK_CG_NET_PRIO] = "net_prio", [SK_CG_PERF_EVENT] = "perf_event",
};

const char *sk_cgroup_v1_name(enum sk_cgroup_ctrl c)
{
	return (unsigned)c < SK_CG_NCTRL ? v1_names[c] : "?";
}

static int v1_ctrl(const char *s, size_t len)
{
	for (int c = 0; c < SK_CG_NCTRL; c++)
		if (strlen(v1_names[c]) == len && !strncmp(s, v1_names[c], len))
			return c;
	return -1;
}

unsigned sk_cgroup_v1_ctrls(const char *name)
{
	unsigned m = 0;
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, ",");
		int c = v1_ctrl(p, len);
		if (c >= 0)
			m |= 1u << c;
		p += len + (p[len] == ',');
	}
	return m;
}

/* The hierarchy's name from a comma list (mount options, or the second
 * field of /proc/self/cgroup): its known controllers in enum order, then
 * its name= if any.  False when it has neither. */
bool sk_cgroup_hier_name(const char *list, char *name, size_t size, unsigned *ctrls)
{
	const char *named = NULL;
	size_t named_len = 0;
	*ctrls = 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		int c = v1_ctrl(p, len);
		if (c >= 0)
			*ctrls |= 1u << c;
		else if (len > 5 && !strncmp(p, "name=", 5))
			named = p, named_len = len;
		p += len + (p[len] == ',');
	}
	size_t n = 0;
	name[0] = '\0';
	for (int c = 0; c < SK_CG_NCTRL; c++)
		if (*ctrls & (1u << c))
			n += (size_t)snprintf(name + n, n < size ? size - n : 0, "%s%s", n ? "," : "", v1_names[c]);
	if (named)
		n += (size_t)snprintf(name + n, n < size ? size - n : 0, "%s%.*s", n ? "," : "", (int)named_len, named);
	return (*ctrls || named) && n < size;
}

/* ---- the host's hierarchies ------------------------------------------------ */

static struct sk_cgroup_host host;
static bool host_read;

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

/* Add or prefer a mount of a hierarchy; false when there is no room. */
static bool add_hier(struct sk_cgroup_hier *tmp, size_t *n, bool v2, const char *name, unsigned ctrls, char *root,
		     char *mount)
{
	for (size_t i = 0; i < *n; i++) {
		if (tmp[i].v2 != v2 || strcmp(tmp[i].name, name))
			continue;
		if (strcmp(tmp[i].root, "/") && !strcmp(root, "/")) {
			tmp[i].root = root;
			tmp[i].mount = mount;
		}
		return true;
	}
	if (*n == SK_CG_MAX_DIRS)
		return false;
	tmp[*n] = (struct sk_cgroup_hier){ .mount = mount, .root = root, .ctrls = ctrls, .v2 = v2 };
	snprintf(tmp[*n].name, sizeof(tmp[*n].name), "%s", name);
	(*n)++;
	return true;
}

void sk_cgroup_host_free(struct sk_cgroup_host *h)
{
	for (size_t j = 0; j < h->n; j++) {
		free(h->h[j].mount);
		free(h->h[j].root);
	}
	memset(h, 0, sizeof(*h));
}

int sk_cgroup_host_parse(char *text, struct sk_cgroup_host *h, struct sk_err *err)
{
	memset(h, 0, sizeof(*h));
	struct sk_cgroup_hier tmp[SK_CG_MAX_DIRS];
	size_t n = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		bool v2 = !strncmp(sep + 3, "cgroup2 ", 8);
		if (!v2 && strncmp(sep + 3, "cgroup ", 7))
			continue;
		char *tail = sep + 3, *f[5], *save = NULL, *p = line;
		int nf = 0;
		*sep = '\0';
		while (nf < 5 && (f[nf] = strtok_r(p, " ", &save)))
			nf++, p = NULL;
		if (nf < 5)
			continue;
		char name[48] = "";
		unsigned ctrls = 0;
		if (!v2) {
			char *opts = strrchr(tail, ' ');   /* fstype source superopts */
			if (!opts || !sk_cgroup_hier_name(opts + 1, name, sizeof(name), &ctrls))
				continue;
		}
		unescape(f[3]);
		unescape(f[4]);
		if (!add_hier(tmp, &n, v2, name, ctrls, f[3], f[4]))
			sk_debug("cgroup: more than %d hierarchies: %s at %s left out", SK_CG_MAX_DIRS, name, f[4]);
	}
	/* cgroup2 first, then v1 in mountinfo's order. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (tmp[i].v2 != (pass == 0))
				continue;
			struct sk_cgroup_hier *d = &h->h[h->n++];
			*d = tmp[i];
			d->mount = strdup(tmp[i].mount);
			d->root = strdup(tmp[i].root);
			if (!d->mount || !d->root) {
				sk_cgroup_host_free(h);
				return sk_error(err, ENOMEM, "cgroup hierarchies");
			}
			if (d->v2)
				h->v2 = true;
			else
				h->v1_ctrls |= d->ctrls;
		}
	}
	return 0;
}

int sk_cgroup_host(const struct sk_cgroup_host **out, struct sk_err *err)
{
	if (host_read) {
		*out = &host;
		return 0;
	}
	char *text;
	if (sk_cgroup_read_all(AT_FDCWD, NULL, "/proc/self/mountinfo", &text, NULL, err))
		return -1;
	int r = sk_cgroup_host_parse(text, &host, err);
	free(text);
	if (r < 0)
		return -1;
	host_read = true;
	*out = &host;
	return 0;
}

const char *sk_cgroup_backend(void)
{
	const struct sk_cgroup_host *h;
	struct sk_err ignored;
	if (sk_cgroup_host(&h, &ignored) < 0 || h->n == 0)
		return "none";
	if (h->n == 1 && h->v2)
		return "unified";
	return h->v2 ? "hybrid" : "legacy";
}

int sk_cgroup_mount_find(const char **mount, struct sk_err *err)
{
	const struct sk_cgroup_host *h;
	if (sk_cgroup_host(&h, err) < 0)
		return -1;
	if (!h->v2)
		return sk_error(err, 0, "cgroup: no cgroup2 filesystem is mounted (none in /proc/self/mountinfo)");
	*mount = h->h[0].mount;
	return 0;
}

int sk_cgroup_own(const struct sk_cgroup_host *hs, struct sk_cgroup_own *own, struct sk_err *err)
{
	char *text;
	memset(own, 0, sizeof(*own));
	if (sk_cgroup_read_all(AT_FDCWD, NULL, "/proc/self/cgroup", &text, NULL, err))
		return -1;
	return sk_cgroup_own_parse(hs, text, own, err);
}

int sk_cgroup_own_parse(const struct sk_cgroup_host *hs, char *text, struct sk_cgroup_own *own, struct sk_err *err)
{
	memset(own, 0, sizeof(*own));
	own->text = text;
	for (char *line = own->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* id:controllers:path */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		const char *list = c1 + 1, *path = c2 + 1;
		bool v2 = !strcmp(line, "0") && !*list;
		char name[48];
		unsigned ctrls = 0;
		if (!v2 && !sk_cgroup_hier_name(list, name, sizeof(name), &ctrls))
			continue;
		for (size_t i = 0; i < hs->n; i++) {
			const struct sk_cgroup_hier *h = &hs->h[i];
			if (h->v2 != v2 || (!v2 && strcmp(h->name, name)))
				continue;
			/* The mount may show a subtree: our path must be inside it. */
			size_t rl = strcmp(h->root, "/") ? strlen(h->root) : 0;
			if (strncmp(path, h->root, rl) || (path[rl] != '/' && path[rl] != '\0')) {
				sk_error(err, 0, "cgroup: skiff's own cgroup \"%s\" is outside the %s mount at %s", path,
					 v2 ? "cgroup2" : h->name, h->mount);
				sk_cgroup_own_free(own);
				return -1;
			}
			own->rel[i] = path[rl] ? path + rl : "/";
		}
	}
	for (size_t i = 0; i < hs->n; i++) {
		if (!own->rel[i]) {
			sk_error(err, 0, "cgroup: no %s line in /proc/self/cgroup", hs->h[i].v2 ? "cgroup2 (\"0::\")" : hs->h[i].name);
			sk_cgroup_own_free(own);
			return -1;
		}
	}
	return 0;
}

void sk_cgroup_own_free(struct sk_cgroup_own *own)
{
	free(own->text);
	memset(own, 0, sizeof(*own));
}

/* ---- files ------------------------------------------------------------------ */

int sk_cgroup_write_at(int dfd, const char *dir, const char *name, const char *value, struct sk_err *err)
{
	int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s/%s\"", dir, name);
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int e = w < 0 ? errno : EIO;
	close(fd);
	if (w != (ssize_t)len)
		return sk_error(err, e, "write \"%.80s\" to \"%s/%s\"", value, dir, name);
	return 0;
}

ssize_t sk_cgroup_read_at(int dfd, const char *dir, const char *name, char *buf, size_t size, struct sk_err *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s/%s\"", dir, name);
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t r = read(fd, buf + len, size - 1 - len);
		if (r < 0) {
			int e = errno;
			close(fd);
			return sk_error(err, e, "read \"%s/%s\"", dir, name);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

int sk_cgroup_read_all(int dfd, const char *dir, const char *name, char **out, size_t *len, struct sk_err *err)
{
	const char *sep = dir ? "/" : "";
	dir = dir ? dir : "";
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

bool sk_cgroup_read_u64(int fd, const char *name, uint64_t *out)
{
	char buf[64];
	struct sk_err ignored;
	if (sk_cgroup_read_at(fd, "", name, buf, sizeof(buf), &ignored) < 0)
		return false;
	if (!strncmp(buf, "max", 3)) {
		*out = SK_CG_MAX;
		return true;
	}
	uint64_t v = strtoull(buf, NULL, 10);
	/* v1 shows "unlimited" as LONG_MAX rounded down to a page. */
	*out = v >= (UINT64_C(1) << 63) - 4096 ? SK_CG_MAX : v;
	return true;
}

int64_t sk_cgroup_keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return -1;
}

DIR *sk_cgroup_opendir(int fd)
{
	/* Not a dup(): that would share (and leave at the end) fd's offset. */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	return d;
}

int sk_cgroup_events(int dir_fd, int *populated, int *frozen)
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
		*populated = (int)sk_cgroup_keyed(buf, "populated");
	if (frozen)
		*frozen = (int)sk_cgroup_keyed(buf, "frozen");
	return 0;
}

/* cgroup.events signals every change with POLLPRI. */
int sk_cgroup_wait_event(int dir_fd, const char *key, int want, int64_t deadline)
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
		if (sk_cgroup_keyed(buf, key) == want) {
			rc = 1;
			break;
		}
		int64_t left = deadline - sk_cgroup_now_ms();
		if (left <= 0) {
			rc = 0;
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLPRI };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			break;
	}
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* ---- trees ------------------------------------------------------------------ */

int sk_cgroup_first_subdir(int fd, char *name, size_t size)
{
	DIR *d = sk_cgroup_opendir(fd);
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

int sk_cgroup_mkpath(const char *mount, const char *rel, int *made,
		     sk_cgroup_step_fn *on_each, struct sk_err *err)
{
	*made = -1;
	/* Mostly the parents exist: the leaf in one mkdir (cgroup filesystems
	 * have no symlinks to follow on the way). */
	char full[PATH_MAX];
	if (!on_each && (size_t)snprintf(full, sizeof(full), "%s%s", mount, rel) < sizeof(full)) {
		bool new = mkdir(full, 0755) == 0;
		if (new || errno == EEXIST) {
			int fd = open(full, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return sk_error(err, errno, "open cgroup \"%s\"", full);
			if (new) {
				/* The leaf: the last component. */
				*made = 0;
				for (const char *p = rel + 1; (p = strchr(p, '/')); p++)
					(*made)++;
			}
			return fd;
		}
		if (errno != ENOENT)
			return sk_error(err, errno, "mkdir cgroup \"%s\"", full);
	}
	int fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open \"%s\"", mount);
	char comp[NAME_MAX + 1];
	int idx = 0;
	for (const char *p = rel + 1; *p; idx++) {
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			close(fd);
			return sk_error(err, ENAMETOOLONG, "cgroup \"%s%s\"", mount, rel);
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len + (p[len] == '/');
		bool new = mkdirat(fd, comp, 0755) == 0;
		if (new && *made < 0)
			*made = idx;
		if (!new && errno != EEXIST) {
			sk_error(err, errno, "mkdir cgroup \"%s%s\" (at \"%s\")", mount, rel, comp);
			close(fd);
			return -1;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			sk_error(err, errno, "open cgroup \"%s%s\" (at \"%s\")", mount, rel, comp);
			close(fd);
			return -1;
		}
		if (on_each && on_each(fd, next, mount, rel, err) < 0) {
			close(next);
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

void sk_cgroup_unmake(const char *path, const char *rel, int first)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", path), comps = 0;
	for (const char *p = rel; *p; p++)
		comps += *p == '/';
	for (int i = comps - 1; i >= first && n > 0 && (size_t)n < sizeof(buf); i--) {
		if (rmdir(buf) < 0)
			sk_debug("cgroup: cleanup: rmdir %s: %s", buf, sk_errno_name(errno));
		char *slash = strrchr(buf, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
}

int sk_pidset_add(struct sk_pidset *s, pid_t p)
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

bool sk_pidset_has(const struct sk_pidset *s, pid_t p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == p)
			return true;
	return false;
}

static int collect(int dir_fd, const char *path, int depth, struct sk_pidset *s, struct sk_err *err)
{
	if (depth > MAX_WALK_DEPTH)
		return sk_error(err, ELOOP, "cgroup \"%s\": more than %d levels of sub-cgroups", path, MAX_WALK_DEPTH);
	char *text;
	/* A removed cgroup holds no one: systemd removes a scope's as soon as
	 * it empties, which races with a kill or delete after the init exits. */
	if (sk_cgroup_read_all(dir_fd, path, "cgroup.procs", &text, NULL, err))
		return err->errnum == ENOENT || err->errnum == ENODEV ? 0 : -1;
	for (char *p = text; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0 && !sk_pidset_has(s, (pid_t)v) && sk_pidset_add(s, (pid_t)v)) {
			free(text);
			return sk_error(err, ENOMEM, "cgroup pids");
		}
		p = end + (*end == '\n');
	}
	free(text);
	DIR *d = sk_cgroup_opendir(dir_fd);
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

int sk_cgroup_collect(int fd, const char *path, struct sk_pidset *s, struct sk_err *err)
{
	return collect(fd, path, 0, s, err);
}

/* rmdir name at parent_fd (the cgroup at fd), waiting for its processes to
 * finish exiting until the deadline.  0 when gone, 1 when it may have grown
 * a sub-cgroup meanwhile (rescan), -1 with errno. */
static int remove_one(int parent_fd, const char *name, int fd, bool v2, int64_t deadline)
{
	for (int pause = 1;; pause = pause < 64 ? pause * 2 : pause) {
		if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		if (v2) {
			int populated = 1;
			if (sk_cgroup_events(fd, &populated, NULL) == 0 && populated == 0)
				return 1;
			if (sk_cgroup_wait_event(fd, "populated", 0, deadline) != 1) {
				errno = EBUSY;
				return -1;
			}
			continue;
		}
		/* v1 tells no one when its last process is gone. */
		char sub[NAME_MAX + 1];
		if (sk_cgroup_first_subdir(fd, sub, sizeof(sub)) == 1)
			return 1;
		if (sk_cgroup_now_ms() >= deadline) {
			errno = EBUSY;
			return -1;
		}
		sk_cgroup_sleep_ms(pause);
	}
}

static int busy_error(int fd, const char *where, int e, struct sk_err *err)
{
	struct sk_pidset s = { 0 };
	struct sk_err ignored;
	if (e != EBUSY || fd < 0 || collect(fd, where, 0, &s, &ignored) || !s.n) {
		free(s.v);
		return sk_error(err, e, "remove cgroup \"%s\"", where);
	}
	char list[256];
	size_t o = 0;
	for (size_t i = 0; i < s.n && o + 16 < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%d", i ? " " : "", (int)s.v[i]);
	free(s.v);
	return sk_error(err, 0, "remove cgroup \"%s\": processes still in it: %s%s", where, list,
			o + 16 >= sizeof(list) ? " ..." : "");
}

int sk_cgroup_remove_tree(const char *path, bool v2, int64_t deadline, struct sk_err *err)
{
	const char *base = strrchr(path, '/');
	if (!base || base == path)
		return sk_error(err, EINVAL, "remove cgroup \"%s\"", path);
	/* Mostly it is empty and has no sub-cgroup: one rmdir. */
	if (rmdir(path) == 0 || errno == ENOENT) {
		sk_debug("cgroup %s removed", path);
		return 0;
	}
	char parent_path[PATH_MAX];
	snprintf(parent_path, sizeof(parent_path), "%.*s", (int)(base - path), path);
	int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0)
		return errno == ENOENT ? 0 : sk_error(err, errno, "open cgroup \"%s\"", path);
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
		size_t wl = (size_t)snprintf(where, sizeof(where), "%s", path);
		snprintf(name, sizeof(name), "%s", base + 1);
		while (parent >= 0 && cur >= 0 && (r = sk_cgroup_first_subdir(cur, name, sizeof(name))) == 1) {
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
		r = remove_one(parent, name, cur, v2, deadline);
		e = errno;
		close(parent);
		if (r < 0) {
			rc = busy_error(cur, where, e, err);
			close(cur);
			break;
		}
		close(cur);
		if (r == 0 && depth == 0)
			break;
	}
	close(top);
	close(top_parent);
	if (rc == 0)
		sk_debug("cgroup %s removed", path);
	return rc;
}
