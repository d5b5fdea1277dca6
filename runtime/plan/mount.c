/* mount: compile config.json's mounts into a plan (parent side), and
 * prepare the idmapped trees before the clone.  See mount.h. */
#include "skiff/plan/mount.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff/cgroup/cgroup.h"
#include "skiff/plan/inroot.h"

/* mount(2) copies at most a page of fs data. */
#define DATA_MAX 4095

/* ---- option tables -------------------------------------------------------- */

/* What libmount's Linux table does not have: runc's recursive
 * mount_setattr options, idmapped mounts and tmpcopyup. */
enum ext_kind { EXT_SET, EXT_CLR, EXT_ATIME, EXT_IDMAP, EXT_RIDMAP, EXT_COPYUP };

static const struct { const char *name; enum ext_kind kind; uint64_t attr; } ext_opts[] = {
	{ "rro", EXT_SET, MOUNT_ATTR_RDONLY },
	{ "rrw", EXT_CLR, MOUNT_ATTR_RDONLY },
	{ "rnosuid", EXT_SET, MOUNT_ATTR_NOSUID },
	{ "rsuid", EXT_CLR, MOUNT_ATTR_NOSUID },
	{ "rnodev", EXT_SET, MOUNT_ATTR_NODEV },
	{ "rdev", EXT_CLR, MOUNT_ATTR_NODEV },
	{ "rnoexec", EXT_SET, MOUNT_ATTR_NOEXEC },
	{ "rexec", EXT_CLR, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", EXT_SET, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", EXT_CLR, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", EXT_SET, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", EXT_CLR, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rnoatime", EXT_ATIME, MOUNT_ATTR_NOATIME },
	{ "rstrictatime", EXT_ATIME, MOUNT_ATTR_STRICTATIME },
	{ "rrelatime", EXT_ATIME, MOUNT_ATTR_RELATIME },
	/* "atime" means the kernel's default, which is relatime. */
	{ "ratime", EXT_ATIME, MOUNT_ATTR_RELATIME },
	{ "idmap", EXT_IDMAP, 0 },
	{ "ridmap", EXT_RIDMAP, 0 },
	{ "tmpcopyup", EXT_COPYUP, 0 },
};

/* The entry of a libmount table for opt ("mode=1" matches "mode="; "x-foo"
 * matches the prefix entry "x-"). */
static const struct libmnt_optmap *map_find(const struct libmnt_optmap *map, const char *opt)
{
	size_t n = strcspn(opt, "=");
	for (; map && map->name; map++) {
		size_t len = strcspn(map->name, "=[");
		if (map->mask & MNT_PREFIX) {
			if (!strncmp(opt, map->name, len))
				return map;
		} else if (len == n && !strncmp(opt, map->name, n)) {
			return map;
		}
	}
	return NULL;
}

/* libmount is opened on first use, by create only: the other commands
 * never parse mount options and so skip loading it and what it pulls in
 * (libblkid, libselinux, libpcre2: 4 of skiff's 7 libraries, about 17 ms
 * of every exec under the VM's emulated CPU). */
#define LIBMOUNT_SONAME "libmount.so.1"

static const struct libmnt_optmap *optmap(int id, struct sk_err *err)
{
	static __typeof__(&mnt_get_builtin_optmap) get;
	if (!get) {
		void *lib = dlopen(LIBMOUNT_SONAME, RTLD_NOW | RTLD_LOCAL);
		void *sym = lib ? dlsym(lib, "mnt_get_builtin_optmap") : NULL;
		if (!sym) {
			sk_error(err, 0, "load %s: %s", LIBMOUNT_SONAME, dlerror());
			return NULL;
		}
		get = (__typeof__(get))sym;
	}
	const struct libmnt_optmap *map = get(id);
	if (!map)
		sk_error(err, 0, "%s: no built-in option table %d", LIBMOUNT_SONAME, id);
	return map;
}

/* ---- fs data -------------------------------------------------------------- */

struct strbuf { char *s; size_t len, cap; };

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			return -1;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int sb_adds(struct strbuf *b, const char *s) { return sb_add(b, s, strlen(s)); }

/* Where an overlay option's directories come from: at build, relative
 * ones are kept as given (rel is set); in the init, each relative one is
 * opened beneath the bundle and named by its fd (sk_mount_overlay_data). */
struct layers {
	int bundle_fd;                /* -1 at build */
	size_t index;                 /* the step's mounts[] index, for messages */
	int *fds;                     /* the init: the layers opened */
	size_t n_fds;
	bool rel;
	struct sk_err *err;
};

/* A relative layer path, opened beneath the bundle: no "..", absolute
 * symlink or magic link may take it out (an untrusted image could hold a
 * symlink where the config names a directory). */
static int open_layer(struct layers *l, const char *opt, const char *p, size_t n, char *fdpath, size_t cap)
{
	char path[PATH_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(path); i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		path[k++] = p[i];
	}
	path[k] = '\0';
	int *fds = realloc(l->fds, (l->n_fds + 1) * sizeof(int));
	if (!fds)
		return sk_error(l->err, ENOMEM, "mounts[%zu]", l->index);
	l->fds = fds;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, l->bundle_fd, path, &how, sizeof(how));
	if (fd < 0) {
		int e = errno;
		if (e == EXDEV)
			return sk_error(l->err, e, "mounts[%zu].options: overlay %.*s \"%s\" leads out of the bundle",
					l->index, (int)strcspn(opt, "="), opt, path);
		return sk_error(l->err, e, "mounts[%zu].options: overlay %.*s \"%s\"", l->index,
				(int)strcspn(opt, "="), opt, path);
	}
	fds[l->n_fds++] = fd;
	snprintf(fdpath, cap, "/proc/self/fd/%d", fd);
	return 0;
}

