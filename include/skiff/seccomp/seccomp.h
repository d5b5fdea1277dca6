/* seccomp: linux.seccomp of config.json as a BPF program.
 *
 * The parent compiles (libseccomp, allocation, kernel probes); the init
 * child only loads the result with one seccomp(2) call, as late as possible
 * before exec.  runc's semantics throughout (docs/seccomp.md):
 *  - the native architecture is always in the filter; names this libseccomp
 *    does not know are skipped with a debug line;
 *  - a rule whose action equals the default action is skipped;
 *  - the args of one rule are ANDed, except when two of them test the same
 *    argument index: then each arg becomes a rule of its own (ORed);
 *  - errnoRet (default EPERM) is the errno of SCMP_ACT_ERRNO and the message
 *    number of SCMP_ACT_TRACE, and an error on any other action;
 *  - flags absent: SECCOMP_FILTER_FLAG_SPEC_ALLOW when the kernel has it;
 *    SECCOMP_FILTER_FLAG_TSYNC is accepted and ignored (the init is single
 *    threaded); WAIT_KILLABLE_RECV only applies with a listener;
 *  - unless the default action lets syscalls through (ALLOW, LOG, TRACE),
 *    syscalls numbered above every one the profile names get ENOSYS, not
 *    the default action, so that a program can fall back from a syscall
 *    newer than the profile (runc's patchbpf).
 * SCMP_ACT_NOTIFY: the filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER;
 * the child sends the listener to the parent over the sync socket with
 * sendmsg(2), so NOTIFY is refused on sendmsg (and as the default action);
 * the parent sends it to the agent at listenerPath with
 * sk_seccomp_send_listener().
 * Errors name the JSON path: `linux.seccomp.syscalls[3].names[0]: ...`. */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "skiff/base/error.h"
#include "skiff/spec/spec.h"

struct sk_seccomp_prog {
	struct sock_filter *insns;     /* malloc()ed */
	unsigned short len;
	unsigned int flags;            /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
	bool notify;                   /* flags has NEW_LISTENER */
};

/* Parent: build the filter for sc (sc->present) into *out.  Checks every
 * string and number against libseccomp and the running kernel (actions,
 * architectures, flags), so that loading fails only for reasons of the
 * child's own (no_new_privs / CAP_SYS_ADMIN). */
int sk_seccomp_compile(const struct sk_seccomp *sc, struct sk_seccomp_prog *out, struct sk_err *err);

/* Same, through a cache of compiled filters in <root>/.seccomp (root_fd:
 * the state root, see sk_state_open_root): compiling a long profile takes
 * milliseconds (podman's default: ~21 ms), a hit ~40 microseconds.  An entry
 * is used only when its stored inputs (this skiff binary, libseccomp, the
 * kernel, every field of sc) equal ours.  A cache that cannot be used is
 * skipped with a debug line, never an error. */
int sk_seccomp_compile_cached(const struct sk_seccomp *sc, int root_fd, struct sk_seccomp_prog *out,
			      struct sk_err *err);

/* Child: load p into the calling thread with seccomp(2).  Needs
 * no_new_privs or CAP_SYS_ADMIN.  No allocation.  *listener_fd gets the
 * listener (O_CLOEXEC) when p->notify, else -1; listener_fd may be NULL
 * when p->notify is false. */
int sk_seccomp_load(const struct sk_seccomp_prog *p, int *listener_fd, struct sk_err *err);

/* Parent: connect to the agent's AF_UNIX stream socket at listener_path
 * and send one message: listener_fd (SCM_RIGHTS) and the container process
 * state {"ociVersion", "fds": ["seccompFd"], "pid", "metadata" (when
 * metadata is not NULL), "state": state_json}, then close the connection.
 * state_json is the OCI state, inserted as is. */
int sk_seccomp_send_listener(const char *listener_path, int listener_fd, pid_t pid, const char *metadata,
			     const char *state_json, struct sk_err *err);

void sk_seccomp_prog_free(struct sk_seccomp_prog *p);

/* Whether a linux.seccomp.flags entry would work here (for `features`:
 * libseccomp 2.5's API level cannot tell WAIT_KILLABLE_RECV). */
bool sk_seccomp_flag_supported(const char *name);

#endif
