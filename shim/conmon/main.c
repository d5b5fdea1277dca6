/* skiff-shim: the sequence.
 *
 * P0 (started by podman/CRI-O/skiff) checks its options, reads one message
 * from the start pipe (the caller moves it into a cgroup meanwhile),
 * forks, writes P1's pid to the -P file and exits; with --sync it does not
 * fork.  P1 leaves the caller's session and stdio, becomes a child
 * subreaper, runs the runtime's create (or exec, or restore) with stdio it
 * owns, reads the runtime's pid file, sets up attach/ctl and the logs,
 * records "running" in exit.json and sends the pid on the sync pipe.
 * Then it copies output and serves the endpoints until the process ends;
 * then, in this order:
 *   1. exit.json, durably: the status is on disk before anything else;
 *   2. the output left in the pipes, into the log, which is fsynced;
 *   3. the fds inherited from the caller are closed (port reservations);
 *   4. oom files, <persist-dir>/exit, <exit-dir>/<cid>;
 *   5. for exec, the status on the sync pipe;
 *   6. attach clients get their backlog while they keep reading (2 s
 *      without progress ends it), then are closed;
 *   7. the exit command runs (after --exit-delay), and is waited for.
 * The shim exits with the container's status, or the exit command's when
 * that one fails (conmon's rule). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conmon.h"
#include "core/diag.h"
#include "core/exitrec.h"
#include "core/oom.h"
#include "core/runtime.h"
#include "skiff/base/util.h"

extern char **environ;

static _Noreturn void usage_fail(const char *msg)
{
	fprintf(stderr, "skiff-shim: %s\n", msg);
	exit(1);
}

static enum shim_level check_options(struct conmon *c)
{
	struct shim_opts *o = &c->o;
	static const struct {
		const char *name;
		enum shim_level level;
	} levels[] = {
		{ "error", SHIM_L_ERROR }, { "fatal", SHIM_L_ERROR }, { "panic", SHIM_L_ERROR },
		{ "warn", SHIM_L_WARN },   { "warning", SHIM_L_WARN }, { "info", SHIM_L_INFO },
		{ "debug", SHIM_L_DEBUG }, { "trace", SHIM_L_TRACE },
	};
	enum shim_level level = SHIM_L_WARN;
	if (o->log_level) {
		size_t i = 0;
		while (i < sizeof(levels) / sizeof(levels[0]) && strcmp(levels[i].name, o->log_level) != 0)
			i++;
		if (i == sizeof(levels) / sizeof(levels[0]))
			usage_fail("--log-level: no such log level");
		level = levels[i].level;
	}
	if (!o->cid)
		usage_fail("Container ID not provided. Use --cid");
	if (o->restore && o->exec)
		usage_fail("Cannot use 'exec' and 'restore' at the same time");
	if (o->exec_attach && !o->exec)
		usage_fail("Attach can only be specified with exec");
	if (o->exec_attach && !o->api)
		usage_fail("Attach can only be specified for a non-legacy exec session");
	if (!o->cuuid && (!o->exec || o->api))
		usage_fail("Container UUID not provided. Use --cuuid");
	if (!o->runtime)
		usage_fail("Runtime path not provided. Use --runtime");
	if (access(o->runtime, X_OK) < 0) {
		fprintf(stderr, "skiff-shim: Runtime path %s is not valid: %s\n", o->runtime, strerrorname_np(errno));
		exit(1);
	}
	if (o->exec && !o->exec_process_spec)
		usage_fail("Exec process spec path not provided. Use --exec-process-spec");
	if (o->exit_delay < 0)
		usage_fail("Delay before invoking exit command must be greater than or equal to 0");
	if (o->timeout < 0)
		usage_fail("--timeout must not be negative");
	if (o->seccomp_notify_socket || o->seccomp_notify_plugins)
		usage_fail("seccomp notification (--seccomp-notify-socket) is not supported");
	if (!o->bundle && !o->exec) {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			usage_fail("Failed to get working directory");
		o->bundle = shim_strdup(cwd);
	}
	struct sk_err err;
	if (conmon_logs_parse(c, &err) < 0)
		usage_fail(err.msg);
	return level;
}

/* The fds the caller handed over, other than stdio and the pipes: podman's
 * preserved fds and port reservations.  They go to the runtime as they are
 * and are closed once the container has exited. */
static void note_inherited(struct conmon *c)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd < 3 || fd == dirfd(d) || fd == c->sync_fd || fd == c->start_fd ||
		    fd == c->attach_pipe_fd)
			continue;
		int *n = realloc(c->inherited, (c->n_inherited + 1) * sizeof(*n));
		if (!n)
			break;
		c->inherited = n;
		c->inherited[c->n_inherited++] = fd;
	}
	closedir(d);
}

