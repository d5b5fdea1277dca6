/* fuzz.h: what every libFuzzer target of tests/fuzz/ checks besides the
 * sanitizers: a broken invariant aborts with a line saying which, so that
 * libFuzzer keeps the input as a crash like any ASan or UBSan report. */
#ifndef SKIFF_FUZZ_H
#define SKIFF_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/base/error.h"

#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);    \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* The error convention: a failure comes with one line of message, and the
 * message starts with prefix (the file's name) when prefix is not NULL. */
static inline void fuzz_check_err(const struct sk_err *err, const char *prefix)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));
	FUZZ_CHECK(n > 0 && n < sizeof(err->msg), "message empty or not terminated");
	FUZZ_CHECK(!memchr(err->msg, '\n', n), "message of more than one line: %s", err->msg);
	if (prefix)
		FUZZ_CHECK(strncmp(err->msg, prefix, strlen(prefix)) == 0, "message does not name %s: %s", prefix,
			   err->msg);
}

/* Whether the n bytes at p are all zero (a struct left empty). */
static inline int fuzz_all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

#endif
