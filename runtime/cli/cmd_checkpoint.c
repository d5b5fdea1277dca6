/* skiff checkpoint: runc's flags (docs/checkpoint.md); CRIU's RPC, loaded
 * by this command and restore only. */
#include "cli.h"

#include <stdlib.h>

#include "skiff/container/checkpoint.h"

int cmd_checkpoint(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_checkpoint_opts o = { .root = g->root, .criu = { .criu = g->criu, .image_path = "checkpoint", .status_fd = -1 } };
	struct sk_strv empty_ns = { 0 };
	int64_t status_fd = -1;
	struct sk_opt opts[] = {
		SK_CRIU_IMAGE_OPTS(o.criu),
		{ "leave-running", 0, SK_OPT_BOOL, &o.leave_running, NULL, "leave the container running after the checkpoint" },
		SK_CRIU_SHARED_OPTS(o.criu, empty_ns),
		{ "pre-dump", 0, SK_OPT_BOOL, &o.pre_dump, NULL, "dump the memory only; the container keeps running" },
		{ "parent-path", 0, SK_OPT_STRING, &o.parent_path, "DIR", "a previous (pre-)dump, relative to the image path" },
		{ "page-server", 0, SK_OPT_STRING, &o.page_server, "ADDR:PORT", "send the memory pages to a CRIU page server" },
		{ "status-fd", 0, SK_OPT_INT, &status_fd, "FD", "with --lazy-pages: write a \\0 to FD when the page server is ready" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc == SK_CLI_CONTINUE) {
		o.id = argv[0];
		o.criu.empty_ns = empty_ns.v;
		o.criu.n_empty_ns = empty_ns.n;
		o.criu.status_fd = status_fd < 0 ? -1 : (int)status_fd;
		rc = sk_container_checkpoint(&o, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
	}
	free(empty_ns.v);
	return rc;
}
