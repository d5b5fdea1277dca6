/* log: the one diagnostics channel.  Messages go to the --log file when one
 * is set (in text or runc-compatible JSON, which containerd parses), else to
 * stderr.  Debug messages are dropped unless --debug was given.  Nothing but
 * this module and main.c writes to the terminal. */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

#include "skiff/base/error.h"

enum sk_log_level { SK_LOG_ERROR, SK_LOG_WARN, SK_LOG_INFO, SK_LOG_DEBUG };

/* path may be NULL (stderr).  json selects --log-format json. */
int sk_log_init(const char *path, int json, int debug, struct sk_err *err);
/* The log file descriptor (or -1 when logging to stderr), so a child that
 * must keep it open across fd closing can find it. */
int sk_log_fd(void);
int sk_log_debug_enabled(void);
/* Whether messages go to a --log file rather than stderr. */
int sk_log_to_file(void);

void sk_log(enum sk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sk_debug(...) do { if (sk_log_debug_enabled()) sk_log(SK_LOG_DEBUG, __VA_ARGS__); } while (0)
#define sk_warn(...) sk_log(SK_LOG_WARN, __VA_ARGS__)

#endif