static int nomem(struct layers *l)
{
	return sk_error(l->err, ENOMEM, "mounts[%zu].options", l->index);
}

static int add_overlay_path(struct strbuf *b, const char *opt, const char *p, size_t n, struct layers *l)
{
	if (!n || p[0] == '/' || l->bundle_fd < 0) {
		l->rel = l->rel || (n && p[0] != '/');
		return sb_add(b, p, n) ? nomem(l) : 0;
	}
	char fdpath[32];
	if (open_layer(l, opt, p, n, fdpath, sizeof(fdpath)) < 0)
		return -1;
	return sb_adds(b, fdpath) ? nomem(l) : 0;
}

static bool layer_opt(const char *opt)
{
	return !strncmp(opt, "upperdir=", 9) || !strncmp(opt, "workdir=", 8) || !strncmp(opt, "lowerdir=", 9);
}

/* Append opt (len bytes) to the data, with its relative overlay
 * directories resolved (struct layers).  lowerdir is a ':' list ("\:"
 * escapes a colon; "::" separates data-only layers, kept as is). */
static int add_data_opt(struct strbuf *b, const char *opt, size_t len, bool overlay, struct layers *l)
{
	if (b->len && sb_add(b, ",", 1))
		return nomem(l);
	if (!overlay || !layer_opt(opt))
		return sb_add(b, opt, len) ? nomem(l) : 0;
	size_t k = strcspn(opt, "=") + 1;
	if (sb_add(b, opt, k))
		return nomem(l);
	const char *p = opt + k, *end = opt + len;
	bool list = opt[0] == 'l';
	for (;;) {
		size_t n = 0;
		while (p + n < end && (!list || p[n] != ':')) {
			if (p[n] == '\\' && p + n + 1 < end)
				n++;
			n++;
		}
		if (add_overlay_path(b, opt, p, n, l) < 0)
			return -1;
		if (p + n >= end)
			return 0;
		if (sb_add(b, ":", 1))
			return nomem(l);
		p += n + 1;
	}
}

static bool has_unescaped_comma(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == ',')
			return true;
	}
	return false;
}

/* Whether s ends in a '\\' that escapes nothing: in the data it would
 * escape the ',' before the next option, which overlayfs then reads as part
 * of this one (a directory the bundle rewrite never saw). */
