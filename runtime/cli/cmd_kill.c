/* skiff kill [--all] ID [SIGNAL]: SIGNAL by name (with or without SIG) or
 * number, TERM by default. */
#include "cli.h"

#include <signal.h>

#include "skiff/container/container.h"
#include "skiff/base/signals.h"

int cmd_kill(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	bool all = false;
	struct sk_opt opts[] = {
		{ "all", 'a', SK_OPT_BOOL, &all, NULL, "send the signal to every process of the container" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id> [signal]", .min = 1, .max = 2, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	int sig = SIGTERM;
	if (argc == 2 && (sig = sk_signal_parse(argv[1])) < 0) {
		sk_error(err, 0, "unknown signal \"%s\"", argv[1]);
		return SK_EXIT_USAGE;
	}
	return sk_container_kill(g->root, argv[0], sig, all, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
