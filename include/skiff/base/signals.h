/* signals: signal names as runc's kill takes them, and the signal state
 * the runtime must not hand down to a container's process. */
#ifndef SKIFF_SIGNALS_H
#define SKIFF_SIGNALS_H

#include <stdint.h>

#include "skiff/base/error.h"

/* "TERM", "SIGTERM", "15", "RTMIN+2" -> the number; -1 when unknown.  "0"
 * is 0, as with runc: `kill ID 0` only checks that the init is alive. */
int sk_signal_parse(const char *s);

/* Child: empty signal mask, and SIG_DFL for every signal whose bit
 * (1 << (N-1)) is set in which: a disposition the runtime's caller ignored
 * (a background job's SIGINT, nohup's SIGHUP, even glibc's reserved 32 and
 * 33, which sigaction() refuses to touch) must not reach the process
 * through execve.  Raw rt_sigaction: no allocation, any signal. */
void sk_signals_reset(uint64_t which);
/* Parent: the signals this process ignores (SigIgn of /proc/self/status,
 * one read instead of a sigaction() per signal: skiff installs no handler,
 * so these are the only dispositions a child must reset). */
int sk_signals_ignored(uint64_t *out, struct sk_err *err);

#endif
