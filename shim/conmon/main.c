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

#include "shim.h"
#include "skiff/base/pidfd.h"
#include "skiff/container/state.h"
#include "skiff/base/util.h"

extern char **environ;

struct shim S;

char *shim_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *shim_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *p = malloc(dl + nl + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

int shim_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static _Noreturn void usage_fail(const char *msg)
{
	fprintf(stderr, "skiff-shim: %s\n", msg);
	exit(1);
}

static void check_options(void)
{
	struct shim_opts *o = &S.o;
	static const struct {
		const char *name;
		enum shim_level level;
	} levels[] = {
		{ "error", SHIM_L_ERROR }, { "fatal", SHIM_L_ERROR }, { "panic", SHIM_L_ERROR },
		{ "warn", SHIM_L_WARN },   { "warning", SHIM_L_WARN }, { "info", SHIM_L_INFO },
		{ "debug", SHIM_L_DEBUG }, { "trace", SHIM_L_TRACE },
	};
	S.level = SHIM_L_WARN;
	if (o->log_level) {
		size_t i = 0;
		while (i < sizeof(levels) / sizeof(levels[0]) && strcmp(levels[i].name, o->log_level) != 0)
			i++;
		if (i == sizeof(levels) / sizeof(levels[0]))
			usage_fail("--log-level: no such log level");
		S.level = levels[i].level;
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
	if (shim_logs_parse(&err) < 0)
		usage_fail(err.msg);
}

/* The fds the caller handed over, other than stdio and the pipes: podman's
 * preserved fds and port reservations.  They go to the runtime as they are
 * and are closed once the container has exited. */
static void note_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd < 3 || fd == dirfd(d) || fd == S.sync_fd || fd == S.start_fd ||
		    fd == S.attach_pipe_fd)
			continue;
		int *n = realloc(S.inherited, (S.n_inherited + 1) * sizeof(*n));
		if (!n)
			break;
		S.inherited = n;
		S.inherited[S.n_inherited++] = fd;
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
 * last to go), remembering the old value for the children.  Without
 * CAP_SYS_RESOURCE this fails, which is fine. */
static void oom_adjust(void)
{
	char buf[16];
	struct sk_err ignored;
	S.saved_oom_adj = INT_MIN;
	if (sk_read_small_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, sizeof(buf), &ignored) < 0)
		return;
	S.saved_oom_adj = atoi(buf);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1000", 5) < 0)
			shim_debug("oom_score_adj: %s", strerrorname_np(errno));
		close(fd);
	}
}

static void to_devnull(void)
{
	if (dup2(S.devnull_r, 0) < 0 || dup2(S.devnull_w, 1) < 0 || dup2(S.devnull_w, 2) < 0)
		shim_warn("stdio to /dev/null: %s", strerrorname_np(errno));
	S.detached = true;
}

/* A failure before the pid went out: tell the caller on the sync pipe
 * (conmon sometimes said nothing: podman then reports "no logs from
 * conmon"), and exit. */
static _Noreturn void fail_start(const char *msg)
{
	shim_log(SHIM_L_ERROR, "%s", msg);
	/* A process the runtime made would run on unwatched: the caller
	 * (podman, skiff) deletes what is left. */
	if (S.ctr_pidfd >= 0 && !S.ctr_done)
		sk_pidfd_signal(S.ctr_pidfd, SIGKILL);
	shim_sync_send(S.sync_fd, -1, msg);
	shim_scratch_remove();
	if (S.attach_symlink)
		unlink(S.attach_symlink);
	exit(1);
}

static bool runtime_done(void)
{
	return S.runtime_done;
}

static bool ctr_done(void)
{
	return S.ctr_done;
}

