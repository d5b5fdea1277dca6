/* containerd's binary:// logging programs (logger.h). */
#include "logger.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/util.h"

struct ctrd_logger {
	struct shim_child c;
	struct shim_loop *loop;
	int timer;                   /* SIGKILL after the grace; -1 until stopped */
	bool stopped;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into out (NUL-terminated); '+' is a space in a
 * query, as Go's ParseQuery has it.  -1 on a bad escape or a NUL. */
static int decode(const char *s, size_t n, bool query, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = query && s[i] == '+' ? ' ' : s[i];
			continue;
		}
		int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
		if (h < 0 || l < 0 || h + l == 0)
			return -1;
		out[o++] = (char)(h * 16 + l);
		i += 2;
	}
	out[o] = '\0';
	return 0;
}

int ctrd_logger_argv(const char *uri, char *buf, const char **argv, struct sk_err *err)
{
	if (strncmp(uri, "binary://", 9))
		return sk_error(err, EINVAL, "log URI %s: not binary://", uri);
	const char *rest = uri + strlen("binary://");
	if (rest[0] != '/')
		return sk_error(err, EINVAL, "log URI %s: not binary:///ABSOLUTE-PATH", uri);
	size_t end = strcspn(rest, "#");
	size_t plen = strcspn(rest, "?#");
	char *w = buf;
	if (decode(rest, plen, false, w) < 0 || !w[1])
		return sk_error(err, EINVAL, "log URI %s: a bad path", uri);
	int argc = 0;
	argv[argc++] = w;
	w += strlen(w) + 1;
	const char *q = rest + plen;
	if (*q == '?')
		q++;
	const char *qend = rest + end;
	while (q < qend) {
		size_t n = strcspn(q, "&#");
		if (q + n > qend)
			n = (size_t)(qend - q);
		if (n) {
			const char *eq = memchr(q, '=', n);
			size_t kl = eq ? (size_t)(eq - q) : n;
			char *k = w;
			if (decode(q, kl, true, k) < 0)
				return sk_error(err, EINVAL, "log URI %s: a bad escape", uri);
			w += strlen(k) + 1;
			char *v = w;
			if (decode(eq ? eq + 1 : q + n, eq ? n - kl - 1 : 0, true, v) < 0)
				return sk_error(err, EINVAL, "log URI %s: a bad escape", uri);
			w += strlen(v) + 1;
			bool seen = false;
			for (int i = 1; i < argc && !seen; i += 2)
				seen = !strcmp(argv[i], k);
			if (!seen) {
				if (argc + 3 > CTRD_LOGGER_MAX_ARGS)
					return sk_error(err, E2BIG, "log URI %s: too many arguments", uri);
				argv[argc++] = k;
				argv[argc++] = v;
			}
		}
		q += n;
		if (q < qend && *q == '&')
			q++;
	}
	argv[argc] = NULL;
	return 0;
}

static void logger_free(struct ctrd_logger *lg)
{
	shim_child_remove(&lg->c);
	if (lg->timer >= 0) {
		shim_loop_unwatch(lg->loop, lg->timer);
		close(lg->timer);
	}
	free(lg);
}

static void logger_exited(void *ctx, struct shim_child *c)
{
	struct ctrd_logger *lg = ctx;
	(void)c;
	if (lg->stopped)
		logger_free(lg);
}

static void grace_over(void *ctx, uint32_t events)
{
	struct ctrd_logger *lg = ctx;
	uint64_t n;
	(void)events;
	if (read(lg->timer, &n, sizeof(n)) < 0)
		return;
	shim_warn("logging program %d did not end after SIGTERM: killed", (int)lg->c.pid);
	shim_child_signal(&lg->c, SIGKILL);
}

void ctrd_logger_stop(struct ctrd_logger *lg)
{
	if (!lg)
		return;
	lg->stopped = true;
	if (lg->c.done) {
		logger_free(lg);
		return;
	}
	shim_child_signal(&lg->c, SIGTERM);
	struct sk_err err;
	struct itimerspec its = { .it_value = { .tv_sec = CTRD_LOGGER_GRACE_S } };
	lg->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lg->timer < 0 || timerfd_settime(lg->timer, 0, &its, NULL) < 0 ||
	    shim_loop_watch(lg->loop, lg->timer, EPOLLIN, grace_over, lg, &err) < 0) {
		/* No timer: no grace. */
		shim_child_signal(&lg->c, SIGKILL);
	}
}

