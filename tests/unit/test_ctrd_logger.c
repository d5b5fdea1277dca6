/* test_ctrd_logger: a binary:// log URI to the logging program's argv, as
 * containerd's shim derives it (shim/containerd/logger.c): the path, then
 * each query key with its first value, percent-decoded. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "shim/containerd/logger.h"

static const char **argv_of(const char *uri, char **buf, struct sk_err *err)
{
	static const char *argv[CTRD_LOGGER_MAX_ARGS + 1];
	*buf = malloc(strlen(uri) * 2 + 2);
	cr_assert(*buf);
	return ctrd_logger_argv(uri, *buf, argv, err) < 0 ? NULL : argv;
}

static void expect(const char *uri, const char *const *want)
{
	char *buf;
	struct sk_err err;
	const char **argv = argv_of(uri, &buf, &err);
	cr_assert(argv, "%s: %s", uri, err.msg);
	size_t i = 0;
	for (; want[i]; i++) {
		cr_assert(argv[i], "%s: argv[%zu] missing, want \"%s\"", uri, i, want[i]);
		cr_assert_str_eq(argv[i], want[i], "%s: argv[%zu]", uri, i);
	}
	cr_assert_null(argv[i], "%s: argv[%zu] is \"%s\", want the end", uri, i, argv[i]);
	free(buf);
}

static void refused(const char *uri)
{
	char *buf;
	struct sk_err err;
	cr_assert_null(argv_of(uri, &buf, &err), "%s was taken", uri);
	free(buf);
}

Test(ctrd_logger, path_and_query)
{
	expect("binary:///usr/bin/logger", (const char *[]){ "/usr/bin/logger", NULL });
	expect("binary:///l?dir=/var/log&level=debug",
	       (const char *[]){ "/l", "dir", "/var/log", "level", "debug", NULL });
	/* A key alone has an empty value; a repeated key keeps its first. */
	expect("binary:///l?flag&k=1&k=2", (const char *[]){ "/l", "flag", "", "k", "1", NULL });
	/* Go's query decoding: %XX, and '+' a space; a fragment is no part. */
	expect("binary:///my%20log?a%3Db=c+d&e=%2F#frag", (const char *[]){ "/my log", "a=b", "c d", "e", "/", NULL });
	expect("binary:///l?&&x=1&", (const char *[]){ "/l", "x", "1", NULL });
}

Test(ctrd_logger, refused)
{
	refused("binary://relative/path");
	refused("binary:///");
	refused("binary:///l?x=%zz");
	refused("binary:///l%00x");
	refused("binary:///l?x=%4");
	refused("file:///l");
}
