/* The CLI side of `create --shim` and `run --detach --shim`: the options
 * that cannot go with a shim, and skiff's global options passed on to the
 * create the shim runs. */
#include "cli.h"

#include <stdio.h>
#include <unistd.h>

#include "skiff/container/container.h"
#include "skiff/container/shim.h"
#include "skiff/container/state.h"

/* Whether <root>/<id> exists. */
static bool exists(const char *root, const char *id)
{
	struct sk_err ignored;
	int r = sk_state_open_root(root, &ignored);
	if (r < 0)
		return false;
	int d = sk_state_open(r, id, &ignored);
	close(r);
	if (d >= 0)
		close(d);
	return d >= 0;
}

int sk_cli_shim_create(const struct sk_globals *g, const struct sk_create_opts *o, const char *shim_log,
		       struct sk_err *err)
{
	if (o->console_socket) {
		sk_error(err, 0, "--console-socket cannot go with --shim: the shim holds the terminal");
		return SK_EXIT_USAGE;
	}
	if (o->pidfd_socket) {
		sk_error(err, 0, "--pidfd-socket cannot go with --shim: the shim runs create");
		return SK_EXIT_USAGE;
	}
	char log_arg[4200];
	const char *args[6];
	size_t n = 0;
	if (g->log_path) {
		snprintf(log_arg, sizeof(log_arg), "--log=%s", g->log_path);
		args[n++] = log_arg;
		if (g->log_json)
			args[n++] = "--log-format=json";
	}
	if (g->debug)
		args[n++] = "--debug";
	if (g->systemd_cgroup)
		args[n++] = "--systemd-cgroup";
	args[n] = NULL;
	struct sk_shim_opts so = {
		.self = g->argv0, .root = g->root, .id = o->id, .bundle = o->bundle, .pid_file = o->pid_file, .log_path = shim_log,
		.no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring, .preserve_fds = o->preserve_fds,
		.global_args = args,
	};
	/* The shim may fail after its create succeeded (the log cannot be
	 * opened...): then the container is ours to remove, unless it was
	 * there before (create failed on it). */
	bool before = exists(g->root, o->id);
	pid_t pid;
	if (sk_shim_create(&so, &pid, err) == 0)
		return SK_EXIT_OK;
	struct sk_err ignored;
	if (!before && exists(g->root, o->id))
		sk_container_delete(g->root, o->id, true, &ignored);
	return SK_EXIT_ERROR;
}
