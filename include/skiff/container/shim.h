/* shim: `create --shim` and `run --detach --shim`, skiff's own use of
 * skiff-shim (docs/shim.md): skiff starts the shim the way podman starts
 * conmon, and the shim runs this skiff's `create`, so that the container's
 * parent for its whole life is the shim: it holds the stdio (the output
 * goes to a k8s-file log), and records the exit status in exit.json beside
 * the container's state, where `skiff wait` finds it.
 *
 * The shim binary: $SKIFF_SHIM, else skiff-shim next to this skiff, else
 * ../shim/skiff-shim from it (the build tree), else $PATH.  "This skiff"
 * is found from argv[0] (a path, or a name looked up in $PATH), not
 * /proc/self/exe: create and run re-execute from a sealed copy. */
#ifndef SKIFF_SHIM_H
#define SKIFF_SHIM_H

#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"

struct sk_shim_opts {
	const char *self;              /* argv[0] of this skiff */
	const char *root;              /* skiff's --root */
	const char *id;
	const char *bundle;            /* NULL: current directory */
	const char *pid_file;          /* create's --pid-file, or NULL */
	const char *log_path;          /* container output; NULL: <root>/<id>/ctr.log */
	bool no_pivot, no_new_keyring;
	int preserve_fds;              /* fds 3 .. 3+n-1 go to the container */
	const char *const *global_args;/* skiff's own global options for the
					* create it runs (--log, --debug ...),
					* NULL-terminated; may be NULL */
};

/* Start skiff-shim, which creates the container; returns once the
 * container is created (its init waits for `start`), with its pid in
 * *pid.  A failed create comes back as the runtime's own message. */
int sk_shim_create(const struct sk_shim_opts *o, pid_t *pid, struct sk_err *err);

#endif
