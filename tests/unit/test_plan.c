/* test_plan: the steps a config compiles to (runtime/plan/plan.c), without root:
 * their order, which steps a config adds or leaves out, exec's shorter plan
 * sharing the init's process tail, and that compile errors are create's. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/plan/plan.h"

static char bundle[] = "/tmp/skiff-plan.XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(bundle));
	char p[128];
	snprintf(p, sizeof(p), "%s/rootfs", bundle);
	cr_assert_eq(mkdir(p, 0755), 0);
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bundle);
	cr_assert_eq(system(cmd), 0);
	strcpy(bundle, "/tmp/skiff-plan.XXXXXX");
}

static void write_config(const char *json)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/config.json", bundle);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(json, f);
	fclose(f);
}

#define BASE(process, linux_, extra)                                                                  \
	"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}," extra "\"process\":{\"cwd\":\"/\"," \
	"\"args\":[\"sh\"],\"user\":{\"uid\":0,\"gid\":0}" process "},\"linux\":{\"namespaces\":["     \
	"{\"type\":\"mount\"},{\"type\":\"pid\"}]" linux_ "}}"

/* The steps as "name name ...". */
static const char *names(const struct sk_plan *p)
{
	static char buf[1024];
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n_steps; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", sk_step_name(p->steps[i].kind));
	return buf;
}

static void plan(const struct sk_plan_opts *o, struct sk_plan *p)
{
	struct sk_err err = { 0 };
	cr_assert_eq(sk_plan_bundle(o, p, &err), 0, "%s", err.msg);
}

TestSuite(plan, .init = setup, .fini = teardown);

Test(plan, minimal_config)
{
	write_config(BASE("", "", ""));
	struct sk_plan p;
	struct sk_plan_opts o = { .bundle = bundle, .seccomp_cache_fd = -1 };
	plan(&o, &p);
	cr_assert_str_eq(names(&p), "namespaces keyring rootfs devices pivot home user caps resolve fds ready "
				    "wait-start exec");
	cr_assert_eq(p.kind, SK_PLAN_CREATE);
	cr_assert_not_null(strstr(p.rootfs, "/rootfs"));
	cr_assert_eq(p.steps[4].index, SK_PIVOT_ROOT);
	sk_plan_free(&p);
}

/* Each part of the config adds its steps, in the one order. */
Test(plan, every_step_in_order)
{
	write_config(BASE(",\"terminal\":true,\"env\":[\"PATH=/bin\",\"HOME=/root\"],\"noNewPrivileges\":true,"
			  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":10,\"soft\":10}],"
			  "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":0},"
			  "\"scheduler\":{\"policy\":\"SCHED_OTHER\"}",
			  ",\"sysctl\":{\"kernel.shmmax\":\"100000\"},\"readonlyPaths\":[\"/a\",\"/b\"],"
			  "\"maskedPaths\":[\"/c\"],\"rootfsPropagation\":\"rslave\",\"personality\":{\"domain\":\"LINUX\"},"
			  "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},"
			  "\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}]",
			  "\"hostname\":\"h\",\"domainname\":\"d\",\"mounts\":[{\"destination\":\"/proc\","
			  "\"type\":\"proc\",\"source\":\"proc\"},{\"destination\":\"/dev\",\"type\":\"bind\","
			  "\"source\":\"/dev\",\"options\":[\"rbind\"]}],\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
			  "\"hooks\":{\"startContainer\":[{\"path\":\"/bin/true\"}]},"));
	struct sk_plan p;
	struct sk_plan_opts o = { .bundle = bundle, .no_new_keyring = true, .seccomp_cache_fd = -1 };
	plan(&o, &p);
	cr_assert_str_eq(names(&p), "namespaces rootfs mount mount hooks-create pivot sysctl readonly readonly mask "
				    "root-readonly root-propagation hostname domainname terminal personality scheduler "
				    "io-priority rlimits user caps resolve no-new-privs fds seccomp ready wait-start "
				    "hooks-start exec");
	cr_assert_eq(p.steps[2].index, 0);
	cr_assert_eq(p.steps[3].index, 1);
	cr_assert_eq(p.steps[8].index, 1, "readonlyPaths[1]");
	cr_assert(p.has_seccomp && !p.keep_admin, "noNewPrivileges: no CAP_SYS_ADMIN kept for the filter");
	sk_plan_free(&p);
}

