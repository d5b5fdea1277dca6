/* skiff state ID: runc's state JSON, 2-space indented. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "skiff/container/state.h"

int cmd_state(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = NULL };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	const char *id = argv[0];

	int root = sk_state_open_root(g->root, err);
	if (root < 0)
		return SK_EXIT_ERROR;
	/* No lock: a create's hooks may ask for the state while it runs. */
	int dir = sk_state_open(root, id, err);
	close(root);
	if (dir < 0)
		return SK_EXIT_ERROR;

	struct sk_state st;
	enum sk_status status;
	if (sk_state_read(dir, &st, err) == 0) {
		status = sk_state_status_unlocked(dir, &st);
	} else if (err->errnum == ENOENT) {
		/* A create under way, or one that died before writing its
		 * state (killed, or a crash): report what is known; delete
		 * removes it. */
		memset(&st, 0, sizeof(st));
		st.id = strdup(id);
		if (!st.id) {
			close(dir);
			sk_error(err, ENOMEM, "state of \"%s\"", id);
			return SK_EXIT_ERROR;
		}
		status = SK_STATUS_CREATING;
	} else {
		close(dir);
		sk_error_wrap(err, "container \"%s\"", id);
		return SK_EXIT_ERROR;
	}
	close(dir);
	char *json = sk_state_oci_json(&st, status, err);
	sk_state_free(&st);
	if (!json)
		return SK_EXIT_ERROR;
	rc = sk_out_write(json, strlen(json), err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
	free(json);
	return rc;
}
