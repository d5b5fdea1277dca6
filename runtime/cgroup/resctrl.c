/* resctrl: linux.intelRdt on the resctrl filesystem (resctrl.h). */
#include "skiff/cgroup/resctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/util.h"

#define MAX_SCHEMATA (64 * 1024)

int sk_resctrl_find(const char *mountinfo, char *root, size_t cap, struct sk_err *err)
{
	const char *path = mountinfo ? mountinfo : "/proc/self/mountinfo";
	char *text;
	size_t len;
	if (sk_read_file_at(AT_FDCWD, path, path, 4u << 20, &text, &len, err) < 0)
		return sk_error_wrap(err, "linux.intelRdt");
	int r = sk_error(err, 0, "linux.intelRdt: resctrl is not mounted (no resctrl filesystem in %s)", path);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* "id parent maj:min root mountpoint opts [optional...] - fstype src opts" */
		char *sep = strstr(line, " - "), *f[5];
		if (!sep || strncmp(sep + 3, "resctrl ", 8) != 0)
			continue;
		char *p = line;
		for (int i = 0; i < 5; i++) {
			f[i] = p;
			p = strchr(p, ' ');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (!p || strcmp(f[3], "/") != 0)
			continue;
		/* Escapes (\040) in the mount point: taken as they are; a
		 * resctrl mounted at such a path is not found. */
		if (strchr(f[4], '\\') || strlen(f[4]) >= cap)
			continue;
		snprintf(root, cap, "%s", f[4]);
		memset(err, 0, sizeof(*err));
		r = 0;
		break;
	}
	free(text);
	return r;
}

int sk_resctrl_paths(const char *root, const struct sk_intel_rdt *r, const char *id, struct sk_resctrl *out,
		     struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	int n;
	if (r->clos_id && strcmp(r->clos_id, "/") == 0)
		n = snprintf(out->group, sizeof(out->group), "%s", root);
	else
		n = snprintf(out->group, sizeof(out->group), "%s/%s", root, r->clos_id ? r->clos_id : id);
	out->own_group = !r->clos_id;
	if (n >= (int)sizeof(out->group) ||
	    (r->enable_monitoring &&
	     snprintf(out->mon, sizeof(out->mon), "%s/mon_groups/%s", out->group, id) >= (int)sizeof(out->mon)))
		return sk_error(err, ENAMETOOLONG, "linux.intelRdt: resctrl path under \"%s\"", root);
	return 0;
}

/* The schemata lines of r, in the spec's order, newline-terminated. */
static char *lines_of(const struct sk_intel_rdt *r)
{
	size_t cap = 1;
	const char *one[2] = { r->l3_cache_schema, r->mem_bw_schema };
	for (int i = 0; i < 2; i++)
		cap += one[i] ? strlen(one[i]) + 1 : 0;
	for (size_t i = 0; i < r->n_schemata; i++)
		cap += strlen(r->schemata[i]) + 1;
	char *s = malloc(cap), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < 2; i++)
		if (one[i])
			p += sprintf(p, "%s\n", one[i]);
	for (size_t i = 0; i < r->n_schemata; i++)
		p += sprintf(p, "%s\n", r->schemata[i]);
	*p = '\0';
	return s;
}

/* Without blanks: resctrl pads its lines ("    L3:0=7f0;1=1f"). */
static void squeeze(char *s)
{
	char *o = s;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			*o++ = *s;
	*o = '\0';
}

/* Each wanted line is a line of the group's schemata file. */
static int compare(const struct sk_resctrl *g, char *want, struct sk_err *err)
{
	char path[PATH_MAX + 16], *have;
	size_t len;
	snprintf(path, sizeof(path), "%s/schemata", g->group);
	if (sk_read_file_at(AT_FDCWD, path, path, MAX_SCHEMATA, &have, &len, err) < 0)
		return sk_error_wrap(err, "linux.intelRdt");
	squeeze(have);
	int r = 0;
	for (char *line = want, *next; r == 0 && *line; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		squeeze(line);
		bool found = false;
		for (const char *h = have; !found && h && *h;) {
			size_t l = strcspn(h, "\n");
			found = l == strlen(line) && strncmp(h, line, l) == 0;
			h = h[l] ? h + l + 1 : NULL;
		}
		if (!found)
			r = sk_error(err, 0, "linux.intelRdt: group \"%s\" exists and its schemata lack \"%s\"", g->group,
				     line);
	}
	free(have);
	return r;
}

static int write_str(const char *dir, const char *file, const char *s, struct sk_err *err)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	/* O_CREAT: resctrl makes its files itself, and a fake tree (the unit
	 * tests) gets them. */
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return sk_error(err, errno, "linux.intelRdt: open \"%s\"", path);
	int r = sk_write_all(fd, s, strlen(s));
	int e = errno;
	close(fd);
	return r < 0 ? sk_error(err, e, "linux.intelRdt: write \"%s\" to \"%s\"", s, path) : 0;
}

int sk_resctrl_apply(const struct sk_resctrl *g, const struct sk_intel_rdt *r, pid_t pid, struct sk_err *err)
{
	char *want = lines_of(r);
	if (!want)
		return sk_error(err, ENOMEM, "linux.intelRdt");
	bool have_lines = *want;
	int rc = -1;
	struct stat sb;
	bool exists = stat(g->group, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (g->own_group || (have_lines && !exists)) {
		if (mkdir(g->group, 0755) < 0) {
			sk_error(err, errno, "linux.intelRdt: make group \"%s\"", g->group);
			goto out;
		}
		if (have_lines && write_str(g->group, "schemata", want, err) < 0)
			goto out;
	} else if (have_lines) {
		if (compare(g, want, err) < 0)
			goto out;
	} else if (!exists) {
		sk_error(err, ENOENT, "linux.intelRdt.closID: no group \"%s\"", g->group);
		goto out;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (write_str(g->group, "tasks", buf, err) < 0)
		goto out;
	if (*g->mon) {
		if (mkdir(g->mon, 0755) < 0) {
			sk_error(err, errno, "linux.intelRdt.enableMonitoring: make \"%s\"", g->mon);
			goto out;
		}
		if (write_str(g->mon, "tasks", buf, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(want);
	return rc;
}

int sk_resctrl_remove(const char *group, const char *mon, struct sk_err *err)
{
	if (mon && *mon && rmdir(mon) < 0 && errno != ENOENT)
		return sk_error(err, errno, "linux.intelRdt: remove \"%s\"", mon);
	if (group && *group && rmdir(group) < 0 && errno != ENOENT)
		return sk_error(err, errno, "linux.intelRdt: remove \"%s\"", group);
	return 0;
}
