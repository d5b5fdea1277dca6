/* hooks: run the OCI hooks of one kind (runtime-spec config.md
 * "POSIX-platform Hooks", runtime.md "Lifecycle").
 *
 * sk_hooks_run() runs hooks->list[kind][0..n) one after the other.  Each
 * hook is spawned (vfork + execve, no PATH search) with:
 *   argv   hook.args exactly; [hook.path] when args is empty
 *   env    hook.env exactly; empty when absent
 *   stdin  a pipe carrying state_json (NULL: empty); a hook that exits
 *          without reading it is fine
 *   cwd    dir when not NULL (runc's: the bundle for the runtime's hooks,
 *          the rootfs for createContainer), so that relative paths work
 *   stdout, stderr  inherited; every other fd closed; signal mask empty;
 *          SIGKILL as its parent-death signal, so that a hook never
 *          outlives the runtime process that ran it
 * and waited for through a pidfd, for at most hook.timeout seconds when
 * set; a hook past its timeout is SIGKILLed.  Every hook is reaped.
 *
 * Failure semantics by kind (runtime-spec 1.3):
 *   prestart, createRuntime, createContainer, startContainer, poststart: the first
 *     failing hook stops the run and -1 is returned, err being one of
 *       createRuntime hook "/p": exited with status 3
 *       createRuntime hook "/p": killed by signal 9
 *       createRuntime hook "/p" timed out after 5s
 *       createRuntime hook "/p": ENOENT          (could not be executed)
 *     the caller must then fail the operation.
 *   poststop: every hook runs; each failure is logged as a
 *     warning (sk_warn) and 0 is returned: the lifecycle goes on.
 *
 * It is usable from the container's init child (createContainer after the
 * rootfs is mounted, startContainer after pivot_root: the path then
 * resolves in the container): it needs no /proc, and what it allocates per
 * hook (argv and envp as NULL-terminated copies of the counted arrays) is
 * safe there, the init being single-threaded. */
#ifndef SKIFF_HOOKS_H
#define SKIFF_HOOKS_H

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

int sk_hooks_run(enum sk_hook_kind kind, const struct sk_hooks *hooks, const char *state_json, const char *dir,
		 struct sk_err *err);

#endif
