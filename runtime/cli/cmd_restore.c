/* skiff restore: runc's flags (docs/checkpoint.md).  Without --detach it
 * waits, forwarding signals, exits with the container's status and deletes
 * it, as run does. */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "skiff/container/restore.h"

int cmd_restore(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_restore_opts o = { .root = g->root, .criu = { .criu = g->criu, .image_path = "checkpoint", .status_fd = -1 } };
	struct sk_strv empty_ns = { 0 };
	bool detach = false, no_subreaper = false;
	struct sk_opt opts[] = {
		SK_CRIU_IMAGE_OPTS(o.criu),
		{ "bundle", 'b', SK_OPT_STRING, &o.bundle, "DIR", "path to the root of the bundle directory (default: .)" },
		{ "detach", 'd', SK_OPT_BOOL, &detach, NULL, "return once the container runs" },
		{ "pid-file", 0, SK_OPT_STRING, &o.pid_file, "FILE", "write the restored init's pid to FILE" },
		{ "console-socket", 0, SK_OPT_STRING, &o.console_socket, "PATH", "unix socket that receives the new pty master of a terminal" },
		{ "no-subreaper", 0, SK_OPT_BOOL, &no_subreaper, NULL, "accepted for runc compatibility (skiff is no subreaper)" },
		{ "no-pivot", 0, SK_OPT_BOOL, &o.no_pivot, NULL, "accepted for runc compatibility (CRIU restores the mounts)" },
		SK_CRIU_SHARED_OPTS(o.criu, empty_ns),
		{ "lsm-profile", 0, SK_OPT_STRING, &o.lsm_profile, "TYPE:NAME", "LSM profile of the restored processes" },
		{ "lsm-mount-context", 0, SK_OPT_STRING, &o.lsm_mount_context, "CTX", "SELinux mount context of the restored mounts" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		goto out;
	o.id = argv[0];
	o.criu.empty_ns = empty_ns.v;
	o.criu.n_empty_ns = empty_ns.n;
	o.foreground = !detach;
	struct sk_created c;
	rc = SK_EXIT_ERROR;
	if (sk_container_restore(&o, &c, err) < 0)
		goto out;
	rc = SK_EXIT_OK;
	if (!detach) {
		struct sk_err ignored;
		if (sk_container_wait(&c, &rc, err) < 0) {
			sk_container_delete(g->root, o.id, true, &ignored);
			rc = SK_EXIT_ERROR;
		} else if (sk_container_delete(g->root, o.id, true, err) < 0) {
			rc = SK_EXIT_ERROR;
		}
		close(c.pidfd);
	}
out:
	free(empty_ns.v);
	return rc;
}
