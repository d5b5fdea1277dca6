/* cgroup: the container's cgroups in every hierarchy, dispatching each
 * controller to its backend (see include/skiff/cgroup/cgroup.h). */
#include "skiff/cgroup/cgroup.h"
#include "skiff/cgroup/fs.h"
#include "skiff/cgroup/res.h"
#include "skiff/cgroup/unit.h"
#include "skiff/cgroup/v1.h"
#include "skiff/cgroup/v2.h"
#include "skiff/base/log.h"
#include "skiff/base/rootless.h"
#include "skiff/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DESTROY_WAIT_MS 2000
#define KILL_WAIT_MS 1000

static bool has(unsigned mask, enum sk_cgroup_ctrl c) { return mask & (1u << c); }

static unsigned v1_mask(const struct sk_cgroup *cg)
{
	unsigned m = 0;
	for (size_t i = cg->v2; i < cg->n; i++)
		m |= cg->dir[i].ctrls;
	return m;
}

/* The directory serving controller c: its v1 one, else the cgroup2 one
 * (for the controllers with a v2 interface), else NULL. */
static const struct sk_cgroup_dir *serving(const struct sk_cgroup *cg, enum sk_cgroup_ctrl c)
{
	if (cg->at[c])
		return &cg->dir[cg->at[c] - 1];
	return cg->v2 && c < SK_CG_V2_NCTRL ? &cg->dir[0] : NULL;
}

int sk_cgroup_ctrl_fd(const struct sk_cgroup *cg, enum sk_cgroup_ctrl c, bool *v2, const char **path)
{
	const struct sk_cgroup_dir *d = serving(cg, c);
	if (!d)
		return -1;
	*v2 = !cg->at[c];
	if (path)
		*path = d->path;
	return d->fd;
}

const char *sk_cgroup_path(const struct sk_cgroup *cg)
{
	return cg->n ? cg->dir[0].path : NULL;
}

size_t sk_cgroup_v1_paths(const struct sk_cgroup *cg, struct sk_kv *out, size_t max)
{
	size_t n = 0;
	for (size_t i = cg->v2; i < cg->n && n < max; i++)
		out[n++] = (struct sk_kv){ (char *)cg->dir[i].name, cg->dir[i].path };
	return n;
}

int sk_cgroup_v2_fd(const struct sk_cgroup *cg)
{
	return cg->v2 ? cg->dir[0].fd : -1;
}

/* ---- placement ------------------------------------------------------------------- */

