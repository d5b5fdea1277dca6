/* logger: containerd's binary:// log URIs, a logging program per process.
 *   binary:///PATH?KEY=VALUE&KEY2
 * runs PATH (absolute) with the arguments KEY VALUE KEY2 "" (each key of
 * the query once, with its first value, percent-decoded, in the URI's
 * order where containerd's Go map has none), the environment
 * CONTAINER_ID (the container's or the exec's id) and CONTAINER_NAMESPACE
 * only, stdin, stdout and stderr on /dev/null, and, as the runc shim
 * gives it: fd 3 the read end of the process's stdout pipe, fd 4 of its
 * stderr pipe, fd 5 a pipe it closes (or writes a byte to) once it is
 * ready.  Create waits for that, at most CTRD_LOGGER_READY_MS, since the
 * container's first output must find the logger reading.  The shim copies
 * the process's output into the pipes (io.c), so that the runtime's own
 * errors still reach Create's answer and a terminal's output goes the same
 * way.  The logger ends when the pipes end, or is sent SIGTERM when the
 * process is deleted and SIGKILL 12 s later (the runc shim's grace). */
#ifndef SKIFF_SHIM_CONTAINERD_LOGGER_H
#define SKIFF_SHIM_CONTAINERD_LOGGER_H

#include "core/child.h"
#include "skiff/base/error.h"

#define CTRD_LOGGER_READY_MS 10000
#define CTRD_LOGGER_GRACE_S 12

struct ctrd_logger;

/* The program and its arguments of a binary:// uri: argv (at most
 * CTRD_LOGGER_MAX_ARGS, NULL-terminated) points into buf, which must hold
 * 2 * strlen(uri) + 2 bytes. */
#define CTRD_LOGGER_MAX_ARGS 64
int ctrd_logger_argv(const char *uri, char *buf, const char **argv, struct sk_err *err);

/* Start uri's logger; *out_w and *err_w get the write ends of its stdout
 * and stderr pipes (non-blocking, close-on-exec). */
int ctrd_logger_start(const char *uri, const char *id, const char *ns, struct shim_reaper *r, int *out_w,
		      int *err_w, struct ctrd_logger **lg, struct sk_err *err);
/* The process is deleted: SIGTERM now, SIGKILL after the grace; lg frees
 * itself once the logger has been reaped. */
void ctrd_logger_stop(struct ctrd_logger *lg);

#endif
