/* signals: names, and what a child of the runtime must not inherit
 * (signals.h). */
#include "skiff/base/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff/base/util.h"

int sk_signal_parse(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end)
		return n >= 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *name = sigabbrev_np(sig);
		if (name && !strcasecmp(name, s))
			return sig;
	}
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		bool min = !strncasecmp(s, "RTMIN", 5);
		long off = 0;
		if (s[5]) {
			off = strtol(s + 5, &end, 10);
			if (*end || (min ? off < 0 : off > 0))
				return -1;
		}
		int sig = (int)((min ? SIGRTMIN : SIGRTMAX) + off);
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
	}
	return -1;
}

void sk_signals_reset(uint64_t which)
{
	/* The kernel's struct sigaction; SIG_DFL needs no restorer. */
	struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = { .handler = SIG_DFL };
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && (which & (UINT64_C(1) << (sig - 1))))
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
}

int sk_signals_ignored(uint64_t *out, struct sk_err *err)
{
	char buf[4096];
	if (sk_read_small_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf), err) < 0)
		return -1;
	const char *line = strstr(buf, "\nSigIgn:");
	char *end = NULL;
	errno = 0;
	*out = line ? strtoull(line + 8, &end, 16) : 0;
	if (!line || errno || end == line + 8)
		return sk_error(err, 0, "\"/proc/self/status\": no SigIgn line");
	return 0;
}
