/* skiff validate: the compile step create makes before touching the system
 * (plan.h: config.json read and checked, the rootfs found, every module's
 * plan), and nothing else: no state, no cgroup, no namespace.  `ok` means
 * create will not refuse the config; --debug prints the plan. */
#include "cli.h"
#include "skiff/base/log.h"
#include "skiff/plan/plan.h"

int cmd_validate(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *bundle = ".";
	struct sk_opt opts[] = {
		{ "bundle", 'b', SK_OPT_STRING, &bundle, "DIR", "bundle directory holding config.json (default: .)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = NULL, .min = 0, .max = 0, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	const struct sk_plan_opts po = { .bundle = bundle, .seccomp_cache_fd = -1 };
	struct sk_plan plan;
	if (sk_plan_bundle(&po, &plan, err) < 0)
		return SK_EXIT_ERROR;
	sk_plan_log(&plan);
	sk_plan_free(&plan);
	return sk_out(err, "ok\n") < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
