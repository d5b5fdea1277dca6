/* cli: the command-line layer of skiff: main.c, cli_opts.c and cmd_*.c.
 * This layer, and only it, prints (library modules return struct sk_err).
 *
 * Adding a command NAME:
 *   1. Write runtime/cmd_NAME.c defining
 *        int cmd_NAME(struct sk_globals *g, int argc, char **argv, struct sk_err *err);
 *      argv[0] is the command name.  Return 0 (success), 1 (runtime error,
 *      err filled), 2 (usage error, err filled), or, for run, exec and
 *      wait, the process's exit status (err left empty).  on a non-zero return, main
 *      prints a filled err as the one line "skiff NAME: <msg>" on stderr and
 *      logs it (--log).
 *   2. Add X(NAME, FLAGS, "summary") to SK_COMMANDS below.
 *   3. Parse first thing; destinations hold their defaults:
 *        const char *bundle = ".";
 *        bool detach = false;
 *        struct sk_opt opts[] = {
 *            { "bundle", 'b', SK_OPT_STRING, &bundle, "DIR", "path to the bundle (default: .)" },
 *            { "detach", 'd', SK_OPT_BOOL, &detach, NULL, "detach from the container" },
 *            { 0 }
 *        };
 *        struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
 *        int rc = sk_cli_parse(g, &u, &argc, &argv, err);
 *        if (rc != SK_CLI_CONTINUE)
 *            return rc;
 *        ... argv[0..argc) are now the operands ...
 *   4. Print results with sk_out()/sk_out_write(): straight to fd 1, no
 *      stdio buffer, so forking afterwards duplicates nothing.
 *
 * The syntax is runc's (urfave/cli on Go's flag package): --name value,
 * --name=value, -name value, -n value; bools as --name or --name=false;
 * --help/-h is implicit in every command.  As urfave/cli 1.22 does for
 * runc (1.4, and Debian's 1.1), the words are first reordered: the
 * command's own flags to the front, each with the next word when it has no
 * "=" and that word is not a flag, then "--" if given, then the rest; then
 * parsing stops at the first operand or after "--".  So `skiff delete ID
 * --force` works, and an unknown flag after the id is an operand.  exec
 * and ps set no_reorder (runc's SkipArgReorder): `skiff ps ID -ef` passes
 * -ef on. */
#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/base/error.h"

#define SKIFF_VERSION "0.1.0"

/* Exit codes. */
enum { SK_EXIT_OK = 0, SK_EXIT_ERROR = 1, SK_EXIT_USAGE = 2 };
/* exec's own failures, as runc: a status no exiting process is likely to
 * share (the process's own status is exec's otherwise). */
enum { SK_EXIT_EXEC_FAILED = 255 };

/* Command flags. */
#define SK_CMD_NO_ROOT 4u      /* uses no state root */
#define SK_CMD_SEALED 2u      /* clones into a container: runs from a sealed
                               * copy of skiff, not dumpable (exe_seal.h) */

struct sk_command;

/* The global options, filled by main before the command runs. */
struct sk_globals {
	const char *root;        /* --root, else the default (rootless.h); NULL
				  * for SK_CMD_NO_ROOT commands without --root */
	bool rootless;           /* --rootless, auto resolved (rootless.h) */
	const char *log_path;    /* --log or NULL */
	bool log_json;           /* --log-format json */
	bool debug;              /* --debug */
	bool systemd_cgroup;     /* --systemd-cgroup */
	const char *criu;        /* --criu: the CRIU binary, NULL: criu from PATH */
	const struct sk_command *cmd;  /* the command being run */
	const char *argv0;       /* how skiff was invoked: --shim finds the
				  * binary from it (create and run re-execute
				  * from a sealed copy, whose /proc/self/exe
				  * names no usable path) */
};

typedef int sk_cmd_fn(struct sk_globals *g, int argc, char **argv, struct sk_err *err);

struct sk_command {
	const char *name;
	sk_cmd_fn *fn;
	unsigned flags;
	const char *summary;
};