int sk_cgroup_resolve(const char *cp, const char *id, const char *own, bool beside, char **rel, struct sk_err *err)
{
	*rel = NULL;
	if (cp && !*cp)
		cp = NULL;
	if (cp && cp[0] != '/' && strchr(cp, ':'))
		return sk_error(err, 0, "linux.cgroupsPath \"%s\": \"slice:prefix:name\" is systemd's form and needs --systemd-cgroup", cp);
	const char *base = "", *rest = cp ? cp : id;
	size_t base_len = 0;
	if (!cp || cp[0] != '/') {
		/* cgroup2: beside our own cgroup, as runc: our own holds
		 * processes (us), so no controller could be enabled for a child
		 * of it.  v1 has no such rule, and runc goes below. */
		if (!own)
			return sk_error(err, EINVAL, "cgroup: own cgroup needed for a relative path");
		const char *slash = strrchr(own, '/');
		base = own;
		base_len = beside ? (slash ? (size_t)(slash - own) : 0) : strlen(own);
		if (base_len == 1 && own[0] == '/')
			base_len = 0;
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

static struct sk_cgroup_dir *add_dir(struct sk_cgroup *cg, const char *name, unsigned ctrls)
{
	struct sk_cgroup_dir *d = &cg->dir[cg->n++];
	*d = (struct sk_cgroup_dir){ .fd = -1, .procs_fd = -1, .ctrls = ctrls, .made = -1 };
	snprintf(d->name, sizeof(d->name), "%s", name);
	for (int c = 0; c < SK_CG_NCTRL; c++)
		if (has(ctrls, c))
			cg->at[c] = (unsigned char)cg->n;
	return d;
}

/* A cgroup that exists already is reused (as runc) only when it holds no
 * process, and no sub-cgroup the init would otherwise sit above. */
static int check_reuse(const struct sk_cgroup_dir *d, bool v2, struct sk_err *err)
{
	if (v2) {
		int populated = -1;
		if (sk_cgroup_events(d->fd, &populated, NULL) < 0)
			return sk_error(err, errno, "read \"%s/cgroup.events\"", d->path);
		if (populated != 0)
			return sk_error(err, 0, "cgroup \"%s\" already exists and has processes in it", d->path);
	} else {
		char buf[16];
		if (sk_cgroup_read_at(d->fd, d->path, "cgroup.procs", buf, sizeof(buf), err) < 0)
			return -1;
		if (buf[0])
			return sk_error(err, 0, "cgroup \"%s\" already exists and has processes in it", d->path);
	}
	char sub[NAME_MAX + 1];
	int r = sk_cgroup_first_subdir(d->fd, sub, sizeof(sub));
	if (r != 0)
		return sk_error(err, r < 0 ? errno : 0, "cgroup \"%s\" already exists%s", d->path,
				r < 0 ? "" : " and has sub-cgroups");
	return 0;
}

/* A controller the resources need that neither a v1 hierarchy nor cgroup2
 * can serve. */
static int no_home(const struct sk_cgroup_needs *needs, unsigned missing, struct sk_err *err)
{
	for (int c = 0; c < SK_CG_NCTRL; c++)
		if (has(missing, c))
			return sk_error(err, 0, "cgroup: controller \"%s\" is not available: no cgroup v1 hierarchy has it "
					"and there is no cgroup2 mount (needed by %s)", sk_cgroup_ctrl_name(c),
					needs->why[c] ? needs->why[c] : "linux.resources.unified");
	return 0;
}

static void unmake_all(struct sk_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		struct sk_cgroup_dir *d = &cg->dir[i];
		if (d->made >= 0)
			sk_cgroup_unmake(d->path, d->path + d->mount_len, d->made);
	}
}

static int check(const struct sk_cgroup_host **host, const struct sk_resources *res, struct sk_err *err)
{
	const struct sk_cgroup_host *h;
	struct sk_cgroup_needs needs;
	if (sk_cgroup_host(&h, err) < 0)
		return -1;
	if (!h->n)
		return sk_error(err, 0, "cgroup: no cgroup filesystem is mounted (none in /proc/self/mountinfo)");
	if (sk_cgroup_needs(res, h->v1_ctrls, h->v2, &needs, err) < 0)
		return -1;
	if (!h->v2 && (no_home(&needs, needs.mask & ~h->v1_ctrls, err) < 0))
		return -1;
	if (!h->v2 && !has(h->v1_ctrls, SK_CG_DEVICES))
		return sk_error(err, 0, "cgroup: no devices hierarchy is mounted and there is no cgroup2: access to "
				"devices cannot be restricted");
	*host = h;
	return 0;
}

int sk_cgroup_check(const struct sk_resources *res, struct sk_err *err)
{
	const struct sk_cgroup_host *host;
	return check(&host, res, err);
}

bool sk_cgroup_has_limits(const struct sk_resources *r)
{
	if (!r)
		return false;
	const __typeof__(r->memory) *m = &r->memory;
	const __typeof__(r->cpu) *c = &r->cpu;
	const __typeof__(r->block_io) *b = &r->block_io;
	return m->has_limit || m->has_reservation || m->has_swap || m->has_kernel || m->has_kernel_tcp ||
	       m->has_swappiness || m->has_disable_oom_killer || c->has_shares || c->has_quota || c->has_burst ||
	       c->has_period || c->has_realtime_runtime || c->has_realtime_period || c->cpus || c->mems ||
	       c->has_idle || r->pids.has_limit || b->has_weight || b->has_leaf_weight || b->n_weight_device ||
	       b->n_throttle_read_bps || b->n_throttle_write_bps || b->n_throttle_read_iops ||
	       b->n_throttle_write_iops || r->n_hugepage_limits || r->n_rdma || r->network.has_class_id ||
	       r->network.n_priorities || r->n_unified;
}

/* The plan for cgroupsPath cp (the spec's, or the unit's path). */
static int plan_at(const struct sk_spec *spec, const char *id, const char *cp, struct sk_cgroup *cg, struct sk_err *err)
{
	const struct sk_resources *res = spec->has_linux ? &spec->linux_.resources : NULL;
	const struct sk_cgroup_host *host;
	/* Bad input stops before anything is made. */
	if (check(&host, res, err) < 0)
		return -1;
	struct sk_cgroup_own own = { 0 };
	if ((!cp || cp[0] != '/') && sk_cgroup_own(host, &own, err) < 0)
		return -1;
	for (size_t i = 0; i < host->n; i++) {
		const struct sk_cgroup_hier *h = &host->h[i];
		char *rel;
		if (sk_cgroup_resolve(cp, id, own.rel[i], h->v2, &rel, err) < 0)
			goto fail;
		struct sk_cgroup_dir *d = add_dir(cg, h->name, h->ctrls);
		cg->v2 = cg->v2 || h->v2;
		d->mount_len = strlen(h->mount);
		d->path = malloc(d->mount_len + strlen(rel) + 1);
		if (!d->path) {
			free(rel);
			sk_error(err, ENOMEM, "cgroup");
			goto fail;
		}
		strcat(strcpy(d->path, h->mount), rel);
		free(rel);
	}
	sk_cgroup_own_free(&own);
	return 0;
fail:
	sk_cgroup_own_free(&own);
	sk_cgroup_close(cg);
	return -1;
}

int sk_cgroup_plan(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
	return plan_at(spec, id, spec->has_linux ? spec->linux_.cgroups_path : NULL, cg, err);
}

int sk_cgroup_plan_unit(const struct sk_spec *spec, const char *id, bool user, struct sk_cgroup *cg,
			struct sk_err *err)
{
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
	if (sk_sd_check(user, err) < 0 ||
	    sk_sd_unit_parse(spec->has_linux ? spec->linux_.cgroups_path : NULL, id, user, &cg->sd, err) < 0)
		return -1;
	char *path;
	if (sk_cgroup_unit_path(&cg->sd, spec->has_linux ? &spec->linux_.resources : NULL, &path, err) < 0) {
		sk_sd_unit_free(&cg->sd);
		return -1;
	}
	int r = plan_at(spec, id, path, cg, err);
	free(path);
	if (r < 0)
		sk_sd_unit_free(&cg->sd);
	return r;
}

int sk_cgroup_make(const struct sk_spec *spec, struct sk_cgroup *cg, struct sk_err *err)
{
	const struct sk_resources *res = spec->has_linux ? &spec->linux_.resources : NULL;
	if (cg->sd.name && sk_cgroup_unit_start(spec, cg, err) < 0) {
		sk_cgroup_close(cg);
		return -1;
	}
	for (size_t i = 0; i < cg->n; i++) {
		struct sk_cgroup_dir *d = &cg->dir[i];
		bool v2 = cg->v2 && i == 0;
		char mount[PATH_MAX];
		if (d->mount_len >= sizeof(mount)) {
			sk_error(err, ENAMETOOLONG, "cgroup \"%s\"", d->path);
			goto fail;
		}
		snprintf(mount, sizeof(mount), "%.*s", (int)d->mount_len, d->path);
		d->fd = sk_cgroup_mkpath(mount, d->path + d->mount_len, &d->made,
					 has(d->ctrls, SK_CG_CPUSET) ? sk_cg1_cpuset_fill : NULL, err);
		/* The unit's own directories hold its holder process. */
		if (d->fd < 0 || (d->made < 0 && !cg->sd.name && check_reuse(d, v2, err) < 0))
			goto fail;
	}
	cg->created = cg->dir[0].made >= 0;
	/* A process that joins a frozen cgroup freezes with it: the init
	 * would never answer, and create would wait forever. */
	const char *frozen = sk_cgroup_frozen_dir(cg);
	if (frozen) {
		sk_error(err, 0, "cgroup \"%s\" is frozen: the container's init would freeze as it joins it; thaw it "
			 "first", frozen);
		goto fail;
	}
	if (sk_cgroup_apply(cg, res, false, err) < 0 || sk_cgroup_enter_prepare(cg, err) < 0)
		goto fail;
	uid_t owner;
	if (cg->v2 && sk_cgroup_owner(spec, &owner) && sk_cg2_delegate(cg->dir[0].fd, cg->dir[0].path, owner, err) < 0)
		goto fail;
	sk_debug("cgroup %s ready (%s, %zu hierarch%s)", cg->dir[0].path, cg->created ? "created" : "reused", cg->n,
		 cg->n == 1 ? "y" : "ies");
	return 0;
fail:
	unmake_all(cg);
	sk_cgroup_unit_release(cg);
	if (cg->sd.name)
		sk_cgroup_unit_stop(cg);
	sk_cgroup_close(cg);
	return -1;
}

int sk_cgroup_prepare(const struct sk_spec *spec, const char *id, struct sk_cgroup *cg, struct sk_err *err)
{
	return sk_cgroup_plan(spec, id, cg, err) < 0 ? -1 : sk_cgroup_make(spec, cg, err);
}

/* The directory at path, which must be on the cgroup filesystem magic:
 * its fd, or -1 (ENOENT: it is gone). */
static int open_dir(const char *path, unsigned long magic, struct sk_err *err)
{
	if (path[0] != '/' || strstr(path, "/../"))
		return sk_error(err, 0, "cgroup \"%s\" is not an absolute path", path);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "open cgroup \"%s\"", path);
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || (unsigned long)sf.f_type != magic) {
		close(fd);
		return sk_error(err, 0, "\"%s\" is not a %s directory", path,
				magic == CGROUP2_SUPER_MAGIC ? "cgroup2" : "cgroup");
	}
	/* A hierarchy's root (kernfs numbers it 1) holds every process:
	 * never a container's. */
	struct stat self;
	if (fstat(fd, &self) < 0 || self.st_ino == 1) {
		close(fd);
		return sk_error(err, 0, "cgroup \"%s\" is the root of a cgroup hierarchy", path);
	}
	return fd;
}

