/* The runtime behind a task, from Create's options (rtopts.h). */
#include "rtopts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containerd/runc_options.pb-c.h"
#include "containerd/runtime_options.pb-c.h"
#include "skiff/base/util.h"

#define RUNC_OPTIONS_TYPE "containerd.runc.v1.Options"
#define RUNTIME_OPTIONS_TYPE "runtimeoptions.v1.Options"

bool ctrd_any_is(const Google__Protobuf__Any *opt, const char *type)
{
	if (!opt || !opt->type_url)
		return false;
	size_t tl = strlen(opt->type_url), n = strlen(type);
	return tl >= n && !strcmp(opt->type_url + tl - n, type) && (tl == n || opt->type_url[tl - n - 1] == '/');
}

/* ---- the settings file ---- */

static char *skip_ws(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A "basic" (escapes \\ \" \n \t \r) or 'literal' string at *pp,
 * unescaped in place; *pp is left after it. */
static int toml_string(char **pp, const char **val)
{
	char q = **pp, *r = *pp + 1, *w = r;
	*val = w;
	for (; *r != q; r++) {
		if (!*r)
			return -1;
		if (q == '"' && *r == '\\') {
			static const char from[] = "\\\"ntr", to[] = "\\\"\n\t\r";
			const char *e = *++r ? strchr(from, *r) : NULL;
			if (!e)
				return -1;
			*w++ = to[e - from];
			continue;
		}
		*w++ = *r;
	}
	*pp = r + 1;
	*w = '\0';
	return 0;
}

static const struct {
	const char *toml, *proto;
	size_t off;                  /* a string in struct ctrd_rtopts; SIZE_MAX: systemd_cgroup */
} keys[] = {
	{ "BinaryName", "binary_name", offsetof(struct ctrd_rtopts, binary) },
	{ "Root", "root", offsetof(struct ctrd_rtopts, root) },
	{ "CriuPath", "criu_path", offsetof(struct ctrd_rtopts, criu_path) },
	{ "CriuWorkPath", "criu_work_path", offsetof(struct ctrd_rtopts, criu_work_path) },
	{ "SystemdCgroup", "systemd_cgroup", SIZE_MAX },
};

int ctrd_rtopts_parse(char *text, struct ctrd_rtopts *o, struct sk_err *err)
{
	memset(o, 0, sizeof(*o));
	o->systemd_cgroup = -1;
	unsigned seen = 0;
	int line = 0;
	for (char *p = text, *next; p; p = next) {
		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		size_t len = strlen(p);
		if (len && p[len - 1] == '\r')
			p[len - 1] = '\0';
		p = skip_ws(p);
		if (!*p || *p == '#')
			continue;
		if (*p == '[')
			break; /* a table: no top-level keys after it */
		char *key = p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		       *p == '-')
			p++;
		size_t klen = (size_t)(p - key);
		p = skip_ws(p);
		if (!klen || *p != '=')
			return sk_error(err, EINVAL, "line %d: not Key = value", line);
		p = skip_ws(p + 1);
		size_t k = 0;
		while (k < sizeof(keys) / sizeof(keys[0]) &&
		       !((strlen(keys[k].toml) == klen && !strncmp(keys[k].toml, key, klen)) ||
			 (strlen(keys[k].proto) == klen && !strncmp(keys[k].proto, key, klen))))
			k++;
		if (k == sizeof(keys) / sizeof(keys[0]))
			continue; /* not ours */
		if (seen & (1u << k))
			return sk_error(err, EINVAL, "line %d: %s set twice", line, keys[k].toml);
		seen |= 1u << k;
		if (keys[k].off == SIZE_MAX) {
			if (!strncmp(p, "true", 4))
				o->systemd_cgroup = 1, p += 4;
			else if (!strncmp(p, "false", 5))
				o->systemd_cgroup = 0, p += 5;
			else
				return sk_error(err, EINVAL, "line %d: %s: true or false", line, keys[k].toml);
		} else if ((*p != '"' && *p != '\'') ||
			   toml_string(&p, (const char **)((char *)o + keys[k].off)) < 0) {
			return sk_error(err, EINVAL, "line %d: %s: a string in quotes", line, keys[k].toml);
		}
		p = skip_ws(p);
		if (*p && *p != '#')
			return sk_error(err, EINVAL, "line %d: %s: more after the value", line, keys[k].toml);
	}
	return 0;
}

/* ---- the task's runtime ---- */

/* name (in a buffer of cap bytes) replaced by its path in PATH. */
static int which(char *name, size_t cap)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0 && strlen(buf) < cap) {
			strcpy(name, buf);
			return 0;
		}
		p += n + (p[n] == ':');
	}
	return -1;
}