static int pipe_from_env(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		return -1;
	char *end;
	errno = 0;
	long fd = strtol(v, &end, 10);
	if (errno || end == v || *end || fd < 0 || fd > INT_MAX) {
		fprintf(stderr, "skiff-shim: unable to parse %s=\"%s\"\n", name, v);
		exit(1);
	}
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "skiff-shim: %s=%ld: %s\n", name, fd, strerrorname_np(errno));
		exit(1);
	}
	return (int)fd;
}

/* Lower our own oom_score_adj (conmon does: the monitor should be the
 * last to go); children get the old value back.  Without
 * CAP_SYS_RESOURCE this fails, which is fine. */
static void oom_adjust(struct conmon *c)
{
	char buf[16];
	struct sk_err ignored;
	if (sk_read_small_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, sizeof(buf), &ignored) < 0)
		return;
	c->reaper.child_oom_adj = atoi(buf);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1000", 5) < 0)
			shim_debug("oom_score_adj: %s", strerrorname_np(errno));
		close(fd);
	}
}

static void to_devnull(struct conmon *c)
{
	if (dup2(c->devnull_r, 0) < 0 || dup2(c->devnull_w, 1) < 0 || dup2(c->devnull_w, 2) < 0)
		shim_warn("stdio to /dev/null: %s", strerrorname_np(errno));
	shim_diag_detached();
}

/* A failure before the pid went out: tell the caller on the sync pipe
 * (conmon sometimes said nothing: podman then reports "no logs from
 * conmon"), and exit. */
static _Noreturn void fail_start(struct conmon *c, const char *msg)
{
	shim_log(SHIM_L_ERROR, "%s", msg);
	/* A process the runtime made would run on unwatched: the caller
	 * (podman, skiff) deletes what is left. */
	if (c->proc && c->proc->child.pidfd >= 0)
		shim_child_signal(&c->proc->child, SIGKILL);
	conmon_sync_send(c, c->sync_fd, -1, msg);
	if (c->proc)
		shim_proc_scratch_remove(c->proc);
	if (c->attach_symlink)
		unlink(c->attach_symlink);
	exit(1);
}

/* SIGCHLD reaps; SIGTERM, SIGINT and SIGQUIT go on to the container, or
 * to the runtime before there is a container, as conmon does. */
static void on_signal(void *ctx, int sig)
{
	struct conmon *c = ctx;
	switch (sig) {
	case SIGCHLD:
	case SIGUSR1:
		shim_reap(&c->reaper);
		break;
	default:
		if (c->proc->child.pidfd >= 0) {
			if (shim_child_signal(&c->proc->child, sig) < 0)
				shim_debug("forward signal %d: %s", sig, strerrorname_np(errno));
		} else {
			shim_child_signal(&c->runtime, sig);
		}
		break;
	}
}

static bool runtime_done(void *ctx)
{
	const struct conmon *c = ctx;
	return c->runtime.done;
}

static bool proc_done(void *ctx)
{
	const struct conmon *c = ctx;
	return c->proc->child.done;
}

static void run_loop(struct conmon *c, bool (*done)(void *ctx))
{
	struct sk_err err;
	if (shim_loop_run(&c->loop, done, c, -1, &err) < 0)
		shim_fatal(&err);
}