/* Add the directory at path; one already gone is left out. */
static int open_add(struct sk_cgroup *cg, const char *path, const char *name, unsigned ctrls, unsigned long magic,
		    struct sk_err *err)
{
	int fd = open_dir(path, magic, err);
	if (fd < 0)
		return err->errnum == ENOENT ? 0 : -1;
	struct sk_cgroup_dir *d = add_dir(cg, name, ctrls);
	d->fd = fd;
	if (!(d->path = strdup(path)))
		return sk_error(err, ENOMEM, "cgroup");
	return 1;
}

int sk_cgroup_open(const char *path, const struct sk_kv *v1, size_t n_v1, struct sk_cgroup *cg, struct sk_err *err)
{
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
	if (n_v1 >= SK_CG_MAX_DIRS)
		return sk_error(err, 0, "cgroup \"%s\": %zu hierarchies recorded", path, n_v1);
	/* With v1 directories, path is the cgroup2 one only if there is one.
	 * A directory already gone (a delete cut short) is left out, so that
	 * the others can still be removed. */
	struct statfs sf;
	bool v2 = !n_v1 || (statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC);
	int r = v2 ? open_add(cg, path, "", 0, CGROUP2_SUPER_MAGIC, err) : 0;
	if (r < 0)
		goto fail;
	cg->v2 = r > 0;
	for (size_t i = 0; i < n_v1; i++)
		if (open_add(cg, v1[i].value, v1[i].key, sk_cgroup_v1_ctrls(v1[i].key), CGROUP_SUPER_MAGIC, err) < 0)
			goto fail;
	if (!cg->n)
		return sk_error(err, ENOENT, "open cgroup \"%s\"", path);
	return 0;
fail:
	sk_cgroup_close(cg);
	return -1;
}

