#include "skiff/seccomp.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "skiff/features.h"
#include "skiff/json_gen.h"
#include "skiff/log.h"
#include "skiff/util.h"

/* The init hands the listener to the parent with this syscall; notifying it
 * would block the init before any agent holds the listener. */
#define HANDOVER_SYSCALL "sendmsg"

#define X32_SYSCALL_BIT 0x40000000u

struct action_def { const char *name; uint32_t action; bool takes_errno; };

static const struct action_def actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
	{ "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static const struct { const char *name; enum scmp_compare op; } operators[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE },
	{ "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE },
	{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE },
	{ "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static const struct { const char *name; unsigned int flag; } flag_defs[] = {
	/* The filter goes into a single-threaded init: nothing to sync. */
	{ "SECCOMP_FILTER_FLAG_TSYNC", 0 },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The action for name with errnoRet (path/errno_path name them in errors). */
static int parse_action(const char *name, bool has_errno, uint32_t errno_ret, const char *path,
			const char *errno_path, uint32_t *out, struct sk_err *err)
{
	for (size_t i = 0; i < N_ELEMS(actions); i++) {
		if (strcmp(name, actions[i].name) != 0)
			continue;
		if (!actions[i].takes_errno) {
			if (has_errno)
				return sk_error(err, 0, "%s: %s takes no errno", errno_path, name);
			*out = actions[i].action;
			return 0;
		}
		if (!has_errno)
			errno_ret = EPERM;
		/* The kernel keeps 16 bits of return data. */
		if (errno_ret > 0xffff)
			return sk_error(err, 0, "%s: %u does not fit in 16 bits", errno_path, errno_ret);
		*out = actions[i].action | errno_ret;
		return 0;
	}
	return sk_error(err, 0, "%s: unknown action \"%s\"", path, name);
}

static int parse_arch(const char *name, size_t i, uint32_t *out, struct sk_err *err)
{
	static const char prefix[] = "SCMP_ARCH_";
	char lower[32];
	size_t n = strlen(name);
	if (strncmp(name, prefix, sizeof(prefix) - 1) == 0 && n - (sizeof(prefix) - 1) < sizeof(lower)) {
		const char *p = name + sizeof(prefix) - 1;
		size_t k = 0;
		for (; p[k]; k++)
			lower[k] = (char)tolower((unsigned char)p[k]);
		lower[k] = '\0';
		*out = seccomp_arch_resolve_name(lower);
		if (*out)
			return 0;
	}
	const struct scmp_version *v = seccomp_version();
	return sk_error(err, 0, "linux.seccomp.architectures[%zu]: \"%s\" is unknown to libseccomp %u.%u.%u", i, name,
			v->major, v->minor, v->micro);
}

/* Whether the kernel takes these seccomp(2) flags: with a NULL program, a
 * kernel that knows them fails on the copy (EFAULT), else with EINVAL. */
static bool flags_supported(unsigned int flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

static int find_flag(const char *name)
{
	for (size_t k = 0; k < N_ELEMS(flag_defs); k++)
		if (strcmp(name, flag_defs[k].name) == 0)
			return (int)k;
	return -1;
}

bool sk_seccomp_flag_supported(const char *name)
{
	int k = find_flag(name);
	if (k < 0)
		return false;
	unsigned int f = flag_defs[k].flag;
	if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	return f == 0 || flags_supported(f);
}

/* Translate syscalls[i].args into conds; *or_args is set when two args test
 * the same index, in which case runc makes one rule per arg. */
static int parse_args(const struct sk_seccomp_syscall *s, size_t i, struct scmp_arg_cmp *conds, bool *or_args,
		      struct sk_err *err)
{
	unsigned int seen = 0;
	*or_args = false;
	for (size_t j = 0; j < s->n_args; j++) {
		const struct sk_seccomp_arg *a = &s->args[j];
		if (a->index > 5)
			return sk_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is above 5", i, j,
					a->index);
		size_t k = 0;
		while (k < N_ELEMS(operators) && strcmp(a->op, operators[k].name) != 0)
			k++;
		if (k == N_ELEMS(operators))
			return sk_error(err, 0, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator \"%s\"", i, j,
					a->op);
		if (seen & (1u << a->index))
			*or_args = true;
		seen |= 1u << a->index;
		conds[j] = (struct scmp_arg_cmp){ .arg = a->index, .op = operators[k].op,
						  .datum_a = a->value, .datum_b = a->value_two };
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct sk_seccomp *sc, uint32_t def, bool *notify,
		     struct sk_err *err)
{
	size_t max_args = 1;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (sc->syscalls[i].n_args > max_args)
			max_args = sc->syscalls[i].n_args;
	struct scmp_arg_cmp *conds = calloc(max_args, sizeof(*conds));
	if (!conds)
		return sk_error(err, ENOMEM, "linux.seccomp.syscalls");
	int ret = -1;
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct sk_seccomp_syscall *s = &sc->syscalls[i];
		char path[64], errno_path[64];
		snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu].action", i);
		snprintf(errno_path, sizeof(errno_path), "linux.seccomp.syscalls[%zu].errnoRet", i);
		uint32_t act;
		if (parse_action(s->action, s->has_errno_ret, s->errno_ret, path, errno_path, &act, err) < 0)
			goto out;
		bool or_args;
		if (parse_args(s, i, conds, &or_args, err) < 0)
			goto out;
		/* libseccomp refuses a rule with the default action (EACCES);
		 * it would change nothing anyway. */
		if (act == def)
			continue;
		if (act == SCMP_ACT_NOTIFY)
			*notify = true;
		for (size_t j = 0; j < s->n_names; j++) {
			const char *name = s->names[j];
			if (act == SCMP_ACT_NOTIFY && strcmp(name, HANDOVER_SYSCALL) == 0) {
				sk_error(err, 0, "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY cannot apply to \"%s\": "
					 "the init hands the listener over with it", i, name);
				goto out;
			}
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR) {
				sk_debug("seccomp: linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall \"%s\" ignored",
					 i, j, name);
				continue;
			}
			int rc = 0;
			if (or_args) {
				for (size_t k = 0; k < s->n_args && rc == 0; k++)
					rc = seccomp_rule_add_array(ctx, act, nr, 1, &conds[k]);
			} else {
				rc = seccomp_rule_add_array(ctx, act, nr, (unsigned int)s->n_args, conds);
			}
			if (rc < 0) {
				sk_error(err, -rc, "linux.seccomp.syscalls[%zu].names[%zu]: add rule for \"%s\"", i, j, name);
				goto out;
			}
		}
	}
	ret = 0;
out:
	free(conds);
	return ret;
}

static int parse_flags(const struct sk_seccomp *sc, bool notify, unsigned int *out, struct sk_err *err)
{
	unsigned int flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	/* runc's and crun's default: no speculative store bypass mitigation
	 * forced on the container for having a filter. */
	if (sc->n_flags == 0 && flags_supported(SECCOMP_FILTER_FLAG_SPEC_ALLOW))
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	for (size_t i = 0; i < sc->n_flags; i++) {
		int k = find_flag(sc->flags[i]);
		if (k < 0)
			return sk_error(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i, sc->flags[i]);
		unsigned int f = flag_defs[k].flag;
		/* The flag is about how a listener waits; without one the
		 * kernel refuses it. */
		if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify) {
			sk_debug("seccomp: %s ignored: no SCMP_ACT_NOTIFY rule", sc->flags[i]);
			continue;
		}
		if (!sk_seccomp_flag_supported(sc->flags[i]))
			return sk_error(err, 0, "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i,
					sc->flags[i]);
		flags |= f;
	}
	*out = flags;
	return 0;
}

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

