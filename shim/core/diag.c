/* diag: the shim's own messages.  Before it detaches they go to stderr,
 * which is its caller's; afterwards only to syslog, and only with --syslog
 * (conmon's rule: podman passes --syslog at debug level, CRI-O always).
 * --log-level takes conmon's names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "shim.h"

static bool use_syslog;

void shim_diag_init(const struct shim_opts *o)
{
	use_syslog = o->syslog;
	if (use_syslog)
		openlog("skiff-shim", LOG_PID, LOG_DAEMON);
}

void shim_log(enum shim_level level, const char *fmt, ...)
{
	if (level > S.level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	static const char *const names[] = { "error", "warning", "info", "debug", "trace" };
	if (!S.detached)
		fprintf(stderr, "skiff-shim: %s: %s\n", names[level], msg);
	if (use_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };
		syslog(prio[level], "%.20s %s: %s", S.o.cid ? S.o.cid : "-", names[level], msg);
	}
}

_Noreturn void shim_fatal(const struct sk_err *err)
{
	shim_log(SHIM_L_ERROR, "%s", err->msg);
	exit(1);
}