int sk_cgroup_v2_of_pid(struct sk_cgroup *cg, pid_t pid, struct sk_err *err)
{
	char path[64], buf[4096], full[PATH_MAX];
	const char *mount;
	if (!cg->v2)
		return sk_error(err, EINVAL, "cgroup: no cgroup2 directory");
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (sk_cgroup_mount_find(&mount, err) < 0 || sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), err) < 0)
		return -1;
	const char *rel = strncmp(buf, "0::", 3) == 0 ? buf + 3 : strstr(buf, "\n0::");
	if (!rel)
		return sk_error(err, 0, "%s: no cgroup v2 entry", path);
	if (rel != buf + 3)
		rel += 4;
	if (snprintf(full, sizeof(full), "%s%.*s", mount, (int)strcspn(rel, "\n"), rel) >= (int)sizeof(full))
		return sk_error(err, ENAMETOOLONG, "%s", path);
	int fd = open_dir(full, CGROUP2_SUPER_MAGIC, err);
	char *p = fd >= 0 ? strdup(full) : NULL;
	if (fd >= 0 && !p) {
		close(fd);
		return sk_error(err, ENOMEM, "cgroup");
	}
	if (fd < 0)
		return -1;
	close(cg->dir[0].fd);
	free(cg->dir[0].path);
	cg->dir[0].fd = fd;
	cg->dir[0].path = p;
	return 0;
}

