/* fuzz_seccomp: linux.seccomp from config.json to the BPF program, without
 * loading it: the input is the seccomp object; it goes into a minimal
 * config, through sk_spec_parse() (runtime/spec/spec.c) and then
 * sk_seccomp_compile() (runtime/seccomp/seccomp.c: libseccomp, the ENOSYS stub).
 * Beyond the sanitizers: every error is one line; a compiled program passes
 * the checks the kernel makes on a classic BPF filter (jumps in range, loads
 * inside struct seccomp_data, a return at the end), and run on a syscall
 * number above every real one on x86_64 it says ENOSYS whenever the profile
 * names a syscall and its default action is one that stops syscalls. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "skiff/seccomp/seccomp.h"
#include "skiff/spec/spec.h"

static const char head[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"linux\":{\"seccomp\":";
static const char tail[] = "}}";

static void check_structure(const struct sock_filter *f, size_t n)
{
	FUZZ_CHECK(n > 0 && n <= BPF_MAXINSNS, "program of %zu instructions", n);
	for (size_t i = 0; i < n; i++) {
		uint16_t code = f[i].code;
		switch (BPF_CLASS(code)) {
		case BPF_LD:
			if (BPF_MODE(code) == BPF_ABS)
				FUZZ_CHECK(BPF_SIZE(code) == BPF_W && f[i].k % 4 == 0 &&
					   f[i].k < sizeof(struct seccomp_data), "insn %zu: load at %u", i, f[i].k);
			else
				FUZZ_CHECK(BPF_MODE(code) == BPF_IMM || (BPF_MODE(code) == BPF_MEM && f[i].k < BPF_MEMWORDS),
					   "insn %zu: load mode %#x", i, code);
			break;
		case BPF_LDX:
			FUZZ_CHECK(BPF_MODE(code) == BPF_IMM || (BPF_MODE(code) == BPF_MEM && f[i].k < BPF_MEMWORDS),
				   "insn %zu: ldx mode %#x", i, code);
			break;
		case BPF_ST:
		case BPF_STX:
			FUZZ_CHECK(f[i].k < BPF_MEMWORDS, "insn %zu: store to %u", i, f[i].k);
			break;
		case BPF_ALU:
			FUZZ_CHECK(!((BPF_OP(code) == BPF_DIV || BPF_OP(code) == BPF_MOD) && BPF_SRC(code) == BPF_K &&
				     f[i].k == 0), "insn %zu: division by 0", i);
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA)
				FUZZ_CHECK(f[i].k < n - i - 1, "insn %zu: ja %u out of %zu", i, f[i].k, n);
			else
				FUZZ_CHECK(i + 1 + f[i].jt < n && i + 1 + f[i].jf < n, "insn %zu: jump %u/%u out of %zu", i,
					   f[i].jt, f[i].jf, n);
			break;
		case BPF_RET:
		case BPF_MISC:
			break;
		}
	}
	FUZZ_CHECK(BPF_CLASS(f[n - 1].code) == BPF_RET, "the program does not end with a return");
}

/* Classic BPF as the kernel runs it on struct seccomp_data (every argument
 * 0); check_structure() has made every access safe. */
static uint32_t run(const struct sock_filter *f, size_t n, uint32_t arch, int nr)
{
	struct seccomp_data d = { .nr = nr, .arch = arch };
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (BPF_MODE(i->code) == BPF_ABS)
				memcpy(&a, (const char *)&d + i->k, 4);
			else if (BPF_MODE(i->code) == BPF_MEM)
				a = mem[i->k];
			else
				a = i->k;
			break;
		case BPF_LDX:
			x = BPF_MODE(i->code) == BPF_MEM ? mem[i->k] : i->k;
			break;
		case BPF_ST: mem[i->k] = a; break;
		case BPF_STX: mem[i->k] = x; break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD: a += src; break;
			case BPF_SUB: a -= src; break;
			case BPF_MUL: a *= src; break;
			case BPF_DIV: a = src ? a / src : 0; break;
			case BPF_MOD: a = src ? a % src : 0; break;
			case BPF_OR: a |= src; break;
			case BPF_AND: a &= src; break;
			case BPF_XOR: a ^= src; break;
			case BPF_LSH: a = src < 32 ? a << src : 0; break;
			case BPF_RSH: a = src < 32 ? a >> src : 0; break;
			case BPF_NEG: a = -a; break;
			}
			break;
		case BPF_JMP: {
			bool t;
			switch (BPF_OP(i->code)) {
			case BPF_JA: pc += i->k; continue;
			case BPF_JEQ: t = a == src; break;
			case BPF_JGT: t = a > src; break;
			case BPF_JGE: t = a >= src; break;
			case BPF_JSET: t = (a & src) != 0; break;
			default: t = false; break;
			}
			pc += t ? i->jt : i->jf;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : i->k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
	FUZZ_CHECK(0, "ran past the end");
	return 0;
}

/* Whether seccomp.c puts the ENOSYS stub before the program and it has a
 * section for x86_64: the default stops syscalls (not ALLOW, LOG, TRACE, or
 * ENOSYS already) and a name resolves there. */
static bool expect_enosys(const struct sk_seccomp *sc)
{
	const char *d = sc->default_action;
	if (!strcmp(d, "SCMP_ACT_ALLOW") || !strcmp(d, "SCMP_ACT_LOG") || !strcmp(d, "SCMP_ACT_TRACE"))
		return false;
	if (!strcmp(d, "SCMP_ACT_ERRNO") && sc->has_default_errno_ret && sc->default_errno_ret == ENOSYS)
		return false;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		for (size_t j = 0; j < sc->syscalls[i].n_names; j++)
			if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, sc->syscalls[i].names[j]) >= 0)
				return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = sizeof(head) - 1 + size + sizeof(tail) - 1;
	char *buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + sizeof(head) - 1, data, size);
	memcpy(buf + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	struct sk_spec s;
	struct sk_err err = { 0 };
	int r = sk_spec_parse("config.json", buf, len, &s, &err);
	free(buf);
	if (r < 0) {
		fuzz_check_err(&err, "config.json: ");
		return 0;
	}
	if (s.has_linux && s.linux_.seccomp.present) {
		struct sk_seccomp_prog p;
		if (sk_seccomp_compile(&s.linux_.seccomp, &p, &err) < 0) {
			fuzz_check_err(&err, NULL);
			FUZZ_CHECK(!p.insns && !p.len, "program left behind after: %s", err.msg);
		} else {
			check_structure(p.insns, p.len);
			uint32_t ret = run(p.insns, p.len, AUDIT_ARCH_X86_64, 1023);
			if (expect_enosys(&s.linux_.seccomp))
				FUZZ_CHECK(ret == (SECCOMP_RET_ERRNO | ENOSYS), "syscall 1023 gets %#x, not ENOSYS", ret);
			for (int nr = 0; nr < 512; nr += 7)
				run(p.insns, p.len, AUDIT_ARCH_X86_64, nr);
			run(p.insns, p.len, AUDIT_ARCH_I386, 1);
			sk_seccomp_prog_free(&p);
		}
	}
	sk_spec_free(&s);
	return 0;
}