/* The commands, in the order `skiff --help` lists them. */
#define SK_COMMANDS(X) \
	X(checkpoint, 0, "checkpoint a running or paused container with CRIU") \
	X(create, SK_CMD_SEALED, "create a container from a bundle; its process waits for start") \
	X(start, 0, "start the process of a created container") \
	X(run, SK_CMD_SEALED, "create and start a container, wait for it, delete it") \
	X(kill, 0, "send a signal to a container's process") \
	X(delete, 0, "delete a stopped container (--force: any)") \
	X(events, 0, "print a container's resource statistics and OOM events (JSON lines)") \
	X(exec, SK_CMD_SEALED, "run another process in a live container") \
	X(features, SK_CMD_NO_ROOT, "print the features this build of skiff implements (JSON)") \
	X(list, 0, "list the containers under --root") \
	X(pause, 0, "suspend every process of a container (cgroup freezer)") \
	X(ps, 0, "list the processes of a container") \
	X(restore, 0, "restore a container from a checkpoint with CRIU") \
	X(resume, 0, "resume the processes of a paused container") \
	X(spec, SK_CMD_NO_ROOT, "write a default config.json into a bundle") \
	X(state, 0, "print the state of a container (JSON)") \
	X(update, 0, "change the resource limits of a live container") \
	X(validate, SK_CMD_NO_ROOT, "check a bundle's config.json and rootfs") \
	X(wait, 0, "wait for a container started with --shim to end; exit with its status")

#define SK_DECLARE_CMD(name, flags, summary) sk_cmd_fn cmd_##name;
SK_COMMANDS(SK_DECLARE_CMD)
#undef SK_DECLARE_CMD

enum sk_opt_kind {
	SK_OPT_BOOL,      /* bool *            --x, --x=true|false */
	SK_OPT_STRING,    /* const char **     points into argv */
	SK_OPT_INT,       /* int64_t *         decimal, 0x hex or 0 octal */
	SK_OPT_UINT,      /* uint64_t *        likewise, no sign */
	SK_OPT_STRINGS,   /* struct sk_strv *  repeatable; free(v) when done */
};

/* Values of a repeatable option, in order; v points into argv. */
struct sk_strv { const char **v; size_t n; };

struct sk_opt {
	const char *name;      /* long name, without dashes; NULL ends a table */
	char short_name;       /* 0: none */
	enum sk_opt_kind kind;
	void *dest;
	const char *metavar;   /* shown in help for valued options ("DIR") */
	const char *help;
};

struct sk_usage {
	const char *operands;  /* synopsis of the operands ("<container-id>"), or NULL */
	int min, max;          /* operand count bounds; max < 0: unbounded */
	const struct sk_opt *opts;
	bool no_reorder;       /* flags only before the operands (exec, ps) */
};

#define SK_CLI_CONTINUE (-1)

/* Parse a command's options.  Returns SK_CLI_CONTINUE with argc and argv
 * narrowed to the operands, or the code the command must return: 0 after
 * printing --help, 2 for a usage error, 1 when the command cannot run under
 * the given global options (err filled in both cases). */
int sk_cli_parse(struct sk_globals *g, const struct sk_usage *u, int *argc, char ***argv, struct sk_err *err);

/* The parser itself, for main's global options (no implicit --help: put
 * it in the table).  Returns the index of the first operand in argv (argv[0]
 * is skipped), or -1 with err filled. */
int sk_opts_parse(const struct sk_opt *opts, int argc, char **argv, struct sk_err *err);

/* The option lines of a help text for opts, to stdout. */
int sk_opts_print_help(const struct sk_opt *opts, struct sk_err *err);

/* `create --shim` and `run --detach --shim` (cli_shim.c): the container
 * of o created under skiff-shim, with output to shim_log (NULL: the
 * default).  Returns an exit code. */
struct sk_create_opts;
int sk_cli_shim_create(const struct sk_globals *g, const struct sk_create_opts *o, const char *shim_log,
		       struct sk_err *err);

