/* test_ctrd_rtopts: the runtime settings file that runtimeoptions.v1's
 * config_path names (shim/containerd/rtopts.c): the TOML subset, its keys
 * in both spellings, and the errors. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/containerd/rtopts.h"

static int parse(const char *text, struct ctrd_rtopts *o, struct sk_err *err)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s", text);
	return ctrd_rtopts_parse(buf, o, err);
}

Test(ctrd_rtopts, keys_in_both_spellings)
{
	struct ctrd_rtopts o;
	struct sk_err err;
	cr_assert_eq(parse("# behind the shim\n"
			   "BinaryName = \"/usr/sbin/runc\"  # a comment\r\n"
			   "\tRoot='/run/r'\n"
			   "SystemdCgroup = true\n"
			   "criu_path = \"/opt/c\\\"q\\\\\"\n"
			   "NoPivotRoot = 1\n"
			   "\n"
			   "[runsc_config]\n"
			   "criu_work_path = \"/ignored\"\n",
			   &o, &err),
		     0, "%s", err.msg);
	cr_assert_str_eq(o.binary, "/usr/sbin/runc");
	cr_assert_str_eq(o.root, "/run/r");
	cr_assert_eq(o.systemd_cgroup, 1);
	cr_assert_str_eq(o.criu_path, "/opt/c\"q\\");
	cr_assert_null(o.criu_work_path, "a key inside a table is not top-level");
	cr_assert_eq(parse("", &o, &err), 0);
	cr_assert_null(o.binary);
	cr_assert_eq(o.systemd_cgroup, -1);
	cr_assert_eq(parse("systemd_cgroup=false", &o, &err), 0);
	cr_assert_eq(o.systemd_cgroup, 0);
}

Test(ctrd_rtopts, errors_name_the_line)
{
	struct ctrd_rtopts o;
	struct sk_err err;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "BinaryName = runc", "line 1: BinaryName: a string in quotes" },
		{ "\nBinaryName = \"runc", "line 2: BinaryName: a string in quotes" },
		{ "BinaryName = \"a\\x\"", "line 1: BinaryName: a string in quotes" },
		{ "Root = \"/a\" x", "line 1: Root: more after the value" },
		{ "SystemdCgroup = yes", "line 1: SystemdCgroup: true or false" },
		{ "Root = '/a'\nroot = '/b'", "line 2: Root set twice" },
		{ "just words", "line 1: not Key = value" },
		{ "= 1", "line 1: not Key = value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].text, &o, &err), -1, "accepted: %s", bad[i].text);
		cr_assert(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].text, err.msg);
	}
}
