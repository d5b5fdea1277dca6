/* copyup: the tmpcopyup mount option (crun's, runc's): a tmpfs mounted on
 * a directory of the rootfs starts with a copy of what it covers.  In the
 * container's init, after the mount, with both directories as fds: the
 * copy never follows a symlink (links are copied as links), keeps modes,
 * owners and times where the tmpfs can hold them, and stops at a depth of
 * 64. */
#ifndef SKIFF_COPYUP_H
#define SKIFF_COPYUP_H

#include "skiff/base/error.h"

/* Fill the tmpfs top with what it covers (old, the directory opened before
 * mounting), giving its root the covered directory's owner and, unless the
 * fs data (data, may be NULL) chose one, mode. */
int sk_copyup(int old, int top, const char *data, struct sk_err *err);

#endif