/* Seccomp without noNewPrivileges keeps CAP_SYS_ADMIN until the filter is
 * in; no mount namespace chroots; --no-pivot moves. */
Test(plan, variants)
{
	write_config(BASE(",\"env\":[\"HOME=/\"]", ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", ""));
	struct sk_plan p;
	struct sk_plan_opts o = { .bundle = bundle, .no_pivot = true, .seccomp_cache_fd = -1 };
	plan(&o, &p);
	cr_assert_str_eq(names(&p), "namespaces keyring rootfs devices pivot user caps resolve fds seccomp caps-final "
				    "ready wait-start exec");
	cr_assert_eq(p.steps[4].index, SK_PIVOT_MOVE);
	sk_plan_free(&p);

	write_config("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"cwd\":\"/\","
		     "\"args\":[\"sh\"],\"env\":[\"HOME=/\"],\"user\":{\"uid\":0,\"gid\":0}},\"linux\":{}}");
	o.no_pivot = false;
	plan(&o, &p);
	cr_assert(p.share_mntns);
	cr_assert_eq(p.steps[4].index, SK_PIVOT_CHROOT);
	sk_plan_free(&p);
}

/* exec: its own first step, then the init's process tail. */
Test(plan, exec_shares_the_process_tail)
{
	write_config(BASE(",\"terminal\":true,\"oomScoreAdj\":5,\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
			  "\"hard\":10,\"soft\":10}]", "", ""));
	struct sk_plan c, e;
	struct sk_plan_opts o = { .bundle = bundle, .seccomp_cache_fd = -1 };
	plan(&o, &c);
	struct sk_err err = { 0 };
	cr_assert_eq(sk_plan_process(&c.spec, &c.spec.process, -1, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&e), "join terminal home rlimits user caps resolve fds ready exec");
	/* The same steps from the terminal to the filter in both. */
	size_t ci = 0, ei = 1;
	while (c.steps[ci].kind != SK_STEP_TERMINAL)
		ci++;
	for (; e.steps[ei].kind != SK_STEP_READY; ci++, ei++)
		cr_assert_eq(c.steps[ci].kind, e.steps[ei].kind, "step %zu", ei);
	sk_plan_free(&e);
	/* Without oomScoreAdj the process does not wait for its parent. */
	struct sk_process pr = c.spec.process;
	pr.has_oom_score_adj = false;
	cr_assert_eq(sk_plan_process(&c.spec, &pr, -1, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(names(&e), "join terminal home rlimits user caps resolve fds exec");
	sk_plan_free(&e);
	sk_plan_free(&c);
}

/* What compile refuses, create refuses: the cross-field checks are here. */
Test(plan, refusals)
{
	static const struct { const char *json, *msg; } bad[] = {
		{ BASE("", "", "\"hostname\":\"h\","), "config.json: hostname: requires a UTS namespace in linux.namespaces" },
		{ BASE("", ",\"sysctl\":{\"vm.swappiness\":\"1\"}", ""),
		  "config.json: linux.sysctl: \"vm.swappiness\" is not namespaced, refusing to set it" },
		{ "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"nope\"},\"process\":{\"cwd\":\"/\",\"args\":[\"sh\"],"
		  "\"user\":{\"uid\":0,\"gid\":0}}}", NULL },
		{ BASE("", "", "\"mounts\":[{\"destination\":\"/\",\"type\":\"tmpfs\",\"source\":\"t\"}],"),
		  "config.json: mounts[0].destination: \"/\": cannot mount over the root" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_config(bad[i].json);
		struct sk_plan p;
		struct sk_plan_opts o = { .bundle = bundle, .seccomp_cache_fd = -1 };
		struct sk_err err = { 0 };
		cr_assert_eq(sk_plan_bundle(&o, &p, &err), -1, "%zu must fail", i);
		if (bad[i].msg)
			cr_assert_str_eq(err.msg, bad[i].msg);
		else
			cr_assert_not_null(strstr(err.msg, "rootfs \""), "%s", err.msg);
	}
}
