/* skiff run: create + start + wait, then delete; exits with the process's
 * status (128+N for signal N); --keep leaves the stopped container to a
 * later delete (runc's).  --detach: create + start and return;
 * with --shim, under skiff-shim (docs/shim.md). */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "skiff/container/container.h"

int cmd_run(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_create_opts o;
	sk_cli_create_defaults(g, &o);
	uint64_t preserve = 0;
	bool detach = false, shim = false, keep = false;
	const char *shim_log = NULL;
	struct sk_opt opts[] = {
		SK_CREATE_OPTS(o, &preserve),
		{ "detach", 'd', SK_OPT_BOOL, &detach, NULL, "do not wait for the process; leave the container running" },
		{ "keep", 0, SK_OPT_BOOL, &keep, NULL, "do not delete the container once its process has exited" },
		{ "shim", 0, SK_OPT_BOOL, &shim, NULL, "with --detach: run the container under skiff-shim: output to a log, exit status for `skiff wait`" },
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
	if (shim || shim_log) {
		if (!detach) {
			sk_error(err, 0, "--shim needs --detach: the shim, not run, waits for the container");
			return SK_EXIT_USAGE;
		}
		rc = sk_cli_shim_create(g, &o, shim_log, err);
		if (rc != SK_EXIT_OK)
			return rc;
		struct sk_err ignored;
		if (sk_container_start(g->root, o.id, err) < 0) {
			sk_container_delete(g->root, o.id, true, &ignored);
			return SK_EXIT_ERROR;
		}
		return SK_EXIT_OK;
	}
	o.foreground = !detach;
	struct sk_created c;
	if (sk_container_create(&o, &c, err) < 0)
		return SK_EXIT_ERROR;
	int status = SK_EXIT_OK;
	struct sk_err ignored;
	if (sk_container_start(g->root, o.id, err) < 0) {
		sk_container_delete(g->root, o.id, true, &ignored);
		if (c.pty_master >= 0)
			close(c.pty_master);
		if (!detach)
			sigprocmask(SIG_SETMASK, &c.saved_mask, NULL);
		status = SK_EXIT_ERROR;
	} else if (!detach) {
		if (sk_container_wait(&c, &status, err) < 0) {
			sk_container_delete(g->root, o.id, true, &ignored);
			status = SK_EXIT_ERROR;
		} else if (!keep && sk_container_delete(g->root, o.id, true, err) < 0) {
			status = SK_EXIT_ERROR;
		}
	}
	if (c.pidfd >= 0)
		close(c.pidfd);
	return status;
}
