/* runtime: the runtime's command line (conmon's, so that any
 * runc-compatible runtime works), spawning it with a process's stdio, and
 * the console socket that brings the pty master (core/runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "core/ctr.h"
#include "core/diag.h"
#include "core/runtime.h"
#include "core/util.h"
#include "skiff/base/fdpass.h"
#include "skiff/base/util.h"

extern char **environ;

char *shim_proc_scratch(struct shim_proc *p, const char *name, struct sk_err *err)
{
	if (!p->scratch) {
		const char *tmp = getenv("TMPDIR");
		/* The console socket's path must fit sun_path. */
		if (!tmp || !*tmp || strlen(tmp) > 64)
			tmp = "/tmp";
		char *d = shim_path_join(tmp, "skiff-shim.XXXXXX");
		if (!d) {
			sk_error(err, ENOMEM, "scratch directory");
			return NULL;
		}
		if (!mkdtemp(d)) {
			sk_error(err, errno, "mkdtemp \"%s\"", d);
			free(d);
			return NULL;
		}
		p->scratch = d;
	}
	char *path = shim_path_join(p->scratch, name);
	if (!path)
		sk_error(err, ENOMEM, "%s in the scratch directory", name);
	return path;
}

void shim_proc_scratch_remove(struct shim_proc *p)
{
	if (!p->scratch)
		return;
	/* Only what the core put there: a default pid file, the socket. */
	char *pid = shim_path_join(p->scratch, "pid");
	if (pid)
		unlink(pid);
	free(pid);
	if (p->io.console_path) {
		unlink(p->io.console_path);
		free(p->io.console_path);
		p->io.console_path = NULL;
	}
	rmdir(p->scratch);
	free(p->scratch);
	p->scratch = NULL;
}

static void console_ready(void *ctx, uint32_t events)
{
	(void)events;
	shim_stdio_take_console(ctx);
}

static int console_socket(struct shim_proc *p, struct sk_err *err)
{
	p->io.console_path = shim_proc_scratch(p, "console", err);
	if (!p->io.console_path)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(p->io.console_path) >= sizeof(sa.sun_path))
		return sk_error(err, ENAMETOOLONG, "console socket \"%s\"", p->io.console_path);
	strcpy(sa.sun_path, p->io.console_path);
	p->io.console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->io.console_fd < 0)
		return sk_error(err, errno, "console socket");
	if (bind(p->io.console_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sk_error(err, errno, "bind console socket \"%s\"", p->io.console_path);
	if (listen(p->io.console_fd, 1) < 0)
		return sk_error(err, errno, "listen on console socket \"%s\"", p->io.console_path);
	return shim_loop_watch(p->ctr->loop, p->io.console_fd, EPOLLIN, console_ready, p, err);
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

int shim_stdio_pipes(struct shim_proc *p, bool with_stdin, struct sk_err *err)
{
	if (with_stdin && mkpipe(&p->io.in_fd, &p->io.worker_in, false, err) < 0)
		return -1;
	if (mkpipe(&p->io.out_fd, &p->io.worker_out, true, err) < 0)
		return -1;
	return mkpipe(&p->io.err_fd, &p->io.worker_err, true, err);
}

int shim_stdio_console(struct shim_proc *p, struct sk_err *err)
{
	if (console_socket(p, err) < 0)
		return -1;
	return mkpipe(&p->io.err_fd, &p->io.worker_err, true, err);
}

bool shim_stdio_take_console(struct shim_proc *p)
{
	if (p->io.out_is_pty)
		return true;
	if (p->io.console_fd < 0)
		return false;
	int conn = accept4(p->io.console_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR)
			shim_warn("accept on the console socket: %s", strerrorname_np(errno));
		return false;
	}
	/* One terminal per process: nothing else may connect. */
	shim_loop_unwatch(p->ctr->loop, p->io.console_fd);
	close(p->io.console_fd);
	p->io.console_fd = -1;
	unlink(p->io.console_path);
	int master;
	struct sk_err err;
	int r = sk_fd_recv(conn, &master, &err);
	close(conn);
	if (r < 0) {
		shim_warn("console socket: %s", err.msg);
		return false;
	}
	/* Kubernetes' terminal settings: \n becomes \r\n on output. */
	struct termios t;
	if (tcgetattr(master, &t) == 0) {
		t.c_oflag |= ONLCR;
		if (tcsetattr(master, TCSANOW, &t) < 0)
			shim_warn("console: tcsetattr: %s", strerrorname_np(errno));
	}
	p->io.out_fd = master;
	p->io.out_is_pty = true;
	p->io.in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	if (shim_set_nonblock(master) < 0)
		shim_warn("console: O_NONBLOCK: %s", strerrorname_np(errno));
	shim_stdio_resize(p, -1, -1);
	return true;
}

void shim_stdio_resize(struct shim_proc *p, int rows, int cols)
{
	if (rows >= 0) {
		p->io.win_rows = rows;
		p->io.win_cols = cols;
	}
	if (!p->io.out_is_pty || p->io.out_fd < 0 || p->io.win_rows < 0)
		return;
	struct winsize ws = { .ws_row = (unsigned short)p->io.win_rows, .ws_col = (unsigned short)p->io.win_cols };
	if (ioctl(p->io.out_fd, TIOCSWINSZ, &ws) < 0)
		shim_warn("resize the pty: %s", strerrorname_np(errno));
}

/* Append to a NULL-terminated vector with room counted by the caller. */
static void add(const char **v, size_t *n, const char *s)
{
	v[(*n)++] = s;
}

const char **shim_runtime_argv(const struct shim_runtime_cmd *cmd, const struct shim_proc *p)
{
	size_t cap = 24 + cmd->args.n + cmd->opts.n;
	const char **v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	size_t n = 0;
	add(v, &n, cmd->runtime);
	if (cmd->verb != SHIM_RT_EXEC && cmd->systemd_cgroup)
		add(v, &n, "--systemd-cgroup");
	for (size_t i = 0; i < cmd->args.n; i++)
		add(v, &n, cmd->args.v[i]);
	if (cmd->verb == SHIM_RT_EXEC) {
		add(v, &n, "exec");
		add(v, &n, "--pid-file");
		add(v, &n, cmd->pid_file);
		add(v, &n, "--process");
		add(v, &n, cmd->process_spec);
		add(v, &n, "--detach");
	} else {
		add(v, &n, cmd->verb == SHIM_RT_RESTORE ? "restore" : "create");
		add(v, &n, "--bundle");
		add(v, &n, cmd->bundle);
		add(v, &n, "--pid-file");
		add(v, &n, cmd->pid_file);
		if (cmd->no_pivot)
			add(v, &n, "--no-pivot");
		if (cmd->no_new_keyring)
			add(v, &n, "--no-new-keyring");
		if (cmd->verb == SHIM_RT_RESTORE) {
			/* restore leaves the container running: --detach
			 * returns once it does. */
			add(v, &n, "--detach");
			add(v, &n, "--image-path");
			add(v, &n, cmd->image_path);
			add(v, &n, "--work-path");
			add(v, &n, cmd->work_path ? cmd->work_path : cmd->bundle);
		}
	}
	for (size_t i = 0; i < cmd->opts.n; i++)
		add(v, &n, cmd->opts.v[i]);
	if (p->io.console_path) {
		add(v, &n, "--console-socket");
		add(v, &n, p->io.console_path);
	}
	add(v, &n, cmd->id);
	v[n] = NULL;
	return v;
}

/* In the child, between fork and exec (the shim has one thread, so the
 * child may call anything). */
static _Noreturn void runtime_child(struct shim_proc *p, const char *const *argv, const struct shim_spawn *sp,
				    pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	shim_child_reset(p->ctr->reaper);
	if (!sp->keep_stdio) {
		int null = -1;
		if (p->io.worker_in < 0 || p->io.worker_out < 0)
			null = open("/dev/null", O_RDWR | O_CLOEXEC);
		int in = p->io.worker_in >= 0 ? p->io.worker_in : null;
		int out = p->io.worker_out >= 0 ? p->io.worker_out : null;
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(p->io.worker_err, 2) < 0)
			_exit(127);
	}
	if (sp->child_setup)
		sp->child_setup(sp->ctx);
	execve(argv[0], (char *const *)argv, environ);
	static const char msg[] = "skiff-shim: exec of the runtime failed\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* Nothing left to tell. */
	}
	_exit(127);
}