int sk_cgroup_open_sub(struct sk_cgroup *cg, const char *sub, struct sk_err *err)
{
	const char *colon = strchr(sub, ':'), *rel = colon ? colon + 1 : sub;
	unsigned only = 0;
	if (colon) {
		if (cg->n == (size_t)cg->v2)
			return sk_error(err, EINVAL, "--cgroup \"%s\": cgroup v2 takes a sub-cgroup path, without a "
					"controller prefix", sub);
		char list[64];
		snprintf(list, sizeof(list), "%.*s", (int)(colon - sub), sub);
		if (!(only = sk_cgroup_v1_ctrls(list)))
			return sk_error(err, EINVAL, "--cgroup \"%s\": \"%s\" names no cgroup v1 controller", sub, list);
	}
	rel += strspn(rel, "/");
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	for (size_t i = 0; i < cg->n; i++) {
		struct sk_cgroup_dir *d = &cg->dir[i];
		if (only && !(d->ctrls & only))
			continue;
		int fd = (int)syscall(SYS_openat2, d->fd, *rel ? rel : ".", &how, sizeof(how));
		if (fd < 0)
			return sk_error(err, errno, "--cgroup \"%s\": open \"%s/%s\"", sub, d->path, rel);
		char *path = malloc(strlen(d->path) + strlen(rel) + 2);
		if (!path) {
			close(fd);
			return sk_error(err, ENOMEM, "--cgroup");
		}
		sprintf(path, "%s/%s", d->path, rel);
		close(d->fd);
		free(d->path);
		d->fd = fd;
		d->path = path;
	}
	return 0;
}

int sk_cgroup_open_subs(struct sk_cgroup *cg, const char *const *subs, size_t n, struct sk_err *err)
{
	unsigned seen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(subs[i], ':');
		if (!colon && n > 1)
			return sk_error(err, EINVAL, "--cgroup \"%s\": a path without a controller: prefix must be the only --cgroup",
					subs[i]);
		if (colon && strchr(colon + 1, ':'))
			return sk_error(err, EINVAL, "--cgroup \"%s\": more than one \":\"", subs[i]);
		if (!colon)
			continue;
		char list[64];
		snprintf(list, sizeof(list), "%.*s", (int)(colon - subs[i]), subs[i]);
		unsigned m = sk_cgroup_v1_ctrls(list);
		if (m & seen)
			return sk_error(err, EINVAL, "--cgroup \"%s\": a controller named by another --cgroup too", subs[i]);
		seen |= m;
	}
	for (size_t i = 0; i < n; i++)
		if (sk_cgroup_open_sub(cg, subs[i], err) < 0)
			return -1;
	return 0;
}

int sk_cgroup_enter_prepare(struct sk_cgroup *cg, struct sk_err *err)
{
	for (size_t i = cg->v2; i < cg->n; i++) {
		struct sk_cgroup_dir *d = &cg->dir[i];
		if (d->procs_fd >= 0)
			continue;
		d->procs_fd = openat(d->fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (d->procs_fd < 0)
			return sk_error(err, errno, "open \"%s/cgroup.procs\"", d->path);
	}
	return 0;
}

int sk_cgroup_enter(const struct sk_cgroup *cg, struct sk_err *err)
{
	/* "0" is the writer itself, whatever pid namespace it is in. */
	for (size_t i = cg->v2; i < cg->n; i++)
		if (write(cg->dir[i].procs_fd, "0", 1) != 1)
			return sk_error(err, errno, "join cgroup \"%s\"", cg->dir[i].path);
	return 0;
}

void sk_cgroup_enter_done(struct sk_cgroup *cg)
{
	sk_cgroup_unit_release(cg);
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->dir[i].procs_fd >= 0)
			close(cg->dir[i].procs_fd);
		cg->dir[i].procs_fd = -1;
	}
}

void sk_cgroup_close(struct sk_cgroup *cg)
{
	sk_cgroup_enter_done(cg);
	for (size_t i = 0; i < cg->n; i++) {
		if (cg->dir[i].fd >= 0)
			close(cg->dir[i].fd);
		free(cg->dir[i].path);
	}
	sk_sd_unit_free(&cg->sd);
	*cg = (struct sk_cgroup)SK_CGROUP_INIT;
}

/* ---- lifecycle --------------------------------------------------------------------- */

int sk_cgroup_destroy(struct sk_cgroup *cg, struct sk_err *err)
{
	/* cgroup2 first: it tells when the last process has gone, after
	 * which the v1 directories empty at once. */
	int rc = 0;
	if (cg->sd.name && sk_cgroup_unit_stop_err(cg, err) < 0)
		rc = -1;
	int64_t deadline = sk_cgroup_now_ms() + DESTROY_WAIT_MS;
	for (size_t i = 0; i < cg->n; i++) {
		struct sk_err e;
		if (sk_cgroup_remove_tree(cg->dir[i].path, cg->v2 && i == 0, deadline, &e) < 0 && rc == 0) {
			*err = e;
			rc = -1;
		}
	}
	return rc;
}