/* libseccomp knows about twenty architectures; the filter holds each once. */
#define MAX_ARCHES 32
/* Per section at most: load, jset, two jgt. */
#define MAX_STUB (3 + MAX_ARCHES * 5)

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
 * jumps are short: the stub is at most MAX_STUB (< 256) long. */
static size_t enosys_stub(const struct sk_seccomp *sc, const uint32_t *arches, size_t n_arches,
			  struct sock_filter *stub)
{
	struct enosys_section sec[MAX_ARCHES];
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

	size_t start[MAX_ARCHES], at = 1 + n + 1;
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

/* Export ctx's program after the stub into a malloc()ed array. */
static int export_program(scmp_filter_ctx ctx, const struct sock_filter *stub, size_t n_stub,
			  struct sk_seccomp_prog *out, struct sk_err *err)
{
	int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sk_error(err, errno, "seccomp: memfd_create");
	int ret = -1;
	struct stat st;
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0) {
		sk_error(err, -rc, "seccomp: export the filter");
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		sk_error(err, errno, "seccomp: fstat the exported filter");
		goto out;
	}
	size_t n = (size_t)st.st_size / sizeof(struct sock_filter);
	if (n_stub + n > BPF_MAXINSNS) {
		sk_error(err, E2BIG, "linux.seccomp: the filter has %zu instructions, the kernel takes %d",
			 n_stub + n, BPF_MAXINSNS);
		goto out;
	}
	out->insns = malloc((n_stub + n) * sizeof(struct sock_filter));
	if (!out->insns) {
		sk_error(err, ENOMEM, "seccomp: filter of %zu instructions", n_stub + n);
		goto out;
	}
	memcpy(out->insns, stub, n_stub * sizeof(*stub));
	size_t want = n * sizeof(struct sock_filter), got = 0;
	while (got < want) {
		ssize_t r = pread(fd, (char *)(out->insns + n_stub) + got, want - got, (off_t)got);
		if (r <= 0) {
			sk_error(err, r < 0 ? errno : EIO, "seccomp: read the exported filter");
			goto out;
		}
		got += (size_t)r;
	}
	out->len = (unsigned short)(n_stub + n);
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Whether the default action lets unknown syscalls through or already says
 * ENOSYS: then the stub would change nothing that matters (runc). */
static bool default_needs_stub(uint32_t def)
{
	return def != SCMP_ACT_ALLOW && def != SCMP_ACT_LOG && (def & SECCOMP_RET_ACTION_FULL) != SCMP_ACT_TRACE(0) &&
	       def != SCMP_ACT_ERRNO(ENOSYS);
}

int sk_seccomp_compile(const struct sk_seccomp *sc, struct sk_seccomp_prog *out, struct sk_err *err)
{
	memset(out, 0, sizeof(*out));
	uint32_t def;
	if (parse_action(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
			 "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", &def, err) < 0)
		return -1;
	if (def == SCMP_ACT_NOTIFY)
		return sk_error(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

	uint32_t arches[MAX_ARCHES];
	size_t n_arches = 0;
	arches[n_arches++] = seccomp_arch_native();
	for (size_t i = 0; i < sc->n_architectures; i++) {
		uint32_t a;
		if (parse_arch(sc->architectures[i], i, &a, err) < 0)
			return -1;
		size_t k = 0;
		while (k < n_arches && arches[k] != a)
			k++;
		if (k == n_arches)
			arches[n_arches++] = a;
	}

	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return sk_error(err, 0, "linux.seccomp.defaultAction: %s is not supported by libseccomp or the kernel",
				sc->default_action);
	int ret = -1, rc;
	for (size_t k = 1; k < n_arches; k++) {
		rc = seccomp_arch_add(ctx, arches[k]);
		if (rc < 0) {
			sk_error(err, -rc, "linux.seccomp.architectures: add architecture %#x", arches[k]);
			goto out;
		}
	}
	/* A binary tree of syscalls for long profiles, as runc does (its
	 * threshold counts names); libseccomp 2.5.4 misbehaves with it on a
	 * filter without rules. */
	size_t n_names = 0;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		n_names += sc->syscalls[i].n_names;
	if (n_names > 32 && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
		sk_error(err, -rc, "seccomp: set the binary tree optimization");
		goto out;
	}
	bool notify = false;
	if (add_rules(ctx, sc, def, &notify, err) < 0)
		goto out;
	if (notify) {
		size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
		if (!sc->listener_path || !*sc->listener_path) {
			sk_error(err, 0, "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
			goto out;
		}
		if (strlen(sc->listener_path) > max) {
			sk_error(err, 0, "linux.seccomp.listenerPath: longer than %zu bytes", max);
			goto out;
		}
	}
	if (parse_flags(sc, notify, &out->flags, err) < 0)
		goto out;
	out->notify = notify;

	struct sock_filter stub[MAX_STUB];
	size_t n_stub = default_needs_stub(def) ? enosys_stub(sc, arches, n_arches, stub) : 0;
	ret = export_program(ctx, stub, n_stub, out, err);
out:
	seccomp_release(ctx);
	if (ret < 0)
		sk_seccomp_prog_free(out);
	return ret;
}

/* ---- the cache of compiled filters ----
 * <root>/.seccomp/<64-bit FNV-1a of the key, hex>: a header, the key, the
 * program.  The key is everything the compiled program depends on: the
 * skiff binary (device, inode, size, mtime: a rebuild changes it), the
 * libseccomp version, the kernel (uname), and every field of linux.seccomp
 * that compile reads.  A hit needs the stored key to equal ours byte for
 * byte, so a hash collision (or a crafted profile) costs a miss, never a
 * wrong filter.  Container ids cannot start with '.', so the directory
 * never meets a container's. */

#define CACHE_DIR ".seccomp"
#define CACHE_MAGIC "skiffsc1"
/* When a store finds this many entries it empties the directory: distinct
 * profiles are few on a host, so this only bounds a pathological case. */
#define CACHE_MAX_ENTRIES 64

struct cache_head {
	char magic[8];
	uint32_t key_len, n_insns, flags, notify;
};

struct key { char *p; size_t len, cap; bool oom; };

static void key_put(struct key *k, const void *d, size_t n)
{
	if (k->oom)
		return;
	if (k->len + n > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;
		while (cap < k->len + n)
			cap *= 2;
		char *p = realloc(k->p, cap);
		if (!p) {
			k->oom = true;
			return;
		}
		k->p = p;
		k->cap = cap;
	}
	memcpy(k->p + k->len, d, n);
	k->len += n;
}

static void key_u64(struct key *k, uint64_t v)
{
	key_put(k, &v, sizeof(v));
}

/* Length-prefixed, so that no two sequences of strings serialize alike;
 * NULL differs from "". */
static void key_str(struct key *k, const char *s)
{
	key_u64(k, s ? strlen(s) : UINT64_MAX);
	if (s)
		key_put(k, s, strlen(s));
}

static int build_key(const struct sk_seccomp *sc, struct key *k, struct sk_err *err)
{
	struct stat exe;
	struct utsname u;
	if (stat("/proc/self/exe", &exe) < 0)
		return sk_error(err, errno, "stat /proc/self/exe");
	if (uname(&u) < 0)
		return sk_error(err, errno, "uname");
	const struct scmp_version *v = seccomp_version();
	key_str(k, CACHE_MAGIC);
	key_u64(k, exe.st_dev);
	key_u64(k, exe.st_ino);
	key_u64(k, (uint64_t)exe.st_size);
	key_u64(k, (uint64_t)exe.st_mtim.tv_sec);
	key_u64(k, (uint64_t)exe.st_mtim.tv_nsec);
	key_u64(k, ((uint64_t)v->major << 32) | ((uint64_t)v->minor << 16) | v->micro);
	key_str(k, u.release);
	key_str(k, u.version);
	key_str(k, u.machine);
	key_str(k, sc->default_action);
	key_u64(k, sc->has_default_errno_ret);
	key_u64(k, sc->default_errno_ret);
	key_str(k, sc->listener_path);
	key_u64(k, sc->n_architectures);
	for (size_t i = 0; i < sc->n_architectures; i++)
		key_str(k, sc->architectures[i]);
	key_u64(k, sc->n_flags);
	for (size_t i = 0; i < sc->n_flags; i++)
		key_str(k, sc->flags[i]);
	key_u64(k, sc->n_syscalls);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct sk_seccomp_syscall *s = &sc->syscalls[i];
		key_u64(k, s->n_names);
		for (size_t j = 0; j < s->n_names; j++)
			key_str(k, s->names[j]);
		key_str(k, s->action);
		key_u64(k, s->has_errno_ret);
		key_u64(k, s->errno_ret);
		key_u64(k, s->n_args);
		for (size_t j = 0; j < s->n_args; j++) {
			key_u64(k, s->args[j].index);
			key_u64(k, s->args[j].value);
			key_u64(k, s->args[j].value_two);
			key_str(k, s->args[j].op);
		}
	}
	if (k->oom)
		return sk_error(err, ENOMEM, "seccomp: cache key");
	if (k->len > UINT32_MAX)
		return sk_error(err, EFBIG, "seccomp: cache key of %zu bytes", k->len);
	return 0;
}

static void cache_name(const struct key *k, char name[17])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->p[i]) * 0x100000001b3ull;
	snprintf(name, 17, "%016llx", (unsigned long long)h);
}