static void start_container_watch(void)
{
	struct sk_err err;
	char msg[SK_ERR_MSG_MAX + 64];
	if (shim_read_pidfile(&S.ctr_pid, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		fail_start(msg);
	}
	shim_claim_early();
	if (!S.ctr_done) {
		S.ctr_pidfd = sk_pidfd_open(S.ctr_pid);
		if (S.ctr_pidfd < 0) {
			/* Gone, and not reaped by us: not our child. */
			shim_reap();
			if (!S.ctr_done) {
				shim_warn("process %d is gone and was not our child: its exit status is unknown",
					  (int)S.ctr_pid);
				S.ctr_done = true;
			}
		} else if (shim_watch(S.ctr_pidfd, EPOLLIN, SHIM_TAG(T_CTR_PIDFD, 0), &err) < 0) {
			fail_start(err.msg);
		}
	}
	if (sk_proc_start_time(S.ctr_pid, &S.ctr_start_time, &err) < 0)
		S.ctr_start_time = 0;
}

static int open_state_dir(void)
{
	const char *d = S.o.state_dir ? S.o.state_dir : S.o.persist_dir ? S.o.persist_dir : S.o.bundle;
	if (!d)
		return -1;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		shim_warn("open \"%s\" for %s: %s", d, "exit.json", strerrorname_np(errno));
	return fd;
}

static int run_exit_command(void)
{
	if (!S.o.exit_command)
		return 0;
	/* Whatever the exit command leaves behind is not ours to wait for. */
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	const char **argv = calloc(S.o.exit_args.n + 2, sizeof(*argv));
	if (!argv)
		return 1;
	argv[0] = S.o.exit_command;
	for (size_t i = 0; i < S.o.exit_args.n; i++)
		argv[i + 1] = S.o.exit_args.v[i];
	pid_t pid = fork();
	if (pid < 0) {
		shim_warn("fork the exit command: %s", strerrorname_np(errno));
		free(argv);
		return 1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &S.saved_mask, NULL);
		if (S.saved_oom_adj != INT_MIN) {
			char buf[16];
			int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
			int k = snprintf(buf, sizeof(buf), "%d", S.saved_oom_adj);
			if (fd >= 0 && write(fd, buf, (size_t)k) < 0)
				_exit(127);
		}
		dup2(S.devnull_r, 0);
		dup2(S.devnull_w, 1);
		dup2(S.devnull_w, 2);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		if (S.o.exit_delay > 0)
			sleep((unsigned)S.o.exit_delay);
		execve(argv[0], (char *const *)argv, environ);
		_exit(127);
	}
	free(argv);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	shim_reap();
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	S = (struct shim){
		.epfd = -1, .sigfd = -1, .sync_fd = -1, .start_fd = -1, .attach_pipe_fd = -1,
		.devnull_r = -1, .devnull_w = -1, .ctr_pidfd = -1, .timer_fd = -1,
		.in_fd = -1, .out_fd = -1, .err_fd = -1, .worker_in = -1, .worker_out = -1, .worker_err = -1,
		.win_rows = -1, .win_cols = -1, .console_fd = -1, .endpoint_dir = -1, .attach_fd = -1,
		.ctl_fd = -1, .ctl_dummy_fd = -1, .notify_fd = -1, .notify_host_fd = -1, .state_fd = -1,
		.oom_fd = -1, .oom_inotify_fd = -1, .oom_event_fd = -1, .saved_oom_adj = INT_MIN,
	};
	int r = shim_opts_parse(argc, argv, &S.o);
	if (r != 0)
		return r < 0 ? 1 : 0;
	check_options();
	shim_diag_init(&S.o);

	S.sync_fd = pipe_from_env("_OCI_SYNCPIPE");
	S.start_fd = pipe_from_env("_OCI_STARTPIPE");
	if (S.o.exec_attach) {
		S.attach_pipe_fd = pipe_from_env("_OCI_ATTACHPIPE");
		if (S.attach_pipe_fd < 0)
			usage_fail("--exec-attach specified but _OCI_ATTACHPIPE was not");
	}
	note_inherited();
	oom_adjust();
	signal(SIGPIPE, SIG_IGN);

	/* The caller moves us into a cgroup, then writes: nothing may be
	 * forked before this read. */
	if (S.start_fd >= 0) {
		char buf[8192];
		ssize_t n;
		while ((n = read(S.start_fd, buf, sizeof(buf))) < 0 && errno == EINTR)
			;
		if (n < 0) {
			fprintf(stderr, "skiff-shim: read the start pipe: %s\n", strerrorname_np(errno));
			return 1;
		}
		if (!S.o.exec_attach) {
			close(S.start_fd);
			S.start_fd = -1;
		}
	}
	S.devnull_r = open("/dev/null", O_RDONLY | O_CLOEXEC);
	S.devnull_w = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (S.devnull_r < 0 || S.devnull_w < 0) {
		fprintf(stderr, "skiff-shim: open /dev/null: %s\n", strerrorname_np(errno));
		return 1;
	}

	if (!S.o.sync) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "skiff-shim: fork: %s\n", strerrorname_np(errno));
			return 1;
		}
		if (pid > 0) {
			struct sk_err err;
			if (S.o.conmon_pidfile && shim_write_conmon_pidfile(pid, &err) < 0) {
				fprintf(stderr, "skiff-shim: %s\n", err.msg);
				kill(pid, SIGKILL);
				_exit(1);
			}
			_exit(0);
		}
	}

	/* P1 */
	setsid();
	if (!shim_logs_passthrough())
		to_devnull();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		shim_warn("PR_SET_CHILD_SUBREAPER: %s", strerrorname_np(errno));
	struct sk_err err;
	if (shim_loop_init(&err) < 0)
		fail_start(err.msg);
	if (S.o.exec_attach) {
		if (shim_endpoints_setup(&err) < 0)
			fail_start(err.msg);
		shim_sync_send(S.attach_pipe_fd, 0, NULL);
	}
	if (shim_notify_setup(&err) < 0 || shim_stdio_setup(&err) < 0 || shim_runtime_spawn(&err) < 0)
		fail_start(err.msg);
	if (shim_logs_passthrough())
		to_devnull();
	if (S.start_fd >= 0) {
		close(S.start_fd);
		S.start_fd = -1;
	}
	if (chdir("/") < 0)
		shim_warn("chdir /: %s", strerrorname_np(errno));

	shim_loop_run(runtime_done, -1);
	bool ok = WIFEXITED(S.runtime_status) && WEXITSTATUS(S.runtime_status) == 0;
	if (ok && S.o.terminal && S.out_fd < 0 && S.console_fd >= 0)
		shim_console_ready();
	if (!ok) {
		char msg[8192];
		shim_runtime_error(msg, sizeof(msg));
		fail_start(msg);
	}
	if (S.o.terminal && S.out_fd < 0 && !shim_logs_passthrough())
		fail_start("the runtime did not send the terminal over the console socket");

	start_container_watch();
	S.state_fd = open_state_dir();
	if (!S.o.exec_attach && shim_endpoints_setup(&err) < 0)
		fail_start(err.msg);
	if (shim_logs_open(&err) < 0)
		fail_start(err.msg);
	if (!S.o.exec)
		shim_oom_watch();
	shim_record_running();
	shim_scratch_remove();
	if (S.o.api || !S.o.exec)
		shim_sync_send(S.sync_fd, (int)S.ctr_pid, NULL);
	if (S.o.timeout > 0 && shim_timer_start((int)S.o.timeout, &err) < 0)
		shim_warn("--timeout: %s", err.msg);
	if (S.out_fd >= 0 && shim_watch(S.out_fd, EPOLLIN, SHIM_TAG(T_OUT, 0), &err) < 0)
		shim_warn("%s", err.msg);
	if (S.err_fd >= 0 && shim_watch(S.err_fd, EPOLLIN, SHIM_TAG(T_ERR, 0), &err) < 0)
		shim_warn("%s", err.msg);

	shim_loop_run(ctr_done, -1);

	if (!S.o.exec)
		shim_oom_check();
	shim_record_exit();
	shim_output_drain();
	shim_notify_drain();
	shim_logs_sync();
	for (size_t i = 0; i < S.n_inherited; i++)
		close(S.inherited[i]);
	S.n_inherited = 0;
	shim_write_exit_files();
	int code = shim_exit_code();
	if (S.o.exec)
		shim_sync_send(S.sync_fd, code, S.timed_out ? "command timed out" : NULL);
	shim_clients_finish(2000);
	int ec = run_exit_command();
	return ec ? ec : code & 0xff;
}
