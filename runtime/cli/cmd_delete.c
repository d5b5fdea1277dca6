/* skiff delete [--force] ID */
#include "cli.h"

#include "skiff/container/container.h"

int cmd_delete(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	bool force = false;
	struct sk_opt opts[] = {
		{ "force", 'f', SK_OPT_BOOL, &force, NULL, "kill the container first if it is not stopped" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	return sk_container_delete(g->root, argv[0], force, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
