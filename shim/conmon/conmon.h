/* skiff-shim: the per-container monitor, conmon's drop-in (docs/shim.md).
 *
 * One process, one epoll loop, no threads.  The modules share the one
 * `struct shim` below (there is exactly one container per shim):
 *   opts.c     conmon's command line (glib syntax) into struct shim_opts
 *   diag.c     the shim's own diagnostics: stderr until it detaches, then
 *              syslog with --syslog, else nowhere
 *   loop.c     epoll, the signalfd, reaping children, timers
 *   runtime.c  the runtime's create/exec/restore command line, spawning it,
 *              the console socket that brings the pty master
 *   output.c   container output: the k8s-file log and journald
 *   attach.c   the attach socket and its clients, container stdin, the ctl
 *              FIFO, the sd-notify relay
 *   records.c  what the shim tells its caller: sync pipe messages, pid
 *              files, exit files, oom files, skiff's exit.json
 *   oom.c      OOM kills of the container's cgroup (v2 memory.events, v1
 *              memory.oom_control)
 *   main.c     the sequence: detach, spawn, monitor, record, exit command
 * Every fd the shim opens is close-on-exec; the fds it inherited (podman's
 * preserved fds and port reservations) are not, so the runtime gets them,
 * and they are closed once the container has exited. */
#ifndef SKIFF_SHIM_H
#define SKIFF_SHIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "skiff/base/error.h"

#define SHIM_VERSION "0.1.0"
/* What podman and CRI-O are told: they gate features on conmon's version
 * (podman >= 2.0.1; CRI-O --sync >= 2.0.19, --log-global-size-max >=
 * 2.1.2), and this is the protocol implemented. */
#define SHIM_CONMON_VERSION "2.1.6"

/* conmon's sizes: output is read and forwarded in 8 KiB pieces (an attach
 * message is a type byte and at most 8192 bytes, podman's buffer is 8193),
 * stdin from attach clients in 32 KiB ones. */
#define SHIM_READ_MAX 8192
#define SHIM_STDIN_MAX 32768

struct shim_strv {
	const char **v;
	size_t n;
};

enum shim_level { SHIM_L_ERROR, SHIM_L_WARN, SHIM_L_INFO, SHIM_L_DEBUG, SHIM_L_TRACE };

struct shim_opts {
	bool api;                    /* --api-version: keys are "data" */
	const char *cid, *cuuid, *name, *runtime, *bundle, *persist_dir;
	const char *ctr_pidfile, *conmon_pidfile, *exit_dir, *exit_command;
	const char *exec_process_spec, *restore, *socket_dir, *log_level, *log_tag;
	const char *sdnotify_socket, *state_dir;
	const char *seccomp_notify_socket, *seccomp_notify_plugins;
	struct shim_strv exit_args, runtime_args, runtime_opts, log_paths;
	int64_t log_size_max, log_global_size_max;
	int64_t exit_delay, timeout;
	bool terminal, stdin_, leave_stdin_open, syslog, systemd_cgroup;
	bool no_pivot, no_new_keyring, exec, exec_attach, sync, no_sync_log;
	bool full_attach, replace_listen_pid, version, help;
};

/* An attach client.  What it could not take yet waits in its backlog, an
 * unlinked file of [2-byte length][message] records between spill_rd and
 * spill_wr: a slow client costs disk or page cache, not shim memory. */
struct shim_client {
	int fd;
	bool readable;               /* still sends us stdin */
	int spill_fd;
	off_t spill_rd, spill_wr;
};

struct shim_pidstatus {
	pid_t pid;
	int status;
};

struct shim {
	struct shim_opts o;
	enum shim_level level;
	bool detached;               /* stderr is /dev/null now */

	int epfd, sigfd;
	sigset_t saved_mask;         /* before the loop blocked its signals */
	int saved_oom_adj;           /* restored in children; INT_MIN: unknown */
	int sync_fd, start_fd, attach_pipe_fd;
	int devnull_r, devnull_w;
	int *inherited; size_t n_inherited;

	/* The runtime's create/exec and then the container (or exec) process. */
	pid_t runtime_pid;
	int runtime_status;
	bool runtime_done;
	pid_t ctr_pid;
	int ctr_pidfd;
	int ctr_status;
	bool ctr_done, ctr_status_known;
	bool timed_out;
	int timer_fd;
	/* Exits reaped before we knew whose they were. */
	struct shim_pidstatus early[16];
	size_t n_early;

	/* The container's stdio on our side: pipes, or the pty master (as
	 * out_fd, and a dup of it as in_fd). */
	int in_fd, out_fd, err_fd;
	int worker_in, worker_out, worker_err;  /* the runtime's ends */
	bool in_wanted;              /* -i: attach clients' bytes go to in_fd */
	int win_rows, win_cols;      /* last size asked for, -1: none */
	bool out_is_pty;
	bool pty_hup;                /* no slave open: poll every 100 ms */

	/* Console socket (-t). */
	char *scratch;               /* private temporary directory */
	char *console_path;
	int console_fd;

	/* Endpoints. */
	int endpoint_dir;            /* O_PATH fd of where attach and ctl live */
	char *endpoint_path;
	char *attach_symlink;        /* CRI-O's <socket-dir>/<cuuid>, removed at exit */
	int attach_fd, ctl_fd, ctl_dummy_fd;
	struct shim_client *clients;
	size_t n_clients;
	char *stdin_buf; size_t stdin_len, stdin_off;
	int notify_fd, notify_host_fd;
	char *notify_host;

	/* Records. */
	int state_fd;                /* exit.json's directory, or -1 */
	uint64_t ctr_start_time;
	bool oom_killed;

