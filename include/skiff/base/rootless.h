/* rootless: whether skiff runs without privileges over the host, and where
 * such a caller keeps its state.
 * Rootless is euid != 0, or euid 0 inside a user namespace other than the
 * initial one (how rootless podman runs a runtime: root in its own
 * namespace).  The state root of a rootless caller is
 * $XDG_RUNTIME_DIR/skiff unless --root says otherwise; the variable comes
 * from the caller's environment, so it is checked before use: absolute, a
 * real directory (not a symlink), owned by the caller. */
#ifndef SKIFF_ROOTLESS_H
#define SKIFF_ROOTLESS_H

#include <stdbool.h>
#include <stddef.h>

#include "skiff/base/error.h"

/* Whether a /proc/PID/uid_map text is the initial user namespace's
 * ("0 0 4294967295").  Pure. */
bool sk_rootless_initial_map(const char *uid_map);

/* This process is in a non-initial user namespace (cached). */
bool sk_rootless_in_userns(void);

/* euid != 0, or in a non-initial user namespace (cached). */
bool sk_rootless_auto(void);

/* --rootless true|false|auto (NULL: auto) into *out; -1 on any other value. */
int sk_rootless_parse(const char *flag, bool *out, struct sk_err *err);

/* The default state root into buf: "/run/skiff" for real root (and for
 * root in a user namespace without XDG_RUNTIME_DIR), else
 * "$XDG_RUNTIME_DIR/skiff" after checking the variable:
 *   "XDG_RUNTIME_DIR is not set: a rootless caller needs it (or --root)"
 *   "XDG_RUNTIME_DIR \"x\": not an absolute path" / ": a symlink" /
 *   ": not a directory" / ": owned by uid N, not by the caller (uid M)" */
int sk_rootless_state_root(char *buf, size_t cap, struct sk_err *err);

#endif
