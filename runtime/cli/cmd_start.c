/* skiff start: release a created container's process. */
#include "cli.h"

#include "skiff/container/container.h"

int cmd_start(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_opt opts[] = { { 0 } };
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	return sk_container_start(g->root, argv[0], err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