/* 0 and *out filled on a hit; -1 on a miss (absent, stale or damaged). */
static int cache_read(int dir, const char *name, const struct key *k, struct sk_seccomp_prog *out)
{
	struct sk_err e;
	char *buf;
	size_t len;
	struct cache_head h;
	if (sk_read_file_at(dir, name, NULL, sizeof(h) + k->len + BPF_MAXINSNS * sizeof(struct sock_filter), &buf, &len,
			    &e) < 0)
		return -1;
	int ret = -1;
	if (len < sizeof(h))
		goto out;
	memcpy(&h, buf, sizeof(h));
	size_t prog = (size_t)h.n_insns * sizeof(struct sock_filter);
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.key_len != k->len || h.n_insns == 0 ||
	    h.n_insns > BPF_MAXINSNS || len != sizeof(h) + k->len + prog || memcmp(buf + sizeof(h), k->p, k->len) != 0)
		goto out;
	out->insns = malloc(prog);
	if (!out->insns)
		goto out;
	memcpy(out->insns, buf + sizeof(h) + k->len, prog);
	out->len = (unsigned short)h.n_insns;
	out->flags = h.flags;
	out->notify = h.notify;
	ret = 0;
out:
	free(buf);
	return ret;
}

static void cache_trim(int dir)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	if (n >= CACHE_MAX_ENTRIES) {
		rewinddir(d);
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dir, de->d_name, 0);
	}
	closedir(d);
}

