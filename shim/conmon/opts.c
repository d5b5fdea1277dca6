/* opts: conmon's command line, in glib's syntax: --name value,
 * --name=value, -x value, -xvalue, grouped short booleans (-ti); string
 * options take the next word whatever it looks like (podman passes
 * `--runtime-arg --log-format=json`); array options repeat and keep empty
 * values; words that are not options are ignored, as glib leaves them
 * (podman's `--api-version 1` leaves a "1"); an unknown option is an
 * error.  Plus skiff's own --state-dir.
 *
 * -l specs: "k8s-file:PATH", "PATH" (k8s-file), ":PATH" (k8s-file, even
 * for a file named "none"), "journald[:...]", "passthrough" (the runtime
 * keeps the caller's stdio), "none", "off", "null"; several may be
 * given. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conmon.h"

enum kind { K_BOOL, K_STR, K_STRV, K_INT };

struct optdef {
	const char *name;
	char short_name;
	enum kind kind;
	size_t off;
	bool hidden;
	const char *help;
};

#define O(f) offsetof(struct shim_opts, f)
static const struct optdef defs[] = {
	{ "api-version", 0, K_BOOL, O(api), false, "Conmon API version to use" },
	{ "bundle", 'b', K_STR, O(bundle), false, "Location of the OCI Bundle path" },
	{ "cid", 'c', K_STR, O(cid), false, "Identification of Container" },
	{ "conmon-pidfile", 'P', K_STR, O(conmon_pidfile), false, "PID file for the conmon process" },
	{ "container-pidfile", 'p', K_STR, O(ctr_pidfile), false, "PID file for the initial pid inside of container" },
	{ "cuuid", 'u', K_STR, O(cuuid), false, "Container UUID" },
	{ "exec", 'e', K_BOOL, O(exec), false, "Exec a command into a running container" },
	{ "exec-attach", 0, K_BOOL, O(exec_attach), false, "Attach to an exec session" },
	{ "exec-process-spec", 0, K_STR, O(exec_process_spec), false, "Path to the process spec for execution" },
	{ "exit-command", 0, K_STR, O(exit_command), false, "Path to the program to execute when the container terminates its execution" },
	{ "exit-command-arg", 0, K_STRV, O(exit_args), false, "Additional arg to pass to the exit command.  Can be specified multiple times" },
	{ "exit-delay", 0, K_INT, O(exit_delay), false, "Delay before invoking the exit command (in seconds)" },
	{ "exit-dir", 0, K_STR, O(exit_dir), false, "Path to the directory where exit files are written" },
	{ "full-attach", 0, K_BOOL, O(full_attach), false, "Don't truncate the path to the attach socket. This option causes conmon to ignore --socket-dir-path" },
	{ "leave-stdin-open", 0, K_BOOL, O(leave_stdin_open), false, "Leave stdin open when attached client disconnects" },
	{ "log-global-size-max", 0, K_INT, O(log_global_size_max), false, "Maximum size of all log files" },
	{ "log-level", 0, K_STR, O(log_level), false, "Print debug logs based on log level" },
	{ "log-path", 'l', K_STRV, O(log_paths), false, "Log file path" },
	{ "log-size-max", 0, K_INT, O(log_size_max), false, "Maximum size of log file" },
	{ "log-tag", 0, K_STR, O(log_tag), false, "Additional tag to use for logging" },
	{ "name", 'n', K_STR, O(name), false, "Container name" },
	{ "no-new-keyring", 0, K_BOOL, O(no_new_keyring), false, "Do not create a new session keyring for the container" },
	{ "no-pivot", 0, K_BOOL, O(no_pivot), false, "Do not use pivot_root" },
	{ "no-sync-log", 0, K_BOOL, O(no_sync_log), false, "Do not manually call sync on logs after container shutdown" },
	{ "persist-dir", '0', K_STR, O(persist_dir), false, "Persistent directory for a container that can be used for storing container data" },
	{ "pidfile", 0, K_STR, O(ctr_pidfile), true, "PID file (DEPRECATED)" },
	{ "replace-listen-pid", 0, K_BOOL, O(replace_listen_pid), false, "Replace listen pid if set for oci-runtime pid" },
	{ "restore", 0, K_STR, O(restore), false, "Restore a container from a checkpoint" },
	{ "restore-arg", 0, K_STRV, O(runtime_opts), true, "Additional arg to pass to the restore command (DEPRECATED)" },
	{ "runtime", 'r', K_STR, O(runtime), false, "Path to the OCI runtime" },
	{ "runtime-arg", 0, K_STRV, O(runtime_args), false, "Additional arg to pass to the runtime. Can be specified multiple times" },
	{ "runtime-opt", 0, K_STRV, O(runtime_opts), false, "Additional opts to pass to the restore or exec command. Can be specified multiple times" },
	{ "sdnotify-socket", 0, K_STR, O(sdnotify_socket), false, "Path to the host's sd-notify socket to relay messages to" },
	{ "seccomp-notify-plugins", 0, K_STR, O(seccomp_notify_plugins), false, "Plugins to use for managing the seccomp notifications (not supported)" },
	{ "seccomp-notify-socket", 0, K_STR, O(seccomp_notify_socket), false, "Path to the socket where the seccomp notification fd is received (not supported)" },
	{ "socket-dir-path", 0, K_STR, O(socket_dir), false, "Location of container attach sockets" },
	{ "state-dir", 0, K_STR, O(state_dir), false, "skiff: directory for exit.json, attach and ctl (default: the bundle), opened after the runtime's create" },
	{ "stdin", 'i', K_BOOL, O(stdin_), false, "Open up a pipe to pass stdin to the container" },
	{ "sync", 0, K_BOOL, O(sync), false, "Keep the main conmon process as its child by only forking once" },
	{ "syslog", 0, K_BOOL, O(syslog), false, "Log to syslog (use with cgroupfs cgroup manager)" },
	{ "systemd-cgroup", 's', K_BOOL, O(systemd_cgroup), false, "Enable systemd cgroup manager, rather then use the cgroupfs directly" },
	{ "terminal", 't', K_BOOL, O(terminal), false, "Allocate a pseudo-TTY. The default is false" },
	{ "timeout", 'T', K_INT, O(timeout), false, "Kill container after specified timeout in seconds." },
	{ "version", 0, K_BOOL, O(version), false, "Print the version and exit" },
	{ "help", 'h', K_BOOL, O(help), false, "Show help options" },
	{ 0 }
};
#undef O

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "skiff-shim: option parsing failed: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return -1;
}

static const struct optdef *find_long(const char *name, size_t len)
{
	for (const struct optdef *d = defs; d->name; d++) {
		if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	return NULL;
}

static const struct optdef *find_short(char c)
{
	for (const struct optdef *d = defs; d->name; d++) {
		if (d->short_name == c)
			return d;
	}
	return NULL;
}

static int set_value(const struct optdef *d, struct shim_opts *o, const char *v)
{
	char *base = (char *)o + d->off;
	switch (d->kind) {
	case K_BOOL:
		*(bool *)base = true;
		return 0;
	case K_STR:
		*(const char **)base = v;
		return 0;
	case K_STRV: {
		struct shim_strv *sv = (struct shim_strv *)base;
		const char **nv = realloc(sv->v, (sv->n + 2) * sizeof(*nv));
		if (!nv) {
			fprintf(stderr, "skiff-shim: out of memory\n");
			return -1;
		}
		nv[sv->n++] = v;
		nv[sv->n] = NULL;
		sv->v = nv;
		return 0;
	}
	case K_INT: {
		/* glib parses integers in any base strtoll knows. */
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 0);
		if (errno || end == v || *end)
			return usage_error("Cannot parse integer value \"%s\"", v);
		if (d->off != offsetof(struct shim_opts, log_size_max) &&
		    d->off != offsetof(struct shim_opts, log_global_size_max) && (n < INT_MIN || n > INT_MAX))
			return usage_error("Integer value \"%s\" out of range", v);
		*(int64_t *)base = n;
		return 0;
	}
	}
	return -1;
}

