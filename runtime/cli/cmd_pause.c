/* skiff pause ID: freeze every process of a created or running container
 * (the v1 freezer or cgroup.freeze), returning once the kernel says it is
 * frozen (runc's semantics; `state` then reports "paused"). */
#include "cli.h"

#include "skiff/container/container.h"

int cmd_pause(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = NULL };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	return sk_container_freeze(g->root, argv[0], true, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
