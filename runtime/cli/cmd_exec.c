/* skiff exec: runc's flags.  Exits with the process's status (128+N for
 * signal N), or 0 with --detach once it has exec'd; 2 for a bad command
 * line, 255 when the process could not be started (runc's status). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/container/exec.h"
#include "skiff/spec/spec.h"

/* A uid or gid: the len bytes at s, decimal, below (uint32_t)-1, which
 * the kernel reads as "unchanged". */
static int parse_id(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (!len || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* Whether the boolean option `name` was given: the parser stores false
 * both for --name=false and for no flag at all, and --no-new-privs=false
 * must still override a config's noNewPrivileges (runc's IsSet).
 * argv[1..n) are the options sk_cli_parse read. */
static bool bool_given(const struct sk_opt *opts, char **argv, int n, const char *name)
{
	for (int i = 1; i < n; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		const char *nm = a + (a[1] == '-' ? 2 : 1);
		size_t len = strcspn(nm, "=");
		if (strlen(name) == len && memcmp(nm, name, len) == 0)
			return true;
		for (const struct sk_opt *o = opts; o->name; o++) {
			bool match = (strlen(o->name) == len && memcmp(o->name, nm, len) == 0) ||
				     (len == 1 && o->short_name == nm[0]);
			if (match && o->kind != SK_OPT_BOOL && !nm[len])
				i++;   /* its value is the next word */
			if (match)
				break;
		}
	}
	return false;
}

int cmd_exec(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	struct sk_exec_opts o = { .root = g->root, .no_new_privs = -1 };
	const char *user = NULL;
	struct sk_strv env = { 0 }, gids = { 0 }, caps = { 0 }, cgroups = { 0 };
	uint64_t preserve = 0;
	bool nnp = false;
	uint32_t *gid_list = NULL;
	int status;
	struct sk_opt opts[] = {
		{ "process", 'p', SK_OPT_STRING, &o.process_file, "FILE", "the process as a runtime-spec process object (JSON); -t .. --process-label and the command are then ignored" },
		{ "tty", 't', SK_OPT_BOOL, &o.tty, NULL, "allocate a pseudo-terminal" },
		{ "cwd", 0, SK_OPT_STRING, &o.cwd, "DIR", "working directory in the container" },
		{ "env", 'e', SK_OPT_STRINGS, &env, "NAME=VALUE", "set an environment variable (repeatable)" },
		{ "user", 'u', SK_OPT_STRING, &user, "UID[:GID]", "run as this uid (and gid)" },
		{ "additional-gids", 'g', SK_OPT_STRINGS, &gids, "GID", "add a supplementary group (repeatable)" },
		{ "cap", 'c', SK_OPT_STRINGS, &caps, "CAP", "add a capability (CAP_KILL...) to the bounding, effective and permitted sets (repeatable)" },
		{ "no-new-privs", 0, SK_OPT_BOOL, &nnp, NULL, "set no_new_privs (--no-new-privs=false clears it)" },
		{ "apparmor", 0, SK_OPT_STRING, &o.apparmor, "PROFILE", "AppArmor profile of the process" },
		{ "process-label", 0, SK_OPT_STRING, &o.process_label, "LABEL", "SELinux label of the process" },
		{ "console-socket", 0, SK_OPT_STRING, &o.console_socket, "PATH", "unix socket that receives the pty master (with --detach and a tty)" },
		{ "pidfd-socket", 0, SK_OPT_STRING, &o.pidfd_socket, "PATH", "unix socket that receives a pidfd of the exec'd process" },
		{ "detach", 'd', SK_OPT_BOOL, &o.detach, NULL, "return once the process runs, without waiting for it" },
		{ "pid-file", 0, SK_OPT_STRING, &o.pid_file, "FILE", "write the process's pid to FILE" },
		SK_OPT_PRESERVE_FDS(&preserve),
		{ "ignore-paused", 0, SK_OPT_BOOL, &o.ignore_paused, NULL, "allow exec in a paused container (the process runs once it is resumed)" },
		{ "cgroup", 0, SK_OPT_STRINGS, &cgroups, "[CTRL[,CTRL]:]PATH", "run the process in this existing sub-cgroup of the container's (v1: one per controller, repeatable)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id> [command [args...]]", .min = 1, .max = -1, .opts = opts,
			      .no_reorder = true };
	char **all = argv;
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		goto out;
	rc = SK_EXIT_USAGE;   /* until sk_exec */
	o.id = argv[0];
	o.args = argv + 1;
	o.n_args = (size_t)argc - 1;
	/* runc's synopsis: exec [options] ID [--] COMMAND... */
	if (o.n_args && strcmp(o.args[0], "--") == 0) {
		o.args++;
		o.n_args--;
	}
	if (!o.process_file && !o.n_args) {
		sk_error(err, 0, "no command given (and no --process)");
		goto out;
	}
	if (bool_given(opts, all, (int)(argv - all), "no-new-privs"))
		o.no_new_privs = nnp;
	if (o.cwd && o.cwd[0] != '/') {
		sk_error(err, 0, "--cwd \"%s\": must be an absolute path", o.cwd);
		goto out;
	}
	for (size_t i = 0; i < env.n; i++) {
		const char *eq = strchr(env.v[i], '=');
		if (!eq || eq == env.v[i]) {
			sk_error(err, 0, "--env \"%s\": must be NAME=VALUE", env.v[i]);
			goto out;
		}
	}
	o.env = env.v;
	o.n_env = env.n;
	if (user) {
		const char *colon = strchr(user, ':');
		size_t ul = colon ? (size_t)(colon - user) : strlen(user);
		if (parse_id(user, ul, &o.uid) < 0 || (colon && parse_id(colon + 1, strlen(colon + 1), &o.gid) < 0)) {
			sk_error(err, 0, "--user \"%s\": must be UID[:GID] (numbers)", user);
			goto out;
		}
		o.has_uid = true;
		o.has_gid = colon != NULL;
	}
	if (gids.n && !(gid_list = malloc(gids.n * sizeof(uint32_t)))) {
		sk_error(err, ENOMEM, "--additional-gids");
		rc = SK_EXIT_EXEC_FAILED;
		goto out;
	}
	for (size_t i = 0; i < gids.n; i++)
		if (parse_id(gids.v[i], strlen(gids.v[i]), &gid_list[i]) < 0) {
			sk_error(err, 0, "--additional-gids \"%s\": must be a gid (a number)", gids.v[i]);
			goto out;
		}
	o.add_gids = gid_list;
	o.n_add_gids = gids.n;
	for (size_t i = 0; i < caps.n; i++) {
		int cap = sk_cap_from_name(caps.v[i]);
		if (cap < 0) {
			sk_error(err, 0, "--cap \"%s\": unknown capability (names are as in config.json: CAP_KILL)",
				   caps.v[i]);
			goto out;
		}
		o.add_caps |= UINT64_C(1) << cap;
	}
	if (sk_cli_preserve_fds(preserve, &o.preserve_fds, err) < 0)
		goto out;
	o.cgroups = cgroups.v;
	o.n_cgroups = cgroups.n;
	rc = sk_exec(&o, &status, err) < 0 ? SK_EXIT_EXEC_FAILED : status;
out:
	free(gid_list);
	free(env.v);
	free(gids.v);
	free(caps.v);
	free(cgroups.v);
	return rc;
}