/* In the child: the pipes to 3, 4 and 5, the rest /dev/null, then exec. */
static void __attribute__((noreturn)) logger_exec(const struct shim_reaper *r, int fds[3], int report,
						  const char **argv, char **envp)
{
	shim_child_reset(r);
	/* Move them above 5 first, so that the dup2s cannot clobber one. */
	report = fcntl(report, F_DUPFD_CLOEXEC, 10);
	if (report < 0)
		_exit(127);
	for (int i = 0; i < 3; i++) {
		int f = fcntl(fds[i], F_DUPFD, 10);
		if (f < 0)
			_exit(127);
		fds[i] = f;
	}
	int null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], 3 + i) < 0)
			_exit(127);
	/* Nothing else of the shim's but the report pipe (close-on-exec). */
	close_range(6, (unsigned)report - 1, 0);
	close_range((unsigned)report + 1, ~0U, 0);
	execve(argv[0], (char *const *)argv, envp);
	int e = errno;
	if (write(report, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int ctrd_logger_start(const char *uri, const char *id, const char *ns, struct shim_reaper *r, int *out_w,
		      int *err_w, struct ctrd_logger **lgp, struct sk_err *err)
{
	*out_w = *err_w = -1;
	*lgp = NULL;
	const char *argv[CTRD_LOGGER_MAX_ARGS + 1];
	char *buf = malloc(strlen(uri) * 2 + 2);
	char *env_id = NULL, *env_ns = NULL;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pr[2] = { -1, -1 }, px[2] = { -1, -1 };
	struct ctrd_logger *lg = calloc(1, sizeof(*lg));
	int ret = -1;
	if (!buf || !lg || asprintf(&env_id, "CONTAINER_ID=%s", id) < 0 ||
	    asprintf(&env_ns, "CONTAINER_NAMESPACE=%s", ns) < 0) {
		sk_error(err, ENOMEM, "log URI %s", uri);
		goto out;
	}
	if (ctrd_logger_argv(uri, buf, argv, err) < 0)
		goto out;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(pr, O_CLOEXEC) < 0 ||
	    pipe2(px, O_CLOEXEC) < 0) {
		sk_error(err, errno, "log URI %s: pipe", uri);
		goto out;
	}
	char *envp[] = { env_id, env_ns, NULL };
	pid_t pid = fork();
	if (pid < 0) {
		sk_error(err, errno, "log URI %s: fork", uri);
		goto out;
	}
	if (pid == 0)
		logger_exec(r, (int[3]){ po[0], pe[0], pr[1] }, px[1], argv, envp);
	lg->loop = r->loop;
	lg->timer = -1;
	lg->c.on_exit = logger_exited;
	lg->c.ctx = lg;
	shim_child_add(r, &lg->c, pid);
	close(pr[1]);
	pr[1] = -1;
	close(px[1]);
	px[1] = -1;
	/* The exec's failure, as containerd's shim reports it (its exec.Cmd
	 * does the same); nothing when it ran. */
	int exec_errno = 0;
	ssize_t got;
	while ((got = read(px[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(exec_errno)) {
		sk_error(err, exec_errno, "log URI %s: exec %s", uri, argv[0]);
		ctrd_logger_stop(lg);
		lg = NULL;
		goto out;
	}
	/* Ready when it closes fd 5 or writes to it (its exit closes it too:
	 * then it is not ready, but gone). */
	struct pollfd pfd = { .fd = pr[0], .events = POLLIN };
	int n;
	while ((n = poll(&pfd, 1, CTRD_LOGGER_READY_MS)) < 0 && errno == EINTR)
		;
	shim_reap(r);
	if (n <= 0 || lg->c.done) {
		if (n < 0)
			sk_error(err, errno, "logging program %s: poll", argv[0]);
		else if (lg->c.done)
			sk_error(err, 0, "logging program %s ended before it was ready (status %d)", argv[0],
				 WIFEXITED(lg->c.status) ? WEXITSTATUS(lg->c.status) : 128 + WTERMSIG(lg->c.status));
		else
			sk_error(err, ETIMEDOUT, "logging program %s: not ready after %d ms", argv[0],
				 CTRD_LOGGER_READY_MS);
		shim_child_signal(&lg->c, SIGKILL);
		ctrd_logger_stop(lg);
		lg = NULL;
		goto out;
	}
	if (shim_set_nonblock(po[1]) < 0 || shim_set_nonblock(pe[1]) < 0) {
		sk_error(err, errno, "log pipes: O_NONBLOCK");
		ctrd_logger_stop(lg);
		lg = NULL;
		goto out;
	}
	*out_w = po[1];
	*err_w = pe[1];
	po[1] = pe[1] = -1;
	*lgp = lg;
	lg = NULL;
	ret = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
		if (pr[i] >= 0)
			close(pr[i]);
		if (px[i] >= 0)
			close(px[i]);
	}
	free(lg);
	free(buf);
	free(env_id);
	free(env_ns);
	return ret;
}
