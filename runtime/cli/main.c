/* skiff: global options, the command table, and the one place where the
 * final error is printed (see docs/cli.md for the formats). */
#include <stdio.h>
#include <string.h>

#include <seccomp.h>

#include "cli.h"
#include "skiff/cgroup/cgroup.h"
#include "skiff/container/exe_seal.h"
#include "skiff/base/features.h"
#include "skiff/base/log.h"
#include "skiff/base/rootless.h"
#include "skiff/container/state.h"

#define SK_CMD_ENTRY(name, flags, summary) { #name, cmd_##name, flags, summary },
static const struct sk_command commands[] = {
	SK_COMMANDS(SK_CMD_ENTRY)
};
#undef SK_CMD_ENTRY
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct sk_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static int print_help(const struct sk_opt *gopts, struct sk_err *err)
{
	if (sk_out(err, "Usage: skiff [global options] <command> [command options] [arguments]\n\n"
		   "skiff runs containers from OCI bundles; its command line is runc's.\n\nCommands:\n") < 0)
		return -1;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (sk_out(err, "  %-10s %s\n", commands[i].name, commands[i].summary) < 0)
			return -1;
	}
	if (sk_out(err, "  %-10s %s\n\nGlobal options:\n", "help", "show this help, or a command's: help <command>") < 0 ||
	    sk_opts_print_help(gopts, err) < 0 ||
	    sk_out(err, "\nRun 'skiff <command> --help' for the options of a command.\n") < 0)
		return -1;
	/* Which cgroup backend this host gets (docs/cgroups.md). */
	static const struct { const char *name, *what; } backends[] = {
		{ "unified", "cgroup v2" },
		{ "hybrid", "cgroup v1 controllers, the processes also placed in cgroup2" },
		{ "legacy", "cgroup v1 only" },
		{ "none", "no cgroup filesystem is mounted" },
	};
	const char *b = sk_cgroup_backend();
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(b, backends[i].name))
			return sk_out(err, "\ncgroups on this host: %s (%s).\n", b, backends[i].what);
	return 0;
}

static int print_version(struct sk_err *err)
{
	const struct scmp_version *v = seccomp_version();
	return sk_out(err, "skiff version %s\nspec: %s\nlibseccomp: %u.%u.%u\n", SKIFF_VERSION, SK_OCI_VERSION,
		      v->major, v->minor, v->micro);
}

/* The final error, as one line: "skiff: <msg>" before a command was
 * chosen, "skiff <command>: <msg>" after.  Also logged when --log names a
 * file: containerd takes the last error from there. */
static void report(const char *cmd, const struct sk_err *err)
{
	if (cmd)
		fprintf(stderr, "skiff %s: %s\n", cmd, err->msg);
	else
		fprintf(stderr, "skiff: %s\n", err->msg);
	if (sk_log_to_file())
		sk_log(SK_LOG_ERROR, "%s", err->msg);
}

