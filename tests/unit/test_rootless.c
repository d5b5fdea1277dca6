/* The pure parts of rootless.h and idmap.h. */
#include <criterion/criterion.h>

#include "skiff/base/rootless.h"
#include "skiff/plan/idmap.h"

Test(rootless, initial_map)
{
	cr_assert(sk_rootless_initial_map("         0          0 4294967295\n"));
	cr_assert(!sk_rootless_initial_map("         0       1001          1\n"));
	cr_assert(!sk_rootless_initial_map("0 0 4294967294\n"));
	cr_assert(!sk_rootless_initial_map("0 0 4294967295\n1 1 1\n"));
	cr_assert(!sk_rootless_initial_map(""));
}

Test(rootless, parse)
{
	struct sk_err err = { 0 };
	bool v = false;
	cr_assert_eq(sk_rootless_parse("true", &v, &err), 0);
	cr_assert(v);
	cr_assert_eq(sk_rootless_parse("false", &v, &err), 0);
	cr_assert(!v);
	cr_assert_eq(sk_rootless_parse("maybe", &v, &err), -1);
	cr_assert_str_eq(err.msg, "invalid --rootless \"maybe\": must be true, false or auto");
}

Test(idmap, single_own)
{
	cr_assert(sk_idmap_single_own("0 1001 1\n", 1001));
	cr_assert(sk_idmap_single_own("5 1001 1\n", 1001));
	cr_assert(!sk_idmap_single_own("0 1001 1\n", 1000));
	cr_assert(!sk_idmap_single_own("0 1001 2\n", 1001));
	cr_assert(!sk_idmap_single_own("0 1001 1\n1 100000 65536\n", 1001));
	cr_assert(!sk_idmap_single_own("", 1001));
}
