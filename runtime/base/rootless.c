/* rootless: detection and the rootless state root (see rootless.h). */
#include "skiff/base/rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skiff/base/util.h"

bool sk_rootless_initial_map(const char *m)
{
	unsigned long long in, out, n;
	char extra;
	/* One line, identity over the whole 32-bit range. */
	return sscanf(m, " %llu %llu %llu %c", &in, &out, &n, &extra) == 3 && in == 0 && out == 0 &&
	       n == 4294967295ULL;
}

bool sk_rootless_in_userns(void)
{
	static int cached = -1;
	if (cached < 0) {
		char buf[256];
		struct sk_err ignored;
		/* Unreadable: no /proc to tell, assume the initial namespace
		 * (what a kernel without user namespaces has). */
		cached = sk_read_small_at(AT_FDCWD, "/proc/self/uid_map", buf, sizeof(buf), &ignored) >= 0 &&
			 !sk_rootless_initial_map(buf);
	}
	return cached;
}

bool sk_rootless_auto(void)
{
	return geteuid() != 0 || sk_rootless_in_userns();
}

int sk_rootless_parse(const char *flag, bool *out, struct sk_err *err)
{
	if (!flag || !strcmp(flag, "auto"))
		*out = sk_rootless_auto();
	else if (!strcmp(flag, "true"))
		*out = true;
	else if (!strcmp(flag, "false"))
		*out = false;
	else
		return sk_error(err, 0, "invalid --rootless \"%s\": must be true, false or auto", flag);
	return 0;
}

int sk_rootless_state_root(char *buf, size_t cap, struct sk_err *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t euid = geteuid();
	if (euid == 0 && (!sk_rootless_in_userns() || !xdg || !*xdg)) {
		snprintf(buf, cap, "/run/skiff");
		return 0;
	}
	if (!xdg || !*xdg)
		return sk_error(err, 0, "XDG_RUNTIME_DIR is not set: a rootless caller needs it (or --root)");
	if (xdg[0] != '/')
		return sk_error(err, 0, "XDG_RUNTIME_DIR \"%s\": not an absolute path", xdg);
	struct stat st;
	if (lstat(xdg, &st) < 0)
		return sk_error(err, errno, "XDG_RUNTIME_DIR \"%s\"", xdg);
	if (S_ISLNK(st.st_mode))
		return sk_error(err, 0, "XDG_RUNTIME_DIR \"%s\": a symlink", xdg);
	if (!S_ISDIR(st.st_mode))
		return sk_error(err, 0, "XDG_RUNTIME_DIR \"%s\": not a directory", xdg);
	if (st.st_uid != euid)
		return sk_error(err, 0, "XDG_RUNTIME_DIR \"%s\": owned by uid %u, not by the caller (uid %u)", xdg,
				(unsigned)st.st_uid, (unsigned)euid);
	if ((size_t)snprintf(buf, cap, "%s/skiff", xdg) >= cap)
		return sk_error(err, ENAMETOOLONG, "XDG_RUNTIME_DIR \"%s\"", xdg);
	return 0;
}
