/* error: the one error convention of skiff.
 * Every fallible function takes `struct sk_err *err` last and returns 0 on
 * success or -1 after filling err with an errno and a message naming what
 * failed and on what.  Callers add context with sk_error_wrap() on the way
 * up; only the CLI prints the final message (one line). */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

#include <stddef.h>

#define SK_ERR_MSG_MAX 512

struct sk_err {
	int errnum;              /* errno value, 0 when the error is not a syscall's */
	char msg[SK_ERR_MSG_MAX];
};

/* Fill err with errnum and a printf-style message; when errnum != 0,
 * ": EPERM" (the errno's symbolic name) is appended.  Returns -1. */
int sk_error(struct sk_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix err->msg with a printf-style context and ": ".  Returns -1. */
int sk_error_wrap(struct sk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Symbolic name of an errno value ("ENOENT"), or "E<n>" for unknown ones. */
const char *sk_errno_name(int errnum);

#endif