static int set_path(char **dst, const char *v, const char *what, struct sk_err *err)
{
	if (!v || !*v)
		return 0;
	if (v[0] != '/')
		return sk_error(err, EINVAL, "%s \"%s\": not an absolute path", what, v);
	if (!(*dst = strdup(v)))
		return sk_error(err, ENOMEM, "%s", what);
	return 0;
}

int ctrd_rtopts_apply(struct ctrd_task *t, const Google__Protobuf__Any *opt, const char *ns, struct sk_err *err)
{
	struct ctrd_rtopts o = { .systemd_cgroup = -1 };
	Containerd__Runc__V1__Options *ro = NULL;
	Runtimeoptions__V1__Options *cfg = NULL;
	char *text = NULL;
	int rc = -1;
	if (ctrd_any_is(opt, RUNC_OPTIONS_TYPE)) {
		ro = containerd__runc__v1__options__unpack(NULL, opt->value.len, opt->value.data);
		if (!ro)
			return sk_error(err, EINVAL, "malformed %s", RUNC_OPTIONS_TYPE);
		o = (struct ctrd_rtopts){ ro->binary_name, ro->root, ro->criu_path, ro->criu_work_path,
					  ro->systemd_cgroup };
	} else if (ctrd_any_is(opt, RUNTIME_OPTIONS_TYPE)) {
		cfg = runtimeoptions__v1__options__unpack(NULL, opt->value.len, opt->value.data);
		if (!cfg)
			return sk_error(err, EINVAL, "malformed %s", RUNTIME_OPTIONS_TYPE);
		const char *path = cfg->config_path;
		if (path && *path) {
			if (path[0] != '/') {
				sk_error(err, EINVAL, "config_path \"%s\": not an absolute path", path);
				goto out;
			}
			if (sk_read_file_at(AT_FDCWD, path, NULL, CTRD_RTOPTS_FILE_MAX, &text, NULL, err) < 0)
				goto out;
			if (ctrd_rtopts_parse(text, &o, err) < 0) {
				sk_error_wrap(err, "%s", path);
				goto out;
			}
		}
	}
	ctrd_runtime_default(&t->rt, o.binary, NULL, ns);
	/* Root is the runtimes' parent directory, per namespace (as runc's). */
	if (o.root && *o.root && snprintf(t->rt.root, sizeof(t->rt.root), "%s/%s", o.root, ns) >= (int)sizeof(t->rt.root)) {
		sk_error(err, ENAMETOOLONG, "Root \"%s\"", o.root);
		goto out;
	}
	t->rt.systemd_cgroup = o.systemd_cgroup > 0;
	if (set_path(&t->criu_path, o.criu_path, "CriuPath", err) < 0 ||
	    set_path(&t->criu_work_path, o.criu_work_path, "CriuWorkPath", err) < 0)
		goto out;
	/* The core execs a path: look the name up in PATH now. */
	if (!strchr(t->rt.binary, '/') && which(t->rt.binary, sizeof(t->rt.binary)) < 0) {
		sk_error(err, ENOENT, "runtime %s: not found in PATH", t->rt.binary);
		goto out;
	}
	rc = 0;
out:
	if (ro)
		containerd__runc__v1__options__free_unpacked(ro, NULL);
	if (cfg)
		runtimeoptions__v1__options__free_unpacked(cfg, NULL);
	free(text);
	return rc;
}
