/* cli_opts.c: runc's flag syntax, operands, usage errors and --help. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <string.h>

/* The CLI layer is not in libskiff (only the skiff binary prints), so the
 * parser is compiled in here. */
#include "../../runtime/cli/opts.c"

static const struct sk_command fake_cmd = { "fake", NULL, 0, "do fake things" };

struct vals {
	const char *bundle;
	bool detach;
	int64_t num;
	uint64_t unum;
	struct sk_strv env;
};

/* Parses argv (NULL-terminated, argv[0] the command) with a fixed table;
 * returns sk_cli_parse's result, operands in *argc / *argv. */
static int run(struct sk_globals *g, struct vals *v, int *argc, char ***argv, struct sk_err *err)
{
	struct sk_opt opts[] = {
		{ "bundle", 'b', SK_OPT_STRING, &v->bundle, "DIR", "the bundle" },
		{ "detach", 'd', SK_OPT_BOOL, &v->detach, NULL, "detach" },
		{ "num", 0, SK_OPT_INT, &v->num, "N", "a number" },
		{ "unum", 'u', SK_OPT_UINT, &v->unum, "N", "a count" },
		{ "env", 'e', SK_OPT_STRINGS, &v->env, "VAR", "repeatable" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<id> [args...]", .min = 1, .max = -1, .opts = opts, .no_reorder = true };
	return sk_cli_parse(g, &u, argc, argv, err);
}

#define PARSE(g, v, err, ...) ({ \
	static char *args_[] = { "fake", __VA_ARGS__, NULL }; \
	int argc_ = (int)(sizeof(args_) / sizeof(args_[0])) - 1; \
	char **argv_ = args_; \
	int rc_ = run(g, v, &argc_, &argv_, err); \
	operands = argv_; n_operands = argc_; \
	rc_; })

static char **operands;
static int n_operands;

Test(cli, spellings)
{
	struct sk_globals g = { .cmd = &fake_cmd };
	struct sk_err err = { 0 };
	struct vals v = { 0 };

	cr_assert_eq(PARSE(&g, &v, &err, "--bundle", "/b", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_str_eq(v.bundle, "/b");
	cr_assert_eq(n_operands, 1);
	cr_assert_str_eq(operands[0], "id");

	cr_assert_eq(PARSE(&g, &v, &err, "--bundle=/c", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_str_eq(v.bundle, "/c");
	cr_assert_eq(PARSE(&g, &v, &err, "-b", "/d", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_str_eq(v.bundle, "/d");
	cr_assert_eq(PARSE(&g, &v, &err, "-bundle", "/e", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_str_eq(v.bundle, "/e");
	cr_assert_eq(PARSE(&g, &v, &err, "-b=/f", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_str_eq(v.bundle, "/f");

	cr_assert_eq(PARSE(&g, &v, &err, "--detach", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert(v.detach);
	cr_assert_eq(PARSE(&g, &v, &err, "--detach=false", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_not(v.detach);
	cr_assert_eq(PARSE(&g, &v, &err, "-d=true", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert(v.detach);
	/* A bool never takes the next word as its value. */
	v.detach = false;
	cr_assert_eq(PARSE(&g, &v, &err, "-d", "false"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert(v.detach);
	cr_assert_str_eq(operands[0], "false");

	cr_assert_eq(PARSE(&g, &v, &err, "--num", "-12", "--unum=0x10", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_eq(v.num, -12);
	cr_assert_eq(v.unum, 16);

	cr_assert_eq(PARSE(&g, &v, &err, "-e", "A=1", "--env=B=2", "id"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_eq(v.env.n, 2);
	cr_assert_str_eq(v.env.v[0], "A=1");
	cr_assert_str_eq(v.env.v[1], "B=2");
	free(v.env.v);
}

Test(cli, stops_at_operands)
{
	struct sk_globals g = { .cmd = &fake_cmd };
	struct sk_err err = { 0 };
	struct vals v = { 0 };

	/* runc's `ps ID -ef`: everything after the first operand is passed on. */
	cr_assert_eq(PARSE(&g, &v, &err, "id", "-ef", "--bundle", "x"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_eq(n_operands, 4);
	cr_assert_str_eq(operands[1], "-ef");
	cr_assert_null(v.bundle);

	cr_assert_eq(PARSE(&g, &v, &err, "-d", "--", "--bundle"), SK_CLI_CONTINUE, "%s", err.msg);
	cr_assert_eq(n_operands, 1);
	cr_assert_str_eq(operands[0], "--bundle");

	cr_assert_eq(PARSE(&g, &v, &err, "-"), SK_CLI_CONTINUE, "\"-\" is an operand: %s", err.msg);
	cr_assert_str_eq(operands[0], "-");
}

Test(cli, usage_errors)
{
	struct sk_globals g = { .cmd = &fake_cmd };
	struct sk_err err = { 0 };
	struct vals v = { 0 };

	cr_assert_eq(PARSE(&g, &v, &err, "--foo", "id"), SK_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "unknown flag --foo");
	cr_assert_eq(PARSE(&g, &v, &err, "-foo=1", "id"), SK_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "unknown flag -foo");
	cr_assert_eq(PARSE(&g, &v, &err, "id", "--bundle"), SK_CLI_CONTINUE, "after an operand, not a flag");
	cr_assert_eq(PARSE(&g, &v, &err, "--bundle"), SK_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "flag needs an argument: --bundle");
	cr_assert_eq(PARSE(&g, &v, &err, "--num", "x", "id"), SK_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "invalid value \"x\" for flag --num: must be an integer");
	cr_assert_eq(PARSE(&g, &v, &err, "-u", "-1", "id"), SK_EXIT_USAGE);
	cr_assert_eq(PARSE(&g, &v, &err, "--detach=maybe", "id"), SK_EXIT_USAGE);
	cr_assert_eq(PARSE(&g, &v, &err, "-d"), SK_EXIT_USAGE);
	cr_assert_str_eq(err.msg, "expects at least 1 argument (<id> [args...]), got 0");
}

Test(cli, systemd_cgroup)
{
	/* A global flag every command takes: the driver is chosen by create
	 * and recorded; later commands follow the state. */
	struct sk_globals g = { .cmd = &fake_cmd, .systemd_cgroup = true };
	struct sk_err err = { 0 };
	struct vals v = { 0 };
	cr_assert_eq(PARSE(&g, &v, &err, "id"), SK_CLI_CONTINUE, "%s", err.msg);
}

Test(cli, help, .init = cr_redirect_stdout)
{
	/* --help wins over everything else, even missing operands. */
	struct sk_globals g = { .cmd = &fake_cmd, .systemd_cgroup = true };
	struct sk_err err = { 0 };
	struct vals v = { 0 };
	cr_assert_eq(PARSE(&g, &v, &err, "-h"), SK_EXIT_OK, "%s", err.msg);
	fflush(stdout);
	cr_assert_stdout_eq_str(
		"Usage: skiff fake [options] <id> [args...]\n"
		"\n"
		"do fake things\n"
		"\n"
		"Options:\n"
		"  -b, --bundle DIR  the bundle\n"
		"  -d, --detach      detach\n"
		"      --num N       a number\n"
		"  -u, --unum N      a count\n"
		"  -e, --env VAR     repeatable\n"
		"  -h, --help        show this help\n");
}
