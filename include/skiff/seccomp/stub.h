/* seccomp_stub: the BPF placed before libseccomp's program, internal to
 * seccomp*.c.  Unless the default action lets syscalls through (ALLOW, LOG,
 * TRACE) or already returns ENOSYS, a syscall numbered above every one the
 * profile names on its architecture gets ENOSYS instead of the default
 * action, so that a program can fall back from a syscall newer than the
 * profile (runc's patchbpf). */
#ifndef SKIFF_SECCOMP_STUB_H
#define SKIFF_SECCOMP_STUB_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "skiff/spec/spec.h"

/* libseccomp knows about twenty architectures; a filter holds each once. */
#define SK_SECCOMP_MAX_ARCHES 32
/* Per section at most: load, jset, two jgt. */
#define SK_SECCOMP_MAX_STUB (3 + SK_SECCOMP_MAX_ARCHES * 5)

/* The stub for sc's syscall names on arches (libseccomp's SCMP_ARCH_*
 * values, no two alike) with default action def, into stub (room for
 * SK_SECCOMP_MAX_STUB instructions).  Returns its length: 0 when none is
 * needed. */
size_t sk_seccomp_stub(const struct sk_seccomp *sc, uint32_t def, const uint32_t *arches, size_t n_arches,
		       struct sock_filter *stub);

#endif
