/* error: filling struct sk_err, and errno values by name (error.h). */
#include "skiff/base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sk_errno_name(int errnum)
{
	/* strerrorname_np needs glibc 2.32; Debian 12 has 2.36. */
	const char *n = strerrorname_np(errnum);
	if (n)
		return n;
	static __thread char buf[16];
	snprintf(buf, sizeof(buf), "E%d", errnum);
	return buf;
}

int sk_error(struct sk_err *err, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	err->errnum = errnum;
	if (errnum) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", sk_errno_name(errnum));
	}
	return -1;
}

int sk_error_wrap(struct sk_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[SK_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	/* "<prefix>: <old message>", cut to fit: the old text moves right. */
	size_t pl = strlen(prefix), cap = sizeof(err->msg) - 1;
	if (pl + 2 > cap)
		pl = cap - 2;
	size_t ol = strnlen(err->msg, cap);
	if (pl + 2 + ol > cap)
		ol = cap - pl - 2;
	memmove(err->msg + pl + 2, err->msg, ol);
	memcpy(err->msg, prefix, pl);
	err->msg[pl] = ':';
	err->msg[pl + 1] = ' ';
	err->msg[pl + 2 + ol] = '\0';
	return -1;
}