static void print_help(void)
{
	printf("Usage:\n  skiff-shim [OPTION...] - conmon-compatible container monitor\n\nOptions:\n");
	for (const struct optdef *d = defs; d->name; d++) {
		if (d->hidden)
			continue;
		char left[64];
		if (d->short_name)
			snprintf(left, sizeof(left), "-%c, --%s", d->short_name, d->name);
		else
			snprintf(left, sizeof(left), "--%s", d->name);
		printf("  %-30s %s\n", left, d->help);
	}
}

/* An absolute copy of a relative path, so that the shim may leave the
 * caller's working directory. */
static int absolutize(const char **p)
{
	if (!*p || !**p || **p == '/')
		return 0;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return usage_error("cannot resolve \"%s\": the working directory is unknown", *p);
	char *abs = shim_path_join(cwd, *p);
	if (!abs)
		return -1;
	*p = abs;
	return 0;
}

int shim_opts_parse(int argc, char **argv, struct shim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->log_size_max = -1;
	o->log_global_size_max = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || a[1] == '\0')
			continue;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct optdef *d = find_long(name, len);
			if (!d)
				return usage_error("Unknown option %s", a);
			const char *v = NULL;
			if (d->kind == K_BOOL) {
				if (eq)
					return usage_error("Option %s does not take a value", a);
			} else if (eq) {
				v = eq + 1;
			} else if (i + 1 < argc) {
				v = argv[++i];
			} else {
				return usage_error("Missing argument for %s", a);
			}
			if (set_value(d, o, v) < 0)
				return -1;
			continue;
		}
		for (size_t j = 1; a[j]; j++) {
			const struct optdef *d = find_short(a[j]);
			if (!d) {
				char opt[3] = { '-', a[j], 0 };
				return usage_error("Unknown option %s", opt);
			}
			if (d->kind == K_BOOL) {
				set_value(d, o, NULL);
				continue;
			}
			const char *v;
			if (a[j + 1])
				v = a + j + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			else
				return usage_error("Missing argument for %s", a);
			if (set_value(d, o, v) < 0)
				return -1;
			break;
		}
	}
	if (o->help) {
		print_help();
		return 1;
	}
	if (o->version) {
		printf("conmon version " SHIM_CONMON_VERSION "\ncommit: skiff-shim " SHIM_VERSION "\n");
		return 1;
	}
	const char **paths[] = { &o->bundle, &o->persist_dir, &o->ctr_pidfile, &o->conmon_pidfile, &o->exit_dir,
				 &o->exec_process_spec, &o->restore, &o->socket_dir, &o->state_dir };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (absolutize(paths[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_spec(struct conmon *c, const char *spec, struct sk_err *err)
{
	if (!*spec)
		return sk_error(err, 0, "log-path must not be empty");
	const char *colon = strchr(spec, ':');
	size_t dlen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *path = colon ? colon + 1 : NULL;
	if (colon == spec) {
		/* ":PATH": a file, whatever its name. */
		if (!*path)
			return sk_error(err, 0, "log-path \"%s\": no file name", spec);
		c->log.k8s_path = path;
		return 0;
	}
#define IS(name) (dlen == strlen(name) && memcmp(spec, name, dlen) == 0)
	if (IS("none") || IS("off") || IS("null"))
		return 0;
	if (IS("passthrough")) {
		c->log_passthrough = true;
		return 0;
	}
	if (IS("journald")) {
		c->log.journald = true;
		return 0;
	}
	if (IS("k8s-file")) {
		if (!path || !*path)
			return sk_error(err, 0, "log-path \"%s\": k8s-file requires a file name", spec);
		c->log.k8s_path = path;
		return 0;
	}
#undef IS
	if (!colon) {
		c->log.k8s_path = spec;
		return 0;
	}
	return sk_error(err, 0, "log-path \"%s\": no such log driver", spec);
}

int conmon_logs_parse(struct conmon *c, struct sk_err *err)
{
	const struct shim_opts *o = &c->o;
	if (!o->log_paths.n)
		return sk_error(err, 0, "Log driver not provided. Use --log-path");
	for (size_t i = 0; i < o->log_paths.n; i++) {
		if (parse_spec(c, o->log_paths.v[i], err) < 0)
			return -1;
	}
	if (c->log.k8s_path && c->log.k8s_path[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd)))
			return sk_error(err, errno, "log-path \"%s\": getcwd", c->log.k8s_path);
		c->log.k8s_path = shim_path_join(cwd, c->log.k8s_path);
		if (!c->log.k8s_path)
			return sk_error(err, ENOMEM, "log-path");
	}
	if (c->log.journald && (!o->cuuid || strlen(o->cuuid) <= 12))
		return sk_error(err, 0, "journald logging needs a container UUID (-u) longer than 12 characters");
	c->log.size_max = o->log_size_max;
	c->log.global_size_max = o->log_global_size_max;
	c->log.no_sync = o->no_sync_log;
	c->log.journal_id = o->cuuid;
	c->log.journal_name = o->name;
	c->log.journal_tag = o->log_tag;
	return 0;
}
