/* skiff create: runc's flags; the init blocks until `skiff start`.
 * --shim: under skiff-shim (docs/shim.md). */
#include "cli.h"

#include <errno.h>
#include <unistd.h>

#include "skiff/container/container.h"
#include "skiff/container/shim.h"

int cmd_create(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_create_opts o;
	sk_cli_create_defaults(g, &o);
	uint64_t preserve = 0;
	bool shim = false;
	const char *shim_log = NULL;
	struct sk_opt opts[] = {
		SK_CREATE_OPTS(o, &preserve),
		{ "shim", 0, SK_OPT_BOOL, &shim, NULL, "run the container under skiff-shim: output to a log, exit status for `skiff wait`" },
		{ "shim-log", 0, SK_OPT_STRING, &shim_log, "FILE", "with --shim: the container's output (default: ctr.log in its state directory)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	if (sk_cli_preserve_fds(preserve, &o.preserve_fds, err) < 0)
		return SK_EXIT_USAGE;
	o.id = argv[0];
	if (shim || shim_log)
		return sk_cli_shim_create(g, &o, shim_log, err);
	struct sk_created c;
	return sk_container_create(&o, &c, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
