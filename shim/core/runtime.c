/* runtime: the runtime's command line (conmon's, so that any
 * runc-compatible runtime works), its stdio, and the console socket.
 *   create   RUNTIME [--systemd-cgroup] [ARGS] create --bundle B
 *            --pid-file P [--no-pivot] [--no-new-keyring] [OPTS]
 *            [--console-socket S] CID
 *   restore  the same with restore ... --detach --image-path I
 *            --work-path B
 *   exec     RUNTIME [ARGS] exec --pid-file P --process F --detach [OPTS]
 *            [--console-socket S] CID
 * (no --tty for exec: the process file says whether there is one, and
 * runc ignores the flag with --process anyway, as conmon >= 2.1.11 does).
 * Without a terminal the runtime's stdin is /dev/null or a pipe (-i), its
 * stdout and stderr pipes; with one, stdout is /dev/null and stderr still
 * a pipe, for the runtime's own errors. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "shim.h"
#include "skiff/base/fdpass.h"

extern char **environ;

static int scratch_dir(struct sk_err *err)
{
	if (S.scratch)
		return 0;
	const char *tmp = getenv("TMPDIR");
	/* The console socket's path must fit sun_path. */
	if (!tmp || !*tmp || strlen(tmp) > 64)
		tmp = "/tmp";
	char *d = shim_path_join(tmp, "skiff-shim.XXXXXX");
	if (!d)
		return sk_error(err, ENOMEM, "scratch directory");
	if (!mkdtemp(d)) {
		sk_error(err, errno, "mkdtemp \"%s\"", d);
		free(d);
		return -1;
	}
	S.scratch = d;
	return 0;
}

void shim_scratch_remove(void)
{
	if (!S.scratch)
		return;
	char *pid = shim_path_join(S.scratch, "pid");
	if (pid && S.o.ctr_pidfile && strcmp(S.o.ctr_pidfile, pid) == 0)
		unlink(pid);
	free(pid);
	if (S.console_path) {
		unlink(S.console_path);
		free(S.console_path);
		S.console_path = NULL;
	}
	rmdir(S.scratch);
	free(S.scratch);
	S.scratch = NULL;
}

