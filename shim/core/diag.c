/* diag: the shim's own messages.  Before it detaches they go to stderr,
 * which is its caller's; afterwards only to syslog, and only when the face
 * asks (conmon's rule: podman passes --syslog at debug level, CRI-O
 * always). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/diag.h"

static struct {
	enum shim_level level;
	bool use_syslog, detached;
	const char *tag;
} D = { .level = SHIM_L_WARN };

void shim_diag_init(enum shim_level level, bool use_syslog, const char *tag)
{
	D.level = level;
	D.use_syslog = use_syslog;
	D.tag = tag;
	if (use_syslog)
		openlog("skiff-shim", LOG_PID, LOG_DAEMON);
}

enum shim_level shim_diag_level(void)
{
	return D.level;
}

void shim_diag_detached(void)
{
	D.detached = true;
}

void shim_log(enum shim_level level, const char *fmt, ...)
{
	if (level > D.level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	static const char *const names[] = { "error", "warning", "info", "debug", "trace" };
	if (!D.detached)
		fprintf(stderr, "skiff-shim: %s: %s\n", names[level], msg);
	if (D.use_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };
		syslog(prio[level], "%.20s %s: %s", D.tag ? D.tag : "-", names[level], msg);
	}
}

_Noreturn void shim_fatal(const struct sk_err *err)
{
	shim_log(SHIM_L_ERROR, "%s", err->msg);
	exit(1);
}
