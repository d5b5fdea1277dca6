/* pidfd: the two pidfd system calls glibc 2.36 has no wrapper for, in one
 * place.  A pidfd names a process for good: no pid-reuse races. */
#ifndef SKIFF_PIDFD_H
#define SKIFF_PIDFD_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* -1 with errno (ESRCH: no such process). */
static inline int sk_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static inline int sk_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

#endif
