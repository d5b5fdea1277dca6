/* runtime: running a runc-compatible runtime's create, restore or exec
 * for a process, with stdio the shim owns: pipes, or a pty master that the
 * runtime sends over a console socket.
 *   create   RUNTIME [--systemd-cgroup] [ARGS] create --bundle B
 *            --pid-file P [--no-pivot] [--no-new-keyring] [OPTS]
 *            [--console-socket S] ID
 *   restore  the same with restore ... --detach --image-path I
 *            --work-path W (W: the bundle unless given)
 *   exec     RUNTIME [ARGS] exec --pid-file P --process F --detach [OPTS]
 *            [--console-socket S] ID
 * (no --tty for exec: the process file says whether there is one).
 * Without a terminal the runtime's stdin is /dev/null or a pipe, its
 * stdout and stderr pipes; with one, stdout is /dev/null and stderr still
 * a pipe, for the runtime's own errors.  The console socket and a default
 * pid file live in the process's private scratch directory. */
#ifndef SHIM_CORE_RUNTIME_H
#define SHIM_CORE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/child.h"
#include "core/util.h"
#include "skiff/base/error.h"

struct shim_proc;

/* A process's stdio on the shim's side.  With a pty, out_fd is the master
 * and in_fd a dup of it. */
struct shim_stdio {
	int in_fd, out_fd, err_fd;
	int worker_in, worker_out, worker_err; /* the runtime's ends until it runs */
	bool out_is_pty;
	int win_rows, win_cols;                /* last size asked for; -1: none */
	int console_fd;
	char *console_path;
};

enum shim_runtime_verb { SHIM_RT_CREATE, SHIM_RT_RESTORE, SHIM_RT_EXEC };

struct shim_runtime_cmd {
	enum shim_runtime_verb verb;
	const char *runtime, *id;
	const char *bundle;              /* create, restore */
	const char *pid_file;
	const char *process_spec;        /* exec */
	const char *image_path;          /* restore */
	const char *work_path;           /* restore; NULL: the bundle */
	struct shim_strv args;           /* before the verb */
	struct shim_strv opts;           /* after the verb's own options */
	bool systemd_cgroup, no_pivot, no_new_keyring;
};

/* The argv (NULL-terminated, malloc'd; the strings are not copied); the
 * console socket is added when p has one. */
const char **shim_runtime_argv(const struct shim_runtime_cmd *cmd, const struct shim_proc *p);
/* p's stdio as pipes: stdin only with_stdin.  Non-blocking on our side. */
int shim_stdio_pipes(struct shim_proc *p, bool with_stdin, struct sk_err *err);
/* A console socket for the pty master (watched: it is taken when the
 * runtime sends it) and a pipe for the runtime's stderr. */
int shim_stdio_console(struct shim_proc *p, struct sk_err *err);
/* Take the pty master if the runtime has connected and it was not taken
 * yet; true when p has it. */
bool shim_stdio_take_console(struct shim_proc *p);
/* Set (and remember) the pty's size; rows < 0 applies the remembered one. */
void shim_stdio_resize(struct shim_proc *p, int rows, int cols);
/* path of name in p's private scratch directory (made on first use). */
char *shim_proc_scratch(struct shim_proc *p, const char *name, struct sk_err *err);
/* Remove the scratch directory (console socket, default pid file). */
void shim_proc_scratch_remove(struct shim_proc *p);

struct shim_spawn {
	bool keep_stdio;                 /* the runtime gets the shim's own stdio */
	void (*child_setup)(void *ctx);  /* in the child, just before exec */
	void *ctx;
};

/* Fork and exec argv with p's stdio; run is registered with p's reaper
 * for the runtime's own exit.  The runtime's ends are closed on our side. */
int shim_runtime_spawn(struct shim_proc *p, const char *const *argv, const struct shim_spawn *sp,
		       struct shim_child *run, struct sk_err *err);
/* The runtime run failed: its stderr (from p's err pipe, at most cap - 1
 * bytes, NUL-terminated), or a description of run's status when it said
 * nothing; what names the command ("/usr/bin/skiff create"). */
void shim_runtime_error(struct shim_proc *p, const struct shim_child *run, const char *what, char *buf, size_t cap);
/* Read the runtime's pid file. */
int shim_read_pidfile(const char *path, pid_t *pid, struct sk_err *err);

#endif
