/* skiff validate: the checks create makes before touching the system --
 * config.json parsed and validated, the rootfs a directory -- and nothing
 * else: no state, no cgroup, no namespace. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"
#include "skiff/spec.h"

int cmd_validate(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *bundle = ".";
	struct sk_opt opts[] = {
		{ "bundle", 'b', SK_OPT_STRING, &bundle, "DIR", "bundle directory holding config.json (default: .)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;

	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) {
		sk_error(err, ENAMETOOLONG, "bundle %s", bundle);
		return SK_EXIT_ERROR;
	}
	struct sk_spec spec;
	if (sk_spec_load(path, &spec, err) < 0)
		return SK_EXIT_ERROR;
	rc = SK_EXIT_ERROR;
	if (!spec.root.path || !spec.root.path[0]) {
		sk_error(err, 0, "config.json: root.path: missing");
		goto out;
	}
	int n = spec.root.path[0] == '/' ? snprintf(path, sizeof(path), "%s", spec.root.path)
					 : snprintf(path, sizeof(path), "%s/%s", bundle, spec.root.path);
	if (n < 0 || n >= (int)sizeof(path)) {
		sk_error(err, ENAMETOOLONG, "rootfs \"%s\"", spec.root.path);
		goto out;
	}
	struct stat sb;
	if (stat(path, &sb) < 0) {
		sk_error(err, errno, "rootfs \"%s\"", path);
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		sk_error(err, ENOTDIR, "rootfs \"%s\"", path);
		goto out;
	}
	rc = sk_out(err, "ok\n") < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
out:
	sk_spec_free(&spec);
	return rc;
}
