/* seccomp-probe: make syscalls named on the command line and print what
 * each returned, for the seccomp tests (built static: it runs in a busybox
 * rootfs).
 *   seccomp-probe CALL[:ARG...] ...
 * CALL is a syscall name from the table below, or a syscall number; each
 * ARG is a number
 * (strtoull, base 0: 0x.. and 0.. work) or else a string passed by address.
 * Prints one line per CALL, in order, as it was given: `CALL=RESULT`, RESULT
 * being the return value in decimal or the errno's name (EPERM).  The calls
 * run in this process, one after the other, except clone, whose child exits
 * at once (the parent waits for it).  Exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define E(name) { #name, SYS_##name }
static const struct { const char *name; long nr; } calls[] = {
	E(acct), E(add_key), E(bpf), E(chroot), E(clone), E(getpgid), E(getpid), E(getppid),
	E(getpriority), E(getsid), E(kexec_load), E(keyctl), E(mkdir), E(mount), E(open_by_handle_at),
	E(personality), E(sethostname), E(setns), E(socket), E(swapon), E(umask), E(uname), E(unshare),
	E(userfaultfd), E(vmsplice),
};

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *op = strdup(argv[i]), *save = NULL;
		const char *name = strtok_r(op, ":", &save);
		char *end;
		long nr = name ? strtol(name, &end, 10) : -1;
		if (!name || *end != '\0')
			nr = -1;
		for (size_t k = 0; name && k < sizeof(calls) / sizeof(calls[0]); k++)
			if (strcmp(name, calls[k].name) == 0)
				nr = calls[k].nr;
		if (nr < 0) {
			fprintf(stderr, "seccomp-probe: unknown call \"%s\"\n", argv[i]);
			return 2;
		}
		unsigned long a[6] = { 0 };
		int n = 0;
		for (char *s; n < 6 && (s = strtok_r(NULL, ":", &save)); n++) {
			errno = 0;
			a[n] = strtoull(s, &end, 0);
			if (*s == '\0' || *end != '\0' || errno)
				a[n] = (unsigned long)s;
		}
		errno = 0;
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		int e = errno;
		if (nr == SYS_clone && r == 0)
			_exit(0);
		if (nr == SYS_clone && r > 0)
			waitpid((pid_t)r, NULL, __WALL);
		if (r < 0)
			dprintf(1, "%s=%s\n", argv[i], strerrorname_np(e));
		else
			dprintf(1, "%s=%ld\n", argv[i], r);
		free(op);
	}
	return 0;
}