int shim_runtime_spawn(struct shim_proc *p, const char *const *argv, const struct shim_spawn *sp,
		       struct shim_child *run, struct sk_err *err)
{
	if (shim_diag_level() >= SHIM_L_DEBUG) {
		char line[1024];
		size_t used = 0;
		for (size_t i = 0; argv[i] && used < sizeof(line); i++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? " " : "", argv[i]);
		shim_debug("runtime: %s", line);
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return sk_error(err, errno, "fork the runtime");
	if (pid == 0)
		runtime_child(p, argv, sp, parent);
	shim_child_add(p->ctr->reaper, run, pid);
	int *workers[] = { &p->io.worker_in, &p->io.worker_out, &p->io.worker_err };
	for (size_t i = 0; i < 3; i++) {
		if (*workers[i] >= 0) {
			close(*workers[i]);
			*workers[i] = -1;
		}
	}
	return 0;
}

void shim_runtime_error(struct shim_proc *p, const struct shim_child *run, const char *what, char *buf, size_t cap)
{
	size_t used = 0;
	while (p->io.err_fd >= 0 && used + 1 < cap) {
		ssize_t n = read(p->io.err_fd, buf + used, cap - 1 - used);
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
	int st = run->status;
	if (WIFEXITED(st))
		snprintf(buf, cap, "%s failed: exit status %d, and nothing on stderr", what, WEXITSTATUS(st));
	else
		snprintf(buf, cap, "%s failed: killed by signal %d", what, WTERMSIG(st));
}

int shim_read_pidfile(const char *path, pid_t *pid, struct sk_err *err)
{
	char buf[32];
	if (sk_read_small_at(AT_FDCWD, path, buf, sizeof(buf), err) < 0)
		return sk_error_wrap(err, "the runtime's pid file");
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == buf || *end || v <= 0 || v > 0x3fffffff)
		return sk_error(err, EINVAL, "the runtime's pid file \"%s\" holds \"%s\", not a pid", path, buf);
	*pid = (pid_t)v;
	return 0;
}
