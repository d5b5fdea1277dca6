/* skiff ps [--format table|json] ID [PS ARGS...]: the processes of a
 * container (procs.h): json prints their pids as an array; table prints
 * ps(1)'s rows of them (PS ARGS, default -ef), as runc does. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "skiff/spec/json_gen.h"
#include "skiff/container/procs.h"

static int print_json(const pid_t *pids, size_t n, struct sk_err *err)
{
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return -1;
	sk_json_array_open(&j);
	for (size_t i = 0; i < n; i++)
		sk_json_int(&j, pids[i]);
	sk_json_array_close(&j);
	const char *buf;
	size_t len;
	int r = sk_json_buf(&j, &buf, &len, err) < 0 || sk_out_write(buf, len, err) < 0 || sk_out_write("\n", 1, err) < 0
			? -1 : 0;
	sk_json_free(&j);
	return r;
}

int cmd_ps(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *format = "table";
	struct sk_opt opts[] = {
		SK_OPT_FORMAT(&format),
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id> [ps options]", .min = 1, .max = -1, .opts = opts,
			      .no_reorder = true };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	bool json;
	if (sk_cli_format(format, &json, err) < 0)
		return SK_EXIT_USAGE;
	pid_t *pids;
	size_t n;
	if (sk_container_pids(g->root, argv[0], &pids, &n, err) < 0)
		return SK_EXIT_ERROR;
	char *table = NULL;
	if (json)
		rc = print_json(pids, n, err);
	else if ((rc = sk_procs_ps(pids, n, argv + 1, (size_t)argc - 1, &table, err)) == 0)
		rc = sk_out_write(table, strlen(table), err);
	free(table);
	free(pids);
	return rc < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