static void start_watch(struct conmon *c)
{
	struct sk_err err;
	char msg[SK_ERR_MSG_MAX + 64];
	pid_t pid;
	if (shim_read_pidfile(c->o.ctr_pidfile, &pid, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		fail_start(c, msg);
	}
	if (shim_proc_started(c->proc, pid, &err) < 0)
		fail_start(c, err.msg);
}

static int open_state_dir(const struct conmon *c)
{
	const char *d = c->o.state_dir ? c->o.state_dir : c->o.persist_dir ? c->o.persist_dir : c->o.bundle;
	if (!d)
		return -1;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		shim_warn("open \"%s\" for %s: %s", d, "exit.json", strerrorname_np(errno));
	return fd;
}

/* In the runtime's child, just before its exec. */
static void runtime_child_setup(void *ctx)
{
	const struct conmon *c = ctx;
	/* Socket activation: the fds are for whoever runs next, here the
	 * runtime (and its container). */
	const char *lp = getenv("LISTEN_PID");
	if (lp) {
		char *end;
		long l = strtol(lp, &end, 10);
		if (*end || l <= 0)
			_exit(127);
		if (c->o.replace_listen_pid || l == (long)getppid()) {
			/* One thread: the child may allocate. */
			char buf[16];
			snprintf(buf, sizeof(buf), "%ld", (long)getpid());
			setenv("LISTEN_PID", buf, 1);
		}
	}
	/* An attached exec waits for its caller to connect first, or the
	 * first output would be lost. */
	if (c->o.exec_attach && c->start_fd >= 0) {
		char b;
		while (read(c->start_fd, &b, 1) < 0 && errno == EINTR)
			;
	}
}

static int spawn_runtime(struct conmon *c, struct sk_err *err)
{
	struct shim_opts *o = &c->o;
	struct shim_proc *p = c->proc;
	if (!c->log_passthrough) {
		int r = o->terminal ? shim_stdio_console(p, err) : shim_stdio_pipes(p, o->stdin_, err);
		if (r < 0)
			return -1;
	}
	if (!o->ctr_pidfile && !(o->ctr_pidfile = shim_proc_scratch(p, "pid", err)))
		return -1;
	struct shim_runtime_cmd cmd = {
		.verb = o->exec ? SHIM_RT_EXEC : o->restore ? SHIM_RT_RESTORE : SHIM_RT_CREATE,
		.runtime = o->runtime, .id = o->cid, .bundle = o->bundle, .pid_file = o->ctr_pidfile,
		.process_spec = o->exec_process_spec, .image_path = o->restore,
		.args = o->runtime_args, .opts = o->runtime_opts,
		.systemd_cgroup = o->systemd_cgroup, .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring,
	};
	const char **argv = shim_runtime_argv(&cmd, p);
	if (!argv)
		return sk_error(err, ENOMEM, "runtime arguments");
	struct shim_spawn sp = { .keep_stdio = c->log_passthrough, .child_setup = runtime_child_setup, .ctx = c };
	int r = shim_runtime_spawn(p, argv, &sp, &c->runtime, err);
	free(argv);
	return r;
}

static int run_exit_command(struct conmon *c)
{
	if (!c->o.exit_command)
		return 0;
	/* Whatever the exit command leaves behind is not ours to wait for. */
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	const char **argv = calloc(c->o.exit_args.n + 2, sizeof(*argv));
	if (!argv)
		return 1;
	argv[0] = c->o.exit_command;
	for (size_t i = 0; i < c->o.exit_args.n; i++)
		argv[i + 1] = c->o.exit_args.v[i];
	pid_t pid = fork();
	if (pid < 0) {
		shim_warn("fork the exit command: %s", strerrorname_np(errno));
		free(argv);
		return 1;
	}
	if (pid == 0) {
		shim_child_reset(&c->reaper);
		dup2(c->devnull_r, 0);
		dup2(c->devnull_w, 1);
		dup2(c->devnull_w, 2);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		if (c->o.exit_delay > 0)
			sleep((unsigned)c->o.exit_delay);
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	free(argv);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	shim_reap(&c->reaper);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	static struct conmon conmon;
	struct conmon *c = &conmon;
	*c = (struct conmon){
		.sync_fd = -1, .start_fd = -1, .attach_pipe_fd = -1, .devnull_r = -1, .devnull_w = -1,
		.endpoint_dir = -1, .attach_fd = -1, .ctl_fd = -1, .ctl_dummy_fd = -1, .notify_fd = -1,
		.notify_host_fd = -1,
	};
	shim_reaper_init(&c->reaper, &c->loop);
	int r = shim_opts_parse(argc, argv, &c->o);
	if (r != 0)
		return r < 0 ? 1 : 0;
	shim_diag_init(check_options(c), c->o.syslog, c->o.cid);

	c->sync_fd = pipe_from_env("_OCI_SYNCPIPE");
	c->start_fd = pipe_from_env("_OCI_STARTPIPE");
	if (c->o.exec_attach) {
		c->attach_pipe_fd = pipe_from_env("_OCI_ATTACHPIPE");
		if (c->attach_pipe_fd < 0)
			usage_fail("--exec-attach specified but _OCI_ATTACHPIPE was not");
	}
	note_inherited(c);
	oom_adjust(c);
	signal(SIGPIPE, SIG_IGN);

	/* The caller moves us into a cgroup, then writes: nothing may be
	 * forked before this read. */
	if (c->start_fd >= 0) {
		char buf[8192];
		ssize_t n;
		while ((n = read(c->start_fd, buf, sizeof(buf))) < 0 && errno == EINTR)
			;
		if (n < 0) {
			fprintf(stderr, "skiff-shim: read the start pipe: %s\n", strerrorname_np(errno));
			return 1;
		}
		if (!c->o.exec_attach) {
			close(c->start_fd);
			c->start_fd = -1;
		}
	}
	c->devnull_r = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->devnull_w = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (c->devnull_r < 0 || c->devnull_w < 0) {
		fprintf(stderr, "skiff-shim: open /dev/null: %s\n", strerrorname_np(errno));
		return 1;
	}

	if (!c->o.sync) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "skiff-shim: fork: %s\n", strerrorname_np(errno));
			return 1;
		}
		if (pid > 0) {
			struct sk_err err;
			if (c->o.conmon_pidfile && conmon_write_pidfile(c, pid, &err) < 0) {
				fprintf(stderr, "skiff-shim: %s\n", err.msg);
				kill(pid, SIGKILL);
				_exit(1);
			}
			_exit(0);
		}
	}

	/* P1 */
	setsid();
	if (!c->log_passthrough)
		to_devnull(c);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		shim_warn("PR_SET_CHILD_SUBREAPER: %s", strerrorname_np(errno));
	struct sk_err err;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	if (shim_loop_init(&c->loop, &set, on_signal, c, &err) < 0)
		fail_start(c, err.msg);
	if (!(c->ctr = shim_ctr_new(&c->loop, &c->reaper, c->o.cid, &err)) ||
	    !(c->proc = shim_proc_new(c->ctr, !c->o.exec, &err)))
		fail_start(c, err.msg);
	c->proc->out.cfg = c->log;
	c->proc->out.sink = conmon_clients_send;
	c->proc->out.sink_ctx = c;
	if (c->o.exec_attach) {
		if (conmon_endpoints_setup(c, &err) < 0)
			fail_start(c, err.msg);
		conmon_sync_send(c, c->attach_pipe_fd, 0, NULL);
	}
	if (conmon_notify_setup(c, &err) < 0 || spawn_runtime(c, &err) < 0)
		fail_start(c, err.msg);
	if (c->log_passthrough)
		to_devnull(c);
	if (c->start_fd >= 0) {
		close(c->start_fd);
		c->start_fd = -1;
	}
	if (chdir("/") < 0)
		shim_warn("chdir /: %s", strerrorname_np(errno));

	run_loop(c, runtime_done);
	bool ok = c->runtime.known && WIFEXITED(c->runtime.status) && WEXITSTATUS(c->runtime.status) == 0;
	if (ok && c->o.terminal)
		shim_stdio_take_console(c->proc);
	if (!ok) {
		char msg[8192], what[256];
		snprintf(what, sizeof(what), "%s %s", c->o.runtime, c->o.exec ? "exec" : c->o.restore ? "restore" : "create");
		shim_runtime_error(c->proc, &c->runtime, what, msg, sizeof(msg));
		fail_start(c, msg);
	}
	if (c->o.terminal && !c->proc->io.out_is_pty && !c->log_passthrough)
		fail_start(c, "the runtime did not send the terminal over the console socket");

	start_watch(c);
	c->proc->rec_fd = open_state_dir(c);
	c->proc->rec_lock = c->o.state_dir != NULL;
	if (!c->o.exec_attach && conmon_endpoints_setup(c, &err) < 0)
		fail_start(c, err.msg);
	if (shim_output_open(c->proc, &err) < 0)
		fail_start(c, err.msg);
	if (!c->o.exec)
		shim_oom_watch(c->ctr, c->proc->child.pid);
	shim_record_running(c->proc);
	conmon_reserve_exit_files(c);
	shim_proc_scratch_remove(c->proc);
	if (c->o.api || !c->o.exec)
		conmon_sync_send(c, c->sync_fd, (int)c->proc->child.pid, NULL);
	if (c->o.timeout > 0 && shim_proc_timeout(c->proc, (int)c->o.timeout, &err) < 0)
		shim_warn("--timeout: %s", err.msg);
	if (shim_output_start(c->proc, &err) < 0)
		shim_warn("%s", err.msg);

	run_loop(c, proc_done);

	if (!c->o.exec)
		shim_oom_check(c->ctr);
	shim_record_exit(c->proc);
	shim_output_drain(c->proc);
	conmon_notify_drain(c);
	shim_output_sync(c->proc);
	for (size_t i = 0; i < c->n_inherited; i++)
		close(c->inherited[i]);
	c->n_inherited = 0;
	conmon_write_exit_files(c);
	int code = shim_exit_code(c->proc);
	if (c->o.exec)
		conmon_sync_send(c, c->sync_fd, code, c->proc->timed_out ? "command timed out" : NULL);
	conmon_clients_finish(c, 2000);
	int ec = run_exit_command(c);
	return ec ? ec : code & 0xff;
}