static int cache_store(int dir, const char *name, const struct key *k, const struct sk_seccomp_prog *p,
		       struct sk_err *err)
{
	struct cache_head h = { .key_len = (uint32_t)k->len, .n_insns = p->len, .flags = p->flags, .notify = p->notify };
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	size_t prog = p->len * sizeof(struct sock_filter);
	char *buf = malloc(sizeof(h) + k->len + prog);
	if (!buf)
		return sk_error(err, ENOMEM, "seccomp: cache entry");
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), k->p, k->len);
	memcpy(buf + sizeof(h) + k->len, p->insns, prog);
	cache_trim(dir);
	int r = sk_write_file_atomic_at(dir, name, buf, sizeof(h) + k->len + prog, 0600, err);
	free(buf);
	return r;
}

/* The cache directory, made when create is set; -1 (with a debug line
 * unless it is only absent) when it cannot be used. */
static int cache_dir(int root_fd, bool create)
{
	if (create && mkdirat(root_fd, CACHE_DIR, 0700) < 0 && errno != EEXIST) {
		sk_debug("seccomp: no cache: mkdir %s: %s", CACHE_DIR, sk_errno_name(errno));
		return -1;
	}
	int dir = openat(root_fd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 && (create || errno != ENOENT))
		sk_debug("seccomp: no cache: open %s: %s", CACHE_DIR, sk_errno_name(errno));
	return dir;
}