int main(int argc, char **argv)
{
	struct sk_globals g = { .argv0 = argv[0] };
	char default_root[4096];
	struct sk_err err = { 0 };
	const char *log_format = "text", *rootless = NULL;
	bool help = false, version = false;
	/* --rootless is runc's: it decides whether a cgroup the caller may not
	 * make is tolerated. */
	const struct sk_opt gopts[] = {
		{ "root", 0, SK_OPT_STRING, &g.root, "DIR", "directory for container state (default: " SK_DEFAULT_ROOT
		  ", rootless: $XDG_RUNTIME_DIR/skiff)" },
		{ "log", 0, SK_OPT_STRING, &g.log_path, "FILE", "write diagnostics to FILE instead of stderr" },
		{ "log-format", 0, SK_OPT_STRING, &log_format, "text|json", "format of --log (default: text)" },
		{ "debug", 0, SK_OPT_BOOL, &g.debug, NULL, "log debug messages" },
		{ "systemd-cgroup", 0, SK_OPT_BOOL, &g.systemd_cgroup, NULL,
		  "the cgroup is a systemd unit (cgroupsPath \"slice:prefix:name\"); later commands follow the state" },
		{ "criu", 0, SK_OPT_STRING, &g.criu, "PATH", "the CRIU binary checkpoint and restore run (default: criu from PATH)" },
		{ "rootless", 0, SK_OPT_STRING, &rootless, "true|false|auto",
		  "tolerate missing cgroup permissions (auto: when not root, or root in a user namespace)" },
		{ "version", 'v', SK_OPT_BOOL, &version, NULL, "print the version" },
		{ "help", 'h', SK_OPT_BOOL, &help, NULL, "show this help" },
		{ 0 }
	};

	int first = sk_opts_parse(gopts, argc, argv, &err);
	if (first < 0) {
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}
	if (strcmp(log_format, "text") != 0 && strcmp(log_format, "json") != 0) {
		sk_error(&err, 0, "invalid --log-format \"%s\": must be text or json", log_format);
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}
	g.log_json = strcmp(log_format, "json") == 0;
	if (sk_rootless_parse(rootless, &g.rootless, &err) < 0) {
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}
	if (g.root && !*g.root) {
		sk_error(&err, 0, "--root must not be empty");
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}
	if (sk_log_init(g.log_path, g.log_json, g.debug, &err) < 0) {
		report(NULL, &err);
		return SK_EXIT_ERROR;
	}
	if (help || version) {
		if ((help ? print_help(gopts, &err) : print_version(&err)) < 0) {
			report(NULL, &err);
			return SK_EXIT_ERROR;
		}
		return SK_EXIT_OK;
	}
	if (first >= argc) {
		sk_error(&err, 0, "no command given (see skiff --help)");
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}

	char **cargv = argv + first;
	int cargc = argc - first;
	/* `skiff help [command]` is `skiff --help` or `skiff command --help`. */
	char *help_argv[3];
	if (strcmp(cargv[0], "help") == 0) {
		if (cargc > 2) {
			sk_error(&err, 0, "expects at most 1 argument (<command>), got %d", cargc - 1);
			report("help", &err);
			return SK_EXIT_USAGE;
		}
		if (cargc == 1 || strcmp(cargv[1], "--help") == 0 || strcmp(cargv[1], "-h") == 0) {
			if (print_help(gopts, &err) < 0) {
				report("help", &err);
				return SK_EXIT_ERROR;
			}
			return SK_EXIT_OK;
		}
		if (cargv[1][0] == '-') {
			sk_error(&err, 0, "unknown flag %s", cargv[1]);
			report("help", &err);
			return SK_EXIT_USAGE;
		}
		help_argv[0] = cargv[1];
		help_argv[1] = "--help";
		help_argv[2] = NULL;
		cargv = help_argv;
		cargc = 2;
	}
	g.cmd = find_command(cargv[0]);
	if (!g.cmd) {
		sk_error(&err, 0, "unknown command \"%s\" (see skiff --help)", cargv[0]);
		report(NULL, &err);
		return SK_EXIT_USAGE;
	}
	if ((g.cmd->flags & SK_CMD_SEALED) && sk_exe_seal(argv, &err) < 0) {
		report(g.cmd->name, &err);
		return SK_EXIT_ERROR;
	}
	/* The default root is needed by every command but spec, features and
	 * help: a rootless caller without XDG_RUNTIME_DIR can still run those. */
	if (!g.root && !(g.cmd->flags & SK_CMD_NO_ROOT)) {
		if (sk_rootless_state_root(default_root, sizeof(default_root), &err) < 0) {
			report(g.cmd->name, &err);
			return SK_EXIT_ERROR;
		}
		g.root = default_root;
	}
	sk_debug("%s: root %s%s", g.cmd->name, g.root ? g.root : "(none)", g.rootless ? ", rootless" : "");
	int rc = g.cmd->fn(&g, cargc, cargv, &err);
	/* run, exec and wait return the process's status with err left empty. */
	if (rc != SK_EXIT_OK && err.msg[0])
		report(g.cmd->name, &err);
	return rc;
}
