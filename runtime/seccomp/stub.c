/* seccomp_stub: the ENOSYS stub placed before libseccomp's program (see
 * seccomp_stub.h), runc's patchbpf. */
#include "skiff/seccomp/stub.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#define X32_SYSCALL_BIT 0x40000000u

/* Largest syscall number, on arch, of all the names the profile mentions;
 * 0 when none resolves there. */
static uint32_t max_syscall(const struct sk_seccomp *sc, uint32_t arch)
{
	uint32_t max = 0;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		for (size_t j = 0; j < sc->syscalls[i].n_names; j++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, sc->syscalls[i].names[j]);
			if (nr >= 0 && (uint32_t)nr > max)
				max = (uint32_t)nr;
		}
	return max;
}

struct enosys_section { uint32_t audit; uint32_t max, max_x32; };

/* The ENOSYS stub placed before libseccomp's program (runc's patchbpf):
 *     ld arch; jeq AUDIT_ARCH_k -> section k ...; ja FILTER
 *   section k:
 *     ld nr
 *     [x86_64: jset X32_SYSCALL_BIT -> X32 else NATIVE]
 *     NATIVE: jgt max -> ENOSYS else FILTER
 *     X32:    jgt max_x32 -> ENOSYS else FILTER
 *   ENOSYS: ret ERRNO(ENOSYS)
 *   FILTER: libseccomp's program.
 * Returns the stub's length (0 when no architecture has a syscall).  All
 * jumps are short: the stub is at most SK_SECCOMP_MAX_STUB (< 256) long. */
static size_t enosys_stub(const struct sk_seccomp *sc, const uint32_t *arches, size_t n_arches,
			  struct sock_filter *stub)
{
	struct enosys_section sec[SK_SECCOMP_MAX_ARCHES];
	size_t n = 0;
	for (size_t i = 0; i < n_arches; i++) {
		uint32_t max = max_syscall(sc, arches[i]);
		if (!max)
			continue;
		bool x32 = arches[i] == SCMP_ARCH_X32;
		uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : arches[i];
		size_t k = 0;
		while (k < n && sec[k].audit != audit)
			k++;
		if (k == n)
			sec[n++] = (struct enosys_section){ .audit = audit };
		if (x32)
			sec[k].max_x32 = max;
		else
			sec[k].max = max;
	}
	if (n == 0)
		return 0;

	size_t start[SK_SECCOMP_MAX_ARCHES], at = 1 + n + 1;
	for (size_t k = 0; k < n; k++) {
		start[k] = at;
		at += 1 + (sec[k].audit == AUDIT_ARCH_X86_64) + (sec[k].max != 0) + (sec[k].max_x32 != 0);
	}
	const size_t enosys = at, filter = at + 1;
#define REL(from, to) ((unsigned char)((to) - (from) - 1))
	size_t pc = 0;
	stub[pc++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	for (size_t k = 0; k < n; k++, pc++)
		stub[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sec[k].audit, REL(pc, start[k]), 0);
	stub[pc] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(filter - pc - 1));
	pc++;
	for (size_t k = 0; k < n; k++) {
		stub[pc++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
		size_t native = pc + (sec[k].audit == AUDIT_ARCH_X86_64);
		size_t x32 = native + (sec[k].max != 0);
		if (sec[k].audit == AUDIT_ARCH_X86_64) {
			stub[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT,
								REL(pc, sec[k].max_x32 ? x32 : filter),
								REL(pc, sec[k].max ? native : filter));
			pc++;
		}
		if (sec[k].max) {
			stub[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, sec[k].max, REL(pc, enosys),
								REL(pc, filter));
			pc++;
		}
		if (sec[k].max_x32) {
			stub[pc] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, sec[k].max_x32,
								REL(pc, enosys), REL(pc, filter));
			pc++;
		}
	}
#undef REL
	stub[pc++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	return pc;
}

/* Whether the default action lets unknown syscalls through or already says
 * ENOSYS: then the stub would change nothing that matters (runc). */
static bool default_needs_stub(uint32_t def)
{
	return def != SCMP_ACT_ALLOW && def != SCMP_ACT_LOG && (def & SECCOMP_RET_ACTION_FULL) != SCMP_ACT_TRACE(0) &&
	       def != SCMP_ACT_ERRNO(ENOSYS);
}

size_t sk_seccomp_stub(const struct sk_seccomp *sc, uint32_t def, const uint32_t *arches, size_t n_arches,
		       struct sock_filter *stub)
{
	return default_needs_stub(def) ? enosys_stub(sc, arches, n_arches, stub) : 0;
}
