/* diag: the shim's own messages, one set per shim process.  Before the
 * shim detaches they go to stderr, its caller's; afterwards only to
 * syslog, and only when asked for. */
#ifndef SHIM_CORE_DIAG_H
#define SHIM_CORE_DIAG_H

#include <stdbool.h>

#include "skiff/base/error.h"

enum shim_level { SHIM_L_ERROR, SHIM_L_WARN, SHIM_L_INFO, SHIM_L_DEBUG, SHIM_L_TRACE };

/* Messages up to level; with use_syslog, also to syslog, each prefixed
 * with tag (a container id; NULL: "-"). */
void shim_diag_init(enum shim_level level, bool use_syslog, const char *tag);
enum shim_level shim_diag_level(void);
/* stderr is gone (/dev/null) from now on. */
void shim_diag_detached(void);
void shim_log(enum shim_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define shim_warn(...) shim_log(SHIM_L_WARN, __VA_ARGS__)
#define shim_debug(...) shim_log(SHIM_L_DEBUG, __VA_ARGS__)
/* Log err and exit(1). */
_Noreturn void shim_fatal(const struct sk_err *err);

#endif
