/* hooks: running the OCI hooks of one kind, each spawned with the state on
 * its stdin and killed at its timeout (hooks.h). */
#include "skiff/plan/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "skiff/base/log.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Spawn h with the read end of a pipe as its stdin; *wfd gets the write end. */
static int spawn_hook(const char *kind, const struct sk_hook *h, const char *dir, pid_t *pid, int *wfd,
		      struct sk_err *err)
{
	/* spec.h's string arrays are counted, execve wants NULL-terminated ones. */
	size_t argc = h->n_args ? h->n_args : 1;
	char **argv = malloc((argc + 1 + h->n_env + 1) * sizeof(char *));
	if (!argv)
		return sk_error(err, ENOMEM, "%s hook \"%s\"", kind, h->path);
	char **envp = argv + argc + 1;
	if (h->n_args)
		memcpy(argv, h->args, h->n_args * sizeof(char *));
	else
		argv[0] = h->path;
	argv[argc] = NULL;
	if (h->n_env)
		memcpy(envp, h->env, h->n_env * sizeof(char *));
	envp[h->n_env] = NULL;

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(argv);
		return sk_error(err, errno, "%s hook \"%s\": pipe", kind, h->path);
	}
	/* vfork (what posix_spawn does, minus what it cannot: the death
	 * signal): a hook dies with the runtime that ran it, so a killed
	 * create leaves no hook behind.  The child only makes system calls. */
	sigset_t none;
	sigemptyset(&none);
	pid_t parent = getpid();
	volatile int child_errno = 0;
	pid_t c = vfork();
	if (c == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
		    dup2(p[0], 0) < 0 || syscall(SYS_close_range, 3, ~0U, 0) < 0 ||
		    sigprocmask(SIG_SETMASK, &none, NULL) < 0 || (dir && chdir(dir) < 0)) {
			child_errno = errno;
			_exit(127);
		}
		execve(h->path, argv, envp);
		child_errno = errno;
		_exit(127);
	}
	int e = c < 0 ? errno : child_errno;
	free(argv);
	close(p[0]);
	if (c > 0 && e)
		reap(c, NULL);
	if (e) {
		close(p[1]);
		return sk_error(err, e, "%s hook \"%s\"", kind, h->path);
	}
	*pid = c;
	*wfd = p[1];
	return 0;
}


/* Feed state to the hook while waiting for it to exit or time out. */
static int run_one(const char *kind, const struct sk_hook *h, const char *state, size_t len, const char *dir,
		   struct sk_err *err)
{
	pid_t pid = 0;
	int wfd = -1;
	sk_debug("running %s hook \"%s\"", kind, h->path);
	if (spawn_hook(kind, h, dir, &pid, &wfd, err) < 0)
		return -1;

	int status = 0, r = 0;
	int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		r = sk_error(err, errno, "%s hook \"%s\": pidfd_open", kind, h->path);
		kill(pid, SIGKILL);
		close(wfd);
		reap(pid, &status);
		return r;
	}
	size_t off = 0;
	if (len == 0) {
		close(wfd);
		wfd = -1;
	} else {
		fcntl(wfd, F_SETFL, O_NONBLOCK);
	}
	/* A hook that exits without reading its stdin must not kill us. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);

	int64_t deadline = h->has_timeout ? now_ms() + (int64_t)h->timeout * 1000 : 0;
	for (;;) {
		int wait_ms = -1;
		if (h->has_timeout) {
			int64_t left = deadline - now_ms();
			wait_ms = left > INT_MAX ? INT_MAX : left > 0 ? (int)left : 0;
		}
		struct pollfd pf[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = wfd, .events = POLLOUT } };
		int n = poll(pf, wfd >= 0 ? 2 : 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sk_error(err, errno, "%s hook \"%s\": poll", kind, h->path);
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			break;
		}
		if (n == 0 && now_ms() < deadline)
			continue;        /* a timeout beyond poll's reach */
		if (n == 0) {
			r = sk_error(err, 0, "%s hook \"%s\" timed out after %ds", kind, h->path, h->timeout);
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			break;
		}
		if (wfd >= 0 && pf[1].revents) {
			ssize_t w = write(wfd, state + off, len - off);
			if (w > 0)
				off += (size_t)w;
			/* EPIPE: the hook closed its stdin; it is its business. */
			if (off == len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(wfd);
				wfd = -1;
			}
		}
		if (pf[0].revents)
			break;
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (wfd >= 0)
		close(wfd);
	reap(pid, &status);
	close(pidfd);
	if (r < 0)
		return r;
	if (WIFSIGNALED(status))
		return sk_error(err, 0, "%s hook \"%s\": killed by signal %d", kind, h->path, WTERMSIG(status));
	if (WEXITSTATUS(status))
		return sk_error(err, 0, "%s hook \"%s\": exited with status %d", kind, h->path, WEXITSTATUS(status));
	return 0;
}

int sk_hooks_run(enum sk_hook_kind kind, const struct sk_hooks *hooks, const char *state_json, const char *dir,
		 struct sk_err *err)
{
	const char *name = sk_hook_kind_name(kind);
	bool warn_only = kind == SK_HOOK_POSTSTOP;
	size_t len = state_json ? strlen(state_json) : 0;
	struct sk_err warning;
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		if (run_one(name, &hooks->list[kind][i], state_json, len, dir, warn_only ? &warning : err) == 0)
			continue;
		if (!warn_only)
			return -1;
		sk_warn("%s", warning.msg);
	}
	return 0;
}