/* The directory to list processes in: all of them are in each. */
static const struct sk_cgroup_dir *procs_dir(const struct sk_cgroup *cg)
{
	if (cg->v2 || !cg->n)
		return cg->n ? &cg->dir[0] : NULL;
	const struct sk_cgroup_dir *d = serving(cg, SK_CG_FREEZER);
	return d ? d : &cg->dir[0];
}

int sk_cgroup_pids(const struct sk_cgroup *cg, pid_t **pids, size_t *n, struct sk_err *err)
{
	struct sk_pidset s = { 0 };
	const struct sk_cgroup_dir *d = procs_dir(cg);
	*pids = NULL;
	*n = 0;
	if (!d)
		return sk_error(err, 0, "cgroup: none");
	if (sk_cgroup_collect(d->fd, d->path, &s, err) < 0) {
		free(s.v);
		return -1;
	}
	*pids = s.v;
	*n = s.n;
	return 0;
}

int sk_cgroup_kill_each(const struct sk_cgroup *cg, struct sk_err *err)
{
	struct sk_pidset killed = { 0 };
	int64_t deadline = sk_cgroup_now_ms() + KILL_WAIT_MS;
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
			if (sk_pidset_has(&killed, pids[i]))
				continue;
			fresh++;
			if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH)
				sk_debug("cgroup %s: kill %d: %s", sk_cgroup_path(cg), (int)pids[i], sk_errno_name(errno));
			if (sk_pidset_add(&killed, pids[i])) {
				free(pids);
				free(killed.v);
				return sk_error(err, ENOMEM, "cgroup kill");
			}
		}
		free(pids);
		if (!fresh)
			break;
		if (sk_cgroup_now_ms() > deadline) {
			free(killed.v);
			return sk_error(err, 0, "cgroup \"%s\": processes kept appearing while killing them",
					sk_cgroup_path(cg));
		}
		sk_cgroup_sleep_ms(5);
	}
	free(killed.v);
	return 0;
}

