/* resctrl.c: linux.intelRdt written into a fake resctrl tree (plain
 * directories and files under /tmp: no resctrl, no root needed), and the
 * mount found in a fake mountinfo. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/cgroup/resctrl.h"

static char tmp[64];

static void make_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/skiff-test-resctrl.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void remove_tmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(resctrl, .init = make_tmp, .fini = remove_tmp);

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static const char *slurp(const char *rel)
{
	static char buf[4096];
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f, "%s", p);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
}

Test(resctrl, found_in_mountinfo_or_one_clear_error)
{
	struct sk_err err = { 0 };
	char root[256];
	put("mi", "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		  "40 22 0:33 / /sys/fs/resctrl rw,relatime shared:9 - resctrl resctrl rw,cdp\n");
	char mi[128];
	snprintf(mi, sizeof(mi), "%s/mi", tmp);
	cr_assert_eq(sk_resctrl_find(mi, root, sizeof(root), &err), 0, "%s", err.msg);
	cr_assert_str_eq(root, "/sys/fs/resctrl");
	put("mi", "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
	cr_assert_eq(sk_resctrl_find(mi, root, sizeof(root), &err), -1);
	cr_assert(strstr(err.msg, "linux.intelRdt: resctrl is not mounted"), "%s", err.msg);
}

Test(resctrl, own_group_made_with_the_lines_in_order)
{
	char *sch[] = { "L2:0=f;1=f", "MB:0=70" };
	struct sk_intel_rdt r = { .present = true, .l3_cache_schema = "L3:0=7f0;1=1f", .mem_bw_schema = "MB:0=20;1=70",
				  .schemata = sch, .n_schemata = 2 };
	struct sk_resctrl g;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_resctrl_paths(tmp, &r, "ctr", &g, &err), 0, "%s", err.msg);
	cr_assert(g.own_group);
	cr_assert_str_eq(g.mon, "");
	cr_assert_eq(sk_resctrl_apply(&g, &r, 4242, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("ctr/schemata"), "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=f;1=f\nMB:0=70\n");
	cr_assert_str_eq(slurp("ctr/tasks"), "4242");
	/* The container's own group already there (a leftover): refused. */
	cr_assert_eq(sk_resctrl_apply(&g, &r, 4242, &err), -1);
	cr_assert_eq(err.errnum, EEXIST);
}

Test(resctrl, existing_clos_is_compared_not_written)
{
	mk("gold");
	put("gold/schemata", "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n");
	struct sk_intel_rdt r = { .present = true, .clos_id = "gold", .mem_bw_schema = "MB:0=20;1=70" };
	struct sk_resctrl g;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_resctrl_paths(tmp, &r, "ctr", &g, &err), 0, "%s", err.msg);
	cr_assert_not(g.own_group);
	cr_assert_eq(sk_resctrl_apply(&g, &r, 7, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("gold/tasks"), "7");
	cr_assert_str_eq(slurp("gold/schemata"), "    L3:0=7f0;1=01f\n    MB:0=20;1=70\n");
	r.mem_bw_schema = "MB:0=30;1=70";
	cr_assert_eq(sk_resctrl_apply(&g, &r, 7, &err), -1);
	cr_assert(strstr(err.msg, "schemata lack \"MB:0=30;1=70\""), "%s", err.msg);
}

Test(resctrl, clos_without_lines_must_exist_and_new_clos_is_made)
{
	struct sk_intel_rdt r = { .present = true, .clos_id = "silver" };
	struct sk_resctrl g;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_resctrl_paths(tmp, &r, "ctr", &g, &err), 0);
	cr_assert_eq(sk_resctrl_apply(&g, &r, 7, &err), -1);
	cr_assert(strstr(err.msg, "linux.intelRdt.closID: no group"), "%s", err.msg);
	/* With lines, a missing closID group is made and written. */
	r.l3_cache_schema = "L3:0=f";
	cr_assert_eq(sk_resctrl_apply(&g, &r, 7, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("silver/schemata"), "L3:0=f\n");
	/* "/" is the root group. */
	struct sk_intel_rdt root = { .present = true, .clos_id = "/" };
	cr_assert_eq(sk_resctrl_paths(tmp, &root, "ctr", &g, &err), 0);
	cr_assert_str_eq(g.group, tmp);
	cr_assert_eq(sk_resctrl_apply(&g, &root, 9, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("tasks"), "9");
}

Test(resctrl, monitoring_group_made_and_removed)
{
	mk("gold");
	mk("gold/mon_groups");
	struct sk_intel_rdt r = { .present = true, .clos_id = "gold", .enable_monitoring = true };
	struct sk_resctrl g;
	struct sk_err err = { 0 };
	cr_assert_eq(sk_resctrl_paths(tmp, &r, "ctr", &g, &err), 0);
	cr_assert(strstr(g.mon, "/gold/mon_groups/ctr"), "%s", g.mon);
	cr_assert_eq(sk_resctrl_apply(&g, &r, 11, &err), 0, "%s", err.msg);
	cr_assert_str_eq(slurp("gold/mon_groups/ctr/tasks"), "11");
	cr_assert_str_eq(slurp("gold/tasks"), "11");
	/* resctrl's rmdir takes its files along; a plain directory needs them gone. */
	char p[256];
	snprintf(p, sizeof(p), "%s/gold/mon_groups/ctr/tasks", tmp);
	unlink(p);
	cr_assert_eq(sk_resctrl_remove(NULL, g.mon, &err), 0, "%s", err.msg);
	struct stat sb;
	cr_assert_eq(stat(g.mon, &sb), -1);
	/* Gone already is fine. */
	cr_assert_eq(sk_resctrl_remove(NULL, g.mon, &err), 0, "%s", err.msg);
}