int sk_seccomp_compile_cached(const struct sk_seccomp *sc, int root_fd, struct sk_seccomp_prog *out,
			      struct sk_err *err)
{
	struct key k = { 0 };
	struct sk_err e;
	char name[17];
	if (build_key(sc, &k, &e) < 0) {
		sk_debug("seccomp: no cache: %s", e.msg);
		free(k.p);
		return sk_seccomp_compile(sc, out, err);
	}
	cache_name(&k, name);
	int ret, dir = cache_dir(root_fd, false);
	if (dir >= 0 && cache_read(dir, name, &k, out) == 0) {
		sk_debug("seccomp: filter %s/%s from the cache", CACHE_DIR, name);
		ret = 0;
	} else {
		ret = sk_seccomp_compile(sc, out, err);
		/* Made only for a filter that compiled: a create that fails on
		 * its profile leaves --root as it found it. */
		if (ret == 0 && dir < 0)
			dir = cache_dir(root_fd, true);
		if (ret == 0 && dir >= 0 && cache_store(dir, name, &k, out, &e) < 0)
			sk_debug("seccomp: not cached: %s", e.msg);
	}
	if (dir >= 0)
		close(dir);
	free(k.p);
	return ret;
}

int sk_seccomp_load(const struct sk_seccomp_prog *p, int *listener_fd, struct sk_err *err)
{
	struct sock_fprog prog = { .len = p->len, .filter = p->insns };
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
	if (rc < 0)
		return sk_error(err, errno, "seccomp(SECCOMP_SET_MODE_FILTER, flags %#x, %u instructions)%s", p->flags,
				p->len, errno == EACCES ? " without no_new_privs or CAP_SYS_ADMIN" : "");
	if (listener_fd)
		*listener_fd = p->notify ? (int)rc : -1;
	return 0;
}