int sk_cgroup_signal(const struct sk_cgroup *cg, int sig, struct sk_err *err)
{
	const struct sk_cgroup_dir *fz = cg->at[SK_CG_FREEZER] ? &cg->dir[cg->at[SK_CG_FREEZER] - 1] : NULL;
	if (sig == SIGKILL && cg->v2) {
		if (sk_cg2_kill(cg->dir[0].fd, cg->dir[0].path, err) == 0)
			/* The v1 freezer holds killed processes until thawed. */
			return fz && sk_cg1_frozen(fz->path) ? sk_cg1_freeze(fz->fd, fz->path, false, err) : 0;
		if (err->errnum != ENOENT)
			return -1;
	}
	/* v1 has no cgroup.kill: its freezer keeps anyone from forking while
	 * the list is signalled (runc's way).  cgroup2 without cgroup.kill
	 * (before 5.14) lists again until no one is left. */
	if (!fz && sig == SIGKILL)
		return sk_cgroup_kill_each(cg, err);
	pid_t *pids = NULL;
	size_t n = 0;
	if (sk_cgroup_pids(cg, &pids, &n, err) < 0)
		return -1;
	free(pids);
	if (!n)
		return 0;
	bool was_frozen = fz && sk_cg1_frozen(fz->path);
	if (fz && !was_frozen && sk_cg1_freeze(fz->fd, fz->path, true, err) < 0)
		return -1;
	int r = sk_cgroup_pids(cg, &pids, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			r = sk_error(err, errno, "kill %d", (int)pids[i]);
	free(pids);
	/* Killed processes die only once thawed; others find the cgroup as
	 * it was. */
	struct sk_err e;
	if (fz && (!was_frozen || sig == SIGKILL) && sk_cg1_freeze(fz->fd, fz->path, false, &e) < 0 && r == 0) {
		*err = e;
		r = -1;
	}
	return r;
}

/* cgroup2's own freezer, requested (cgroup.freeze) or inherited from a
 * frozen parent (cgroup.events "frozen"). */
static bool v2_frozen(const struct sk_cgroup *cg)
{
	char buf[8];
	struct sk_err ignored;
	int frozen = 0;
	if (!cg->v2 || cg->dir[0].fd < 0)
		return false;
	if (sk_cgroup_read_at(cg->dir[0].fd, cg->dir[0].path, "cgroup.freeze", buf, sizeof(buf), &ignored) >= 0 &&
	    buf[0] == '1')
		return true;
	return sk_cgroup_events(cg->dir[0].fd, NULL, &frozen) == 0 && frozen == 1;
}

const char *sk_cgroup_frozen_dir(const struct sk_cgroup *cg)
{
	if (cg->at[SK_CG_FREEZER]) {
		const struct sk_cgroup_dir *d = &cg->dir[cg->at[SK_CG_FREEZER] - 1];
		char buf[32];
		struct sk_err ignored;
		/* FREEZING too: a process that joins it freezes all the same. */
		if (d->fd >= 0 && sk_cgroup_read_at(d->fd, d->path, "freezer.state", buf, sizeof(buf), &ignored) >= 0 &&
		    strncmp(buf, "THAWED", 6) != 0)
			return d->path;
	}
	return v2_frozen(cg) ? cg->dir[0].path : NULL;
}

int sk_cgroup_pid_frozen(pid_t pid, char *where, size_t cap)
{
	const struct sk_cgroup_host *host;
	struct sk_err ignored;
	char file[64], *text;
	size_t len;
	struct sk_cgroup_own own;
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	if (sk_cgroup_host(&host, &ignored) < 0 ||
	    sk_read_file_at(AT_FDCWD, file, NULL, 64 * 1024, &text, &len, &ignored) < 0)
		return 0;
	if (sk_cgroup_own_parse(host, text, &own, &ignored) < 0)
		return 0;
	int frozen = 0;
	for (size_t i = 0; i < host->n && !frozen; i++) {
		const struct sk_cgroup_hier *h = &host->h[i];
		if (!own.rel[i] || !(h->v2 || has(h->ctrls, SK_CG_FREEZER)))
			continue;
		char dir[PATH_MAX], buf[128];
		if (snprintf(dir, sizeof(dir), "%s%s", h->mount, strcmp(own.rel[i], "/") ? own.rel[i] : "") >=
		    (int)sizeof(dir))
			continue;
		snprintf(file, sizeof(file), "%s", h->v2 ? "cgroup.events" : "freezer.state");
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (sk_cgroup_read_at(fd, dir, file, buf, sizeof(buf), &ignored) >= 0)
			frozen = h->v2 ? sk_cgroup_keyed(buf, "frozen") == 1 : strncmp(buf, "THAWED", 6) != 0;
		close(fd);
		if (frozen)
			snprintf(where, cap, "%s", dir);
	}
	sk_cgroup_own_free(&own);
	return frozen;
}

uint64_t sk_cgroup_oom_kills(const struct sk_cgroup *cg)
{
	bool v2;
	const char *path;
	int fd = sk_cgroup_ctrl_fd(cg, SK_CG_MEMORY, &v2, &path);
	char *text = NULL;
	size_t len;
	struct sk_err ignored;
	if (fd < 0 || sk_cgroup_read_all(fd, path, v2 ? "memory.events" : "memory.oom_control", &text, &len,
					 &ignored) < 0)
		return 0;
	int64_t n = sk_cgroup_keyed(text, "oom_kill");
	free(text);
	return n > 0 ? (uint64_t)n : 0;
}

int sk_cgroup_freeze(const struct sk_cgroup *cg, bool freeze, struct sk_err *err)
{
	/* On a hybrid host cgroup2 freezes too: a thaw undoes both. */
	if (!freeze && cg->at[SK_CG_FREEZER] && v2_frozen(cg) &&
	    sk_cg2_freeze(cg->dir[0].fd, cg->dir[0].path, false, err) < 0)
		return -1;
	if (cg->at[SK_CG_FREEZER]) {
		const struct sk_cgroup_dir *d = &cg->dir[cg->at[SK_CG_FREEZER] - 1];
		return sk_cg1_freeze(d->fd, d->path, freeze, err);
	}
	if (cg->v2)
		return sk_cg2_freeze(cg->dir[0].fd, cg->dir[0].path, freeze, err);
	return sk_error(err, 0, "cgroup \"%s\": no freezer (no freezer hierarchy is mounted and there is no cgroup2)",
			sk_cgroup_path(cg));
}

int sk_cgroup_is_frozen(const char *path, const struct sk_kv *v1, size_t n_v1)
{
	for (size_t i = 0; i < n_v1; i++)
		if (has(sk_cgroup_v1_ctrls(v1[i].key), SK_CG_FREEZER) && sk_cg1_frozen(v1[i].value))
			return 1;
	/* On a hybrid host, path is the cgroup2 directory, whose own freezer
	 * stops the processes as well. */
	char file[PATH_MAX], buf[8];
	struct sk_err ignored;
	if ((size_t)snprintf(file, sizeof(file), "%s/cgroup.freeze", path) >= sizeof(file) ||
	    sk_read_small_at(AT_FDCWD, file, buf, sizeof(buf), &ignored) < 0)
		return 0;
	return buf[0] == '1';
}

/* ---- resources ----------------------------------------------------------------------- */

/* The cgroup2 directory as mount + rel, for enabling controllers. */
static int v2_split(const struct sk_cgroup *cg, char *mount, size_t size, const char **rel, struct sk_err *err)
{
	const struct sk_cgroup_dir *d = &cg->dir[0];
	size_t ml = d->mount_len;
	if (!ml) {
		const char *m;
		if (sk_cgroup_mount_find(&m, err) < 0)
			return -1;
		ml = strlen(m);
		if (strncmp(d->path, m, ml) || d->path[ml] != '/')
			return sk_error(err, 0, "cgroup \"%s\" is not below the cgroup2 mount %s", d->path, m);
	}
	if (ml >= size)
		return sk_error(err, ENAMETOOLONG, "cgroup \"%s\"", d->path);
	snprintf(mount, size, "%.*s", (int)ml, d->path);
	*rel = d->path + ml;
	return 0;
}

int sk_cgroup_apply(const struct sk_cgroup *cg, const struct sk_resources *r, bool update, struct sk_err *err)
{
	unsigned v1 = v1_mask(cg);
	struct sk_resources done;
	if (r && update) {
		/* Values that go together, completed from the files. */
		done = *r;
		static const enum sk_cgroup_ctrl pair[] = { SK_CG_CPU, SK_CG_MEMORY };
		for (size_t i = 0; i < 2; i++) {
			const struct sk_cgroup_dir *d = serving(cg, pair[i]);
			if (d && cg->at[pair[i]])
				sk_cg1_complete(d->fd, pair[i], &done);
			else if (d)
				sk_cg2_complete(d->fd, pair[i], &done);
		}
		r = &done;
		/* The unit's view first: daemon-reload re-applies it. */
		if (cg->sd.name && sk_cgroup_unit_set(cg, r, err) < 0)
			return -1;
	}
	struct sk_cgroup_needs needs;
	if (sk_cgroup_needs(r, v1, cg->v2, &needs, err) < 0)
		return -1;
	unsigned v2 = needs.mask & ~v1;
	if (v2 && !cg->v2)
		return no_home(&needs, v2, err);
	if (v2) {
		char mount[PATH_MAX];
		const char *rel = NULL;
		if (v2_split(cg, mount, sizeof(mount), &rel, err) < 0 || sk_cg2_enable(mount, rel, v2, &needs, err) < 0)
			return -1;
	}
	if (r) {
		static const enum sk_cgroup_ctrl order[] = {
			SK_CG_PIDS, SK_CG_MEMORY, SK_CG_IO, SK_CG_CPU, SK_CG_CPUSET, SK_CG_HUGETLB, SK_CG_RDMA,
			SK_CG_NET_CLS, SK_CG_NET_PRIO,
		};
		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			enum sk_cgroup_ctrl c = order[i];
			const struct sk_cgroup_dir *d = serving(cg, c);
			if (!has(needs.mask, c) || !d)
				continue;
			if ((cg->at[c] ? sk_cg1_write : sk_cg2_write)(d->fd, d->path, c, r, update, err) < 0)
				return -1;
		}
		if (r->n_unified && sk_cg2_write_unified(cg->dir[0].fd, cg->dir[0].path, r, err) < 0)
			return -1;
	}
	if (update && (!r || !r->n_devices))
		return 0;
	const struct sk_device_rule *rules = r ? r->devices : NULL;
	size_t n = r ? r->n_devices : 0;
	const struct sk_cgroup_dir *d = cg->at[SK_CG_DEVICES] ? &cg->dir[cg->at[SK_CG_DEVICES] - 1] : NULL;
	int dr = 1;
	if (d)
		dr = sk_cg1_devices(d->fd, d->path, rules, n, err);
	else if (cg->v2)
		dr = sk_cg2_devices(cg->dir[0].fd, cg->dir[0].path, rules, n, update || !cg->created, err);
	/* Device rules need CAP_SYS_ADMIN (v1 files, bpf): a rootless caller
	 * goes without, as with runc; its container can make no node and
	 * opens the host's bound nodes with the caller's own rights. */
	if (dr < 0 && err->errnum == EPERM && sk_rootless_auto()) {
		sk_debug("rootless: no device rules (%s)", err->msg);
		return 0;
	}
	if (dr <= 0)
		return dr;
	return sk_error(err, 0, "cgroup \"%s\": no devices hierarchy and no cgroup2: access to devices cannot be "
			"restricted", sk_cgroup_path(cg));
}
