/* create_opts: what create and run (and, for --preserve-fds, exec) share
 * of their options (cli.h). */
#include "cli.h"

#include <errno.h>

#include "skiff/container/container.h"

/* More fds than a process is likely to be allowed: a mistake, refused
 * before anything is made. */
#define SK_MAX_PRESERVE_FDS 1024

int sk_cli_preserve_fds(uint64_t n, int *fds, struct sk_err *err)
{
	if (n > SK_MAX_PRESERVE_FDS)
		return sk_error(err, EINVAL, "--preserve-fds %llu: too many", (unsigned long long)n);
	*fds = (int)n;
	return 0;
}

void sk_cli_create_defaults(const struct sk_globals *g, struct sk_create_opts *o)
{
	/* The user manager when rootless, as runc's --rootless auto. */
	*o = (struct sk_create_opts){ .root = g->root, .bundle = ".", .rootless = g->rootless,
				      .systemd_cgroup = g->systemd_cgroup,
				      .systemd_user = g->systemd_cgroup && g->rootless };
}