/* --preserve-fds N of create, run and exec, and its check: *fds set, or
 * err filled ("too many") and -1. */
#define SK_OPT_PRESERVE_FDS(dest) \
	{ "preserve-fds", 0, SK_OPT_UINT, dest, "N", "pass N fds after stdio (3 .. 3+N-1) to the process" }
int sk_cli_preserve_fds(uint64_t n, int *fds, struct sk_err *err);

/* The options create and run share (runc's), into struct sk_create_opts o
 * and uint64_t preserve (create_opts.c). */
#define SK_CREATE_OPTS(o, preserve) \
	{ "bundle", 'b', SK_OPT_STRING, &(o).bundle, "DIR", "path to the root of the bundle directory (default: .)" }, \
	{ "console-socket", 0, SK_OPT_STRING, &(o).console_socket, "PATH", "unix socket that receives the pty master when process.terminal is true" }, \
	{ "pidfd-socket", 0, SK_OPT_STRING, &(o).pidfd_socket, "PATH", "unix socket that receives a pidfd of the container's init" }, \
	{ "pid-file", 0, SK_OPT_STRING, &(o).pid_file, "FILE", "write the init's pid to FILE" }, \
	{ "no-pivot", 0, SK_OPT_BOOL, &(o).no_pivot, NULL, "do not use pivot_root (for a rootfs on a ramdisk)" }, \
	{ "no-new-keyring", 0, SK_OPT_BOOL, &(o).no_new_keyring, NULL, "do not create a new session keyring" }, \
	SK_OPT_PRESERVE_FDS(preserve)

/* The defaults of create and run under g's global options. */
void sk_cli_create_defaults(const struct sk_globals *g, struct sk_create_opts *o);

/* --format table|json of list and ps: the option, and its check, which
 * sets *json or fills err ("invalid --format ...") and returns -1. */
#define SK_OPT_FORMAT(dest) { "format", 'f', SK_OPT_STRING, dest, "table|json", "output format (default: table)" }
int sk_cli_format(const char *format, bool *json, struct sk_err *err);

/* The options checkpoint and restore share (struct sk_criu_opts o; the
 * repeatable --empty-ns into struct sk_strv e). */
#define SK_CRIU_IMAGE_OPTS(o) \
	{ "image-path", 0, SK_OPT_STRING, &(o).image_path, "DIR", "CRIU image directory (default: ./checkpoint)" }, \
	{ "work-path", 0, SK_OPT_STRING, &(o).work_path, "DIR", "where CRIU writes its log and stats (default: the image path)" }
#define SK_CRIU_SHARED_OPTS(o, e) \
	{ "tcp-established", 0, SK_OPT_BOOL, &(o).tcp_established, NULL, "allow open TCP connections" }, \
	{ "ext-unix-sk", 0, SK_OPT_BOOL, &(o).ext_unix_sk, NULL, "allow external unix sockets" }, \
	{ "shell-job", 0, SK_OPT_BOOL, &(o).shell_job, NULL, "allow shell jobs (a process on the caller's terminal)" }, \
	{ "file-locks", 0, SK_OPT_BOOL, &(o).file_locks, NULL, "handle file locks" }, \
	{ "manage-cgroups-mode", 0, SK_OPT_STRING, &(o).manage_cgroups_mode, "MODE", "soft, full, strict or ignore (default: CRIU's, soft)" }, \
	{ "empty-ns", 0, SK_OPT_STRINGS, &(e), "NS", "a namespace whose contents CRIU leaves out (network only; repeatable)" }, \
	{ "auto-dedup", 0, SK_OPT_BOOL, &(o).auto_dedup, NULL, "deduplicate memory against the parent images" }, \
	{ "lazy-pages", 0, SK_OPT_BOOL, &(o).lazy_pages, NULL, "lazy migration of memory (userfaultfd; checkpoint: with --page-server)" }

/* Write to stdout; -1 with err filled when the write fails. */
int sk_out(struct sk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_out_write(const void *buf, size_t len, struct sk_err *err);

#endif
