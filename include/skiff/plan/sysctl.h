/* sysctl: linux.sysctl.  Only keys that live in a namespace the container
 * has of its own are accepted, as runc does (docs/process.md):
 *   kernel.msgmax, kernel.msgmnb, kernel.msgmni, kernel.sem, kernel.shmall,
 *   kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, fs.mqueue.*
 *                                   an ipc namespace
 *   net.*                           a network namespace
 *   kernel.hostname, kernel.domainname  a uts namespace
 *   user.*                          a user namespace
 * "Of its own": created, or joined by a path that is not the runtime's own
 * namespace.  Everything else is refused.  Keys are dotted names; a key with
 * a "/" or an empty component is refused (the key maps to
 * /proc/sys/<key with "." -> "/">, so no component can climb out). */
#ifndef SKIFF_SYSCTL_H
#define SKIFF_SYSCTL_H

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

/* Parent, at create time, before anything is made: refuse the first key
 * that is malformed or not namespaced for this config, e.g.
 *   config.json: linux.sysctl: "vm.swappiness" is not namespaced, refusing to set it */
int sk_sysctl_check(const struct sk_spec *spec, struct sk_err *err);

/* Init child, after pivot_root, with the container's procfs mounted at
 * /proc and BEFORE the read-only and masked paths are applied (runtime-spec
 * configs make /proc/sys read-only): write each value.  Writes go only to
 * the procfs mounted at /proc, never across a mount below it or through a
 * symlink.  No allocation. */
int sk_sysctl_apply(const struct sk_spec *spec, struct sk_err *err);

#endif
