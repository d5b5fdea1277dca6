/* fuzz_mount: mounts[] to the mount plan through sk_mount_plan_build()
 * (runtime/mount.c): option names (libmount's table, opened with dlopen,
 * and skiff's own), propagation, fs data, bundle-relative bind sources and
 * overlay lowerdir/upperdir/workdir, destination cleaning.  The input is
 * text, to reach the option parser without JSON in the way:
 *     line 1: linux.rootfsPropagation (empty: none)
 *     then one block per mount, blocks separated by an empty line:
 *         type (empty: none), source (empty: none), destination, options...
 * The container has one uid and one gid mapping (for "idmap").
 * Beyond the sanitizers: every error is one line; a built plan has cleaned
 * absolute destinations, absolute bind sources, fs data within a page, and
 * absolute overlay directories. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "skiff/mount.h"
#include "skiff/spec.h"

#define BUNDLE "/run/bundle"
#define MAX_MOUNTS 16
#define MAX_LINES 64

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static void check_clean(const char *d)
{
	FUZZ_CHECK(d[0] == '/', "destination \"%s\" not absolute", d);
	FUZZ_CHECK(!strstr(d, "//") && !strstr(d, "/./") && !strstr(d, "/../"), "destination \"%s\" not clean", d);
	size_t n = strlen(d);
	FUZZ_CHECK(n == 1 || (d[n - 1] != '/' && strcmp(d + n - 2, "/.") && (n < 3 || strcmp(d + n - 3, "/.."))),
		   "destination \"%s\" not clean", d);
}

/* Each directory of an overlay option in data is absolute (or empty). */
static void check_overlay(const char *data)
{
	const char *p = data;
	while (p && *p) {
		size_t n = 0;
		while (p[n] && p[n] != ',') {
			if (p[n] == '\\' && p[n + 1])
				n++;
			n++;
		}
		bool lower = !strncmp(p, "lowerdir=", 9);
		size_t k = lower ? 9 : !strncmp(p, "upperdir=", 9) ? 9 : !strncmp(p, "workdir=", 8) ? 8 : 0;
		for (size_t at = k; k && at < n;) {
			size_t m = 0;
			while (at + m < n && !(lower && p[at + m] == ':')) {
				if (p[at + m] == '\\' && at + m + 1 < n)
					m++;
				m++;
			}
			FUZZ_CHECK(m == 0 || p[at] == '/', "overlay directory not absolute in \"%s\"", data);
			at += m + 1;
		}
		p += n + (p[n] == ',');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Text lines; a NUL cannot be in a JSON string, so none here. */
	if (memchr(data, '\0', size))
		return 0;
	const char *in = (const char *)data, *end = in + size;
	struct sk_idmap map = { 0, 100000, 65536 };
	struct sk_spec spec = { .has_linux = true };
	spec.linux_.uid_mappings = spec.linux_.gid_mappings = &map;
	spec.linux_.n_uid_mappings = spec.linux_.n_gid_mappings = 1;
	struct sk_mount mounts[MAX_MOUNTS] = { 0 };
	char *lines[MAX_LINES];
	size_t n_lines = 0;
	size_t n = 0, field = 0;
	bool first = true;

	while (in <= end && n_lines < MAX_LINES) {
		const char *nl = memchr(in, '\n', (size_t)(end - in));
		size_t len = nl ? (size_t)(nl - in) : (size_t)(end - in);
		char *line = dup_n(in, len);
		if (!line)
			goto out;
		lines[n_lines++] = line;
		in += len + 1;
		if (first) {
			first = false;
			spec.linux_.rootfs_propagation = len ? line : NULL;
		} else if (len == 0 && field >= 3) {
			n++;
			field = 0;
		} else if (n < MAX_MOUNTS) {
			struct sk_mount *m = &mounts[n];
			if (field == 0)
				m->type = len ? line : NULL;
			else if (field == 1)
				m->source = len ? line : NULL;
			else if (field == 2)
				m->destination = line;
			else if (m->n_options < MAX_LINES)
				m->n_options++;
			if (field == 3)
				m->options = &lines[n_lines - 1];
			field++;
		}
		if (!nl)
			break;
	}
	spec.mounts = mounts;
	spec.n_mounts = n + (field >= 3 && n < MAX_MOUNTS);

	struct sk_mount_plan plan;
	struct sk_err err = { 0 };
	if (sk_mount_plan_build(&spec, BUNDLE, &plan, &err) < 0) {
		fuzz_check_err(&err, NULL);
		FUZZ_CHECK(fuzz_all_zero(&plan, sizeof(plan)), "plan not left empty after: %s", err.msg);
		goto out;
	}
	FUZZ_CHECK(plan.n_steps == spec.n_mounts, "%zu steps for %zu mounts", plan.n_steps, spec.n_mounts);
	for (size_t i = 0; i < plan.n_steps; i++) {
		const struct sk_mount_step *st = &plan.steps[i];
		check_clean(st->destination);
		FUZZ_CHECK(strcmp(st->destination, "/"), "a mount over the root");
		FUZZ_CHECK(st->source, "step %zu without a source", i);
		FUZZ_CHECK(st->n_propagation <= SK_MOUNT_MAX_PROPAGATION, "%zu propagation changes", st->n_propagation);
		if (st->kind == SK_MOUNT_BIND)
			FUZZ_CHECK(st->source[0] == '/', "bind source \"%s\" not absolute", st->source);
		else
			FUZZ_CHECK(st->type, "step %zu without a type", i);
		if (st->data) {
			FUZZ_CHECK(strlen(st->data) <= 4095, "fs data of %zu bytes", strlen(st->data));
			if (st->type && !strcmp(st->type, "overlay"))
				check_overlay(st->data);
		}
	}
	sk_mount_plan_free(&plan);
out:
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	return 0;
}
