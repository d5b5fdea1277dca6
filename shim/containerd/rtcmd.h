/* rtcmd: the runtime commands a Task call runs and waits for (start,
 * kill --all, pause, resume, update, ps, delete: each bounded by
 * RTCMD_TIMEOUT_MS and then killed; checkpoint by RTCMD_CRIU_TIMEOUT_MS);
 * and the wait for a create, restore or exec the core spawned.
 * argv: RUNTIME --root ROOT [--systemd-cgroup] VERB... */
#ifndef SKIFF_SHIM_CONTAINERD_RTCMD_H
#define SKIFF_SHIM_CONTAINERD_RTCMD_H

#include <stddef.h>

#include "core/child.h"
#include "manage.h"
#include "skiff/base/error.h"

#define RTCMD_TIMEOUT_MS 60000
/* checkpoint and restore: CRIU dumps or restores all of the container's
 * memory, and a CRIU killed halfway may leave it frozen. */
#define RTCMD_CRIU_TIMEOUT_MS (10 * 60000)

/* Run rt's binary with --root and args (NULL-terminated); its stdout and
 * stderr, at most cap - 1 bytes, NUL-terminated, in out (may be NULL).
 * Fails when it does not exit 0, with its output in the message. */
int ctrd_rtcmd(const struct ctrd_runtime *rt, const char *const *args, char *out, size_t cap, struct sk_err *err);
/* The same, with global flags (NULL-terminated, or NULL) before args,
 * killed after timeout_ms. */
int ctrd_rtcmd_bounded(const struct ctrd_runtime *rt, const char *const *global, const char *const *args, char *out,
		       size_t cap, int timeout_ms, struct sk_err *err);
/* Wait until c (registered with r) is done, reaping meanwhile; after
 * timeout_ms it is killed.  Other children's exits reaped meanwhile reach
 * their owners. */
int ctrd_wait_child(struct shim_reaper *r, struct shim_child *c, int timeout_ms, struct sk_err *err);

#endif
