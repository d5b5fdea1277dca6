/* skiff pause ID: freeze every process of a created or running container
 * through cgroup.freeze, returning once cgroup.events says "frozen 1"
 * (runc's semantics; `state` then reports "paused"). */
#include "cli.h"

#include <errno.h>
#include <unistd.h>

#include "skiff/cgroup.h"
#include "skiff/state.h"

int cmd_pause(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = NULL };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	const char *id = argv[0];
	int root = sk_state_open_root(g->root, err);
	if (root < 0)
		return SK_EXIT_ERROR;
	int dir = sk_state_lock(root, id, false, err);
	close(root);
	if (dir < 0)
		return SK_EXIT_ERROR;
	struct sk_state st;
	if (sk_state_read(dir, &st, err) < 0) {
		/* No state under our lock: a create that died half-way. */
		if (err->errnum == ENOENT)
			sk_error(err, 0, "cannot pause container \"%s\": it is not running", id);
		close(dir);
		return SK_EXIT_ERROR;
	}
	enum sk_status status = sk_state_status(dir, &st);
	rc = SK_EXIT_ERROR;
	struct sk_cgroup cg;
	if (status != SK_STATUS_RUNNING && status != SK_STATUS_CREATED)
		sk_error(err, 0, "cannot pause container \"%s\": it is %s, not running", id, sk_status_name(status));
	else if (!st.cgroup_path)
		sk_error(err, 0, "cannot pause container \"%s\": it has no cgroup", id);
	else if (sk_cgroup_open(st.cgroup_path, &cg, err) == 0) {
		rc = sk_cgroup_freeze(&cg, true, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
		sk_cgroup_close(&cg);
	}
	sk_state_free(&st);
	close(dir);
	return rc;
}