static int console_socket(struct sk_err *err)
{
	if (scratch_dir(err) < 0)
		return -1;
	S.console_path = shim_path_join(S.scratch, "console");
	if (!S.console_path)
		return sk_error(err, ENOMEM, "console socket");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(S.console_path) >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "console socket \"%s\"", S.console_path);
	strcpy(sa.sun_path, S.console_path);
	S.console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (S.console_fd < 0)
		return sk_error(err, errno, "console socket");
	if (bind(S.console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sk_error(err, errno, "bind console socket \"%s\"", S.console_path);
	if (listen(S.console_fd, 1) < 0)
		return sk_error(err, errno, "listen on console socket \"%s\"", S.console_path);
	return shim_watch(S.console_fd, EPOLLIN, SHIM_TAG(T_CONSOLE, 0), err);
}

static int mkpipe(int *our, int *theirs, bool we_read, struct sk_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return sk_error(err, errno, "pipe");
	*our = we_read ? p[0] : p[1];
	*theirs = we_read ? p[1] : p[0];
	return shim_set_nonblock(*our) < 0 ? sk_error(err, errno, "pipe: O_NONBLOCK") : 0;
}

int shim_stdio_setup(struct sk_err *err)
{
	if (shim_logs_passthrough())
		return 0;
	if (S.o.terminal) {
		if (console_socket(err) < 0)
			return -1;
	} else {
		if (S.o.stdin_ && mkpipe(&S.in_fd, &S.worker_in, false, err) < 0)
			return -1;
		if (mkpipe(&S.out_fd, &S.worker_out, true, err) < 0)
			return -1;
		S.in_wanted = S.o.stdin_;
	}
	return mkpipe(&S.err_fd, &S.worker_err, true, err);
}

void shim_console_ready(void)
{
	int conn = accept4(S.console_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			shim_warn("accept on the console socket: %s", strerrorname_np(errno));
		return;
	}
	/* One terminal per container: nothing else may connect. */
	shim_unwatch(S.console_fd);
	close(S.console_fd);
	S.console_fd = -1;
	unlink(S.console_path);
	int master;
	struct sk_err err;
	int r = sk_fd_recv(conn, &master, &err);
	close(conn);
	if (r < 0) {
		shim_warn("console socket: %s", err.msg);
		return;
	}
	/* Kubernetes' terminal settings: \n becomes \r\n on output. */
	struct termios t;
	if (tcgetattr(master, &t) == 0) {
		t.c_oflag |= ONLCR;
		if (tcsetattr(master, TCSANOW, &t) < 0)
			shim_warn("console: tcsetattr: %s", strerrorname_np(errno));
	}
	S.out_fd = master;
	S.out_is_pty = true;
	S.in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	S.in_wanted = S.in_fd >= 0;
	if (shim_set_nonblock(master) < 0)
		shim_warn("console: O_NONBLOCK: %s", strerrorname_np(errno));
	shim_apply_winsize();
}

/* Append to a NULL-terminated vector with room counted by the caller. */
static void add(const char **v, size_t *n, const char *s)
{
	v[(*n)++] = s;
}

static const char **runtime_argv(void)
{
	const struct shim_opts *o = &S.o;
	size_t cap = 24 + o->runtime_args.n + o->runtime_opts.n;
	const char **v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	size_t n = 0;
	add(v, &n, o->runtime);
	if (!o->exec && o->systemd_cgroup)
		add(v, &n, "--systemd-cgroup");
	for (size_t i = 0; i < o->runtime_args.n; i++)
		add(v, &n, o->runtime_args.v[i]);
	if (o->exec) {
		add(v, &n, "exec");
		add(v, &n, "--pid-file");
		add(v, &n, o->ctr_pidfile);
		add(v, &n, "--process");
		add(v, &n, o->exec_process_spec);
		add(v, &n, "--detach");
	} else {
		add(v, &n, o->restore ? "restore" : "create");
		add(v, &n, "--bundle");
		add(v, &n, o->bundle);
		add(v, &n, "--pid-file");
		add(v, &n, o->ctr_pidfile);
		if (o->no_pivot)
			add(v, &n, "--no-pivot");
		if (o->no_new_keyring)
			add(v, &n, "--no-new-keyring");
		if (o->restore) {
			/* restore leaves the container running: --detach
			 * returns once it does. */
			add(v, &n, "--detach");
			add(v, &n, "--image-path");
			add(v, &n, o->restore);
			add(v, &n, "--work-path");
			add(v, &n, o->bundle);
		}
	}
	for (size_t i = 0; i < o->runtime_opts.n; i++)
		add(v, &n, o->runtime_opts.v[i]);
	if (S.console_path) {
		add(v, &n, "--console-socket");
		add(v, &n, S.console_path);
	}
	add(v, &n, o->cid);
	v[n] = NULL;
	return v;
}

/* In the child, between fork and exec (the shim has one thread, so the
 * child may call anything). */
static _Noreturn void runtime_child(const char **argv, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &S.saved_mask, NULL);
	if (!shim_logs_passthrough()) {
		int in = S.worker_in >= 0 ? S.worker_in : S.devnull_r;
		int out = S.worker_out >= 0 ? S.worker_out : S.devnull_w;
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(S.worker_err, 2) < 0)
			_exit(127);
	}
	/* Socket activation: the fds are for whoever runs next, here the
	 * runtime (and its container). */
	const char *lp = getenv("LISTEN_PID");
	if (lp) {
		char *end;
		long l = strtol(lp, &end, 10);
		if (*end || l <= 0)
			_exit(127);
		if (S.o.replace_listen_pid || l == (long)parent) {
			/* One thread: the child may allocate. */
			char buf[16];
			snprintf(buf, sizeof(buf), "%ld", (long)getpid());
			setenv("LISTEN_PID", buf, 1);
		}
	}
	/* An attached exec waits for its caller to connect first, or the
	 * first output would be lost. */
	if (S.o.exec_attach && S.start_fd >= 0) {
		char b;
		while (read(S.start_fd, &b, 1) < 0 && errno == EINTR)
			;
	}
	if (S.saved_oom_adj != INT_MIN) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			char buf[16];
			int k = snprintf(buf, sizeof(buf), "%d", S.saved_oom_adj);
			if (write(fd, buf, (size_t)k) < 0) {
				/* Then it keeps ours. */
			}
			close(fd);
		}
	}
	execve(argv[0], (char *const *)argv, environ);
	static const char msg[] = "skiff-shim: exec of the runtime failed\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* Nothing left to tell. */
	}
	_exit(127);
}

int shim_runtime_spawn(struct sk_err *err)
{
	if (!S.o.ctr_pidfile) {
		if (scratch_dir(err) < 0)
			return -1;
		S.o.ctr_pidfile = shim_path_join(S.scratch, "pid");
		if (!S.o.ctr_pidfile)
			return sk_error(err, ENOMEM, "pid file");
	}
	const char **argv = runtime_argv();
	if (!argv)
		return sk_error(err, ENOMEM, "runtime arguments");
	if (S.level >= SHIM_L_DEBUG) {
		char line[1024];
		size_t used = 0;
		for (size_t i = 0; argv[i] && used < sizeof(line); i++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? " " : "", argv[i]);
		shim_debug("runtime: %s", line);
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		free(argv);
		return sk_error(err, errno, "fork the runtime");
	}
	if (pid == 0)
		runtime_child(argv, parent);
	free(argv);
	S.runtime_pid = pid;
	int *workers[] = { &S.worker_in, &S.worker_out, &S.worker_err };
	for (size_t i = 0; i < 3; i++) {
		if (*workers[i] >= 0) {
			close(*workers[i]);
			*workers[i] = -1;
		}
	}
	return 0;
}

void shim_runtime_error(char *buf, size_t cap)
{
	size_t used = 0;
	while (S.err_fd >= 0 && used + 1 < cap) {
		ssize_t n = read(S.err_fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	/* Trailing newlines make no sense in a one-line message. */
	while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == '\r'))
		used--;
	buf[used] = '\0';
	if (used)
		return;
	const char *what = S.o.exec ? "exec" : S.o.restore ? "restore" : "create";
	int st = S.runtime_status;
	if (WIFEXITED(st))
		snprintf(buf, cap, "%s %s failed: exit status %d, and nothing on stderr", S.o.runtime, what,
			 WEXITSTATUS(st));
	else
		snprintf(buf, cap, "%s %s failed: killed by signal %d", S.o.runtime, what, WTERMSIG(st));
}
