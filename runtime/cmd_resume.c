/* skiff resume ID: thaw a paused container (cgroup.freeze 0), returning
 * once cgroup.events says "frozen 0". */
#include "cli.h"

#include <errno.h>
#include <unistd.h>

#include "skiff/cgroup.h"
#include "skiff/state.h"

int cmd_resume(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
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
		if (err->errnum == ENOENT)
			sk_error(err, 0, "cannot resume container \"%s\": it is not paused", id);
		close(dir);
		return SK_EXIT_ERROR;
	}
	enum sk_status status = sk_state_status(dir, &st);
	/* A paused container that was never started reads as "created"
	 * (exec.fifo is checked first): its cgroup tells. */
	bool paused = status == SK_STATUS_PAUSED ||
		      (status == SK_STATUS_CREATED && st.cgroup_path && sk_cgroup_is_frozen(st.cgroup_path));
	rc = SK_EXIT_ERROR;
	struct sk_cgroup cg;
	if (!paused)
		sk_error(err, 0, "cannot resume container \"%s\": it is %s, not paused", id, sk_status_name(status));
	else if (sk_cgroup_open(st.cgroup_path, &cg, err) == 0) {
		rc = sk_cgroup_freeze(&cg, false, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
		sk_cgroup_close(&cg);
	}
	sk_state_free(&st);
	close(dir);
	return rc;
}