static bool has_lone_trailing_escape(const char *s)
{
	size_t n = strlen(s), k = 0;
	while (k < n && s[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* ---- plan building ---------------------------------------------------------- */

static struct sk_idmap *dup_maps(const struct sk_idmap *m, size_t n)
{
	struct sk_idmap *c = malloc(n * sizeof(*c));
	if (c)
		memcpy(c, m, n * sizeof(*c));
	return c;
}

static int build_step(const struct sk_spec *spec, const struct sk_mount *m, size_t i,
		      const char *bundle, struct sk_mount_step *st, struct sk_err *err)
{
	const char *type = m->type && *m->type ? m->type : NULL;
	bool overlay = type && !strcmp(type, "overlay");
	bool bind = type && !strcmp(type, "bind");
	bool idmap_opt = false, ridmap_opt = false;
	struct strbuf data = { 0 };
	const struct libmnt_optmap *linux_map = optmap(MNT_LINUX_MAP, err);
	const struct libmnt_optmap *user_map = linux_map ? optmap(MNT_USERSPACE_MAP, err) : NULL;
	size_t idmap_opt_at = 0;
	if (!user_map)
		goto fail;

	for (size_t j = 0; j < m->n_options; j++) {
		const char *o = m->options[j];
		if (!*o) {
			sk_error(err, 0, "mounts[%zu].options[%zu]: empty option", i, j);
			goto fail;
		}
		if (has_unescaped_comma(o)) {
			sk_error(err, 0, "mounts[%zu].options[%zu]: \"%s\": one option per element (no ',')", i, j, o);
			goto fail;
		}
		if (has_lone_trailing_escape(o)) {
			sk_error(err, 0, "mounts[%zu].options[%zu]: \"%s\": ends in a lone '\\'", i, j, o);
			goto fail;
		}
		size_t e;
		for (e = 0; e < sizeof(ext_opts) / sizeof(ext_opts[0]); e++)
			if (!strcmp(o, ext_opts[e].name))
				break;
		if (e < sizeof(ext_opts) / sizeof(ext_opts[0])) {
			uint64_t a = ext_opts[e].attr;
			switch (ext_opts[e].kind) {
			case EXT_SET:
				st->attr_set |= a;
				st->attr_clr &= ~a;
				break;
			case EXT_CLR:
				st->attr_clr |= a;
				st->attr_set &= ~a;
				break;
			case EXT_ATIME:
				/* The kernel wants the whole atime field cleared and one value set. */
				st->attr_clr |= MOUNT_ATTR__ATIME;
				st->attr_set = (st->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | a;
				break;
			case EXT_IDMAP:
			case EXT_RIDMAP:
				idmap_opt = true;
				ridmap_opt = ext_opts[e].kind == EXT_RIDMAP;
				idmap_opt_at = j;
				break;
			case EXT_COPYUP:
				st->copyup = true;
				break;
			}
			continue;
		}
		const struct libmnt_optmap *ent = map_find(linux_map, o);
		if (ent) {
			unsigned long id = (unsigned long)ent->id;
			if (o[strlen(ent->name)] == '=') {
				sk_error(err, 0, "mounts[%zu].options[%zu]: \"%s\": \"%s\" takes no value", i, j, o, ent->name);
				goto fail;
			}
			if (id & (MS_REMOUNT | MS_MOVE)) {
				sk_error(err, 0, "mounts[%zu].options[%zu]: \"%s\": not supported for a container mount", i, j, o);
				goto fail;
			}
			if (id & MS_PROPAGATION) {
				if (st->n_propagation == SK_MOUNT_MAX_PROPAGATION) {
					sk_error(err, 0, "mounts[%zu].options[%zu]: more than %d propagation options", i, j,
						 SK_MOUNT_MAX_PROPAGATION);
					goto fail;
				}
				st->propagation[st->n_propagation++] = id;
			} else if (ent->mask & MNT_INVERT) {
				st->flags &= ~id;
			} else {
				st->flags |= id;
				if (id & MS_BIND)
					bind = true;
			}
			continue;
		}
		if (map_find(user_map, o))
			continue;
		struct layers l = { .bundle_fd = -1, .index = i, .err = err };
		if (add_data_opt(&data, o, strlen(o), overlay, &l) < 0)
			goto fail;
		if (l.rel && !st->overlay_bundle && !(st->overlay_bundle = strdup(bundle))) {
			sk_error(err, ENOMEM, "mounts[%zu]", i);
			goto fail;
		}
	}
	if (data.len > DATA_MAX) {
		sk_error(err, 0, "mounts[%zu].options: fs data longer than %d bytes", i, DATA_MAX);
		goto fail;
	}

	char dest[PATH_MAX];
	if (sk_path_clean(dest, sizeof(dest), m->destination, err) < 0) {
		sk_error_wrap(err, "mounts[%zu].destination", i);
		goto fail;
	}
	if (!strcmp(dest, "/")) {
		sk_error(err, 0, "mounts[%zu].destination: \"%s\": cannot mount over the root", i, m->destination);
		goto fail;
	}
	if (!bind && !type) {
		sk_error(err, 0, "mounts[%zu].type: required unless the options hold \"bind\" or \"rbind\"", i);
		goto fail;
	}
	if (st->copyup && (bind || strcmp(type, "tmpfs"))) {
		sk_error(err, 0, "mounts[%zu].options: \"tmpcopyup\" is only for tmpfs mounts", i);
		goto fail;
	}

	bool has_maps = m->n_uid_mappings || m->n_gid_mappings;
	if (has_maps || idmap_opt) {
		if (!bind) {
			sk_error(err, 0, "mounts[%zu]: idmapped mounts (%s) need a bind mount", i,
				 has_maps ? "uidMappings/gidMappings" : "\"idmap\"");
			goto fail;
		}
		const struct sk_idmap *um = m->uid_mappings, *gm = m->gid_mappings;
		size_t nu = m->n_uid_mappings, ng = m->n_gid_mappings;
		if (!has_maps && spec->has_linux) {
			/* runc: idmap without mappings uses the container's. */
			um = spec->linux_.uid_mappings, nu = spec->linux_.n_uid_mappings;
			gm = spec->linux_.gid_mappings, ng = spec->linux_.n_gid_mappings;
		}
		if (!nu || !ng) {
			if (has_maps)
				sk_error(err, 0, "mounts[%zu]: an idmapped mount needs both uidMappings and gidMappings", i);
			else
				sk_error(err, 0, "mounts[%zu].options[%zu]: \"%s\": no uidMappings/gidMappings in the mount "
					 "or in linux", i, idmap_opt_at, m->options[idmap_opt_at]);
			goto fail;
		}
		st->idmap = true;
		st->idmap_recursive = ridmap_opt || (!idmap_opt && (st->flags & MS_REC));
		st->uid_map = dup_maps(um, nu);
		st->gid_map = dup_maps(gm, ng);
		st->n_uid_map = nu;
		st->n_gid_map = ng;
		if (!st->uid_map || !st->gid_map) {
			sk_error(err, ENOMEM, "mounts[%zu]", i);
			goto fail;
		}
	}

	st->index = i;
	st->destination = strdup(dest);
	if (bind) {
		st->kind = SK_MOUNT_BIND;
		st->flags |= MS_BIND;
		if (!m->source || !*m->source) {
			sk_error(err, 0, "mounts[%zu].source: required for a bind mount", i);
			goto fail;
		}
		if (m->source[0] == '/') {
			st->source = strdup(m->source);
		} else if (asprintf(&st->source, "%s/%s", bundle, m->source) < 0) {
			st->source = NULL;
		}
	} else {
		st->type = strdup(type);
		st->source = strdup(m->source && *m->source ? m->source : type);
		if (!strcmp(type, "tmpfs"))
			st->kind = SK_MOUNT_TMPFS;
		else if (!strcmp(type, "sysfs"))
			st->kind = SK_MOUNT_SYSFS;
		else if (!strcmp(type, "devpts"))
			st->kind = SK_MOUNT_DEVPTS;
		else if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"))
			st->kind = SK_MOUNT_CGROUP;
		else
			st->kind = SK_MOUNT_GENERIC;
	}
	if (!st->destination || !st->source || (!bind && !st->type)) {
		sk_error(err, ENOMEM, "mounts[%zu]", i);
		goto fail;
	}
	st->data = data.s;
	return 0;
fail:
	free(data.s);
	return -1;
}

static void step_free(struct sk_mount_step *st)
{
	free(st->source);
	free(st->destination);
	free(st->type);
	free(st->data);
	free(st->uid_map);
	free(st->gid_map);
	free(st->overlay_bundle);
	if (st->tree_fd >= 0)
		close(st->tree_fd);
}

void sk_mount_plan_free(struct sk_mount_plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		step_free(&plan->steps[i]);
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}

int sk_mount_plan_build(const struct sk_spec *spec, const char *bundle_abs,
			struct sk_mount_plan *out, struct sk_err *err)
{
	struct sk_mount_plan p = { 0 };
	memset(out, 0, sizeof(*out));

	const char *rp = spec->has_linux ? spec->linux_.rootfs_propagation : NULL;
	if (rp) {
		const struct libmnt_optmap *map = optmap(MNT_LINUX_MAP, err);
		if (!map)
			return -1;
		const struct libmnt_optmap *ent = map_find(map, rp);
		if (!ent || !((unsigned long)ent->id & MS_PROPAGATION) || strchr(rp, '='))
			return sk_error(err, 0, "linux.rootfsPropagation: \"%s\": not a propagation mode", rp);
		p.has_root_propagation = true;
		p.root_propagation = (unsigned long)ent->id;
	}
	if (spec->n_mounts) {
		p.steps = calloc(spec->n_mounts, sizeof(*p.steps));
		if (!p.steps)
			return sk_error(err, ENOMEM, "mounts");
	}
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct sk_mount_step *st = &p.steps[i];
		st->tree_fd = -1;
		p.n_steps = i + 1;
		if (build_step(spec, &spec->mounts[i], i, bundle_abs, st, err) < 0) {
			sk_mount_plan_free(&p);
			return -1;
		}
		if (!strcmp(st->destination, "/dev")) {
			p.dev_is_bind = st->kind == SK_MOUNT_BIND;
			/* Its submounts and devices are made in it first. */
			p.dev_readonly = !p.dev_is_bind && (st->flags & MS_RDONLY);
			if (p.dev_readonly)
				st->flags &= ~MS_RDONLY;
		}
		else if (!strcmp(st->destination, "/dev/pts"))
			p.has_devpts = st->kind == SK_MOUNT_DEVPTS;
	}
	*out = p;
	return 0;
}

/* ---- prepare (parent, host) -------------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct sk_idmap *m, size_t n, struct sk_err *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	/* Three u32 and their separators: at most 33 bytes a line. */
	char *buf = malloc(n * 34 + 1);
	if (!buf)
		return sk_error(err, ENOMEM, "%s", file);
	size_t len = 0;
	for (size_t k = 0; k < n; k++)
		len += (size_t)sprintf(buf + len, "%u %u %u\n", m[k].container_id, m[k].host_id, m[k].size);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	/* The kernel takes a map in one write() only. */
	ssize_t w = fd < 0 ? -1 : write(fd, buf, len);
	int e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (w != (ssize_t)len)
		return sk_error(err, w < 0 ? e : EIO, "write %s", file);
	return 0;
}

/* A user namespace holding the step's mappings: a child unshares one and
 * waits while we write its maps and open it; then it is killed. */
static int make_userns(const struct sk_mount_step *st, int *out, struct sk_err *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return sk_error(err, errno, "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return sk_error(err, e, "fork");
	}
	if (pid == 0) {
		int e = unshare(CLONE_NEWUSER) < 0 ? errno : 0;
		if (write(sp[1], &e, sizeof(e)) == (ssize_t)sizeof(e) && !e)
			while (read(sp[1], &e, sizeof(e)) < 0 && errno == EINTR)
				;
		_exit(0);
	}
	close(sp[1]);
	int rc = -1, e = 0;
	ssize_t n;
	while ((n = read(sp[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(e) || e) {
		sk_error(err, n < 0 ? errno : e ? e : EPIPE, "unshare a user namespace");
		goto out;
	}
	if (write_map(pid, "uid_map", st->uid_map, st->n_uid_map, err) < 0 ||
	    write_map(pid, "gid_map", st->gid_map, st->n_gid_map, err) < 0)
		goto out;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	*out = open(path, O_RDONLY | O_CLOEXEC);
	if (*out < 0) {
		sk_error(err, errno, "open \"%s\"", path);
		goto out;
	}
	rc = 0;
out:
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(sp[0]);
	return rc;
}

static bool same_maps(const struct sk_mount_step *a, const struct sk_mount_step *b)
{
	return a->n_uid_map == b->n_uid_map && a->n_gid_map == b->n_gid_map &&
	       !memcmp(a->uid_map, b->uid_map, a->n_uid_map * sizeof(*a->uid_map)) &&
	       !memcmp(a->gid_map, b->gid_map, a->n_gid_map * sizeof(*a->gid_map));
}

int sk_mount_overlay_data(const struct sk_mount_step *st, char **data, int **fds, size_t *n_fds,
			  struct sk_err *err)
{
	int bfd = open(st->overlay_bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return sk_error(err, errno, "mounts[%zu]: open the bundle \"%s\"", st->index, st->overlay_bundle);
	struct layers l = { .bundle_fd = bfd, .index = st->index, .err = err };
	struct strbuf out = { 0 };
	int r = 0;
	for (const char *p = st->data; r == 0 && *p;) {
		size_t n = 0;
		while (p[n] && p[n] != ',') {
			if (p[n] == '\\' && p[n + 1])
				n++;
			n++;
		}
		r = add_data_opt(&out, p, n, true, &l);
		p += n + (p[n] == ',');
	}
	close(bfd);
	if (r == 0 && out.len > DATA_MAX)
		r = sk_error(err, 0, "mounts[%zu].options: fs data longer than %d bytes", st->index, DATA_MAX);
	if (r < 0) {
		for (size_t i = 0; i < l.n_fds; i++)
			close(l.fds[i]);
		free(l.fds);
		free(out.s);
		return -1;
	}
	*data = out.s;
	*fds = l.fds;
	*n_fds = l.n_fds;
	return 0;
}

int sk_mount_plan_prepare(struct sk_mount_plan *plan, bool host_binds, struct sk_err *err)
{
	int userns = -1, rc = -1;
	const struct sk_mount_step *userns_of = NULL;

	for (size_t i = 0; i < plan->n_steps; i++) {
		struct sk_mount_step *st = &plan->steps[i];
		/* A cgroup mount: the v1 hierarchies when the host has any
		 * (runc's layout there), else the cgroup2 mount. */
		if (st->kind == SK_MOUNT_CGROUP && !plan->cgroup2_mount && !plan->n_cg1 &&
		    (sk_cgroup_v1_mounts(&plan->cg1, &plan->n_cg1, err) < 0 ||
		     (!plan->n_cg1 && sk_cgroup_mount_find(&plan->cgroup2_mount, err) < 0))) {
			sk_error_wrap(err, "mounts[%zu]", st->index);
			goto out;
		}
		if (st->tree_fd >= 0)
			continue;
		if (!st->idmap) {
			if (!host_binds || st->kind != SK_MOUNT_BIND)
				continue;
			unsigned rec = (st->flags & MS_REC) ? AT_RECURSIVE : 0;
			st->tree_fd = open_tree(AT_FDCWD, st->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
			if (st->tree_fd < 0) {
				sk_error(err, errno, "mounts[%zu]: source \"%s\"", st->index, st->source);
				goto out;
			}
			continue;
		}
		if (!userns_of || !same_maps(userns_of, st)) {
			if (userns >= 0)
				close(userns);
			userns = -1;
			if (make_userns(st, &userns, err) < 0) {
				sk_error_wrap(err, "mounts[%zu]: idmapped mount", st->index);
				goto out;
			}
			userns_of = st;
		}
		unsigned rec = st->idmap_recursive ? AT_RECURSIVE : 0;
		int fd = open_tree(AT_FDCWD, st->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
		if (fd < 0) {
			sk_error(err, errno, "mounts[%zu]: clone \"%s\" for an idmapped mount", st->index, st->source);
			goto out;
		}
		struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
		if (mount_setattr(fd, "", AT_EMPTY_PATH | rec, &a, sizeof(a)) < 0) {
			sk_error(err, errno, "mounts[%zu]: idmap \"%s\"", st->index, st->source);
			close(fd);
			goto out;
		}
		st->tree_fd = fd;
	}
	rc = 0;
out:
	if (userns >= 0)
		close(userns);
	return rc;
}
