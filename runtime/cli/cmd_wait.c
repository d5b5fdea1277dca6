/* skiff wait ID: block until a container started under skiff-shim ends,
 * and exit with its status (128+N for signal N), read from the exit.json
 * the shim keeps: also once the shim and whoever started it are gone. */
#include "cli.h"

#include <errno.h>
#include <unistd.h>

#include "skiff/container/exitrec.h"
#include "skiff/container/state.h"

int cmd_wait(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	bool json = false;
	struct sk_opt opts[] = {
		{ "json", 0, SK_OPT_BOOL, &json, NULL, "print the exit record (exit.json) on stdout as well" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	const char *id = argv[0];
	if (sk_state_validate_id(id, err) < 0)
		return SK_EXIT_USAGE;
	int root_fd = sk_state_open_root(g->root, err);
	if (root_fd < 0)
		return SK_EXIT_ERROR;
	int dir_fd = sk_state_open(root_fd, id, err);
	close(root_fd);
	if (dir_fd < 0)
		return SK_EXIT_ERROR;
	struct sk_exit_rec r;
	rc = sk_exit_rec_wait(dir_fd, &r, err);
	close(dir_fd);
	if (rc < 0) {
		if (err->errnum == ENOENT)
			sk_error(err, ENOENT, "container \"%s\" has no exit record: it was not created with --shim, "
				 "or was deleted", id);
		return SK_EXIT_ERROR;
	}
	if (json) {
		char buf[512];
		int n = sk_exit_rec_format(&r, buf, sizeof(buf));
		if (n < 0 || sk_out_write(buf, (size_t)n, err) < 0)
			return SK_EXIT_ERROR;
	}
	if (r.state == SK_EXIT_UNKNOWN && r.lost_errno) {
		sk_error(err, r.lost_errno, "container \"%s\" ended, but the exit status could not be recorded", id);
		return SK_EXIT_ERROR;
	}
	if (r.state == SK_EXIT_UNKNOWN) {
		sk_error(err, 0, "container \"%s\" ended, but its exit status is unknown: its shim (pid %d) was gone first",
			 id, (int)r.shim_pid);
		return SK_EXIT_ERROR;
	}
	return sk_exit_status(&r);
}