/* The container process state of runtime-spec config-linux.md. */
static char *process_state(pid_t pid, const char *metadata, const char *state_json, size_t *len,
			   struct sk_err *err)
{
	const char *meta = "";
	size_t meta_len = 0;
	struct sk_json j;
	if (sk_json_init(&j, NULL, err) < 0)
		return NULL;
	if (metadata) {
		sk_json_str(&j, metadata);
		if (sk_json_buf(&j, &meta, &meta_len, err) < 0) {
			sk_json_free(&j);
			return NULL;
		}
	}
	char *s;
	int n = asprintf(&s, "{\"ociVersion\":\"" SK_OCI_VERSION "\",\"fds\":[\"seccompFd\"],\"pid\":%d%s%.*s,"
			 "\"state\":%s}", (int)pid, metadata ? ",\"metadata\":" : "", (int)meta_len, meta, state_json);
	sk_json_free(&j);
	if (n < 0) {
		sk_error(err, ENOMEM, "seccomp: container process state");
		return NULL;
	}
	*len = (size_t)n;
	return s;
}

int sk_seccomp_send_listener(const char *listener_path, int listener_fd, pid_t pid, const char *metadata,
			     const char *state_json, struct sk_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(listener_path);
	if (plen == 0 || plen >= sizeof(sa.sun_path))
		return sk_error(err, plen ? ENAMETOOLONG : EINVAL, "seccomp agent socket \"%s\"", listener_path);
	memcpy(sa.sun_path, listener_path, plen + 1);

	size_t len;
	char *msg = process_state(pid, metadata, state_json, &len, err);
	if (!msg)
		return -1;
	int ret = -1;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		sk_error(err, errno, "seccomp agent: socket");
		goto out;
	}
	if (connect(sock, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1)) < 0) {
		sk_error(err, errno, "connect to the seccomp agent at \"%s\"", listener_path);
		goto out;
	}
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { .iov_base = msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &listener_fd, sizeof(int));
	/* The fd travels with the first bytes only (runtime-spec); a short
	 * send is finished without it. */
	size_t sent = 0;
	while (sent < len) {
		ssize_t r = sent ? send(sock, msg + sent, len - sent, MSG_NOSIGNAL) : sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sk_error(err, errno, "send the seccomp listener to \"%s\"", listener_path);
			goto out;
		}
		sent += (size_t)r;
	}
	ret = 0;
out:
	if (sock >= 0)
		close(sock);
	free(msg);
	return ret;
}

void sk_seccomp_prog_free(struct sk_seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}
