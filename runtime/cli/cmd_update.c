/* skiff update [flags] ID, or update -r FILE|- ID: change the resource
 * limits of a created, running or paused container with runc's flags, or
 * from a LinuxResources JSON object (include/skiff/container/update.h). */
#include "cli.h"

#include "skiff/container/update.h"

int cmd_update(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	const char *resources = NULL;
	struct sk_update_flags f = { 0 };
	struct sk_opt opts[] = {
		{ "resources", 'r', SK_OPT_STRING, &resources, "FILE|-",
		  "read a LinuxResources JSON object from FILE, or stdin for -; no other flag may be given" },
		{ "blkio-weight", 0, SK_OPT_STRING, &f.blkio_weight, "N", "block IO weight, 10 to 1000" },
		{ "cpu-period", 0, SK_OPT_STRING, &f.cpu_period, "USEC", "CPU CFS period" },
		{ "cpu-quota", 0, SK_OPT_STRING, &f.cpu_quota, "USEC", "CPU time allowed in each period (-1: no limit)" },
		{ "cpu-burst", 0, SK_OPT_STRING, &f.cpu_burst, "USEC", "CPU time a period may borrow from idle ones" },
		{ "cpu-share", 0, SK_OPT_STRING, &f.cpu_shares, "N", "CPU shares (relative weight, cgroup v1 scale)" },
		{ "cpu-shares", 0, SK_OPT_STRING, &f.cpu_shares, "N", "the same as --cpu-share" },
		{ "cpu-rt-period", 0, SK_OPT_STRING, &f.cpu_rt_period, "USEC", "realtime period (cgroup v1 cpu only)" },
		{ "cpu-rt-runtime", 0, SK_OPT_STRING, &f.cpu_rt_runtime, "USEC", "realtime runtime (cgroup v1 cpu only)" },
		{ "cpu-idle", 0, SK_OPT_STRING, &f.cpu_idle, "0|1", "1: the cgroup runs as SCHED_IDLE" },
		{ "cpuset-cpus", 0, SK_OPT_STRING, &f.cpuset_cpus, "LIST", "CPUs to run on (0-3,6)" },
		{ "cpuset-mems", 0, SK_OPT_STRING, &f.cpuset_mems, "LIST", "memory nodes to allocate from" },
		{ "memory", 0, SK_OPT_STRING, &f.memory, "SIZE", "memory limit (512m, 1g; -1: no limit)" },
		{ "memory-reservation", 0, SK_OPT_STRING, &f.memory_reservation, "SIZE", "memory soft limit (memory.low, v1 memory.soft_limit_in_bytes)" },
		{ "memory-swap", 0, SK_OPT_STRING, &f.memory_swap, "SIZE", "memory + swap limit (-1: unlimited swap)" },
		{ "pids-limit", 0, SK_OPT_STRING, &f.pids_limit, "N", "maximum number of processes (-1: no limit)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	struct sk_resources res;
	if (resources) {
		/* runc ignores the other flags then; a refusal is less surprising.
		 * opts + 1: every flag after --resources. */
		for (const struct sk_opt *o = opts + 1; o->name; o++) {
			if (*(const char **)o->dest) {
				sk_error(err, 0, "--resources cannot be combined with --%s", o->name);
				return SK_EXIT_USAGE;
			}
		}
		if (sk_update_load(resources, &res, err) < 0)
			return SK_EXIT_ERROR;
	} else if (sk_update_from_flags(&f, &res, err) < 0) {
		return SK_EXIT_USAGE;
	}
	rc = sk_update_apply(g->root, argv[0], &res, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
	sk_update_free(&res);
	return rc;
}
