/* caps: process.capabilities, in the init (or an exec'd process) after
 * sk_process_set_user(), with libcap (its IAB tuple for the inheritable,
 * ambient and bounding vectors).  An absent set is an empty set.
 *
 * caps->present false: the sets are left as they are, as runc does (the
 * runtime's full sets for uid 0; for another uid execve(2) clears them);
 * keep_admin then only makes CAP_SYS_ADMIN effective if it is permitted.
 *
 * Capabilities the kernel does not know (above its last one) or the
 * runtime does not hold are not granted: a warning names them and the rest
 * is applied (runtime-spec: "SHOULD NOT fail").  A bounding capability that
 * cannot be dropped is an error.
 *
 * Seccomp without no_new_privs needs CAP_SYS_ADMIN in the effective set to
 * load its filter, which the final sets may lack.  Then:
 *     sk_caps_apply(caps, true, err);   final sets, plus CAP_SYS_ADMIN in
 *                                       effective and permitted
 *     sk_seccomp_load(...);
 *     sk_caps_apply_final(caps, err);   drops CAP_SYS_ADMIN unless granted
 * Otherwise sk_caps_apply(caps, false, err) alone gives the final sets. */
#ifndef SKIFF_CAPS_H
#define SKIFF_CAPS_H

#include <stdbool.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* Inheritable, ambient (cleared, then raised) and bounding (every
 * capability not listed dropped, up to the kernel's last one) first, then
 * effective, permitted and inheritable.  Works after a switch to a non-root
 * uid made with PR_SET_KEEPCAPS (the effective set is restored from the
 * permitted one first, so that CAP_SETPCAP is there for the bounding set). */
int sk_caps_apply(const struct sk_caps *caps, bool keep_admin, struct sk_err *err);

/* After sk_caps_apply(caps, true, ...): remove CAP_SYS_ADMIN from the
 * effective and permitted sets unless caps grant it there.  Nothing else
 * changes (the bounding set is already final).  A no-op when !caps->present:
 * execve() recomputes the effective set from the permitted one anyway. */
int sk_caps_apply_final(const struct sk_caps *caps, struct sk_err *err);

#endif