	/* OOM watch. */
	int oom_fd, oom_inotify_fd, oom_event_fd;
	bool oom_v2;
	uint64_t oom_base;
};

extern struct shim S;

/* epoll tags: the low byte is the kind, the rest an index (clients). */
enum shim_tag {
	T_SIGNAL = 1, T_OUT, T_ERR, T_IN, T_CTR_PIDFD, T_CONSOLE, T_ATTACH, T_CLIENT,
	T_CTL, T_TIMER, T_OOM, T_NOTIFY,
};
#define SHIM_TAG(kind, idx) ((uint64_t)(kind) | ((uint64_t)(idx) << 8))

/* opts.c */
/* Parse argv into o.  Returns -1 on a usage error (message printed), 1
 * when --version or --help was handled, 0 to go on.  Relative paths are
 * made absolute against the current directory. */
int shim_opts_parse(int argc, char **argv, struct shim_opts *o);

/* diag.c */
void shim_diag_init(const struct shim_opts *o);
void shim_log(enum shim_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define shim_warn(...) shim_log(SHIM_L_WARN, __VA_ARGS__)
#define shim_debug(...) shim_log(SHIM_L_DEBUG, __VA_ARGS__)
/* Log err and exit(1). */
_Noreturn void shim_fatal(const struct sk_err *err);

/* loop.c */
int shim_loop_init(struct sk_err *err);
int shim_watch(int fd, uint32_t events, uint64_t tag, struct sk_err *err);
void shim_watch_mod(int fd, uint32_t events, uint64_t tag);
void shim_unwatch(int fd);
/* Run the loop until done() is true; timeout_ms bounds each wait (-1:
 * none).  Returns when done() or after a wait that timed out with
 * stop_on_timeout. */
void shim_loop_run(bool (*done)(void), int timeout_ms);
/* Reap every child that exited; record the runtime's and the container's
 * statuses, cache the others'. */
void shim_reap(void);
/* The container's pid is known: take its status from the cache if it was
 * reaped already. */
void shim_claim_early(void);
/* Send sig to the container (pidfd) or, before there is one, the runtime. */
void shim_forward_signal(int sig);
int shim_timer_start(int seconds, struct sk_err *err);

/* runtime.c */
/* Make the container's stdio (pipes, or the console socket for -t). */
int shim_stdio_setup(struct sk_err *err);
/* Fork and exec the runtime's create, restore or exec. */
int shim_runtime_spawn(struct sk_err *err);
/* A connection on the console socket: receive the pty master. */
void shim_console_ready(void);
/* Remove the scratch directory (console socket, default pid file). */
void shim_scratch_remove(void);
/* The runtime failed: its stderr (at most 8191 bytes, NUL-terminated) for
 * the caller, or a description of the status when it said nothing. */
void shim_runtime_error(char *buf, size_t cap);

/* output.c */
/* Parse the -l specs (before leaving the caller's directory). */
int shim_logs_parse(struct sk_err *err);
/* Open the log files (mode 0600, O_APPEND) and the journal socket. */
int shim_logs_open(struct sk_err *err);
/* Readable output (T_OUT or T_ERR): read, log and forward, at most a few
 * reads; at its end the stream is closed and unwatched. */
void shim_output_ready(int kind);
/* Read fd dry (EAGAIN or end of input): the container has exited. */
void shim_output_drain(void);
void shim_logs_reopen(void);
void shim_logs_sync(void);
bool shim_logs_passthrough(void);

/* attach.c */
/* The attach socket, the ctl FIFO (and CRI-O's socket-dir symlink) in
 * the endpoint directory. */
int shim_endpoints_setup(struct sk_err *err);
void shim_attach_accept(void);
void shim_client_event(size_t idx, uint32_t events);
/* One piece of output (type 2 stdout, 3 stderr) to every client, without
 * ever blocking: a client whose backlog passes its bound is dropped. */
void shim_clients_send(int type, const char *buf, size_t len);
void shim_stdin_writable(void);
void shim_ctl_ready(void);
void shim_apply_winsize(void);
int shim_notify_setup(struct sk_err *err);
void shim_notify_ready(void);
/* What the container sent before it exited. */
void shim_notify_drain(void);
/* Let clients take their backlog while they make progress (ms without
 * any ends it), then close them and the attach socket. */
void shim_clients_finish(int ms);
/* Close the container's stdin when the last reader asks (-i, and not
 * --leave-stdin-open). */
void shim_stdin_close(void);

/* records.c */
/* {"data": N} (or conmon's legacy keys) with an optional message, on fd;
 * a reader that went away is not an error. */
void shim_sync_send(int fd, int value, const char *message);
int shim_write_conmon_pidfile(pid_t pid, struct sk_err *err);
/* Read the runtime's pid file. */
int shim_read_pidfile(pid_t *pid, struct sk_err *err);
/* exit.json while the container runs: its pid and ours with start times. */
void shim_record_running(void);
/* The final exit.json, durably: the first thing done after the reaping. */
void shim_record_exit(void);
/* conmon's files: oom files, <persist-dir>/exit, <exit-dir>/<cid>. */
void shim_write_exit_files(void);
/* The status as conmon reports it: code, 128+signal, -1 (timed out or
 * unknown). */
int shim_exit_code(void);

/* oom.c */
void shim_oom_watch(void);
void shim_oom_event(void);
/* Read the counters a last time; sets S.oom_killed. */
void shim_oom_check(void);

/* small helpers (main.c) */
char *shim_strdup(const char *s);
char *shim_path_join(const char *dir, const char *name);
int shim_set_nonblock(int fd);

#endif
