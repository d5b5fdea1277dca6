/* Runtime commands (rtcmd.h). */
#include "rtcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctrd_rtcmd(const struct ctrd_runtime *rt, const char *const *args, char *out, size_t cap, struct sk_err *err)
{
	return ctrd_rtcmd_bounded(rt, NULL, args, out, cap, RTCMD_TIMEOUT_MS, err);
}

int ctrd_rtcmd_bounded(const struct ctrd_runtime *rt, const char *const *global, const char *const *args, char *out,
		       size_t cap, int timeout_ms, struct sk_err *err)
{
	const char *argv[32];
	size_t n = 0;
	argv[n++] = rt->binary;
	argv[n++] = "--root";
	argv[n++] = rt->root;
	if (rt->systemd_cgroup)
		argv[n++] = "--systemd-cgroup";
	for (size_t i = 0; global && global[i] && n < 31; i++)
		argv[n++] = global[i];
	for (size_t i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	char local[1024];
	if (!out) {
		out = local;
		cap = sizeof(local);
	}
	out[0] = '\0';
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sk_error(err, errno, "pipe");
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		/* The runtime gets default signal handling, not the loop's mask. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return sk_error(err, fork_errno, "fork %s", rt->binary);
	}
	size_t len = 0;
	long long deadline = now_ms() + timeout_ms;
	bool timed_out = false;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char buf[4096];
		ssize_t got = read(p[0], buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t take = (size_t)got < cap - 1 - len ? (size_t)got : cap - 1 - len;
		memcpy(out + len, buf, take);
		len += take;
	}
	out[len] = '\0';
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return sk_error(err, ETIMEDOUT, "%s %s", rt->binary, args[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		/* The runtime's own words, on one line. */
		while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
			out[--len] = '\0';
		for (char *c = out; *c; c++)
			if (*c == '\n')
				*c = ' ';
		return sk_error(err, 0, "%s %s: %s", rt->binary, args[0],
				*out ? out : WIFEXITED(st) ? "failed" : "killed by a signal");
	}
	return 0;
}

int ctrd_wait_child(struct shim_reaper *r, struct shim_child *c, int timeout_ms, struct sk_err *err)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	long long deadline = now_ms() + timeout_ms;
	bool killed = false;
	for (;;) {
		shim_reap(r);
		if (c->done)
			return killed ? sk_error(err, ETIMEDOUT, "the runtime") : 0;
		long long left = deadline - now_ms();
		if (left <= 0 && !killed) {
			shim_child_signal(c, SIGKILL);
			killed = true;
			deadline = now_ms() + 5000;
			continue;
		}
		if (left <= 0)
			return sk_error(err, ETIMEDOUT, "the runtime does not end");
		/* SIGCHLD is blocked (the loop's signalfd): wait for it here. */
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (left < 100 ? left : 100) * 1000000L };
		sigtimedwait(&chld, NULL, &ts);
	}
}
