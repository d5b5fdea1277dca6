/* cgroup_v1mount: the host's v1 hierarchies as a container's cgroup mount
 * needs them (see sk_cgroup_v1_mounts in cgroup.h). */
#include "skiff/cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "skiff/base/util.h"
#include "skiff/cgroup/fs.h"

int sk_cgroup_v1_mounts(const struct sk_cgroup_v1_mount **out, size_t *n, struct sk_err *err)
{
	static struct sk_cgroup_v1_mount m[SK_CG_MAX_DIRS];
	static size_t nm;
	static bool done;
	if (!done) {
		const struct sk_cgroup_host *h;
		if (sk_cgroup_host(&h, err) < 0)
			return -1;
		for (size_t i = 0; i < h->n; i++)
			if (!h->h[i].v2)
				m[nm++] = (struct sk_cgroup_v1_mount){ h->h[i].mount, h->h[i].root, h->h[i].name };
		done = true;
	}
	*out = m;
	*n = nm;
	return 0;
}

int sk_cgroup_v1_own_path(const struct sk_cgroup_v1_mount *m, char *out, size_t cap, struct sk_err *err)
{
	char text[8192];
	if (sk_read_small_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text), err) < 0)
		return -1;
	/* id:controllers:path, one a line */
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		char name[48];
		unsigned ctrls;
		if (!sk_cgroup_hier_name(c1 + 1, name, sizeof(name), &ctrls) || strcmp(name, m->name))
			continue;
		const char *path = c2 + 1;
		/* The mount may show a subtree: the path must be inside it. */
		size_t rl = strcmp(m->root, "/") ? strlen(m->root) : 0;
		if (strncmp(path, m->root, rl) || (path[rl] != '/' && path[rl] != '\0'))
			return sk_error(err, 0, "cgroup \"%s\" of %s is outside its mount at %s", path, m->name, m->mount);
		int k = snprintf(out, cap, "%s%s", m->mount, path + rl);
		if (k < 0 || (size_t)k >= cap)
			return sk_error(err, ENAMETOOLONG, "cgroup path in %s", m->mount);
		return 0;
	}
	return sk_error(err, ENOENT, "no %s line in /proc/self/cgroup", m->name);
}
