/* fuzz_mount: mounts[] to the mount plan through sk_mount_plan_build()
 * (runtime/plan/mount.c): option names (libmount's table, opened with dlopen,
 * and skiff's own), propagation, fs data, bundle-relative bind sources and
 * overlay lowerdir/upperdir/workdir, destination cleaning; then, for an
 * overlay with bundle-relative layers, what the init does with its data:
 * sk_mount_overlay_data(), each layer opened beneath a real bundle (a
 * directory made at start, with a few layers and symlinks out of it).
 * The input is text, to reach the option parser without JSON in the way:
 *     line 1: linux.rootfsPropagation (empty: none)
 *     then one block per mount, blocks separated by an empty line:
 *         type (empty: none), source (empty: none), destination, options...
 * The container has one uid and one gid mapping (for "idmap").
 * Beyond the sanitizers: every error is one line; a built plan has cleaned
 * absolute destinations, absolute bind sources, fs data within a page, and
 * an overlay whose data holds a relative layer (read as overlayfs reads
 * it: ',' between options and ':' between lower layers, both escaped by
 * '\\') is marked for the init to resolve; the init's data holds absolute
 * layers only, and leaves no fd open on error. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "skiff/plan/mount.h"
#include "skiff/spec/spec.h"

#define MAX_MOUNTS 16
#define MAX_LINES 64
#define MAX_FD_PROBE 256

static char bundle[64];

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb, (void)type, (void)ftw;
	return remove(path);
}

static void remove_bundle(void)
{
	nftw(bundle, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	strcpy(bundle, "/tmp/skiff-fuzz-mount.XXXXXX");
	FUZZ_CHECK(mkdtemp(bundle), "mkdtemp: %s", strerror(errno));
	int d = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(d >= 0, "open the bundle: %s", strerror(errno));
	static const char *const dirs[] = { "l1", "l2", "up", "w", "rootfs", "rootfs/up", "a:b", "c,d" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		FUZZ_CHECK(mkdirat(d, dirs[i], 0755) == 0, "mkdir %s: %s", dirs[i], strerror(errno));
	FUZZ_CHECK(symlinkat("/", d, "out") == 0 && symlinkat("../..", d, "rootfs/esc") == 0 &&
		   symlinkat("l1", d, "in") == 0, "symlink: %s", strerror(errno));
	close(d);
	atexit(remove_bundle);
	return 0;
}

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

/* Whether overlayfs, given data, would find a relative layer in it. */
static bool overlay_relative(const char *data)
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
			if (m && p[at] != '/')
				return true;
			at += m + 1;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < MAX_FD_PROBE; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* What the init does with an overlay step that has relative layers. */
static void init_overlay(const struct sk_mount_step *st)
{
	int before = open_fds();
	char *data = NULL;
	int *fds = NULL;
	size_t n_fds = 0;
	struct sk_err err = { 0 };
	if (sk_mount_overlay_data(st, &data, &fds, &n_fds, &err) < 0) {
		fuzz_check_err(&err, NULL);
	} else {
		FUZZ_CHECK(!overlay_relative(data), "a relative layer left for the kernel in \"%s\"", data);
		FUZZ_CHECK(strlen(data) <= 4095, "fs data of %zu bytes", strlen(data));
		for (size_t i = 0; i < n_fds; i++) {
			FUZZ_CHECK(fcntl(fds[i], F_GETFD) >= 0, "layer fd %d not open", fds[i]);
			close(fds[i]);
		}
		free(fds);
		free(data);
	}
	FUZZ_CHECK(open_fds() == before, "fds left open by the init's overlay data");
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
	if (sk_mount_plan_build(&spec, bundle, &plan, &err) < 0) {
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
				FUZZ_CHECK(!overlay_relative(st->data) || st->overlay_bundle,
					   "a relative layer in \"%s\" the init will not resolve", st->data);
		}
		if (st->overlay_bundle)
			init_overlay(st);
	}
	sk_mount_plan_free(&plan);
out:
	for (size_t i = 0; i < n_lines; i++)
		free(lines[i]);
	return 0;
}
