/* skiff-shim: conmon's face on the shim core (docs/shim.md).
 *
 * One process, one epoll loop, one container with one process (its
 * first, or an exec session).  The face holds what is conmon's:
 *   opts.c     conmon's command line (glib syntax) into struct shim_opts,
 *              and its -l log specs
 *   attach.c   the attach socket and its clients, the process's stdin,
 *              the ctl FIFO, the sd-notify relay
 *   records.c  what conmon tells its caller: sync pipe messages, pid
 *              files, exit files, oom files
 *   main.c     the sequence: detach, spawn, monitor, record, exit command
 * and drives the core (shim/core/: loop, children, runtime, output, OOM,
 * exit.json) through its headers.  Every fd the shim opens is
 * close-on-exec; the fds it inherited (podman's preserved fds and port
 * reservations) are not, so the runtime gets them, and they are closed
 * once the container has exited. */
#ifndef SHIM_CONMON_H
#define SHIM_CONMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/child.h"
#include "core/ctr.h"
#include "core/loop.h"
#include "core/output.h"
#include "core/util.h"
#include "skiff/base/error.h"
#include "skiff/base/util.h"

#define SHIM_VERSION "0.1.0"
/* What podman and CRI-O are told: they gate features on conmon's version
 * (podman >= 2.0.1; CRI-O --sync >= 2.0.19, --log-global-size-max >=
 * 2.1.2), and this is the protocol implemented. */
#define SHIM_CONMON_VERSION "2.1.6"

/* Stdin from attach clients is taken in 32 KiB pieces (conmon's size). */
#define SHIM_STDIN_MAX 32768

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

struct conmon;

/* An attach client.  What it could not take yet waits in its backlog, an
 * unlinked file of [2-byte length][message] records between spill_rd and
 * spill_wr: a slow client costs disk or page cache, not shim memory. */
struct shim_client {
	struct conmon *c;
	int fd;
	size_t idx;                  /* its number, for messages */
	bool readable;               /* still sends us stdin */
	int spill_fd;
	off_t spill_rd, spill_wr;
};

struct conmon {
	struct shim_opts o;
	bool log_passthrough;        /* -l passthrough: the runtime keeps our stdio */
	struct shim_log_cfg log;

	struct shim_loop loop;
	struct shim_reaper reaper;
	struct shim_ctr *ctr;
	struct shim_proc *proc;      /* the container's first process, or the exec */
	struct shim_child runtime;   /* the runtime's create, restore or exec */

	int sync_fd, start_fd, attach_pipe_fd;
	int devnull_r, devnull_w;
	int *inherited;
	size_t n_inherited;

	/* Endpoints. */
	int endpoint_dir;            /* O_PATH fd of where attach and ctl live */
	char *attach_symlink;        /* CRI-O's <socket-dir>/<cuuid>, removed at exit */
	int attach_fd, ctl_fd, ctl_dummy_fd;
	struct shim_client **clients;
	size_t n_clients;
	char *stdin_buf;
	size_t stdin_len, stdin_off;
	bool stdin_close_pending;
	struct timespec last_progress; /* a client took some backlog */
	char ctl_buf[201];
	size_t ctl_len;
	int notify_fd, notify_host_fd;
	/* <persist-dir>/exit and <exit-dir>/<cid>: their directories and
	 * their space, reserved once the process runs. */
	struct conmon_exit_file {
		bool reserved;
		int dir_fd;
		struct sk_reserved space;
	} exit_files[2];
};

/* opts.c */
/* Parse argv into o.  Returns -1 on a usage error (message printed), 1
 * when --version or --help was handled, 0 to go on.  Relative paths are
 * made absolute against the current directory. */
int shim_opts_parse(int argc, char **argv, struct shim_opts *o);
/* The -l specs into c->log and c->log_passthrough (before leaving the
 * caller's directory: a relative file name is made absolute). */
int conmon_logs_parse(struct conmon *c, struct sk_err *err);

/* attach.c */
/* The attach socket, the ctl FIFO (and CRI-O's socket-dir symlink) in
 * the endpoint directory. */
int conmon_endpoints_setup(struct conmon *c, struct sk_err *err);
/* The process's output, as the core's sink: one piece (type byte and
 * data) to every client, without ever blocking: a client whose backlog
 * passes its bound is dropped. */
void conmon_clients_send(void *c, const char *msg, size_t len);
int conmon_notify_setup(struct conmon *c, struct sk_err *err);
/* What the container sent before it exited. */
void conmon_notify_drain(struct conmon *c);
/* Let clients take their backlog while they make progress (ms without
 * any ends it), then close them and the attach socket. */
void conmon_clients_finish(struct conmon *c, int ms);

/* records.c */
/* {"data": N} (or conmon's legacy keys) with an optional message, on fd;
 * a reader that went away is not an error. */
void conmon_sync_send(const struct conmon *c, int fd, int value, const char *message);
int conmon_write_pidfile(const struct conmon *c, pid_t pid, struct sk_err *err);
/* Reserve the space of <persist-dir>/exit and <exit-dir>/<cid> under
 * temporary names (sk_reserve_open), so that a file system that fills up
 * while the process runs cannot lose its status. */
void conmon_reserve_exit_files(struct conmon *c);
/* conmon's files: oom files, <persist-dir>/exit, <exit-dir>/<cid>, into
 * their reserved space (else written anew); a status that cannot be
 * recorded is an error message (syslog when asked). */
void conmon_write_exit_files(struct conmon *c);

#endif
