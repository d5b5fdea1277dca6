/* skiff create: runc's flags; the init blocks until `skiff start`.
 * --shim: under skiff-shim (docs/shim.md). */
#include "cli.h"

#include <errno.h>
#include <unistd.h>

#include "skiff/container/container.h"
#include "skiff/container/shim.h"

int cmd_create(struct sk_globals *g, int argc, char **argv, struct sk_err *err)
{
	/* The user manager when rootless, as runc's --rootless auto. */
	struct sk_create_opts o = { .root = g->root, .bundle = ".", .rootless = g->rootless,
				    .systemd_cgroup = g->systemd_cgroup, .systemd_user = g->systemd_cgroup && g->rootless };
	uint64_t preserve = 0;
	bool shim = false;
	const char *shim_log = NULL;
	struct sk_opt opts[] = {
		{ "bundle", 'b', SK_OPT_STRING, &o.bundle, "DIR", "path to the root of the bundle directory (default: .)" },
		{ "console-socket", 0, SK_OPT_STRING, &o.console_socket, "PATH", "unix socket that receives the pty master when process.terminal is true" },
		{ "pidfd-socket", 0, SK_OPT_STRING, &o.pidfd_socket, "PATH", "unix socket that receives a pidfd of the container's init" },
		{ "pid-file", 0, SK_OPT_STRING, &o.pid_file, "FILE", "write the init's pid to FILE" },
		{ "no-pivot", 0, SK_OPT_BOOL, &o.no_pivot, NULL, "do not use pivot_root (for a rootfs on a ramdisk)" },
		{ "no-new-keyring", 0, SK_OPT_BOOL, &o.no_new_keyring, NULL, "do not create a new session keyring" },
		{ "preserve-fds", 0, SK_OPT_UINT, &preserve, "N", "pass N fds after stdio (3 .. 3+N-1) to the process" },
		{ "shim", 0, SK_OPT_BOOL, &shim, NULL, "run the container under skiff-shim: output to a log, exit status for `skiff wait`" },
		{ "shim-log", 0, SK_OPT_STRING, &shim_log, "FILE", "with --shim: the container's output (default: ctr.log in its state directory)" },
		{ 0 }
	};
	struct sk_usage u = { .operands = "<container-id>", .min = 1, .max = 1, .opts = opts };
	int rc = sk_cli_parse(g, &u, &argc, &argv, err);
	if (rc != SK_CLI_CONTINUE)
		return rc;
	if (preserve > 1024) {
		sk_error(err, EINVAL, "--preserve-fds %llu: too many", (unsigned long long)preserve);
		return SK_EXIT_USAGE;
	}
	o.preserve_fds = (int)preserve;
	o.id = argv[0];
	if (shim || shim_log)
		return sk_cli_shim_create(g, &o, shim_log, err);
	struct sk_created c;
	return sk_container_create(&o, &c, err) < 0 ? SK_EXIT_ERROR : SK_EXIT_OK;
}
